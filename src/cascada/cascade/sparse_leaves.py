"""Leaves of the sparse cascade: assets that supply nobody, derived after the core.

Nothing depends on a leaf, so :mod:`cascada.cascade.sparse` resolves the hours'
fixed points on the *core* (assets that supply someone) only, and this module
derives each leaf that an event reaches from its suppliers' change lists and
its own damage, change point to change point (the work grows with the
suppliers' changes, not with the hours), then merges core and leaves into one
change list per asset. Callers that read only per-asset totals ask for a
summary instead (:func:`cascada.cascade.sparse.propagate_sparse_summary`): no
leaf change list is written at all, which is most of a large cascade's output.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from cascada.cascade.propagate import _ALL, WORD_BITS


@nb.njit(cache=True, inline="always")
def _k_of_n(value, lo, n, k, scratch):
    """Bits where at least k of value[lo:lo + n] are set (as _group_satisfied)."""
    if k == 1:
        acc = np.uint64(0)
        for i in range(lo, lo + n):
            acc |= value[i]
        return acc
    if k == n:
        acc = _ALL
        for i in range(lo, lo + n):
            acc &= value[i]
        return acc
    scratch[0] = _ALL
    for j in range(1, k + 1):
        scratch[j] = np.uint64(0)
    seen = 0
    for i in range(lo, lo + n):
        w = value[i]
        seen += 1
        top = k if seen > k else seen
        for j in range(top, 0, -1):
            scratch[j] |= scratch[j - 1] & w
    return scratch[k]


@nb.njit(cache=True, inline="always")
def popcount64(x):
    """Set bits of a uint64 (SWAR)."""
    x = x - ((x >> np.uint64(1)) & np.uint64(0x5555555555555555))
    x = (x & np.uint64(0x3333333333333333)) + ((x >> np.uint64(2)) & np.uint64(0x3333333333333333))
    x = (x + (x >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    return (x * np.uint64(0x0101010101010101)) >> np.uint64(56)


@nb.njit(cache=True)
def derive_leaves(
    group_consumer, group_k, group_backup_hours, group_ptr, group_supplier,
    asset_group_ptr, asset_group, supplier_group_ptr, supplier_group, max_k, is_leaf,
    max_in,
    core_assets, core_ptr, core_hour, core_word,
    damaged_in, repair_hours, onset_hours, hours, mask,
    position,  # int64 [assets], [-1]
    is_candidate,  # bool [assets], [False]
    candidates,  # int32 [assets], scratch
    summary,  # bool
    weights,  # float64 [services, assets] (summary only)
    people_out,  # float64 [services, samples] (summary only), added to
):
    """Leaves fed by an affected core asset, or damaged: each one's words from its
    suppliers' change lists and its own damage, change point to change point.

    summary: instead of the change log, per affected leaf its down sample-hours
    (Σ over samples) and samples ever down, and ``weights[j, leaf]`` × its
    per-sample down hours added to ``people_out[j]`` (leaves in the order found).

    A leaf works in hour t iff it is intact and each of its groups has k
    working suppliers or backup left; a group uses one hour of backup for every
    hour it is unsatisfied (as in the kernel). Returns the leaves' change log
    (asset, hour, word), grouped by leaf, each leaf in hour order (empty in a
    summary), then the summary's (asset, down_total, ever_down) (empty if not).
    """
    n_samples = repair_hours.shape[0]
    one = np.uint64(1)
    zero = np.uint64(0)
    n_core = core_assets.shape[0]
    # position[a]: index in the core lists (>= 0); for a damaged leaf, -(column + 2)
    for i in range(n_core):
        position[core_assets[i]] = i
    n_cand = 0
    for i in range(n_core):
        a = core_assets[i]
        for e in range(supplier_group_ptr[a], supplier_group_ptr[a + 1]):
            c = group_consumer[supplier_group[e]]
            if is_leaf[c] and not is_candidate[c]:
                is_candidate[c] = True
                candidates[n_cand] = c
                n_cand += 1
    for i in range(damaged_in.shape[0]):
        a = damaged_in[i]
        if is_leaf[a]:
            position[a] = -(i + 2)
            if not is_candidate[a]:
                is_candidate[a] = True
                candidates[n_cand] = a
                n_cand += 1

    # Damaged leaves' own outages, per leaf in the loop below: the bits that go down
    # and come up in each hour (hours 1..hours-1), and which hours have any.
    down_at = np.zeros(hours + 1, dtype=np.uint64)
    up_at = np.zeros(hours + 1, dtype=np.uint64)
    marked = np.zeros((hours >> 6) + 1, dtype=np.uint64)

    n_weights = weights.shape[0] if summary else 0
    hrs = np.zeros(n_samples, dtype=np.float64)
    start_hour = np.zeros(n_samples, dtype=np.int64)
    leaf_asset = np.empty(n_cand if summary else 0, dtype=np.int32)
    leaf_total = np.empty(n_cand if summary else 0, dtype=np.int64)
    leaf_ever = np.empty(n_cand if summary else 0, dtype=np.int64)
    n_leaf = 0
    # Per leaf, change point to change point (work grows with the suppliers'
    # changes, not with the hours): merge the affected suppliers' change lists
    # k-of-n per group, charge a group's backup run by run, then AND the groups'
    # lists and the leaf's own intact list.
    width = max(max_in, 1)
    cursor = np.empty(width, dtype=np.int64)
    stop = np.empty(width, dtype=np.int64)
    value = np.empty(width, dtype=np.uint64)
    g_hour = np.empty(hours + 1, dtype=np.int64)
    g_word = np.empty(hours + 1, dtype=np.uint64)
    b_hour = np.empty(hours + 1, dtype=np.int64)
    b_word = np.empty(hours + 1, dtype=np.uint64)
    acc_hour = np.empty(hours + 1, dtype=np.int64)
    acc_word = np.empty(hours + 1, dtype=np.uint64)
    tmp_hour = np.empty(hours + 1, dtype=np.int64)
    tmp_word = np.empty(hours + 1, dtype=np.uint64)
    used = np.zeros(WORD_BITS, dtype=np.int64)
    scratch = np.empty(max_k + 1, dtype=np.uint64)
    capacity = 0 if summary else 1024 + 8 * core_hour.shape[0]  # grows by doubling if short
    log_asset = np.empty(capacity, dtype=np.int32)
    log_hour = np.empty(capacity, dtype=np.int32)
    log_word = np.empty(capacity, dtype=np.uint64)
    n_log = 0

    for ci in range(n_cand):
        c = candidates[ci]
        is_candidate[c] = False
        # own damage: down in hours ceil(onset) <= t < ceil(repair), as a change list
        n_acc = 0
        q = position[c]
        if q <= -2:
            col = -q - 2
            intact = mask
            for s in range(n_samples):
                r = np.ceil(repair_hours[s, col])
                o = np.ceil(onset_hours[s, col])
                if r > 0.0 and o < r and o < hours:
                    bit = one << np.uint64(s)
                    if o <= 0.0:
                        intact &= ~bit
                    else:
                        h = int(o)
                        down_at[h] |= bit
                        marked[h >> 6] |= one << np.uint64(h & 63)
                    if r < hours:
                        h = int(r)
                        up_at[h] |= bit
                        marked[h >> 6] |= one << np.uint64(h & 63)
            previous = mask
            if intact != mask:
                acc_hour[0] = 0
                acc_word[0] = intact
                n_acc = 1
                previous = intact
            for wi in range(marked.shape[0]):  # marked hours, ascending
                bits = marked[wi]
                marked[wi] = zero
                while bits != zero:
                    low = bits & (~bits + one)
                    bits ^= low
                    h = wi * 64 + int(popcount64(low - one))
                    # a sample has at most one point an hour: up and down bits disjoint
                    intact = (intact | up_at[h]) & ~down_at[h]
                    up_at[h] = zero
                    down_at[h] = zero
                    if intact != previous:
                        acc_hour[n_acc] = h
                        acc_word[n_acc] = intact
                        n_acc += 1
                        previous = intact
        for gi in range(asset_group_ptr[c], asset_group_ptr[c + 1]):
            g = asset_group[gi]
            lo = group_ptr[g]
            n_sup = group_ptr[g + 1] - lo
            k = group_k[g]
            n_live = 0
            for j in range(n_sup):
                q = position[group_supplier[lo + j]]
                if q < 0:  # works throughout
                    continue
                cursor[n_live] = core_ptr[q]
                stop[n_live] = core_ptr[q + 1]
                value[n_live] = mask
                n_live += 1
            need = k - (n_sup - n_live)  # suppliers needed among the affected ones
            if need <= 0:
                continue  # satisfied throughout
            n_g = 0
            previous = mask
            t = 0
            if n_live == 1:  # one affected supplier (need is 1): its own list
                for e in range(cursor[0], stop[0]):
                    ok = core_word[e] & mask
                    if ok != previous:
                        g_hour[n_g] = core_hour[e]
                        g_word[n_g] = ok
                        n_g += 1
                        previous = ok
                t = hours
            while t < hours:
                following = hours
                for j in range(n_live):
                    e = cursor[j]
                    while e < stop[j] and core_hour[e] <= t:
                        value[j] = core_word[e]
                        e += 1
                    cursor[j] = e
                    if e < stop[j] and core_hour[e] < following:
                        following = core_hour[e]
                ok = _k_of_n(value, 0, n_live, need, scratch) & mask
                if ok != previous:
                    g_hour[n_g] = t
                    g_word[n_g] = ok
                    n_g += 1
                    previous = ok
                t = following
            if n_g == 0:
                continue
            budget = group_backup_hours[g]
            if budget > 0:  # OK while satisfied or reserve left; unsatisfied hours use it
                backup_ok = mask
                for s in range(n_samples):
                    used[s] = 0
                n_b = 0
                previous = mask
                for i in range(n_g):
                    t = g_hour[i]
                    t_end = g_hour[i + 1] if i + 1 < n_g else hours
                    satisfied = g_word[i]
                    while t < t_end:
                        now = (satisfied | backup_ok) & mask
                        if now != previous:
                            b_hour[n_b] = t
                            b_word[n_b] = now
                            n_b += 1
                            previous = now
                        spend = ~satisfied & backup_ok & mask
                        if spend == zero:
                            break
                        step = t_end - t
                        for s in range(n_samples):
                            if (spend >> np.uint64(s)) & one:
                                left = budget - used[s]
                                if left < step:
                                    step = left
                        for s in range(n_samples):
                            bit = one << np.uint64(s)
                            if spend & bit:
                                used[s] += step
                                if used[s] >= budget:
                                    backup_ok &= ~bit
                        t += step
                g_hour, b_hour = b_hour, g_hour
                g_word, b_word = b_word, g_word
                n_g = n_b
            if n_acc == 0:  # acc works throughout: acc = this group's list
                acc_hour, g_hour = g_hour, acc_hour
                acc_word, g_word = g_word, acc_word
                n_acc = n_g
                continue
            # acc &= this group's list
            i = 0
            j = 0
            wa = mask
            wb = mask
            previous = mask
            n_tmp = 0
            while i < n_acc or j < n_g:
                if j >= n_g or (i < n_acc and acc_hour[i] < g_hour[j]):
                    t = acc_hour[i]
                elif i >= n_acc or g_hour[j] < acc_hour[i]:
                    t = g_hour[j]
                else:
                    t = acc_hour[i]
                if i < n_acc and acc_hour[i] == t:
                    wa = acc_word[i]
                    i += 1
                if j < n_g and g_hour[j] == t:
                    wb = g_word[j]
                    j += 1
                now = wa & wb
                if now != previous:
                    tmp_hour[n_tmp] = t
                    tmp_word[n_tmp] = now
                    n_tmp += 1
                    previous = now
            acc_hour, tmp_hour = tmp_hour, acc_hour
            acc_word, tmp_word = tmp_word, acc_word
            n_acc = n_tmp
        if summary:
            if n_acc == 0:
                continue
            weighted = False
            for j in range(n_weights):
                if weights[j, c] != 0.0:
                    weighted = True
            total = np.int64(0)
            seen = zero
            was_down = zero
            for i in range(n_acc):
                until = acc_hour[i + 1] if i + 1 < n_acc else hours
                down = ~acc_word[i] & mask
                if weighted:  # per sample: Σ (up hour - down hour), over its toggles
                    toggled = down ^ was_down
                    while toggled != zero:
                        low = toggled & (~toggled + one)
                        s = popcount64(low - one)
                        if down & low:
                            start_hour[s] -= acc_hour[i]
                        else:
                            start_hour[s] += acc_hour[i]
                        toggled ^= low
                    was_down = down
                if down == zero:
                    continue
                seen |= down
                run = until - acc_hour[i]
                total += np.int64(popcount64(down)) * run
            if weighted:
                while was_down != zero:  # down at the horizon
                    low = was_down & (~was_down + one)
                    start_hour[popcount64(low - one)] += hours
                    was_down ^= low
                for s in range(n_samples):
                    hrs[s] = np.float64(start_hour[s])
                    start_hour[s] = 0
            leaf_asset[n_leaf] = c
            leaf_total[n_leaf] = total
            leaf_ever[n_leaf] = np.int64(popcount64(seen))
            n_leaf += 1
            if weighted:
                for j in range(n_weights):
                    w = weights[j, c]
                    if w != 0.0:
                        for s in range(n_samples):
                            people_out[j, s] += w * hrs[s]
                for s in range(n_samples):
                    hrs[s] = 0.0
            continue
        if n_log + n_acc > log_asset.shape[0]:  # room for this leaf's changes
            size = 2 * (n_log + n_acc)
            grown_a = np.empty(size, dtype=np.int32)
            grown_h = np.empty(size, dtype=np.int32)
            grown_w = np.empty(size, dtype=np.uint64)
            grown_a[:n_log] = log_asset[:n_log]
            grown_h[:n_log] = log_hour[:n_log]
            grown_w[:n_log] = log_word[:n_log]
            log_asset, log_hour, log_word = grown_a, grown_h, grown_w
        for i in range(n_acc):
            log_asset[n_log] = c
            log_hour[n_log] = acc_hour[i]
            log_word[n_log] = acc_word[i]
            n_log += 1

    for i in range(n_core):
        position[core_assets[i]] = -1
    for i in range(damaged_in.shape[0]):
        position[damaged_in[i]] = -1
    return (log_asset[:n_log], log_hour[:n_log], log_word[:n_log],
            leaf_asset[:n_leaf], leaf_total[:n_leaf], leaf_ever[:n_leaf])


@nb.njit(cache=True)
def merge_changes(core_assets, core_ptr, core_hour, core_word, leaf_asset, leaf_hour, leaf_word):
    """One change list per asset, assets ascending: the core's and the leaves'."""
    n_log = leaf_asset.shape[0]
    n_runs = 0
    for j in range(n_log):
        if j == 0 or leaf_asset[j] != leaf_asset[j - 1]:
            n_runs += 1
    run_asset = np.empty(n_runs, dtype=np.int32)
    run_start = np.empty(n_runs + 1, dtype=np.int64)
    r = 0
    for j in range(n_log):
        if j == 0 or leaf_asset[j] != leaf_asset[j - 1]:
            run_asset[r] = leaf_asset[j]
            run_start[r] = j
            r += 1
    run_start[n_runs] = n_log
    n_core = core_assets.shape[0]
    n = n_core + n_runs
    assets = np.empty(n, dtype=np.int32)
    assets[:n_core] = core_assets
    assets[n_core:] = run_asset
    order = np.argsort(assets, kind="mergesort")
    out_assets = np.empty(n, dtype=np.int32)
    ptr = np.zeros(n + 1, dtype=np.int64)
    total = core_hour.shape[0] + n_log
    hour = np.empty(total, dtype=np.int32)
    word = np.empty(total, dtype=np.uint64)
    k = 0
    for i in range(n):
        src = order[i]
        out_assets[i] = assets[src]
        if src < n_core:
            lo, hi = core_ptr[src], core_ptr[src + 1]
            for j in range(lo, hi):
                hour[k] = core_hour[j]
                word[k] = core_word[j]
                k += 1
        else:
            lo, hi = run_start[src - n_core], run_start[src - n_core + 1]
            for j in range(lo, hi):
                hour[k] = leaf_hour[j]
                word[k] = leaf_word[j]
                k += 1
        ptr[i + 1] = k
    return out_assets, ptr, hour, word
