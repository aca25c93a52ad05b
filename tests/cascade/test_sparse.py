"""The sparse cascade equals the dense one restricted to the affected assets."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cascada.cascade import (
    SparseWorkspace,
    compile_graph,
    propagate,
    propagate_reference,
    propagate_sparse,
    sample_mask,
)
from cascada.cascade.sparse import propagate_sparse_summary

from .test_propagate import ONSET_CHOICES, REPAIR_CHOICES, SETTINGS, _table, damage, networks


def _columns(repair: np.ndarray, onset: np.ndarray | None) -> np.ndarray:
    """The columns with any damage (what a caller would pass as damaged assets)."""
    hit = (repair > 0).any(axis=0)
    return np.flatnonzero(hit)


def _check(graph, repair, hours, onset=None, workspace=None):
    dense = propagate(graph, repair, hours, onset_hours=onset)
    cols = _columns(repair, onset)
    sparse = propagate_sparse(graph, cols, repair[:, cols], hours,
                              None if onset is None else onset[:, cols], workspace)
    np.testing.assert_array_equal(sparse.to_dense(), dense.working)
    mask = sample_mask(repair.shape[0])
    affected = np.flatnonzero((dense.working != mask).any(axis=0))
    np.testing.assert_array_equal(sparse.assets, affected)
    total, ever = sparse.down_totals()
    per_sample = sparse.down_hours()
    down = ~dense.working[:, affected] & mask
    np.testing.assert_array_equal(total, np.bitwise_count(down).sum(axis=0))
    np.testing.assert_array_equal(ever, np.bitwise_count(np.bitwise_or.reduce(down, axis=0)))
    np.testing.assert_array_equal(per_sample, dense.down_hours()[:, affected])
    _check_summary(graph, repair, hours, onset, workspace, cols, dense, affected)
    return sparse


def _check_summary(graph, repair, hours, onset, workspace, cols, dense, affected):
    """The summary: the core's words as the dense ones; per leaf its totals and
    its weighted per-sample down hours."""
    mask = sample_mask(repair.shape[0])
    weights = np.arange(2 * graph.n_assets, dtype=np.float64).reshape(2, -1) % 7
    core, leaves = propagate_sparse_summary(graph, cols, repair[:, cols], hours,
                                            None if onset is None else onset[:, cols],
                                            workspace, weights)
    is_leaf = np.diff(graph.supplier_group_ptr) == 0
    np.testing.assert_array_equal(core.assets, affected[~is_leaf[affected]])
    np.testing.assert_array_equal(core.to_dense()[:, core.assets], dense.working[:, core.assets])
    np.testing.assert_array_equal(np.sort(leaves.assets), affected[is_leaf[affected]])
    down = ~dense.working[:, leaves.assets] & mask
    np.testing.assert_array_equal(leaves.down_total, np.bitwise_count(down).sum(axis=0))
    np.testing.assert_array_equal(leaves.ever_down,
                                  np.bitwise_count(np.bitwise_or.reduce(down, axis=0)))
    hours_down = dense.down_hours()[:, leaves.assets].astype(np.float64)  # [S, leaves]
    np.testing.assert_array_equal(leaves.people, weights[:, leaves.assets] @ hours_down.T)


@SETTINGS
@given(data=st.data())
def test_sparse_matches_dense(data) -> None:
    ids, deps = data.draw(networks())
    n_samples = data.draw(st.integers(1, 6))
    hours = data.draw(st.integers(1, 9))
    repair = data.draw(damage(len(ids), n_samples))
    graph = compile_graph(deps, ids)
    _check(graph, repair, hours)


@SETTINGS
@given(data=st.data())
def test_sparse_with_onsets_and_a_reused_workspace_matches_dense(data) -> None:
    """Several calls on one workspace: each leaves it as it found it."""
    ids, deps = data.draw(networks())
    graph = compile_graph(deps, ids)
    workspace = SparseWorkspace(graph)
    for _ in range(3):
        n_samples = data.draw(st.integers(1, 5))
        hours = data.draw(st.integers(1, 9))
        repair = data.draw(damage(len(ids), n_samples))
        onset_values = data.draw(st.lists(st.sampled_from(ONSET_CHOICES),
                                          min_size=len(ids) * n_samples,
                                          max_size=len(ids) * n_samples))
        onset = np.array(onset_values, dtype=np.float32).reshape(n_samples, len(ids))
        repair = np.where(repair > 0, repair + onset, 0).astype(np.float32)
        _check(graph, repair, hours, onset, workspace)


@SETTINGS
@given(data=st.data())
def test_sparse_full_word_matches_reference(data) -> None:
    ids, deps = data.draw(networks(max_assets=6))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    repair = rng.choice(np.array(REPAIR_CHOICES, dtype=np.float32), size=(64, len(ids)))
    graph = compile_graph(deps, ids)
    sparse = _check(graph, repair, 8)
    bits = (sparse.to_dense()[:, None, :] >> np.arange(64, dtype=np.uint64)[None, :, None]) & 1
    for s in range(0, 64, 9):
        expected, _ = propagate_reference(graph, repair[s], 8)
        np.testing.assert_array_equal(bits[:, s].astype(bool), expected)


def test_only_dependents_are_affected() -> None:
    """plant → sub → {hospital, school}; a second, independent chain stays out."""
    ids = ["plant", "sub", "hospital", "school", "plant2", "sub2"]
    deps = _table([("sub", "plant", "power", 1, 0.0), ("hospital", "sub", "power", 1, 3.0),
                   ("school", "sub", "power", 1, 0.0), ("sub2", "plant2", "power", 1, 0.0)])
    graph = compile_graph(deps, ids)
    result = propagate_sparse(graph, [1], np.array([[5.0]], np.float32), hours=10)
    assert result.assets.tolist() == [1, 2, 3]
    total, ever = result.down_totals()
    assert total.tolist() == [5, 2, 5] and ever.tolist() == [1, 1, 1]
    none = propagate_sparse(graph, [], np.zeros((4, 0), np.float32), hours=10)
    assert len(none.assets) == 0 and none.to_dense().shape == (10, 6)


def test_sparse_bad_input() -> None:
    graph = compile_graph(_table([("b", "a", "power", 1, 0.0)]), ["a", "b"])
    with pytest.raises(ValueError, match="distinct"):
        propagate_sparse(graph, [0, 0], np.ones((1, 2), np.float32))
    with pytest.raises(ValueError, match="positions"):
        propagate_sparse(graph, [2], np.ones((1, 1), np.float32))
    with pytest.raises(ValueError, match="samples"):
        propagate_sparse(graph, [0], np.ones((65, 1), np.float32))
    other = compile_graph(_table([("c", "a", "power", 1, 0.0)]), ["a", "b", "c"])
    with pytest.raises(ValueError, match="another graph"):
        propagate_sparse(graph, [0], np.ones((1, 1), np.float32),
                         workspace=SparseWorkspace(other))
    with pytest.raises(ValueError, match="weights"):
        propagate_sparse_summary(graph, [0], np.ones((1, 1), np.float32), weights=np.ones(2))
