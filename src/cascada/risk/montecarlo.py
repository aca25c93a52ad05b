"""Event-set Monte Carlo: every event × S damage samples → cascade → impact.

For each event of a (multi-hazard) :class:`EventSet`, ``n_samples`` damage
samples are drawn, cascaded over the dependency graph (64 samples per uint64
word) and counted: direct loss (EUR), people-hours without each service, and
per asset the expected down-hours and outage probability.

Work follows the event, not the region: draws, damage, repair and loss are
computed for the exposed assets only, and the cascade
(:func:`cascada.cascade.propagate_sparse`) visits only what the damaged assets
reach. Every random number is keyed by (seed, event, asset, sample)
(:mod:`cascada.risk.draws`), so the result depends on the seed, never on the
backend, the number of workers or ``events_per_block``. Events run in blocks
(the unit of work of a backend); a block returns its events' per-sample
impacts and sparse per-asset contributions, which the driver adds up event by
event in event order. Memory grows with the assets, not with events × assets.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numba as nb
import numpy as np
import pandas as pd
from scipy import sparse, special

from cascada.cascade import CompiledGraph, SparseWorkspace, compile_graph, propagate_sparse
from cascada.cascade.sparse import propagate_sparse_summary
from cascada.errors import CascadaInputError
from cascada.hazards.eventset import HAZARD_UNITS, EventSet
from cascada.impact.people import ServiceLinks
from cascada.region.catalogue import N_DAMAGE_STATES, load_asset_types
from cascada.region.model import Region
from cascada.risk.backends import Backend, SerialBackend
from cascada.risk.draws import DAMAGE_STREAM, REPAIR_STREAM, keyed_uniforms, run_key
from cascada.risk.service_outage import PeopleWorkspace, ServiceIndex, people_hours
from cascada.vulnerability import load_fragility
from cascada.vulnerability.damage import (
    MIN_REPAIR_HOURS,
    exceedance_probabilities,
    repair_hours_from_uniform,
)
from cascada.vulnerability.restoration import load_restoration

SERVICES = ("power", "water", "telecom", "health", "finance", "food")
WORD = 64
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class RiskContext:
    """Everything a worker needs to run a block of events (picklable, no GeoPandas).

    curves: {hazard: (medians, betas)}, each float64 [assets, 4].
    restoration: {hazard: (mean, sd)}, float64 [assets, 5] each, restoration
    hours per damage state (hazard-specific rows over the catalogue's defaults).
    damage_ratio: float64 [assets, 5], per damage state.
    value_eur: float64 [assets]; line_length_m: float64 [assets] (0 for points).
    population_served: float64 [assets], people.
    service_index: {service: ServiceIndex}, the service links both ways.
    """

    graph: CompiledGraph
    links: ServiceLinks
    curves: dict[str, tuple[np.ndarray, np.ndarray]]
    restoration: dict[str, tuple[np.ndarray, np.ndarray]]
    damage_ratio: np.ndarray
    value_eur: np.ndarray
    line_length_m: np.ndarray
    population_served: np.ndarray
    hazards: tuple[str, ...]
    n_samples: int
    hours: int
    service_index: dict[str, ServiceIndex] = field(default_factory=dict)


@dataclass(frozen=True)
class EventBlock:
    """A contiguous block of events and the key of the run's random numbers.

    start: position of the block's first event in the event set.
    intensity, exposed_length_m: CSR rows of the block's events × assets
    (canonical: sorted indices, no duplicates).
    hazard_index: int [events] into ``RiskContext.hazards``; onset_hours: float [events].
    """

    index: int
    start: int
    key: int
    intensity: object
    exposed_length_m: object
    hazard_index: np.ndarray
    onset_hours: np.ndarray


@dataclass
class BlockResult:
    """Impacts of one block.

    loss_eur: float64 [events, samples]; people_hours: float64 [events, services,
    samples]; assets_damaged: float64 [events] (mean over samples).
    Per-asset contributions, sparse per event (CSR over the block's events):
    event i adds ``loss_value[loss_ptr[i]:loss_ptr[i + 1]]`` (annual rate ×
    sample-mean loss, EUR/year) at ``loss_index[...]`` (its damaged assets),
    and ``down_value`` (rate × mean down-hours) and ``out_value`` (rate ×
    outage probability) at ``outage_index[outage_ptr[i]:outage_ptr[i + 1]]``
    (the assets its cascade reaches).
    """

    index: int
    loss_eur: np.ndarray
    people_hours: np.ndarray
    assets_damaged: np.ndarray
    loss_ptr: np.ndarray
    loss_index: np.ndarray
    loss_value: np.ndarray
    outage_ptr: np.ndarray
    outage_index: np.ndarray
    down_value: np.ndarray
    out_value: np.ndarray

    def arrays(self) -> dict[str, np.ndarray]:
        """Every field as an array (for ``np.savez``)."""
        return {name: np.asarray(getattr(self, name)) for name in BLOCK_FIELDS}

    @classmethod
    def from_arrays(cls, arrays) -> BlockResult:
        """Inverse of :meth:`arrays`."""
        values = {name: np.asarray(arrays[name]) for name in BLOCK_FIELDS}
        values["index"] = int(values["index"])
        return cls(**values)


BLOCK_FIELDS = ("index", "loss_eur", "people_hours", "assets_damaged", "loss_ptr",
                "loss_index", "loss_value", "outage_ptr", "outage_index", "down_value",
                "out_value")


@dataclass
class RiskResult:
    """Per-event per-sample impacts and per-asset expected annual values.

    events: the event table (event_id, hazard, annual_rate, ...), one row per event.
    loss_eur: float64 [events, samples], EUR.
    people_hours: {service: float64 [events, samples]}, people × hours.
    asset_*: float64 [hazards, assets]; annual (Σ rate × per-event mean):
    EUR/year, hours/year, outages/year.
    """

    events: pd.DataFrame
    asset_ids: np.ndarray
    hazards: tuple[str, ...]
    services: tuple[str, ...]
    loss_eur: np.ndarray
    people_hours: dict[str, np.ndarray]
    assets_damaged: np.ndarray
    asset_loss_eur: np.ndarray
    asset_down_hours: np.ndarray
    asset_outage_probability: np.ndarray
    n_samples: int
    hours: int
    seed: int
    events_per_block: int
    metadata: dict = field(default_factory=dict)

    def impacts(self) -> dict[str, np.ndarray]:
        """{impact name: float64 [events, samples]}: direct_loss_eur, people_hours_<service>."""
        out = {"direct_loss_eur": self.loss_eur}
        out.update({f"people_hours_{s}": v for s, v in self.people_hours.items()})
        return out


# --------------------------------------------------------------------------- context


def build_context(region: Region, hazards: list[str], n_samples: int, hours: int,
                  services: tuple[str, ...] = SERVICES) -> RiskContext:
    """Compile the region once: graph, service links, curves and per-type tables."""
    assets = region.assets
    types = assets["asset_type"].to_numpy()
    catalogue = load_asset_types()
    fragility = load_fragility()
    curves = {}
    for hazard in hazards:
        if HAZARD_UNITS.get(hazard) == "damage_state":
            curves[hazard] = (np.zeros((0, 4)), np.zeros((0, 4)))
        else:
            curves[hazard] = tuple(np.asarray(c, np.float64)
                                   for c in fragility.curves(types, hazard))
    present = [s for s in services if (region.service_links["service"] == s).any()]
    links = ServiceLinks.compile(region.service_links, region.people, region.asset_index(),
                                 present) if present else ServiceLinks((), {}, {}, {}, {}, {})
    is_line = assets.geom_type.isin(["LineString", "MultiLineString"]).to_numpy()
    length = np.zeros(len(assets))
    if is_line.any():
        length[is_line] = assets.geometry[is_line].to_crs(
            assets.estimate_utm_crs()).length.to_numpy()
    graph = compile_graph(region.dependencies, region.asset_index())
    return RiskContext(
        graph=graph,
        links=links,
        curves=curves,
        restoration={hazard: load_restoration().hours(types, hazard) for hazard in hazards},
        damage_ratio=catalogue.damage_ratio(types).astype(np.float64),
        value_eur=assets["value_eur"].to_numpy(np.float64),
        line_length_m=length,
        population_served=assets["population_served"].to_numpy(np.float64),
        hazards=tuple(hazards),
        n_samples=n_samples,
        hours=hours,
        service_index={s: ServiceIndex.from_links(links, s, graph.n_assets)
                       for s in links.services},
    )


# --------------------------------------------------------------------------- one event


def _damage_states(ctx: RiskContext, hazard: str, intensity: np.ndarray, assets: np.ndarray,
                   uniform: np.ndarray) -> np.ndarray:
    """uint8 [samples, exposed]: damage state of the exposed ``assets`` (intensity
    > 0 there) from one uniform draw per sample × asset."""
    if HAZARD_UNITS.get(hazard) == "damage_state":
        states = np.clip(np.rint(intensity), 0, N_DAMAGE_STATES - 1).astype(np.uint8)
        return np.broadcast_to(states, uniform.shape).copy()
    medians, betas = ctx.curves[hazard]
    exceed = exceedance_probabilities(intensity, medians[assets], betas[assets])
    states = np.zeros(uniform.shape, np.uint8)
    for ds in range(exceed.shape[1]):
        states += uniform < exceed[:, ds]
    return states


def _repair_hours(ctx: RiskContext, hazard: str, assets: np.ndarray, states: np.ndarray,
                  uniform: np.ndarray, limit_hours: float = np.inf) -> np.ndarray:
    """float32 [samples, exposed]: truncated-normal repair time, hours (as
    :func:`cascada.vulnerability.sample_repair_hours` with the hazard's
    restoration times, on damaged entries only).

    limit_hours: times at or beyond it may come back as ``inf`` without being
    computed. Inverse-CDF sampling is increasing in the uniform, so whether a
    draw reaches the limit is decided by one threshold per (asset, damage
    state); the cascade cannot tell a repair after its horizon from ``inf``.
    The plain reference of :func:`_outage_windows` (which :func:`run_block` uses).
    """
    out = np.zeros(states.shape, np.float32)
    s, j = np.nonzero(states)
    if len(s) == 0:
        return out
    ds = states[s, j].astype(np.intp)
    mean_table, sd_table = ctx.restoration[hazard]
    u = uniform[s, j]
    if np.isfinite(limit_hours):
        mean, sd = mean_table[assets], sd_table[assets]  # [exposed, 5]
        with np.errstate(divide="ignore", invalid="ignore"):
            lower = special.ndtr((MIN_REPAIR_HOURS - mean) / sd)
            at_limit = special.ndtr((limit_hours - mean) / sd)
            threshold = (at_limit - lower) / (1.0 - lower)
        constant = np.where(np.maximum(mean, MIN_REPAIR_HOURS) < limit_hours, 2.0, -1.0)
        threshold = np.where(sd > 0, threshold, constant)
        threshold = np.where(np.isnan(threshold), 2.0, threshold)  # unsure: compute
        late = u >= threshold[j, ds]
        out[s[late], j[late]] = np.inf
        s, j, ds, u = s[~late], j[~late], ds[~late], u[~late]
    a = assets[j]
    out[s, j] = repair_hours_from_uniform(mean_table[a, ds], sd_table[a, ds], u)
    return out


def _repair_thresholds(ctx: RiskContext, hazard: str, assets: np.ndarray,
                       limit_hours: float) -> np.ndarray:
    """float64 [exposed, 5]: the uniform at or above which a repair time (drawn by
    inverse CDF, increasing in the uniform) is at or beyond ``limit_hours``
    (2: never; -1: always; column 0 unused)."""
    mean, sd = ctx.restoration[hazard][0][assets], ctx.restoration[hazard][1][assets]
    with np.errstate(divide="ignore", invalid="ignore"):
        lower = special.ndtr((MIN_REPAIR_HOURS - mean) / sd)
        threshold = (special.ndtr((limit_hours - mean) / sd) - lower) / (1.0 - lower)
    constant = np.where(np.maximum(mean, MIN_REPAIR_HOURS) < limit_hours, 2.0, -1.0)
    threshold = np.where(sd > 0, threshold, constant)
    return np.where(np.isnan(threshold), 2.0, threshold)  # unsure: compute the time


@nb.njit(cache=True)
def _split_late(states, uniform, threshold, onset):
    """end, start: float32 [S, exposed] (0 where undamaged; end inf where the repair is
    late, else to be filled); and the (sample, column, state) of the other damaged."""
    n_samples, n = states.shape
    end = np.zeros((n_samples, n), dtype=np.float32)
    start = np.zeros((n_samples, n), dtype=np.float32)
    count = 0
    for s in range(n_samples):
        for j in range(n):
            ds = states[s, j]
            if ds == 0:
                continue
            start[s, j] = onset
            if uniform[s, j] >= threshold[j, ds]:
                end[s, j] = np.inf
            else:
                count += 1
    early_s = np.empty(count, dtype=np.int64)
    early_j = np.empty(count, dtype=np.int64)
    early_ds = np.empty(count, dtype=np.int64)
    k = 0
    for s in range(n_samples):
        for j in range(n):
            ds = states[s, j]
            if ds != 0 and uniform[s, j] < threshold[j, ds]:
                early_s[k], early_j[k], early_ds[k] = s, j, ds
                k += 1
    return end, start, early_s, early_j, early_ds


def _outage_windows(ctx: RiskContext, hazard: str, assets: np.ndarray, states: np.ndarray,
                    uniform: np.ndarray, onset: np.float32) -> tuple[np.ndarray, np.ndarray]:
    """Cascade input of one event: end, start float32 [samples, exposed], hours: damage
    from ``onset`` to ``onset`` + repair time (0, 0 where undamaged).

    As :func:`_repair_hours`, but a repair at or after ``hours - onset`` (which ends
    after the horizon, with an hour to spare) is left ``inf`` without computing it.
    """
    threshold = _repair_thresholds(ctx, hazard, assets, float(ctx.hours) - float(onset))
    end, start, s, j, ds = _split_late(states, uniform, threshold, onset)
    if len(s):
        mean_table, sd_table = ctx.restoration[hazard]
        a = assets[j]
        repair = repair_hours_from_uniform(mean_table[a, ds], sd_table[a, ds], uniform[s, j])
        end[s, j] = onset + repair.astype(np.float32)
    return end, start


def _exposed_share(ctx: RiskContext, block: EventBlock, e: int, assets: np.ndarray
                   ) -> np.ndarray:
    """float64 [exposed]: exposed share of each asset's value (lines: exposed length
    over line length, clipped to [0, 1]; points: 1)."""
    share = np.ones(len(assets))
    if block.exposed_length_m is None:
        return share
    length = ctx.line_length_m[assets]
    lines = length > 0
    if not lines.any():
        return share
    row = block.exposed_length_m
    lo, hi = row.indptr[e], row.indptr[e + 1]
    indices, data = row.indices[lo:hi], row.data[lo:hi]  # sorted (event_blocks)
    target = assets[lines]
    exposed = np.zeros(len(target))
    if len(indices):
        at = np.minimum(np.searchsorted(indices, target), len(indices) - 1)
        found = indices[at] == target
        exposed[found] = data[at[found]]
    share[lines] = np.clip(exposed / length[lines], 0.0, 1.0)
    return share


class _EventOutput:
    """Per-event sparse contributions to the per-asset accumulators, in event order."""

    def __init__(self) -> None:
        self.loss_index: list[np.ndarray] = []
        self.loss_value: list[np.ndarray] = []
        self.outage_index: list[np.ndarray] = []
        self.down_value: list[np.ndarray] = []
        self.out_value: list[np.ndarray] = []

    def add(self, loss_index, loss_value, outage_index, down_value, out_value) -> None:
        self.loss_index.append(np.asarray(loss_index, np.int32))
        self.loss_value.append(np.asarray(loss_value, np.float64))
        self.outage_index.append(np.asarray(outage_index, np.int32))
        self.down_value.append(np.asarray(down_value, np.float64))
        self.out_value.append(np.asarray(out_value, np.float64))

    def arrays(self) -> dict[str, np.ndarray]:
        def ptr(parts):
            return np.r_[0, np.cumsum([len(p) for p in parts])].astype(np.int64)

        def cat(parts, dtype):
            return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype)

        return {"loss_ptr": ptr(self.loss_index), "loss_index": cat(self.loss_index, np.int32),
                "loss_value": cat(self.loss_value, np.float64),
                "outage_ptr": ptr(self.outage_index),
                "outage_index": cat(self.outage_index, np.int32),
                "down_value": cat(self.down_value, np.float64),
                "out_value": cat(self.out_value, np.float64)}


def run_block(ctx: RiskContext, annual_rate: np.ndarray, block: EventBlock) -> BlockResult:
    """Run one block of events (the unit of work every backend maps over).

    Work per event grows with its exposed assets (draws, damage, loss) and
    with the assets its damage reaches (cascade, people-hours), not with the
    region: the random numbers are keyed by (event, asset, sample), the
    cascade is :func:`cascada.cascade.propagate_sparse`.
    """
    n_events = block.intensity.shape[0]
    services = ctx.links.services
    S = ctx.n_samples
    loss = np.zeros((n_events, S))
    people = np.zeros((n_events, len(services), S))
    damaged = np.zeros(n_events)
    per_asset = _EventOutput()
    workspace = SparseWorkspace(ctx.graph)
    people_workspace = PeopleWorkspace(ctx.graph.n_assets, ctx.service_index)
    intensity_rows = block.intensity
    empty = np.zeros(0)
    # Leaves' change lists are most of a large cascade's output; when no person is
    # linked to a leaf together with other assets, a leaf's people-hours are its own
    # down hours × the people it serves alone, so its change list is never needed.
    is_leaf = workspace.is_leaf
    summarise = not any(np.diff(ctx.service_index[s].asset_ptr)[is_leaf].any()
                        for s in services)
    weights = (np.stack([ctx.service_index[s].single_population for s in services])
               if services else np.zeros((0, ctx.graph.n_assets)))
    for e in range(n_events):
        event = block.start + e
        hazard = ctx.hazards[int(block.hazard_index[e])]
        rate = float(annual_rate[event])
        lo, hi = intensity_rows.indptr[e], intensity_rows.indptr[e + 1]
        values = intensity_rows.data[lo:hi].astype(np.float64)
        keep = values > 0
        assets = intensity_rows.indices[lo:hi][keep].astype(np.int64)
        intensity = values[keep]
        if len(assets) == 0:
            per_asset.add(empty, empty, empty, empty, empty)
            continue
        uniform = keyed_uniforms(block.key, event, assets, S, DAMAGE_STREAM)
        states = _damage_states(ctx, hazard, intensity, assets, uniform)
        hit = states.any(axis=0)
        if not hit.any():
            per_asset.add(empty, empty, empty, empty, empty)
            continue
        assets, states, intensity = assets[hit], states[:, hit], intensity[hit]
        onset = np.float32(block.onset_hours[e])
        end, start_hours = _outage_windows(
            ctx, hazard, assets, states,
            keyed_uniforms(block.key, event, assets, S, REPAIR_STREAM), onset)
        value = ctx.value_eur[assets] * _exposed_share(ctx, block, e, assets)
        ratio = ctx.damage_ratio[assets[None, :], states]  # [S, damaged]
        loss[e] = ratio @ value
        damaged[e] = np.count_nonzero(states) / S
        outage_index, down_total, ever_down = [], [], []
        for lo_s in range(0, S, WORD):
            if summarise:
                cascade, leaves = propagate_sparse_summary(
                    ctx.graph, assets, end[lo_s:lo_s + WORD], ctx.hours,
                    start_hours[lo_s:lo_s + WORD], workspace, weights)
                total, ever = cascade.down_totals()
                outage_index.append(np.concatenate([cascade.assets, leaves.assets]))
                down_total.append(np.concatenate([total, leaves.down_total]))
                ever_down.append(np.concatenate([ever, leaves.ever_down]))
            else:
                cascade = propagate_sparse(ctx.graph, assets, end[lo_s:lo_s + WORD],
                                           ctx.hours, start_hours[lo_s:lo_s + WORD],
                                           workspace)
                total, ever = cascade.down_totals()
                outage_index.append(cascade.assets)
                down_total.append(total)
                ever_down.append(ever)
            for j, service in enumerate(services):
                hours_without = people_hours(cascade, ctx.service_index[service], service,
                                             people_workspace)
                if summarise:
                    hours_without += leaves.people[j]
                people[e, j, lo_s:lo_s + cascade.n_samples] = hours_without
        if len(outage_index) == 1:
            index, total, ever = outage_index[0], down_total[0], ever_down[0]
        else:  # > 64 samples: the union of the words' affected assets (integer sums)
            index, inverse = np.unique(np.concatenate(outage_index), return_inverse=True)
            total = np.bincount(inverse, np.concatenate(down_total), len(index))
            ever = np.bincount(inverse, np.concatenate(ever_down), len(index))
        per_asset.add(assets, rate * (ratio.mean(axis=0) * value), index,
                      rate * total / S, rate * ever / S)
    return BlockResult(block.index, loss, people, damaged, **per_asset.arrays())


# --------------------------------------------------------------------------- driver


class BlockStore(Protocol):
    """Where finished blocks are kept so an interrupted run can resume."""

    def load(self) -> dict[int, BlockResult]: ...

    def save(self, result: BlockResult) -> None: ...


def event_blocks(eventset: EventSet, hazards: tuple[str, ...], events_per_block: int,
                 seed: int) -> list[EventBlock]:
    """Split an event set into blocks of ``events_per_block`` events (the last may be
    shorter); every block carries the run key of ``seed``."""
    n = eventset.n_events
    n_blocks = max(1, -(-n // events_per_block))
    key = run_key(seed)
    hazard_index = pd.Index(hazards).get_indexer(eventset.events["hazard"])
    onset = eventset.events["time_offset_hours"].to_numpy(np.float64)

    def rows(matrix, lo, hi):
        out = sparse.csr_matrix(matrix[lo:hi])
        out.sum_duplicates()  # canonical: sorted indices
        return out

    blocks = []
    for b in range(n_blocks):
        lo, hi = b * events_per_block, min(n, (b + 1) * events_per_block)
        exposed = (rows(eventset.exposed_length_m, lo, hi)
                   if eventset.exposed_length_m is not None else None)
        blocks.append(EventBlock(b, lo, key, rows(eventset.intensity, lo, hi), exposed,
                                 hazard_index[lo:hi], onset[lo:hi]))
    return blocks


class _Totals:
    """Adds block results up in block order, event by event (bounded memory: blocks
    that finish early wait only until the blocks before them are in)."""

    def __init__(self, blocks: list[EventBlock], n_events: int, n_hazards: int,
                 n_assets: int, n_services: int, n_samples: int) -> None:
        self.blocks = blocks
        self.loss = np.zeros((n_events, n_samples))
        self.people = np.zeros((n_events, n_services, n_samples))
        self.damaged = np.zeros(n_events)
        self.asset_loss = np.zeros((n_hazards, n_assets))
        self.asset_down = np.zeros((n_hazards, n_assets))
        self.asset_out = np.zeros((n_hazards, n_assets))
        self.pending: dict[int, BlockResult] = {}
        self.next = 0

    def push(self, result: BlockResult) -> None:
        self.pending[result.index] = result
        while self.next in self.pending:
            self._add(self.pending.pop(self.next))
            self.next += 1

    def _add(self, r: BlockResult) -> None:
        block = self.blocks[r.index]
        lo = block.start
        n = len(r.loss_eur)
        self.loss[lo:lo + n] = r.loss_eur
        self.people[lo:lo + n] = r.people_hours
        self.damaged[lo:lo + n] = r.assets_damaged
        # An event's indices are distinct (its damaged assets; the assets its
        # cascade reaches), so a fancy-index add is np.add.at, only faster.
        for i in range(n):
            h = int(block.hazard_index[i])
            a, b = r.loss_ptr[i], r.loss_ptr[i + 1]
            index = r.loss_index[a:b]
            self.asset_loss[h, index] += r.loss_value[a:b]
            a, b = r.outage_ptr[i], r.outage_ptr[i + 1]
            index = r.outage_index[a:b]
            self.asset_down[h, index] += r.down_value[a:b]
            self.asset_out[h, index] += r.out_value[a:b]

    @property
    def complete(self) -> bool:
        return self.next == len(self.blocks) and not self.pending


def run_risk(
    region: Region,
    eventset: EventSet,
    n_samples: int = 64,
    hours: int = 168,
    seed: int = 12345,
    backend: Backend | None = None,
    *,
    events_per_block: int = 16,
    progress: Progress | None = None,
    block_store: BlockStore | None = None,
) -> RiskResult:
    """Monte Carlo over an event set: per event, ``n_samples`` damage samples →
    cascade over ``hours`` hours → direct loss and people-hours without service.

    eventset: events × assets, its columns in the region's asset order; the
    events table's ``annual_rate`` (events/year) weights the results.
    backend: where blocks run (default serial); results are bit-identical on
    every backend and for every ``events_per_block``. progress: called with
    (blocks done, blocks total). block_store: blocks it already holds are not
    run again, and every block that finishes is saved to it (resume).
    """
    if n_samples < 1:
        raise CascadaInputError("n_samples must be >= 1", field="samples")
    if events_per_block < 1:
        raise CascadaInputError("events_per_block must be >= 1", field="events_per_block")
    ids = region.assets["asset_id"].to_numpy()
    if len(eventset.asset_ids) != len(ids) or not np.array_equal(eventset.asset_ids, ids):
        raise CascadaInputError("the event set's assets are not the region's, in order",
                                field="asset_id", hint="build the event set on this region")
    hazards = tuple(dict.fromkeys(eventset.events["hazard"]))
    ctx = build_context(region, list(hazards), n_samples, hours)
    rates = eventset.events["annual_rate"].to_numpy(np.float64)
    blocks = event_blocks(eventset, hazards, events_per_block, seed)
    backend = backend or SerialBackend()
    services = ctx.links.services
    totals = _Totals(blocks, eventset.n_events, len(hazards), len(ids), len(services),
                     n_samples)
    finished = block_store.load() if block_store is not None else {}
    for index in sorted(finished):
        totals.push(finished[index])
    todo = [b for b in blocks if b.index not in finished]
    if progress and finished:
        progress(len(blocks) - len(todo), len(blocks))

    def tick(done: int, total: int) -> None:
        if progress:
            progress(len(blocks) - len(todo) + done, len(blocks))

    fn = functools.partial(run_block, ctx, rates)
    for _, result in backend.map(fn, todo, progress=tick):
        if block_store is not None:
            block_store.save(result)
        totals.push(result)
    if not totals.complete:  # pragma: no cover - a backend that lost a block
        raise RuntimeError("a backend returned fewer blocks than it was given")

    return RiskResult(
        events=eventset.events.reset_index(drop=True),
        asset_ids=ids,
        hazards=hazards,
        services=services,
        loss_eur=totals.loss,
        people_hours={s: np.ascontiguousarray(totals.people[:, j])
                      for j, s in enumerate(services)},
        assets_damaged=totals.damaged,
        asset_loss_eur=totals.asset_loss,
        asset_down_hours=totals.asset_down,
        asset_outage_probability=totals.asset_out,
        n_samples=n_samples,
        hours=hours,
        seed=seed,
        events_per_block=events_per_block,
        metadata={"backend": type(backend).__name__, "blocks": len(blocks),
                  "blocks_resumed": len(finished)},
    )
