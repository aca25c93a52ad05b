"""Event-set Monte Carlo: every event × S damage samples → cascade → impact.

For each event of a (multi-hazard) :class:`EventSet`, ``n_samples`` damage
samples are drawn, cascaded over the dependency graph (64 samples per uint64
word) and counted: direct loss (EUR), people-hours without each service, and
per asset the expected down-hours and outage probability.

Events are processed in fixed blocks of ``events_per_block`` events. Block b
draws its random numbers from ``SeedSequence(seed).spawn(n_blocks)[b]``, so the
result depends on the seed and the block size, never on the backend or the
number of workers. Only one event's samples × assets arrays exist at a time in
a worker; the events × assets × samples array is never built.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cascada.cascade import CompiledGraph, compile_graph, propagate, sample_mask
from cascada.errors import CascadaInputError
from cascada.hazards.eventset import HAZARD_UNITS, EventSet
from cascada.impact.people import ServiceLinks
from cascada.region.catalogue import N_DAMAGE_STATES, load_asset_types
from cascada.region.model import Region
from cascada.risk.backends import Backend, SerialBackend
from cascada.vulnerability import load_fragility
from cascada.vulnerability.damage import exceedance_probabilities, repair_hours_from_uniform
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


@dataclass(frozen=True)
class EventBlock:
    """A contiguous block of events and the seed of its random numbers.

    intensity, exposed_length_m: CSR rows of the block's events × assets.
    hazard_index: int [events] into ``RiskContext.hazards``; onset_hours: float [events].
    """

    index: int
    start: int
    seed: np.random.SeedSequence
    intensity: object
    exposed_length_m: object
    hazard_index: np.ndarray
    onset_hours: np.ndarray


@dataclass
class BlockResult:
    """Impacts of one block.

    loss_eur: float64 [events, samples]; people_hours: float64 [events, services,
    samples]; assets_damaged: float64 [events] (mean over samples).
    asset_loss_eur, asset_down_hours, asset_outage_probability: float64
    [hazards, assets], sums over the block's events of the per-event sample mean
    weighted by the event's annual rate (so they add up to expected annual values).
    """

    index: int
    loss_eur: np.ndarray
    people_hours: np.ndarray
    assets_damaged: np.ndarray
    asset_loss_eur: np.ndarray
    asset_down_hours: np.ndarray
    asset_outage_probability: np.ndarray


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
    return RiskContext(
        graph=compile_graph(region.dependencies, region.asset_index()),
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
    )


# --------------------------------------------------------------------------- one event


def _damage_states(ctx: RiskContext, hazard: str, intensity: np.ndarray,
                   uniform: np.ndarray) -> np.ndarray:
    """uint8 [samples, assets]: damage state from one uniform draw per sample × asset."""
    if HAZARD_UNITS.get(hazard) == "damage_state":
        states = np.clip(np.rint(intensity), 0, N_DAMAGE_STATES - 1).astype(np.uint8)
        return np.broadcast_to(states, uniform.shape).copy()
    medians, betas = ctx.curves[hazard]
    exposed = np.flatnonzero(intensity > 0)
    states = np.zeros(uniform.shape, np.uint8)
    if len(exposed) == 0:
        return states
    exceed = exceedance_probabilities(intensity[exposed], medians[exposed], betas[exposed])
    sub = uniform[:, exposed]
    for ds in range(exceed.shape[1]):
        states[:, exposed] += sub < exceed[:, ds]
    return states


def _repair_hours(ctx: RiskContext, hazard: str, states: np.ndarray, uniform: np.ndarray
                  ) -> np.ndarray:
    """float32 [samples, assets]: truncated-normal repair time, hours (as
    :func:`cascada.vulnerability.sample_repair_hours` with the hazard's
    restoration times, on damaged entries only)."""
    out = np.zeros(states.shape, np.float32)
    s, a = np.nonzero(states)
    if len(s) == 0:
        return out
    ds = states[s, a].astype(np.intp)
    mean_table, sd_table = ctx.restoration[hazard]
    out[s, a] = repair_hours_from_uniform(mean_table[a, ds], sd_table[a, ds], uniform[s, a])
    return out


def _people_hours(working: np.ndarray, n: int, links: ServiceLinks, service: str) -> np.ndarray:
    """float64 [n]: people-hours without ``service`` per sample (only affected people)."""
    assets = links.assets[service]
    if len(assets) == 0:
        return np.zeros(n)
    served = np.bitwise_or.reduceat(working[:, assets], links.starts[service], axis=1)
    without = ~served & sample_mask(n)
    hit = np.flatnonzero(np.bitwise_or.reduce(without, axis=0))
    if len(hit) == 0:
        return np.zeros(n)
    sub = without[:, hit]
    population = links.population[service][hit]
    hours = np.empty((n, len(hit)))
    for s in range(n):
        hours[s] = ((sub >> np.uint64(s)) & np.uint64(1)).sum(axis=0)
    return hours @ population


def run_block(ctx: RiskContext, annual_rate: np.ndarray, block: EventBlock) -> BlockResult:
    """Run one block of events (the unit of work every backend maps over)."""
    rng = np.random.default_rng(block.seed)
    n_events = block.intensity.shape[0]
    n_assets = ctx.graph.n_assets
    n_hazards = len(ctx.hazards)
    services = ctx.links.services
    S = ctx.n_samples
    loss = np.zeros((n_events, S))
    people = np.zeros((n_events, len(services), S))
    damaged = np.zeros(n_events)
    asset_loss = np.zeros((n_hazards, n_assets))
    asset_down = np.zeros((n_hazards, n_assets))
    asset_out = np.zeros((n_hazards, n_assets))
    columns = np.arange(n_assets)[None, :]
    for e in range(n_events):
        h = int(block.hazard_index[e])
        hazard = ctx.hazards[h]
        rate = float(annual_rate[block.start + e])
        intensity = block.intensity[e].toarray().ravel().astype(np.float64)
        share = np.ones(n_assets)
        if block.exposed_length_m is not None:
            exposed = block.exposed_length_m[e].toarray().ravel()
            lines = ctx.line_length_m > 0
            share[lines] = np.clip(exposed[lines] / ctx.line_length_m[lines], 0.0, 1.0)
        # Draws in a fixed order and size per event: damage, then repair.
        states = _damage_states(ctx, hazard, intensity, rng.random((S, n_assets)))
        repair = _repair_hours(ctx, hazard, states, rng.random((S, n_assets)))
        if not states.any():
            continue
        onset = np.float32(block.onset_hours[e])
        value = ctx.value_eur * share
        ratio = ctx.damage_ratio[columns, states]  # [S, M]
        loss[e] = ratio @ value
        asset_loss[h] += rate * (ratio.mean(axis=0) * value)
        damaged[e] = (states > 0).sum(axis=1).mean()
        end = np.where(states > 0, onset + repair, 0.0).astype(np.float32)
        start_hours = np.where(states > 0, onset, 0.0).astype(np.float32)
        down_hours = np.zeros(n_assets)
        ever_down = np.zeros(n_assets)
        for lo in range(0, S, WORD):
            state = propagate(ctx.graph, end[lo:lo + WORD], hours=ctx.hours,
                              onset_hours=start_hours[lo:lo + WORD])
            n = state.n_samples
            down = ~state.working & sample_mask(n)
            down_hours += np.bitwise_count(down).sum(axis=0, dtype=np.int64)
            ever_down += np.bitwise_count(np.bitwise_or.reduce(down, axis=0))
            for j, service in enumerate(services):
                people[e, j, lo:lo + n] = _people_hours(state.working, n, ctx.links, service)
        asset_down[h] += rate * down_hours / S
        asset_out[h] += rate * ever_down / S
    return BlockResult(block.index, loss, people, damaged, asset_loss, asset_down, asset_out)


# --------------------------------------------------------------------------- driver


def event_blocks(eventset: EventSet, hazards: tuple[str, ...], events_per_block: int,
                 seed: int) -> list[EventBlock]:
    """Split an event set into seeded blocks (block b: SeedSequence(seed).spawn(n)[b])."""
    n = eventset.n_events
    n_blocks = max(1, -(-n // events_per_block))
    seeds = np.random.SeedSequence(seed).spawn(n_blocks)
    hazard_index = pd.Index(hazards).get_indexer(eventset.events["hazard"])
    onset = eventset.events["time_offset_hours"].to_numpy(np.float64)
    blocks = []
    for b in range(n_blocks):
        lo, hi = b * events_per_block, min(n, (b + 1) * events_per_block)
        exposed = (eventset.exposed_length_m[lo:hi] if eventset.exposed_length_m is not None
                   else None)
        blocks.append(EventBlock(b, lo, seeds[b], eventset.intensity[lo:hi], exposed,
                                 hazard_index[lo:hi], onset[lo:hi]))
    return blocks


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
) -> RiskResult:
    """Monte Carlo over an event set: per event, ``n_samples`` damage samples →
    cascade over ``hours`` hours → direct loss and people-hours without service.

    eventset: events × assets, its columns in the region's asset order; the
    events table's ``annual_rate`` (events/year) weights the results.
    backend: where blocks run (default serial); results are bit-identical on
    every backend. progress: called with (blocks done, blocks total).
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
    fn = functools.partial(run_block, ctx, rates)
    results = backend.map(fn, blocks, progress=progress)
    results = sorted(results, key=lambda r: r.index)
    services = ctx.links.services
    people = (np.concatenate([r.people_hours for r in results]) if results
              else np.zeros((0, len(services), n_samples)))

    def total(name: str) -> np.ndarray:
        out = np.zeros((len(hazards), len(ids)))
        for r in results:  # fixed order: the same sums on every backend
            out += getattr(r, name)
        return out

    return RiskResult(
        events=eventset.events.reset_index(drop=True),
        asset_ids=ids,
        hazards=hazards,
        services=services,
        loss_eur=np.concatenate([r.loss_eur for r in results]),
        people_hours={s: np.ascontiguousarray(people[:, j]) for j, s in enumerate(services)},
        assets_damaged=np.concatenate([r.assets_damaged for r in results]),
        asset_loss_eur=total("asset_loss_eur"),
        asset_down_hours=total("asset_down_hours"),
        asset_outage_probability=total("asset_outage_probability"),
        n_samples=n_samples,
        hours=hours,
        seed=seed,
        events_per_block=events_per_block,
        metadata={"backend": type(backend).__name__, "blocks": len(blocks)},
    )
