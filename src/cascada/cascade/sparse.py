"""The cascade of a few damaged assets, touching only what depends on them.

:func:`propagate_sparse` has the semantics of :func:`cascada.cascade.propagate`
(same rules, same greatest fixed point, same backup accounting) but takes the
damage as the damaged assets' positions and their per-sample repair and onset
hours, and returns only the *affected* assets: those whose working word
differs from "every sample works" in at least one hour. Each affected asset's
words are stored as a change list (hour, new word), so the work and the memory
of one call grow with what the event reaches, not with the region.

The hour-by-hour fixed-point search runs on the *core* only (assets that
supply someone): leaves (consumers nobody depends on, most of a region) cannot
change anything else, so each leaf the event reaches is derived afterwards
from its suppliers' change lists (:mod:`cascada.cascade.sparse_leaves`).

The O(assets) state of the kernel lives in a :class:`SparseWorkspace` that a
caller reuses across calls: each call restores the entries it touched, so a
call costs no O(assets) initialisation either.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba as nb
import numpy as np

from cascada.cascade.graph import CompiledGraph
from cascada.cascade.propagate import WORD_BITS, _group_satisfied, sample_mask
from cascada.cascade.sparse_leaves import derive_leaves, merge_changes, popcount64

# --------------------------------------------------------------------------- kernel


@nb.njit(cache=True)
def _grow(log_asset, log_hour, log_word, need):
    size = log_asset.shape[0]
    while size < need:
        size *= 2
    grown_a = np.empty(size, dtype=np.int32)
    grown_h = np.empty(size, dtype=np.int32)
    grown_w = np.empty(size, dtype=np.uint64)
    n = log_asset.shape[0]
    grown_a[:n] = log_asset
    grown_h[:n] = log_hour
    grown_w[:n] = log_word
    return grown_a, grown_h, grown_w


@nb.njit(cache=True)
def _propagate_sparse_kernel(
    group_consumer, group_k, group_backup_hours, group_ptr, group_supplier,
    asset_group_ptr, asset_group, supplier_group_ptr, supplier_group, max_k, is_leaf,
    damaged_in, repair_hours, onset_hours, hours, mask,
    # workspace, asset-sized (invariants between calls in brackets)
    working,  # [mask]
    intact,  # [mask]
    recorded,  # [mask]
    in_stack, is_touched, in_reach, is_affected,  # [False]
    reach_bits,  # [0]
    stack, touched, reach_stack, affected,  # scratch
    # workspace, group-sized
    satisfied,  # [mask]
    backup_ok,  # [mask if backup > 0 else 0]
    slot,  # [-1]
    is_dirty, is_active, is_exhausted, is_changed,  # [False]
    dirty, active, exhausted, changed,  # scratch
):
    """The kernel of :func:`cascada.cascade.propagate._propagate_block` on the
    *core* (assets that supply someone), with its state in the workspace and
    only changes recorded. Leaves (assets that supply nobody) take no part in
    the fixed-point search: nothing depends on them; :func:`derive_leaves` derives
    them afterwards from their suppliers' change lists."""
    n_samples, n_damaged_in = repair_hours.shape
    one = np.uint64(1)
    zero = np.uint64(0)

    # ---- intact words at hour 0; onsets (kind 0) and repairs (kind 1) by hour.
    n_events = 0
    event_count = np.zeros(hours + 1, dtype=np.int64)
    for s in range(n_samples):
        for i in range(n_damaged_in):
            a = damaged_in[i]
            if is_leaf[a]:  # leaves: see derive_leaves
                continue
            r = np.ceil(repair_hours[s, i])
            o = np.ceil(onset_hours[s, i])
            if r > 0.0 and o < r and o < hours:
                if o <= 0.0:
                    intact[a] &= ~(one << np.uint64(s))
                else:
                    event_count[int(o)] += 1
                    n_events += 1
                if r < hours:
                    event_count[int(r)] += 1
                    n_events += 1
    event_ptr = np.zeros(hours + 2, dtype=np.int64)
    for h in range(hours + 1):
        event_ptr[h + 1] = event_ptr[h] + event_count[h]
    fill = event_ptr[:-1].copy()
    event_asset = np.empty(n_events, dtype=np.int32)
    event_bits = np.empty(n_events, dtype=np.uint64)
    event_kind = np.empty(n_events, dtype=np.int8)
    if n_events > 0:
        for s in range(n_samples):
            bit = one << np.uint64(s)
            for i in range(n_damaged_in):
                a = damaged_in[i]
                if is_leaf[a]:
                    continue
                r = np.ceil(repair_hours[s, i])
                o = np.ceil(onset_hours[s, i])
                if r > 0.0 and o < r and o < hours:
                    if o > 0.0:
                        e = fill[int(o)]
                        event_asset[e] = a
                        event_bits[e] = bit
                        event_kind[e] = 0
                        fill[int(o)] = e + 1
                    if r < hours:
                        e = fill[int(r)]
                        event_asset[e] = a
                        event_bits[e] = bit
                        event_kind[e] = 1
                        fill[int(r)] = e + 1
    damaged = np.empty(n_damaged_in, dtype=np.int32)
    nd = 0
    for i in range(n_damaged_in):
        a = damaged_in[i]
        if intact[a] != mask:
            working[a] = intact[a]
            damaged[nd] = a
            nd += 1

    scratch = np.empty(max_k + 1, dtype=np.uint64)
    n_active = 0
    n_exhausted = 0
    n_changed = 0
    used = np.zeros((16, WORD_BITS), dtype=np.int32)
    n_slots = 0
    n_affected = 0
    log_asset = np.empty(1024, dtype=np.int32)
    log_hour = np.empty(1024, dtype=np.int32)
    log_word = np.empty(1024, dtype=np.uint64)
    n_log = 0

    for t in range(hours):
        n_stack = 0
        n_touched = 0
        n_dirty = 0
        if t == 0:
            for i in range(nd):
                a = damaged[i]
                if not is_touched[a]:
                    is_touched[a] = True
                    touched[n_touched] = a
                    n_touched += 1
                for e in range(supplier_group_ptr[a], supplier_group_ptr[a + 1]):
                    g = supplier_group[e]
                    c = group_consumer[g]
                    if is_leaf[c]:  # leaves: see derive_leaves
                        pass
                    elif not is_dirty[g]:
                        is_dirty[g] = True
                        dirty[n_dirty] = g
                        n_dirty += 1
        else:
            n_reach = 0
            for e in range(event_ptr[t], event_ptr[t + 1]):
                if event_kind[e] != 1:
                    continue
                a = event_asset[e]
                bits = event_bits[e]
                intact[a] |= bits
                new = bits & ~working[a]
                if new != zero:
                    working[a] |= new
                    reach_bits[a] |= new
                    if not in_reach[a]:
                        in_reach[a] = True
                        reach_stack[n_reach] = a
                        n_reach += 1
            while n_reach > 0:
                n_reach -= 1
                a = reach_stack[n_reach]
                in_reach[a] = False
                bits = reach_bits[a]
                reach_bits[a] = zero
                if not in_stack[a]:
                    in_stack[a] = True
                    stack[n_stack] = a
                    n_stack += 1
                if not is_touched[a]:
                    is_touched[a] = True
                    touched[n_touched] = a
                    n_touched += 1
                for e in range(supplier_group_ptr[a], supplier_group_ptr[a + 1]):
                    g = supplier_group[e]
                    c = group_consumer[g]
                    if is_leaf[c]:
                        continue
                    if not is_dirty[g]:
                        is_dirty[g] = True
                        dirty[n_dirty] = g
                        n_dirty += 1
                    new = bits & ~working[c] & intact[c]
                    if new != zero:
                        working[c] |= new
                        reach_bits[c] |= new
                        if not in_reach[c]:
                            in_reach[c] = True
                            reach_stack[n_reach] = c
                            n_reach += 1
            for e in range(event_ptr[t], event_ptr[t + 1]):
                if event_kind[e] != 0:
                    continue
                a = event_asset[e]
                bits = event_bits[e]
                intact[a] &= ~bits
                lost = working[a] & bits
                if lost != zero:
                    working[a] &= ~bits
                    if not is_touched[a]:
                        is_touched[a] = True
                        touched[n_touched] = a
                        n_touched += 1
                    for j in range(supplier_group_ptr[a], supplier_group_ptr[a + 1]):
                        g = supplier_group[j]
                        c = group_consumer[g]
                        if is_leaf[c]:  # leaves: see derive_leaves
                            pass
                        elif not is_dirty[g]:
                            is_dirty[g] = True
                            dirty[n_dirty] = g
                            n_dirty += 1
            for i in range(n_exhausted):
                g = exhausted[i]
                is_exhausted[g] = False
                c = group_consumer[g]
                if ((working[c] & ~(satisfied[g] | backup_ok[g])) != zero
                      and not in_stack[c]):
                    in_stack[c] = True
                    stack[n_stack] = c
                    n_stack += 1
            n_exhausted = 0

        for i in range(n_dirty):
            g = dirty[i]
            is_dirty[g] = False
            s_new = _group_satisfied(g, group_ptr, group_supplier, group_k, working, scratch)
            s_new &= mask
            if s_new != satisfied[g]:
                satisfied[g] = s_new
                if not is_changed[g]:
                    is_changed[g] = True
                    changed[n_changed] = g
                    n_changed += 1
                c = group_consumer[g]
                if (~s_new & backup_ok[g] & mask) != zero and not is_active[g]:
                    is_active[g] = True
                    active[n_active] = g
                    n_active += 1
                if (working[c] & ~(s_new | backup_ok[g])) != zero and not in_stack[c]:
                    in_stack[c] = True
                    stack[n_stack] = c
                    n_stack += 1

        while n_stack > 0:
            n_stack -= 1
            c = stack[n_stack]
            in_stack[c] = False
            w = working[c]
            if w == zero:
                continue
            new = w
            for i in range(asset_group_ptr[c], asset_group_ptr[c + 1]):
                g = asset_group[i]
                new &= satisfied[g] | backup_ok[g]
            if new == w:
                continue
            working[c] = new
            if not is_touched[c]:
                is_touched[c] = True
                touched[n_touched] = c
                n_touched += 1
            for e in range(supplier_group_ptr[c], supplier_group_ptr[c + 1]):
                g = supplier_group[e]
                cc = group_consumer[g]
                if is_leaf[cc]:
                    continue
                s_new = _group_satisfied(g, group_ptr, group_supplier, group_k, working, scratch)
                s_new &= mask
                if s_new == satisfied[g]:
                    continue
                satisfied[g] = s_new
                if not is_changed[g]:
                    is_changed[g] = True
                    changed[n_changed] = g
                    n_changed += 1
                if (~s_new & backup_ok[g] & mask) != zero and not is_active[g]:
                    is_active[g] = True
                    active[n_active] = g
                    n_active += 1
                if (working[cc] & ~(s_new | backup_ok[g])) != zero and not in_stack[cc]:
                    in_stack[cc] = True
                    stack[n_stack] = cc
                    n_stack += 1

        # Record the words that changed this hour (the only output).
        if n_log + n_touched > log_asset.shape[0]:
            log_asset, log_hour, log_word = _grow(log_asset, log_hour, log_word,
                                                  n_log + n_touched)
        for i in range(n_touched):
            c = touched[i]
            is_touched[c] = False
            w = working[c]
            if w != recorded[c]:
                recorded[c] = w
                log_asset[n_log] = c
                log_hour[n_log] = t
                log_word[n_log] = w
                n_log += 1
                if not is_affected[c]:
                    is_affected[c] = True
                    affected[n_affected] = c
                    n_affected += 1

        i = 0
        while i < n_active:
            g = active[i]
            spend = ~satisfied[g] & backup_ok[g] & mask
            if spend != zero:
                if slot[g] < 0:
                    if n_slots == used.shape[0]:
                        grown = np.zeros((2 * n_slots, WORD_BITS), dtype=np.int32)
                        grown[:n_slots] = used
                        used = grown
                    slot[g] = n_slots
                    n_slots += 1
                row = slot[g]
                budget = group_backup_hours[g]
                for s in range(n_samples):
                    bit = one << np.uint64(s)
                    if spend & bit:
                        used[row, s] += 1
                        if used[row, s] >= budget:
                            backup_ok[g] &= ~bit
                            if not is_exhausted[g]:
                                is_exhausted[g] = True
                                exhausted[n_exhausted] = g
                                n_exhausted += 1
            if (~satisfied[g] & backup_ok[g] & mask) == zero:
                is_active[g] = False
                n_active -= 1
                active[i] = active[n_active]
            else:
                i += 1

    # ---- restore the workspace invariants (only what this call touched)
    for i in range(n_affected):
        a = affected[i]
        working[a] = mask
        recorded[a] = mask
        is_affected[a] = False
    for i in range(n_damaged_in):
        a = damaged_in[i]
        intact[a] = mask
        working[a] = mask
    for i in range(n_changed):
        g = changed[i]
        is_changed[g] = False
        satisfied[g] = mask
        backup_ok[g] = mask if group_backup_hours[g] > 0 else zero
        slot[g] = -1
    for i in range(n_active):
        is_active[active[i]] = False
    for i in range(n_exhausted):
        is_exhausted[exhausted[i]] = False

    # ---- change lists by asset (ascending), each in hour order
    assets = np.sort(affected[:n_affected])
    ptr = np.zeros(n_affected + 1, dtype=np.int64)
    where = np.searchsorted(assets, log_asset[:n_log])
    for j in range(n_log):
        ptr[where[j] + 1] += 1
    for i in range(n_affected):
        ptr[i + 1] += ptr[i]
    at = ptr[:-1].copy()
    change_hour = np.empty(n_log, dtype=np.int32)
    change_word = np.empty(n_log, dtype=np.uint64)
    for j in range(n_log):
        k = at[where[j]]
        change_hour[k] = log_hour[j]
        change_word[k] = log_word[j]
        at[where[j]] = k + 1
    return assets, ptr, change_hour, change_word


@nb.njit(cache=True)
def _to_dense(n_assets, hours, mask, assets, ptr, change_hour, change_word):
    out = np.empty((hours, n_assets), dtype=np.uint64)
    out[:, :] = mask
    for i in range(assets.shape[0]):
        a = assets[i]
        for j in range(ptr[i], ptr[i + 1]):
            end = change_hour[j + 1] if j + 1 < ptr[i + 1] else hours
            for t in range(change_hour[j], end):
                out[t, a] = change_word[j]
    return out


@nb.njit(cache=True)
def _down_totals(hours, mask, ptr, change_hour, change_word):
    """Per affected asset: down sample-hours (Σ over samples) and samples ever down."""
    n = ptr.shape[0] - 1
    total = np.zeros(n, dtype=np.int64)
    ever = np.zeros(n, dtype=np.int64)
    for i in range(n):
        seen = np.uint64(0)
        for j in range(ptr[i], ptr[i + 1]):
            end = change_hour[j + 1] if j + 1 < ptr[i + 1] else hours
            down = ~change_word[j] & mask
            seen |= down
            total[i] += np.int64(popcount64(down)) * (end - change_hour[j])
        ever[i] = np.int64(popcount64(seen))
    return total, ever


@nb.njit(cache=True)
def _down_hours(hours, mask, n_samples, ptr, change_hour, change_word):
    n = ptr.shape[0] - 1
    out = np.zeros((n_samples, n), dtype=np.float32)
    for i in range(n):
        for j in range(ptr[i], ptr[i + 1]):
            end = change_hour[j + 1] if j + 1 < ptr[i + 1] else hours
            down = ~change_word[j] & mask
            run = np.float32(end - change_hour[j])
            for s in range(n_samples):
                out[s, i] += run * np.float32((down >> np.uint64(s)) & np.uint64(1))
    return out


# --------------------------------------------------------------------------- API


class SparseWorkspace:
    """The O(assets + groups) state of :func:`propagate_sparse`, reused across calls.

    Build one per graph (and per worker); not thread-safe. Each call leaves it
    as it found it.
    """

    def __init__(self, graph: CompiledGraph) -> None:
        n, g = graph.n_assets, graph.n_groups
        self.n_assets, self.n_groups = n, g
        self.mask = sample_mask(WORD_BITS)
        self.working = np.full(n, self.mask, dtype=np.uint64)
        self.intact = self.working.copy()
        self.recorded = self.working.copy()
        self.in_stack = np.zeros(n, dtype=np.bool_)
        self.is_touched = np.zeros(n, dtype=np.bool_)
        self.in_reach = np.zeros(n, dtype=np.bool_)
        self.is_affected = np.zeros(n, dtype=np.bool_)
        self.is_leaf = np.diff(graph.supplier_group_ptr) == 0  # supplies nobody
        self.position = np.full(n, -1, dtype=np.int64)
        self.is_candidate = np.zeros(n, dtype=np.bool_)
        self.candidates = np.empty(n, dtype=np.int32)
        first = graph.group_ptr[graph.asset_group_ptr]  # groups of a consumer are contiguous
        self.max_in = int(np.diff(first).max()) if n else 0
        self.reach_bits = np.zeros(n, dtype=np.uint64)
        self.stack = np.empty(n, dtype=np.int32)
        self.touched = np.empty(n, dtype=np.int32)
        self.reach_stack = np.empty(n, dtype=np.int32)
        self.affected = np.empty(n, dtype=np.int32)
        self.has_backup = graph.group_backup_hours > 0
        self.satisfied = np.full(g, self.mask, dtype=np.uint64)
        self.backup_ok = np.where(self.has_backup, self.mask, np.uint64(0)).astype(np.uint64)
        self.slot = np.full(g, -1, dtype=np.int32)
        self.is_dirty = np.zeros(g, dtype=np.bool_)
        self.is_active = np.zeros(g, dtype=np.bool_)
        self.is_exhausted = np.zeros(g, dtype=np.bool_)
        self.is_changed = np.zeros(g, dtype=np.bool_)
        self.dirty = np.empty(g, dtype=np.int32)
        self.active = np.empty(g, dtype=np.int32)
        self.exhausted = np.empty(g, dtype=np.int32)
        self.changed = np.empty(g, dtype=np.int32)

    def set_mask(self, mask: np.uint64) -> None:
        """Re-base the invariant words on a new sample mask (O(assets))."""
        if mask == self.mask:
            return
        self.mask = mask
        self.working[:] = mask
        self.intact[:] = mask
        self.recorded[:] = mask
        self.satisfied[:] = mask
        self.backup_ok[:] = np.where(self.has_backup, mask, np.uint64(0))


@dataclass(frozen=True, eq=False)
class SparseCascade:
    """Service of the affected assets, hour by hour, for up to 64 samples.

    assets: int32 [affected], ascending positions of the assets whose working
        word differs from ``sample_mask(n_samples)`` in at least one hour
        (every other asset works in every hour and sample).
    change_ptr: int64 [affected + 1]; the changes of ``assets[i]`` are
        ``change_ptr[i]:change_ptr[i + 1]`` of the two arrays below.
    change_hour: int32 [changes], ascending per asset; change_working: uint64
        [changes], the working word from that hour until the next change (or
        the horizon). Before its first change an asset works in every sample.
    """

    assets: np.ndarray
    change_ptr: np.ndarray
    change_hour: np.ndarray
    change_working: np.ndarray
    n_samples: int
    hours: int
    n_assets: int

    def to_dense(self) -> np.ndarray:
        """Working words of every asset: uint64 [hours, n_assets] (as ``propagate``)."""
        return _to_dense(self.n_assets, self.hours, sample_mask(self.n_samples), self.assets,
                         self.change_ptr, self.change_hour, self.change_working)

    def down_totals(self) -> tuple[np.ndarray, np.ndarray]:
        """Per affected asset: (int64 [affected] down sample-hours summed over the
        samples, int64 [affected] samples down in at least one hour)."""
        return _down_totals(self.hours, sample_mask(self.n_samples), self.change_ptr,
                            self.change_hour, self.change_working)

    def down_hours(self) -> np.ndarray:
        """Hours each affected asset does not work: float32 [n_samples, affected]."""
        return _down_hours(self.hours, sample_mask(self.n_samples), self.n_samples,
                           self.change_ptr, self.change_hour, self.change_working)


def propagate_sparse(
    graph: CompiledGraph,
    damaged_assets: np.ndarray,
    repair_hours: np.ndarray,
    hours: int = 168,
    onset_hours: np.ndarray | None = None,
    workspace: SparseWorkspace | None = None,
) -> SparseCascade:
    """Cascade the damage of a few assets, for up to 64 samples, over ``hours`` hours.

    damaged_assets: int [damaged], distinct asset positions (the columns that
        :func:`cascada.cascade.propagate` would see non-zero).
    repair_hours, onset_hours: float32 [n_samples, damaged], as in
        :func:`cascada.cascade.propagate` restricted to those columns
        (onset default 0).
    workspace: reuse one across calls on the same graph (built if None).
    Returns the affected assets' words; ``result.to_dense()`` equals
    ``propagate(graph, dense_repair, hours, dense_onset).working``.
    """
    assets, repair, onset, n_samples = _check(graph, damaged_assets, repair_hours,
                                              onset_hours)
    if hours < 1:
        raise ValueError(f"hours must be >= 1, got {hours}")
    ws = workspace if workspace is not None else SparseWorkspace(graph)
    core, leaves = _run(graph, ws, assets, repair, onset, hours, False, _NO_WEIGHTS,
                        _NO_WEIGHTS)
    merged = merge_changes(*core, *leaves[:3])
    return SparseCascade(*merged, n_samples=n_samples, hours=hours, n_assets=graph.n_assets)


_NO_WEIGHTS = np.zeros((0, 0))


def _check(graph, damaged_assets, repair_hours, onset_hours):
    assets = np.ascontiguousarray(np.asarray(damaged_assets, dtype=np.int32).reshape(-1))
    repair = np.asarray(repair_hours, dtype=np.float32)
    if repair.ndim == 1:
        repair = repair[None, :]
    if repair.ndim != 2 or repair.shape[1] != len(assets):
        raise ValueError(f"repair_hours must be [n_samples, {len(assets)}], "
                         f"got shape {repair.shape}")
    n_samples = repair.shape[0]
    if not 1 <= n_samples <= WORD_BITS:
        raise ValueError(f"propagate_sparse takes 1 to 64 samples, got {n_samples}")
    if len(assets) and (assets.min() < 0 or assets.max() >= graph.n_assets):
        raise ValueError("damaged_assets must be positions in 0..n_assets-1")
    if len(np.unique(assets)) != len(assets):
        raise ValueError("damaged_assets must be distinct")
    if np.isnan(repair).any():
        raise ValueError("repair_hours contains NaN")
    repair = np.ascontiguousarray(repair)
    if onset_hours is None:
        onset = np.zeros_like(repair)
    else:
        onset = np.ascontiguousarray(np.asarray(onset_hours, dtype=np.float32)
                                     .reshape(repair.shape))
        if np.isnan(onset).any():
            raise ValueError("onset_hours contains NaN")
    return assets, repair, onset, n_samples


def _run(graph, ws, assets, repair, onset, hours, summary, weights, people_out):
    """The core kernel, then the leaves (their change log, or their summary)."""
    if ws.n_assets != graph.n_assets or ws.n_groups != graph.n_groups:
        raise ValueError("the workspace was built for another graph")
    mask = sample_mask(repair.shape[0])
    ws.set_mask(mask)
    out = _propagate_sparse_kernel(
        graph.group_consumer, graph.group_k, graph.group_backup_hours, graph.group_ptr,
        graph.group_supplier, graph.asset_group_ptr, graph.asset_group,
        graph.supplier_group_ptr, graph.supplier_group, graph.max_k, ws.is_leaf,
        assets, repair, onset, hours, mask,
        ws.working, ws.intact, ws.recorded, ws.in_stack, ws.is_touched, ws.in_reach,
        ws.is_affected, ws.reach_bits, ws.stack, ws.touched, ws.reach_stack, ws.affected,
        ws.satisfied, ws.backup_ok, ws.slot, ws.is_dirty, ws.is_active, ws.is_exhausted,
        ws.is_changed, ws.dirty, ws.active, ws.exhausted, ws.changed,
    )
    leaves = derive_leaves(
        graph.group_consumer, graph.group_k, graph.group_backup_hours, graph.group_ptr,
        graph.group_supplier, graph.asset_group_ptr, graph.asset_group,
        graph.supplier_group_ptr, graph.supplier_group, graph.max_k, ws.is_leaf,
        ws.max_in, *out, assets, repair, onset, hours, mask,
        ws.position, ws.is_candidate, ws.candidates, summary, weights, people_out)
    return out, leaves


@dataclass(frozen=True, eq=False)
class LeafSummary:
    """What :func:`propagate_sparse_summary` keeps of the affected leaves.

    assets: int32 [affected leaves] (in no particular order); down_total: int64,
    down sample-hours summed over the samples; ever_down: int64, samples down in
    at least one hour; people: float64 [weights, n_samples], Σ over the leaves of
    ``weights[j, leaf]`` × the leaf's down hours in each sample.
    """

    assets: np.ndarray
    down_total: np.ndarray
    ever_down: np.ndarray
    people: np.ndarray


def propagate_sparse_summary(
    graph: CompiledGraph,
    damaged_assets: np.ndarray,
    repair_hours: np.ndarray,
    hours: int = 168,
    onset_hours: np.ndarray | None = None,
    workspace: SparseWorkspace | None = None,
    weights: np.ndarray | None = None,
) -> tuple[SparseCascade, LeafSummary]:
    """:func:`propagate_sparse` without the leaves' change lists (most of a large
    cascade's output, which few callers read): the core's words as a
    :class:`SparseCascade` (the assets that supply someone), and per affected
    leaf only its down totals and its ``weights``-weighted per-sample down hours
    (weights: float64 [k, n_assets], e.g. the people served by each asset alone).
    """
    assets, repair, onset, n_samples = _check(graph, damaged_assets, repair_hours,
                                              onset_hours)
    if hours < 1:
        raise ValueError(f"hours must be >= 1, got {hours}")
    weights = (np.zeros((0, graph.n_assets)) if weights is None
               else np.ascontiguousarray(weights, dtype=np.float64))
    if weights.ndim != 2 or weights.shape[1] != graph.n_assets:
        raise ValueError(f"weights must be [k, {graph.n_assets}], got shape {weights.shape}")
    people = np.zeros((weights.shape[0], n_samples))
    ws = workspace if workspace is not None else SparseWorkspace(graph)
    core, leaves = _run(graph, ws, assets, repair, onset, hours, True, weights, people)
    cascade = SparseCascade(*core, n_samples=n_samples, hours=hours, n_assets=graph.n_assets)
    return cascade, LeafSummary(*leaves[3:], people=people)
