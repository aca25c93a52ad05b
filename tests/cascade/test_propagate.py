"""The bit-parallel cascade against the plain reference, invariants and golden cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cascada.cascade import (
    compile_graph,
    propagate,
    propagate_many,
    propagate_reference,
    sample_mask,
)

INF = np.inf
REPAIR_CHOICES = [0.0, 0.0, 0.0, 0.0, 1.0, 2.5, 3.0, 4.0, 6.0, INF]
SETTINGS = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _table(rows: list[tuple[str, str, str, int, float]]) -> pd.DataFrame:
    columns = ["consumer", "supplier", "group", "k", "backup_hours"]
    deps = pd.DataFrame(rows, columns=columns)
    deps.insert(2, "kind", deps["group"])
    return deps


@st.composite
def networks(draw, max_assets: int = 8) -> tuple[list[str], pd.DataFrame]:
    """Random small dependency tables: cycles, k-of-n groups and backups allowed."""
    n = draw(st.integers(2, max_assets))
    ids = [f"a{i}" for i in range(n)]
    rows = []
    for consumer in range(n):
        others = [i for i in range(n) if i != consumer]
        for group in range(draw(st.integers(0, 2))):
            suppliers = draw(
                st.lists(
                    st.sampled_from(others), min_size=1, max_size=min(3, len(others)), unique=True
                )
            )
            k = draw(st.integers(1, len(suppliers)))
            backup = draw(st.sampled_from([0.0, 0.0, 1.0, 2.0, 3.5]))
            rows += [(ids[consumer], ids[s], f"g{group}", k, backup) for s in suppliers]
    return ids, _table(rows)


@st.composite
def damage(draw, n_assets: int, n_samples: int) -> np.ndarray:
    values = draw(
        st.lists(
            st.sampled_from(REPAIR_CHOICES),
            min_size=n_assets * n_samples,
            max_size=n_assets * n_samples,
        )
    )
    return np.array(values, dtype=np.float32).reshape(n_samples, n_assets)


def _bits_beyond_samples_are_zero(state) -> bool:
    outside = ~sample_mask(state.n_samples)
    return not ((state.working & outside).any() or (state.on_backup & outside).any())


# --------------------------------------------------------------------------- properties


@SETTINGS
@given(data=st.data())
def test_matches_reference(data) -> None:
    ids, deps = data.draw(networks())
    n_samples = data.draw(st.integers(1, 6))
    hours = data.draw(st.integers(1, 9))
    repair = data.draw(damage(len(ids), n_samples))
    graph = compile_graph(deps, ids)
    state = propagate(graph, repair, hours)
    assert _bits_beyond_samples_are_zero(state)
    working, on_backup = state.unpack("working"), state.unpack("on_backup")
    for s in range(n_samples):
        expected_working, expected_backup = propagate_reference(
            deps, repair[s], hours, asset_ids=ids
        )
        np.testing.assert_array_equal(working[:, s], expected_working)
        np.testing.assert_array_equal(on_backup[:, s], expected_backup)
    # same input, same output
    again = propagate(graph, repair, hours)
    np.testing.assert_array_equal(again.working, state.working)
    np.testing.assert_array_equal(again.on_backup, state.on_backup)


@SETTINGS
@given(data=st.data())
def test_full_word_of_samples_matches_reference(data) -> None:
    """64 samples fill the word; each bit is an independent sample."""
    ids, deps = data.draw(networks(max_assets=6))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    repair = rng.choice(np.array(REPAIR_CHOICES, dtype=np.float32), size=(64, len(ids)))
    graph = compile_graph(deps, ids)
    state = propagate(graph, repair, 8)
    working = state.unpack()
    for s in range(0, 64, 7):
        expected, _ = propagate_reference(graph, repair[s], 8)
        np.testing.assert_array_equal(working[:, s], expected)


@SETTINGS
@given(data=st.data())
def test_more_damage_never_restores_service(data) -> None:
    ids, deps = data.draw(networks())
    n_samples = data.draw(st.integers(1, 8))
    repair = data.draw(damage(len(ids), n_samples))
    extra = data.draw(damage(len(ids), n_samples))
    more = np.maximum(repair, extra)  # elementwise at least as late
    graph = compile_graph(deps, ids)
    less_state, more_state = propagate(graph, repair, 10), propagate(graph, more, 10)
    assert not (more_state.working & ~less_state.working).any()


@SETTINGS
@given(data=st.data())
def test_redundant_supplier_never_increases_outage(data) -> None:
    ids, deps = data.draw(networks())
    if deps.empty:
        return
    row = deps.iloc[data.draw(st.integers(0, len(deps) - 1))]
    group = deps[(deps["consumer"] == row["consumer"]) & (deps["group"] == row["group"])]
    candidates = [a for a in ids if a != row["consumer"] and a not in set(group["supplier"])]
    if not candidates:
        return
    added = row.copy()
    added["supplier"] = data.draw(st.sampled_from(candidates))
    richer = pd.concat([deps, added.to_frame().T], ignore_index=True)
    richer["k"] = richer["k"].astype(int)
    richer["backup_hours"] = richer["backup_hours"].astype(float)
    repair = data.draw(damage(len(ids), data.draw(st.integers(1, 8))))
    base = propagate(compile_graph(deps, ids), repair, 10)
    better = propagate(compile_graph(richer, ids), repair, 10)
    assert not (base.working & ~better.working).any()
    assert (better.down_hours() <= base.down_hours()).all()


@SETTINGS
@given(
    backup=st.integers(0, 12),
    fraction=st.sampled_from([0.0, 0.4, 0.99]),
    plant_repair=st.integers(1, 30),
)
def test_backup_delays_outage_by_its_length(backup, fraction, plant_repair):
    """plant → substation → hospital: the hospital's backup rides through ``backup`` hours."""
    ids = ["plant", "substation", "hospital"]
    deps = _table(
        [
            ("substation", "plant", "power", 1, 0.0),
            ("hospital", "substation", "power", 1, backup + fraction),
        ]
    )
    hours = 36
    repair = np.array([[plant_repair, 0.0, 0.0]], dtype=np.float32)
    state = propagate(compile_graph(deps, ids), repair, hours)
    first, restored = state.first_down_hour()[0], state.restored_hour()[0]
    assert first[1] == 0 and restored[1] == min(plant_repair, hours)
    if backup >= plant_repair:
        assert first[2] == -1  # the reserve outlasts the outage
        assert state.unpack("on_backup")[:plant_repair, 0, 2].all()
    else:
        assert first[2] == first[1] + backup
        assert restored[2] == restored[1]  # back when the plant is repaired
        assert state.down_hours()[0, 2] == min(plant_repair, hours) - backup


# --------------------------------------------------------------------------- golden cases


def test_power_telecom_cycle() -> None:
    """A healthy cycle stays up; it goes down together when the plant fails."""
    ids = ["plant", "substation", "exchange"]
    deps = _table(
        [
            ("substation", "plant", "power", 1, 0.0),
            ("substation", "exchange", "scada", 1, 0.0),
            ("exchange", "substation", "power", 1, 2.0),
        ]
    )
    graph = compile_graph(deps, ids)
    repair = np.array([[0, 0, 0], [5, 0, 0], [INF, 0, 0], [0, 0, 3]], dtype=np.float32)
    working = propagate(graph, repair, 8).unpack().astype(int)
    assert working[:, 0].tolist() == [[1, 1, 1]] * 8  # healthy: the cycle holds itself up
    # plant out for 5 h: substation down at once, exchange after its 2 h battery,
    # then the substation cannot restart before the exchange... which needs the
    # substation: the greatest fixed point brings both back together at hour 5.
    assert working[:, 1, 1].tolist() == [0, 0, 0, 0, 0, 1, 1, 1]
    assert working[:, 1, 2].tolist() == [1, 1, 0, 0, 0, 1, 1, 1]
    assert working[:, 2, 1:].sum() == 2  # the exchange lasts its 2 h battery, nothing else
    # exchange damaged for 3 h: the substation loses SCADA (no backup), the exchange
    # comes back at hour 3 and the cycle restarts.
    assert working[:, 3, 1].tolist() == [0, 0, 0, 1, 1, 1, 1, 1]
    assert working[:, 3, 2].tolist() == [0, 0, 0, 1, 1, 1, 1, 1]


def test_two_of_three_group() -> None:
    ids = ["line_a", "line_b", "line_c", "substation"]
    deps = _table([("substation", line, "feed", 2, 0.0) for line in ids[:3]])
    graph = compile_graph(deps, ids)
    repair = np.array(
        [[0, 0, 0, 0], [INF, 0, 0, 0], [INF, INF, 0, 0], [INF, 0, INF, 0], [2, 3, 0, 0]],
        dtype=np.float32,
    )
    working = propagate(graph, repair, 4).unpack()[:, :, 3].astype(int)
    assert working.T.tolist() == [[1, 1, 1, 1], [1, 1, 1, 1], [0] * 4, [0] * 4, [0, 0, 1, 1]]


def test_on_backup_and_summaries() -> None:
    ids = ["plant", "hospital"]
    deps = _table([("hospital", "plant", "power", 1, 2.0)])
    state = propagate(compile_graph(deps, ids), np.array([[4, 0], [0, 0]], np.float32), 6)
    assert state.unpack("on_backup")[:, 0, 1].astype(int).tolist() == [1, 1, 0, 0, 0, 0]
    assert state.down_hours().tolist() == [[4, 2], [0, 0]]
    assert state.first_down_hour().tolist() == [[0, 2], [-1, -1]]
    assert state.restored_hour().tolist() == [[4, 4], [-1, -1]]
    assert state.down_hours().dtype == np.float32
    assert state.first_down_hour().dtype == np.int16


def test_propagate_many_blocks_of_64() -> None:
    ids = ["plant", "substation", "hospital"]
    deps = _table(
        [("substation", "plant", "power", 1, 0.0), ("hospital", "substation", "power", 1, 1.0)]
    )
    graph = compile_graph(deps, ids)
    rng = np.random.default_rng(7)
    repair = rng.choice(np.array(REPAIR_CHOICES, np.float32), size=(150, 3))
    states = propagate_many(graph, repair, 6)
    assert [s.n_samples for s in states] == [64, 64, 22]
    down = np.concatenate([s.down_hours() for s in states])
    for s in (0, 63, 64, 149):
        working, _ = propagate_reference(graph, repair[s], 6)
        np.testing.assert_array_equal(down[s], (~working).sum(axis=0))


def test_bad_input() -> None:
    graph = compile_graph(_table([]), ["a", "b"])
    with pytest.raises(ValueError, match="64"):
        propagate(graph, np.zeros((65, 2), np.float32))
    with pytest.raises(ValueError, match="n_samples"):
        propagate(graph, np.zeros((3, 5), np.float32))
    with pytest.raises(ValueError, match="shape"):
        propagate(graph, np.zeros((2, 2, 2), np.float32))
    with pytest.raises(ValueError, match="NaN"):
        propagate(graph, np.full((1, 2), np.nan, np.float32))


def test_one_dimensional_input_is_one_sample() -> None:
    ids = ["plant", "hospital"]
    graph = compile_graph(_table([("hospital", "plant", "power", 1, 0.0)]), ids)
    state = propagate(graph, np.array([2.0, 0.0], np.float32), 4)
    assert state.n_samples == 1
    assert state.working[:, 1].tolist() == [0, 0, 1, 1]


ONSET_CHOICES = [0.0, 0.0, 0.5, 1.0, 2.0, 3.7, 6.0]


@SETTINGS
@given(data=st.data())
def test_damage_onsets_match_reference(data) -> None:
    """Triggered events damage later: out of repair in hours onset <= t < repair."""
    ids, deps = data.draw(networks())
    n_samples = data.draw(st.integers(1, 5))
    hours = data.draw(st.integers(1, 9))
    repair = data.draw(damage(len(ids), n_samples))
    onset_values = data.draw(st.lists(st.sampled_from(ONSET_CHOICES),
                                      min_size=len(ids) * n_samples,
                                      max_size=len(ids) * n_samples))
    onset = np.array(onset_values, dtype=np.float32).reshape(n_samples, len(ids))
    repair = np.where(repair > 0, repair + onset, 0).astype(np.float32)  # repair after onset
    graph = compile_graph(deps, ids)
    state = propagate(graph, repair, hours, onset_hours=onset)
    assert _bits_beyond_samples_are_zero(state)
    working, on_backup = state.unpack("working"), state.unpack("on_backup")
    undamaged = propagate(graph, np.zeros_like(repair), hours).unpack()
    for s in range(n_samples):
        expected_working, expected_backup = propagate_reference(
            deps, repair[s], hours, asset_ids=ids, onset_hours=onset[s]
        )
        np.testing.assert_array_equal(working[:, s], expected_working)
        np.testing.assert_array_equal(on_backup[:, s], expected_backup)
        # Before the first onset nothing differs from the undamaged network.
        damaged = repair[s] > 0
        if damaged.any():
            first = int(np.ceil(onset[s][damaged].min()))
            np.testing.assert_array_equal(working[:first, s], undamaged[:first, s])
