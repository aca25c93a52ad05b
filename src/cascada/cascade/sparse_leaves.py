"""Leaves of the sparse cascade: assets that supply nobody, derived after the core.

Nothing depends on a leaf, so :mod:`cascada.cascade.sparse` resolves the hours'
fixed points on the *core* (assets that supply someone) only, and this module
derives each leaf that an event reaches from its suppliers' change lists and
its own damage, change point to change point, then merges core and leaves into
one change list per asset.
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
):
    """Leaves fed by an affected core asset, or damaged: each one's words from its
    suppliers' change lists and its own damage, hour by hour in small local
    buffers (hours × its suppliers).

    A leaf works in hour t iff it is intact and each of its groups has k
    working suppliers or backup left; a group uses one hour of backup for every
    hour it is unsatisfied (as in the kernel). Returns the leaves' change log
    (asset, hour, word), grouped by leaf, each leaf in hour order.
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

    # Damaged leaves' own outages: the intact word at hour 0, and later changes as
    # points (hour, bits, up) grouped by column, in hour order within one (a
    # counting sort by hour, then a stable one by column).
    n_cols = damaged_in.shape[0]
    leaf_cols = np.empty(n_cols, dtype=np.int64)
    n_leaf_cols = 0
    for i in range(n_cols):
        if is_leaf[damaged_in[i]]:
            leaf_cols[n_leaf_cols] = i
            n_leaf_cols += 1
    intact0 = np.empty(n_cols, dtype=np.uint64)
    intact0[:] = mask
    per_hour = np.zeros(hours + 1, dtype=np.int64)
    n_all = 0
    for s in range(n_samples):
        bit = one << np.uint64(s)
        for li in range(n_leaf_cols):
            i = leaf_cols[li]
            r = np.ceil(repair_hours[s, i])
            o = np.ceil(onset_hours[s, i])
            if r > 0.0 and o < r and o < hours:
                if o > 0.0:
                    per_hour[int(o)] += 1
                    n_all += 1
                else:
                    intact0[i] &= ~bit
                if r < hours:
                    per_hour[int(r)] += 1
                    n_all += 1
    at_hour = np.zeros(hours + 2, dtype=np.int64)
    for h in range(hours + 1):
        at_hour[h + 1] = at_hour[h] + per_hour[h]
    by_hour_col = np.empty(n_all, dtype=np.int64)
    by_hour_hour = np.empty(n_all, dtype=np.int64)
    by_hour_bits = np.empty(n_all, dtype=np.uint64)
    by_hour_up = np.empty(n_all, dtype=np.bool_)
    if n_all > 0:
        for s in range(n_samples):
            bit = one << np.uint64(s)
            for li in range(n_leaf_cols):
                i = leaf_cols[li]
                r = np.ceil(repair_hours[s, i])
                o = np.ceil(onset_hours[s, i])
                if r > 0.0 and o < r and o < hours:
                    if o > 0.0:
                        h = int(o)
                        e = at_hour[h]
                        at_hour[h] = e + 1
                        by_hour_col[e], by_hour_hour[e] = i, h
                        by_hour_bits[e], by_hour_up[e] = bit, False
                    if r < hours:
                        h = int(r)
                        e = at_hour[h]
                        at_hour[h] = e + 1
                        by_hour_col[e], by_hour_hour[e] = i, h
                        by_hour_bits[e], by_hour_up[e] = bit, True
    col_ptr = np.zeros(n_cols + 1, dtype=np.int64)
    for e in range(n_all):
        col_ptr[by_hour_col[e] + 1] += 1
    for i in range(n_cols):
        col_ptr[i + 1] += col_ptr[i]
    fill = col_ptr[:-1].copy()
    point_hour = np.empty(n_all, dtype=np.int64)
    point_bits = np.empty(n_all, dtype=np.uint64)
    point_up = np.empty(n_all, dtype=np.bool_)
    for e in range(n_all):
        k = fill[by_hour_col[e]]
        fill[by_hour_col[e]] = k + 1
        point_hour[k], point_bits[k], point_up[k] = by_hour_hour[e], by_hour_bits[e], by_hour_up[e]

    # Per leaf, hour by hour in local buffers (hours × its suppliers: a few KB):
    # expand each affected supplier's change list, combine k-of-n per group,
    # charge backups, AND the groups with the leaf's own intact word.
    value = np.empty((max(max_in, 1), hours), dtype=np.uint64)
    group_ok = np.empty(hours, dtype=np.uint64)
    word = np.empty(hours, dtype=np.uint64)
    column = np.empty(max(max_in, 1), dtype=np.uint64)
    used = np.zeros(WORD_BITS, dtype=np.int32)
    scratch = np.empty(max_k + 1, dtype=np.uint64)
    capacity = 1024 + 8 * (core_hour.shape[0] + n_all)  # grows by doubling if short
    log_asset = np.empty(capacity, dtype=np.int32)
    log_hour = np.empty(capacity, dtype=np.int32)
    log_word = np.empty(capacity, dtype=np.uint64)
    n_log = 0

    for ci in range(n_cand):
        c = candidates[ci]
        is_candidate[c] = False
        # own damage: down in hours ceil(onset) <= t < ceil(repair)
        intact = mask
        q = position[c]
        ip = 0
        ip_end = 0
        if q <= -2:
            ip = col_ptr[-q - 2]
            ip_end = col_ptr[-q - 1]
            intact = intact0[-q - 2]
        have_groups = False
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
                row = value[n_live]
                h = 0
                w = mask
                for e in range(core_ptr[q], core_ptr[q + 1]):
                    for t in range(h, core_hour[e]):
                        row[t] = w
                    h = core_hour[e]
                    w = core_word[e]
                for t in range(h, hours):
                    row[t] = w
                n_live += 1
            need = k - (n_sup - n_live)  # suppliers needed among the affected ones
            if need <= 0:
                continue  # satisfied throughout
            if need == 1:
                for t in range(hours):
                    acc = value[0, t]
                    for j in range(1, n_live):
                        acc |= value[j, t]
                    group_ok[t] = acc & mask
            elif need == n_live:
                for t in range(hours):
                    acc = value[0, t]
                    for j in range(1, n_live):
                        acc &= value[j, t]
                    group_ok[t] = acc & mask
            else:
                for t in range(hours):
                    for j in range(n_live):
                        column[j] = value[j, t]
                    group_ok[t] = _k_of_n(column, 0, n_live, need, scratch) & mask
            budget = group_backup_hours[g]
            if budget > 0:  # OK while satisfied or reserve left; unsatisfied hours use it
                backup_ok = mask
                for s in range(n_samples):
                    used[s] = 0
                for t in range(hours):
                    satisfied = group_ok[t]
                    group_ok[t] = satisfied | backup_ok
                    spend = ~satisfied & backup_ok & mask
                    if spend != zero:
                        for s in range(n_samples):
                            bit = one << np.uint64(s)
                            if spend & bit:
                                used[s] += 1
                                if used[s] >= budget:
                                    backup_ok &= ~bit
            if have_groups:
                for t in range(hours):
                    word[t] &= group_ok[t]
            else:
                for t in range(hours):
                    word[t] = group_ok[t]
                have_groups = True
        if have_groups:  # hour by hour
            for t in range(hours):
                while ip < ip_end and point_hour[ip] <= t:
                    if point_up[ip]:
                        intact |= point_bits[ip]
                    else:
                        intact &= ~point_bits[ip]
                    ip += 1
                word[t] &= intact
        if n_log + hours + 1 > log_asset.shape[0]:  # room for this leaf's changes
            size = 2 * (n_log + hours + 1)
            grown_a = np.empty(size, dtype=np.int32)
            grown_h = np.empty(size, dtype=np.int32)
            grown_w = np.empty(size, dtype=np.uint64)
            grown_a[:n_log] = log_asset[:n_log]
            grown_h[:n_log] = log_hour[:n_log]
            grown_w[:n_log] = log_word[:n_log]
            log_asset, log_hour, log_word = grown_a, grown_h, grown_w
        previous = mask
        if have_groups:
            for t in range(hours):
                now = word[t]
                if now != previous:
                    log_asset[n_log] = c
                    log_hour[n_log] = t
                    log_word[n_log] = now
                    n_log += 1
                    previous = now
        else:  # only its own damage: from one point to the next
            t = 0
            while t < hours:
                while ip < ip_end and point_hour[ip] <= t:
                    if point_up[ip]:
                        intact |= point_bits[ip]
                    else:
                        intact &= ~point_bits[ip]
                    ip += 1
                now = intact & mask
                if now != previous:
                    log_asset[n_log] = c
                    log_hour[n_log] = t
                    log_word[n_log] = now
                    n_log += 1
                    previous = now
                t = point_hour[ip] if ip < ip_end else hours

    for i in range(n_core):
        position[core_assets[i]] = -1
    for i in range(damaged_in.shape[0]):
        position[damaged_in[i]] = -1
    return log_asset[:n_log], log_hour[:n_log], log_word[:n_log]


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
