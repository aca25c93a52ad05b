"""People without service from bit-packed cascade states, checked by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cascada.impact.assets import asset_outcomes, group_satisfied
from cascada.impact.people import (
    ServiceLinks,
    bits_to_counts,
    people_without_service,
    summarise_timeseries,
)


def _words(bits: np.ndarray) -> np.ndarray:
    """bool [hours, samples, assets] → uint64 [hours, assets]."""
    hours, samples, assets = bits.shape
    out = np.zeros((hours, assets), np.uint64)
    for s in range(samples):
        out |= bits[:, s, :].astype(np.uint64) << np.uint64(s)
    return out


@given(st.integers(1, 64), st.integers(1, 5), st.integers(1, 6), st.integers(0, 2**32))
@settings(max_examples=50, deadline=None)
def test_bits_to_counts_matches_unpacked(n_samples, hours, n, seed):
    rng = np.random.default_rng(seed)
    bits = rng.random((hours, n_samples, n)) < 0.5
    weights = rng.integers(0, 100, n).astype(float)
    counts = bits_to_counts(_words(bits), n_samples, weights)
    expected = (bits * weights[None, None, :]).sum(axis=2)
    np.testing.assert_allclose(counts, expected)


def test_people_need_one_working_linked_asset():
    asset_ids = pd.Index(["a", "b", "c"])
    people = pd.DataFrame({"people_id": ["p", "q"], "population": [100.0, 10.0]})
    links = pd.DataFrame({"people_id": ["p", "p", "q"], "service": "power",
                          "asset_id": ["a", "b", "c"]})
    compiled = ServiceLinks.compile(links, people, asset_ids)
    # 2 hours, 2 samples: hour 0 all work; hour 1: sample 0 loses a, sample 1 loses a and b, c.
    bits = np.ones((2, 2, 3), bool)
    bits[1, 0, 0] = False
    bits[1, 1, :] = False
    out = people_without_service(_words(bits), 2, compiled)["power"]
    np.testing.assert_array_equal(out, [[0, 0], [0, 110]])
    ts, summary = summarise_timeseries({"power": out}, compiled.population_total)
    assert summary.loc[0, "people_hours_lost_mean"] == pytest.approx(55)
    assert summary.loc[0, "population_total"] == 110
    assert ts["people_without_mean"].tolist() == [0, 55]


def test_group_satisfied_k_of_n():
    bits = np.zeros((1, 4, 3), bool)
    bits[0, 0] = [1, 1, 1]
    bits[0, 1] = [1, 1, 0]
    bits[0, 2] = [1, 0, 0]
    ok2 = group_satisfied(_words(bits), np.array([0, 1, 2]), 2)
    assert [(int(ok2[0]) >> s) & 1 for s in range(4)] == [1, 1, 0, 0]
    ok1 = group_satisfied(_words(bits), np.array([0, 1, 2]), 1)
    assert [(int(ok1[0]) >> s) & 1 for s in range(4)] == [1, 1, 1, 0]


def test_asset_outcomes_worst_state():
    # 4 samples, 3 hours, 3 assets: asset 0 damaged in 3 of 4 samples; asset 1 loses supply
    # in 2 of 4; asset 2 on backup in 1 of 4.
    working = np.ones((3, 4, 3), bool)
    working[:, :3, 0] = False
    working[1:, :2, 1] = False
    on_backup = np.zeros_like(working)
    on_backup[0, 0, 2] = True
    states = np.zeros((4, 3), np.uint8)
    states[:3, 0] = 3
    out = asset_outcomes([(_words(working), _words(on_backup), 4)], states)
    assert out["worst_state"].tolist() == ["damaged", "lost supply", "working"]
    assert out["p_down"].tolist() == [0.75, 0.5, 0.0]
    assert out["mean_down_hours"].tolist() == [2.25, 1.0, 0.0]
    assert out["p_on_backup"].tolist() == [0.0, 0.0, 0.25]
