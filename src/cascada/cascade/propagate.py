"""Time-stepped cascade over a compiled dependency graph, 64 samples at a time.

Semantics (one Monte-Carlo sample; the kernel runs 64 of them as the bits of
one uint64 word per asset):

- An asset is *intact* in hour t iff ``repair_hours <= t`` (0 = undamaged,
  ``inf`` = not repaired within the horizon) or ``t < onset_hours`` (the damage
  has not happened yet: triggered events, e.g. a tsunami an hour after the
  earthquake; default 0).
- It *works* in hour t iff it is intact and every one of its groups is OK: at
  least ``k`` of the group's suppliers work in hour t, or the group still has
  backup left.
- Each hour is resolved to the *greatest* fixed point of these rules (start
  from "every intact asset works", switch off what is unsupported, repeat), so
  a healthy power ↔ telecom cycle stays up.
- Backup: a group has ``floor(backup_hours)`` hours of reserve. Every hour in
  which the group is unsatisfied (fewer than ``k`` suppliers work after the
  fixed point) uses one hour, whether or not the consumer itself is intact.
  The group is OK in hour t if satisfied or if the hours used before t are
  fewer than the reserve. The reserve never refills within the horizon
  (conservative: e.g. generator fuel is not resupplied), so a single outage
  of the suppliers is ridden through for exactly ``floor(backup_hours)``
  hours. Charging the reserve also while the consumer is damaged keeps the
  model monotone: more damage never restores service. (Charging it only while
  the consumer is intact would let a damaged consumer "save" its reserve and
  work later than an undamaged one.)

Algorithm: event-driven. Hour 0 starts from "every intact asset works" and
switches off, along the reverse CSR (supplier → group → consumer), only what
the damaged assets reach. Later hours start from the previous hour's fixed
point and react only to events: repairs (optimistically re-enable what the
repaired asset can reach, then switch off again what is unsupported; this
provably lands on the greatest fixed point) and groups whose backup runs out.
Hours without events copy the previous hour's words.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba as nb
import numpy as np

from cascada.cascade.graph import CompiledGraph

WORD_BITS = 64
_ALL = np.uint64(0xFFFFFFFFFFFFFFFF)


def sample_mask(n_samples: int) -> np.uint64:
    """The uint64 word with the low ``n_samples`` bits set (1 <= n_samples <= 64)."""
    if n_samples >= WORD_BITS:
        return _ALL
    return np.uint64((1 << n_samples) - 1)


# --------------------------------------------------------------------------- kernel


@nb.njit(cache=True)
def _group_satisfied(g, group_ptr, group_supplier, group_k, working, scratch):
    """Bits where at least k of group g's suppliers work (bit-sliced threshold)."""
    lo = group_ptr[g]
    hi = group_ptr[g + 1]
    k = group_k[g]
    n = hi - lo
    if k == 1:
        acc = np.uint64(0)
        for i in range(lo, hi):
            acc |= working[group_supplier[i]]
        return acc
    if k == n:
        acc = _ALL
        for i in range(lo, hi):
            acc &= working[group_supplier[i]]
        return acc
    # scratch[j] = bits where at least j of the suppliers seen so far work.
    scratch[0] = _ALL
    for j in range(1, k + 1):
        scratch[j] = np.uint64(0)
    seen = 0
    for i in range(lo, hi):
        w = working[group_supplier[i]]
        seen += 1
        top = k if seen > k else seen
        for j in range(top, 0, -1):
            scratch[j] |= scratch[j - 1] & w
    return scratch[k]


@nb.njit(cache=True)
def _propagate_block(
    group_consumer,
    group_k,
    group_backup_hours,
    group_ptr,
    group_supplier,
    asset_group_ptr,
    asset_group,
    supplier_group_ptr,
    supplier_group,
    max_k,
    repair_hours,
    onset_hours,
    hours,
    mask,
    working_out,
    backup_out,
):
    n_samples, n_assets = repair_hours.shape
    n_groups = group_k.shape[0]
    one = np.uint64(1)
    zero = np.uint64(0)

    # ---- intact words at hour 0; repair events (ev_kind 1) and damage onsets
    # (ev_kind 0) bucketed by hour. Sample s of asset a is out of repair in
    # hours ceil(onset) <= t < ceil(repair).
    intact = np.empty(n_assets, dtype=np.uint64)
    for a in range(n_assets):
        intact[a] = mask
    n_events = 0
    event_count = np.zeros(hours + 1, dtype=np.int64)
    for s in range(n_samples):
        for a in range(n_assets):
            r = np.ceil(repair_hours[s, a])
            o = np.ceil(onset_hours[s, a])
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
    n_damaged = 0
    for a in range(n_assets):
        if intact[a] != mask:
            n_damaged += 1
    damaged = np.empty(n_damaged, dtype=np.int32)
    nd = 0
    for a in range(n_assets):
        if intact[a] != mask:
            damaged[nd] = a
            nd += 1
    if n_events > 0:
        for s in range(n_samples):
            bit = one << np.uint64(s)
            for a in range(n_assets):
                r = np.ceil(repair_hours[s, a])
                o = np.ceil(onset_hours[s, a])
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

    # ---- state
    working = intact.copy()
    on_backup = np.zeros(n_assets, dtype=np.uint64)
    satisfied = np.empty(n_groups, dtype=np.uint64)
    backup_ok = np.empty(n_groups, dtype=np.uint64)
    for g in range(n_groups):
        satisfied[g] = mask
        backup_ok[g] = mask if group_backup_hours[g] > 0 else zero
    scratch = np.empty(max_k + 1, dtype=np.uint64)

    # work lists (flags keep each entry unique)
    stack = np.empty(n_assets, dtype=np.int32)
    in_stack = np.zeros(n_assets, dtype=np.bool_)
    touched = np.empty(n_assets, dtype=np.int32)
    is_touched = np.zeros(n_assets, dtype=np.bool_)
    dirty = np.empty(n_groups, dtype=np.int32)
    is_dirty = np.zeros(n_groups, dtype=np.bool_)
    reach_stack = np.empty(n_assets, dtype=np.int32)
    in_reach = np.zeros(n_assets, dtype=np.bool_)
    reach_bits = np.zeros(n_assets, dtype=np.uint64)
    # backup accounting: groups with unsatisfied bits that still have reserve
    active = np.empty(n_groups, dtype=np.int32)
    is_active = np.zeros(n_groups, dtype=np.bool_)
    n_active = 0
    exhausted = np.empty(n_groups, dtype=np.int32)
    is_exhausted = np.zeros(n_groups, dtype=np.bool_)
    n_exhausted = 0
    slot = np.full(n_groups, -1, dtype=np.int32)
    used = np.zeros((16, WORD_BITS), dtype=np.int32)
    n_slots = 0

    for t in range(hours):
        n_stack = 0
        n_touched = 0
        n_dirty = 0
        if t == 0:
            # From "every intact asset works": the damaged assets' groups change.
            for i in range(nd):
                a = damaged[i]
                if not is_touched[a]:
                    is_touched[a] = True
                    touched[n_touched] = a
                    n_touched += 1
                for e in range(supplier_group_ptr[a], supplier_group_ptr[a + 1]):
                    g = supplier_group[e]
                    if not is_dirty[g]:
                        is_dirty[g] = True
                        dirty[n_dirty] = g
                        n_dirty += 1
        else:
            # Repairs: optimistically switch on what the repaired bits can reach
            # (through assets that were off), then switch off what is unsupported.
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
                    if not is_dirty[g]:
                        is_dirty[g] = True
                        dirty[n_dirty] = g
                        n_dirty += 1
                    c = group_consumer[g]
                    new = bits & ~working[c] & intact[c]
                    if new != zero:
                        working[c] |= new
                        reach_bits[c] |= new
                        if not in_reach[c]:
                            in_reach[c] = True
                            reach_stack[n_reach] = c
                            n_reach += 1
            # Damage onsets (triggered events): the bits stop working now.
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
                        if not is_dirty[g]:
                            is_dirty[g] = True
                            dirty[n_dirty] = g
                            n_dirty += 1
            # Groups whose backup ran out at the end of the previous hour.
            for i in range(n_exhausted):
                g = exhausted[i]
                is_exhausted[g] = False
                c = group_consumer[g]
                if (working[c] & ~(satisfied[g] | backup_ok[g])) != zero and not in_stack[c]:
                    in_stack[c] = True
                    stack[n_stack] = c
                    n_stack += 1
            n_exhausted = 0

        # Re-evaluate the groups whose suppliers changed.
        for i in range(n_dirty):
            g = dirty[i]
            is_dirty[g] = False
            s_new = _group_satisfied(g, group_ptr, group_supplier, group_k, working, scratch)
            s_new &= mask
            if s_new != satisfied[g]:
                satisfied[g] = s_new
                c = group_consumer[g]
                if not is_touched[c]:
                    is_touched[c] = True
                    touched[n_touched] = c
                    n_touched += 1
                if (~s_new & backup_ok[g] & mask) != zero and not is_active[g]:
                    is_active[g] = True
                    active[n_active] = g
                    n_active += 1
                if (working[c] & ~(s_new | backup_ok[g])) != zero and not in_stack[c]:
                    in_stack[c] = True
                    stack[n_stack] = c
                    n_stack += 1

        # Switch off what is unsupported, along supplier → group → consumer.
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
                s_new = _group_satisfied(g, group_ptr, group_supplier, group_k, working, scratch)
                s_new &= mask
                if s_new == satisfied[g]:
                    continue
                satisfied[g] = s_new
                cc = group_consumer[g]
                if not is_touched[cc]:
                    is_touched[cc] = True
                    touched[n_touched] = cc
                    n_touched += 1
                if (~s_new & backup_ok[g] & mask) != zero and not is_active[g]:
                    is_active[g] = True
                    active[n_active] = g
                    n_active += 1
                if (working[cc] & ~(s_new | backup_ok[g])) != zero and not in_stack[cc]:
                    in_stack[cc] = True
                    stack[n_stack] = cc
                    n_stack += 1

        # on_backup for the assets whose words or groups changed this hour.
        for i in range(n_touched):
            c = touched[i]
            is_touched[c] = False
            unsat = zero
            for j in range(asset_group_ptr[c], asset_group_ptr[c + 1]):
                unsat |= ~satisfied[asset_group[j]]
            on_backup[c] = working[c] & unsat & mask
        working_out[t, :] = working
        backup_out[t, :] = on_backup

        # Backup accounting: every unsatisfied group with reserve left uses an hour.
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


# --------------------------------------------------------------------------- results


@nb.njit(cache=True)
def _outage_summary(working, mask, n_samples):
    hours, n_assets = working.shape
    down = np.zeros((n_samples, n_assets), dtype=np.float32)
    first = np.full((n_samples, n_assets), -1, dtype=np.int16)
    restored = np.full((n_samples, n_assets), -1, dtype=np.int16)
    one = np.uint64(1)
    for t in range(hours):
        for a in range(n_assets):
            off = ~working[t, a] & mask
            if off == np.uint64(0):
                continue
            for s in range(n_samples):
                if off & (one << np.uint64(s)):
                    down[s, a] += 1.0
                    if first[s, a] < 0:
                        first[s, a] = t
                    restored[s, a] = t + 1
    return down, first, restored


@dataclass(eq=False)
class CascadeState:
    """Service of every asset, hour by hour, for up to 64 samples.

    working: uint64 [hours, n_assets]; bit s set = the asset works during hour
        t in sample s.
    on_backup: uint64 [hours, n_assets]; bit s set = the asset works but at
        least one of its groups runs on its backup reserve.
    n_samples: samples held (bits >= n_samples are 0).
    """

    working: np.ndarray
    on_backup: np.ndarray
    n_samples: int

    @property
    def hours(self) -> int:
        return self.working.shape[0]

    @property
    def n_assets(self) -> int:
        return self.working.shape[1]

    def unpack(self, what: str = "working") -> np.ndarray:
        """Bits as bool [hours, n_samples, n_assets] (``what``: working / on_backup).

        Memory: hours × 64 × n_assets bytes; for tests and small regions.
        """
        if what not in ("working", "on_backup"):
            raise ValueError(f"what must be 'working' or 'on_backup', got {what!r}")
        words = getattr(self, what)
        bits = (words[:, None, :] >> np.arange(self.n_samples, dtype=np.uint64)[None, :, None]) & 1
        return bits.astype(bool)

    def _summary(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        cached = getattr(self, "_cached_summary", None)
        if cached is None:
            cached = _outage_summary(self.working, sample_mask(self.n_samples), self.n_samples)
            self._cached_summary = cached
        return cached

    def down_hours(self) -> np.ndarray:
        """Hours each asset does not work: float32 [n_samples, n_assets]."""
        return self._summary()[0]

    def first_down_hour(self) -> np.ndarray:
        """First hour each asset does not work: int16 [n_samples, n_assets], -1 if never."""
        return self._summary()[1]

    def restored_hour(self) -> np.ndarray:
        """Hour after each asset's last hour down: int16 [n_samples, n_assets].

        -1 if never down; ``hours`` if still down at the end of the horizon.
        """
        return self._summary()[2]


def propagate(
    graph: CompiledGraph,
    repair_hours: np.ndarray,
    hours: int = 168,
    onset_hours: np.ndarray | None = None,
) -> CascadeState:
    """Cascade the damage of up to 64 samples over ``hours`` hours.

    repair_hours: float32 [n_samples, n_assets], n_samples <= 64; the hour
        at which each asset is intact again (0 = undamaged, ``np.inf`` = not
        repaired within the horizon). An asset is intact in hour t iff
        ``repair_hours <= t``. A 1-D array is taken as one sample.
    onset_hours: float32, same shape, the hour at which each asset's damage
        happens (default 0; a tsunami triggered an hour after an earthquake
        damages at hour 1). An asset is out of repair in hours
        ``onset_hours <= t < repair_hours``.
    hours: number of simulated hours (hour 0 is the hour of the event).
    Returns: :class:`CascadeState` with words of shape [hours, n_assets].
    """
    repair = np.asarray(repair_hours, dtype=np.float32)
    if repair.ndim == 1:
        repair = repair[None, :]
    if repair.ndim != 2 or repair.shape[1] != graph.n_assets:
        raise ValueError(
            f"repair_hours must be [n_samples, {graph.n_assets}], got shape {repair.shape}"
        )
    n_samples = repair.shape[0]
    if not 1 <= n_samples <= WORD_BITS:
        raise ValueError(f"propagate takes 1 to 64 samples, got {n_samples}; use propagate_many")
    if np.isnan(repair).any():
        raise ValueError("repair_hours contains NaN")
    if hours < 1:
        raise ValueError(f"hours must be >= 1, got {hours}")
    repair = np.ascontiguousarray(repair)
    if onset_hours is None:
        onset = np.zeros_like(repair)
    else:
        onset = np.asarray(onset_hours, dtype=np.float32).reshape(repair.shape)
        onset = np.ascontiguousarray(onset)
        if np.isnan(onset).any():
            raise ValueError("onset_hours contains NaN")
    working = np.empty((hours, graph.n_assets), dtype=np.uint64)
    on_backup = np.empty((hours, graph.n_assets), dtype=np.uint64)
    _propagate_block(
        graph.group_consumer,
        graph.group_k,
        graph.group_backup_hours,
        graph.group_ptr,
        graph.group_supplier,
        graph.asset_group_ptr,
        graph.asset_group,
        graph.supplier_group_ptr,
        graph.supplier_group,
        graph.max_k,
        repair,
        onset,
        hours,
        sample_mask(n_samples),
        working,
        on_backup,
    )
    return CascadeState(working=working, on_backup=on_backup, n_samples=n_samples)


def propagate_many(
    graph: CompiledGraph,
    repair_hours: np.ndarray,
    hours: int = 168,
    onset_hours: np.ndarray | None = None,
) -> list[CascadeState]:
    """:func:`propagate` over any number of samples, in blocks of 64.

    repair_hours, onset_hours: float32 [n_samples, n_assets]. Returns one
    CascadeState per block; block b holds samples ``64 * b`` to ``64 * b + 63``.
    """
    repair = np.asarray(repair_hours, dtype=np.float32)
    if repair.ndim != 2:
        raise ValueError(f"repair_hours must be 2-D, got shape {repair.shape}")
    return [
        propagate(graph, repair[start : start + WORD_BITS], hours,
                  None if onset_hours is None else onset_hours[start : start + WORD_BITS])
        for start in range(0, repair.shape[0], WORD_BITS)
    ]
