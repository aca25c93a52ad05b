"""Restoration with a limited number of repair crews per sector.

A scenario run repairs every damaged asset at once ("unlimited crews"): asset a
of sample s is back at ``onset + work`` hours, with ``work`` sampled from the
restoration catalogue. Here each sector has a pool of crews, based at a depot,
that travel over the road network and repair one asset at a time; the same
sampled work content is kept, so only the waiting and the travel are new.

Dispatch (per Monte-Carlo sample, one sector pool at a time):

- The sector's damaged assets form one list, ordered once by the priority
  policy (class, then people served, then asset id) — the order does not depend
  on the number of crews.
- Jobs are taken in that order. Each goes to the crew that is free first; it
  leaves the depot at ``max(damage onset, crew free)``, travels to the asset,
  works ``work`` hours, and drives back to the depot, where it is free again.
- Travel is the earliest arrival over the ``transport.road`` lines
  (time-dependent Dijkstra): an undamaged road is driven at ``speed_kmh``; a
  road in damage state 1 at ``damaged_road_speed_share`` of it, or the crew
  waits for its repair if that is sooner; a road in damage state 2 or worse is
  closed from its damage onset until its repair ends, and a crew waits at its
  end for the reopening. A detour off the mapped network (minor roads, tracks)
  at ``detour_speed_kmh`` over ``detour_factor`` × the straight distance is
  always possible, so every job is reached.
- The transport pool goes first. While it is scheduled, a damaged road whose
  job is not yet scheduled counts as closed for good; every other pool sees
  the transport pool's finished schedule.

Termination: every job is placed exactly once by a loop over the finite job
list, and each travel query is one Dijkstra run over a finite graph (a closed
road that never reopens is simply not relaxed; the detour bounds every
arrival).

Monotonicity (more crews never finish any job later): the job order is fixed;
with one more crew the k-th earliest crew-free time is never later (the
classic list-scheduling dominance argument for identical machines), every
arrival function is FIFO (leaving later never arrives earlier, because waiting
is allowed) and is pointwise no later when roads reopen no later. So each job
starts, arrives, finishes and returns no later. The price of this guarantee
is strict priority: a crew does not take a lower-priority job while a
higher-priority one waits for its damage onset (all onsets are equal in a
single-hazard scenario, so this only matters for triggered hazards).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import geopandas as gpd
import numba as nb
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from cascada.errors import CascadaInputError

__all__ = [
    "POLICIES",
    "CrewPlan",
    "RoadNetwork",
    "Schedule",
    "check_plan",
    "depot_positions",
    "dispatch",
    "parse_crews",
    "priority_rank",
]

ROAD_TYPE = "transport.road"
TRANSPORT = "transport"
HOSPITALS = "hospitals"
#: Named policies: the targets served first, in order. A target is ``hospitals``
#: (every ``health.hospital``), a sector, or an asset type; an asset belongs to
#: the first target it is, or that it supplies (directly or through a chain of
#: dependencies).
POLICIES: dict[str, tuple[str, ...]] = {
    "hospitals-first": (HOSPITALS, "water", "power"),
    "water-first": ("water", HOSPITALS, "power"),
    "power-first": ("power", HOSPITALS, "water"),
}


@dataclass(frozen=True)
class CrewPlan:
    """Repair crews and how they are dispatched.

    crews: crews per sector; a sector not named has no crew limit (each
    damaged asset is repaired from its onset, as in the scenario run).
    policy: a name in :data:`POLICIES`, or ``custom`` with ``order``.
    order: for ``custom``: targets in priority order (``hospitals``, sectors,
    asset types).
    depots: sector → asset_id the sector's crews start from and return to;
    default: the sector's asset nearest the mean position of its assets.
    speed_kmh: on open roads; ``inf`` = travel takes no time.
    damaged_road_speed_share: share of speed_kmh on a road in damage state 1.
    detour_speed_kmh, detour_factor: off the mapped road network (straight
    distance × factor at this speed).
    """

    crews: dict[str, int] = field(default_factory=dict)
    policy: str = "hospitals-first"
    order: tuple[str, ...] = ()
    depots: dict[str, str] = field(default_factory=dict)
    speed_kmh: float = 40.0
    damaged_road_speed_share: float = 0.25
    detour_speed_kmh: float = 10.0
    detour_factor: float = 1.5

    def __post_init__(self) -> None:
        for sector, n in self.crews.items():
            if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
                raise CascadaInputError(f"crews for {sector!r} must be a whole number >= 0, "
                                        f"got {n!r}", field="--crews")
        if self.policy not in POLICIES and self.policy != "custom":
            raise CascadaInputError(
                f"unknown priority {self.policy!r}", field="--priority",
                hint=f"one of {', '.join([*POLICIES, 'custom'])}")
        if self.policy == "custom" and not self.order:
            raise CascadaInputError("a custom priority needs an order", field="--order",
                                    hint="e.g. --order hospitals,water,power,telecom")
        checks = {"--speed-kmh": (self.speed_kmh, True),
                  "damaged_road_speed_share": (self.damaged_road_speed_share, False),
                  "detour_speed_kmh": (self.detour_speed_kmh, False),
                  "detour_factor": (self.detour_factor, False)}
        for name, (value, may_be_inf) in checks.items():
            if not (value > 0) or (math.isinf(value) and not may_be_inf):
                raise CascadaInputError(f"must be a positive number, got {value!r}", field=name)
        if self.damaged_road_speed_share > 1 or self.detour_factor < 1:
            raise CascadaInputError("damaged_road_speed_share must be <= 1 and detour_factor "
                                    ">= 1", field="damaged_road_speed_share")

    @property
    def targets(self) -> tuple[str, ...]:
        return tuple(self.order) if self.policy == "custom" else POLICIES[self.policy]

    @property
    def travels(self) -> bool:
        return math.isfinite(self.speed_kmh)


def parse_crews(text: str) -> dict[str, int]:
    """``"power=4,water=2"`` → ``{"power": 4, "water": 2}``; errors name ``--crews``."""
    crews: dict[str, int] = {}
    hint = "write sector=number pairs separated by commas, e.g. power=4,water=2"
    for item in (p.strip() for p in text.split(",")):
        if not item:
            continue
        sector, sep, number = (s.strip() for s in item.partition("="))
        if not sep or not sector:
            raise CascadaInputError(f"cannot read {item!r}", field="--crews", hint=hint)
        try:
            n = int(number)
        except ValueError:
            raise CascadaInputError(f"crews for {sector!r} must be a whole number, "
                                    f"got {number!r}", field="--crews", hint=hint) from None
        if n < 0:
            raise CascadaInputError(f"crews for {sector!r} must be >= 0, got {n}",
                                    field="--crews")
        if sector in crews:
            raise CascadaInputError(f"sector {sector!r} is named twice", field="--crews")
        crews[sector] = n
    if not crews:
        raise CascadaInputError("no crews given", field="--crews", hint=hint)
    return crews


# --------------------------------------------------------------------------- priorities


def _upstream(members: np.ndarray, consumer: np.ndarray, supplier: np.ndarray) -> np.ndarray:
    """bool [assets]: the members and every asset they depend on, transitively."""
    reached = members.copy()
    frontier = np.flatnonzero(members)
    while len(frontier):
        hit = supplier[np.isin(consumer, frontier)]
        new = np.unique(hit[~reached[hit]])
        reached[new] = True
        frontier = new
    return reached


def priority_rank(assets: pd.DataFrame, dependencies: pd.DataFrame, plan: CrewPlan
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Dispatch order of every asset: (rank [assets] int64, lower first; class [assets]).

    assets: asset_id, sector, asset_type, population_served (the region's
    order). dependencies: consumer, supplier (asset ids). The class is the
    position of the first target of the policy the asset is or supplies
    (``len(targets)`` for none); within a class, more people served first,
    then asset id.
    """
    index = pd.Index(assets["asset_id"])
    sector = assets["sector"].to_numpy()
    asset_type = assets["asset_type"].to_numpy()
    consumer = index.get_indexer(dependencies["consumer"])
    supplier = index.get_indexer(dependencies["supplier"])
    ok = (consumer >= 0) & (supplier >= 0)
    consumer, supplier = consumer[ok], supplier[ok]
    known = set(sector) | set(asset_type) | {HOSPITALS}
    targets = plan.targets
    klass = np.full(len(assets), len(targets), np.int64)
    for i, target in enumerate(targets):
        if target not in known and plan.policy == "custom":
            raise CascadaInputError(
                f"unknown priority target {target!r}: not a sector or asset type of the region",
                field="--order", hint="use 'hospitals', a sector (power, water…) or an asset "
                                      "type (health.hospital…)")
        members = (asset_type == "health.hospital") if target == HOSPITALS else (
            (sector == target) | (asset_type == target))
        reached = _upstream(members, consumer, supplier)
        klass = np.where(reached & (klass > i), i, klass)
    people = pd.to_numeric(assets.get("population_served", pd.Series(0.0, index=assets.index)),
                           errors="coerce").fillna(0.0).to_numpy(np.float64)
    ids = assets["asset_id"].astype(str).to_numpy()
    order = np.lexsort((ids, -people, klass))
    rank = np.empty(len(assets), np.int64)
    rank[order] = np.arange(len(assets))
    return rank, klass


# --------------------------------------------------------------------------- road network


@dataclass(frozen=True)
class RoadNetwork:
    """The ``transport.road`` lines as an undirected graph, and each asset's way onto it.

    Nodes are road ends and vertices shared by two or more roads; an edge is
    the piece of one road between two nodes (``edge_road``: the road's asset
    position). Every asset reaches the graph at ``access_node`` (CSR over
    assets: a road at each of its nodes, a point at its nearest node) over a
    straight ``access_m``. ``point_xy``: one projected point per asset (m), for
    detours.
    """

    indptr: np.ndarray  # int64 [nodes + 1]
    neighbour: np.ndarray  # int64 [2 × edges]
    edge_m: np.ndarray  # float64 [2 × edges]
    edge_road: np.ndarray  # int64 [2 × edges], asset positions
    access_ptr: np.ndarray  # int64 [assets + 1]
    access_node: np.ndarray  # int64
    access_m: np.ndarray  # float64
    point_xy: np.ndarray  # float64 [assets, 2]

    @property
    def n_nodes(self) -> int:
        return len(self.indptr) - 1

    @classmethod
    def build(cls, assets: gpd.GeoDataFrame) -> RoadNetwork:
        """From the region's asset table (any CRS; distances in its UTM zone)."""
        projected = assets.to_crs(assets.estimate_utm_crs()) if assets.crs else assets
        geoms = projected.geometry.to_numpy()
        n_assets = len(geoms)
        point_xy = shapely.get_coordinates(shapely.point_on_surface(geoms))
        is_road = (assets["asset_type"].to_numpy() == ROAD_TYPE) & np.isin(
            shapely.get_type_id(geoms), (1, 5))
        road_pos = np.flatnonzero(is_road)
        parts, part_of = shapely.get_parts(geoms[road_pos], return_index=True)
        xy, vertex_part = shapely.get_coordinates(parts, return_index=True)
        vertex_road = road_pos[part_of[vertex_part]]
        if len(xy) == 0:
            # no roads: every asset is reached by the detour only
            empty = np.zeros(0, np.int64)
            return cls(np.zeros(1, np.int64), empty, np.zeros(0), empty,
                       np.zeros(n_assets + 1, np.int64), empty, np.zeros(0), point_xy)
        key = np.round(xy, 2)  # 1 cm
        _, vertex_key = np.unique(key, axis=0, return_inverse=True)
        vertex_key = vertex_key.ravel()
        first = np.r_[True, vertex_part[1:] != vertex_part[:-1]]
        last = np.r_[vertex_part[1:] != vertex_part[:-1], True]
        # roads per key (distinct roads only)
        pairs = np.unique(np.c_[vertex_key, vertex_road], axis=0)
        roads_at_key = np.bincount(pairs[:, 0], minlength=vertex_key.max() + 1)
        is_node_vertex = first | last | (roads_at_key[vertex_key] >= 2)
        node_keys = np.unique(vertex_key[is_node_vertex])
        key_to_node = np.full(vertex_key.max() + 1, -1, np.int64)
        key_to_node[node_keys] = np.arange(len(node_keys))
        node_xy = np.zeros((len(node_keys), 2))
        node_xy[key_to_node[vertex_key[is_node_vertex]]] = xy[is_node_vertex]
        # cumulative length along each part
        step = np.r_[0.0, np.hypot(*np.diff(xy, axis=0).T)]
        step[first] = 0.0
        cum = np.cumsum(step)
        nv = np.flatnonzero(is_node_vertex)
        same = vertex_part[nv[1:]] == vertex_part[nv[:-1]]
        a, b = nv[:-1][same], nv[1:][same]
        u, v = key_to_node[vertex_key[a]], key_to_node[vertex_key[b]]
        length = cum[b] - cum[a]
        road = vertex_road[a]
        keep = u != v
        u, v, length, road = u[keep], v[keep], length[keep], road[keep]
        src = np.r_[u, v]
        dst = np.r_[v, u]
        order = np.argsort(src, kind="stable")
        indptr = np.zeros(len(node_keys) + 1, np.int64)
        np.add.at(indptr, src + 1, 1)
        indptr = np.cumsum(indptr)
        # access: roads at their nodes, others at the nearest node
        road_nodes = pd.DataFrame({"asset": vertex_road[nv],
                                   "node": key_to_node[vertex_key[nv]]}).drop_duplicates()
        tree = cKDTree(node_xy)
        others = np.flatnonzero(~is_road)
        dist, nearest = tree.query(point_xy[others]) if len(others) else (np.zeros(0),
                                                                           np.zeros(0, int))
        access = pd.concat([
            road_nodes.assign(m=0.0),
            pd.DataFrame({"asset": others, "node": np.asarray(nearest, np.int64),
                          "m": np.asarray(dist, float)}),
        ], ignore_index=True).sort_values(["asset", "node"], kind="stable")
        access_ptr = np.zeros(n_assets + 1, np.int64)
        np.add.at(access_ptr, access["asset"].to_numpy() + 1, 1)
        return cls(indptr, dst[order].astype(np.int64), np.r_[length, length][order],
                   np.r_[road, road][order].astype(np.int64), np.cumsum(access_ptr),
                   access["node"].to_numpy(np.int64), access["m"].to_numpy(np.float64),
                   point_xy)


@nb.njit(cache=True)
def _earliest_arrival(indptr, neighbour, edge_hours, edge_road, road_from, road_until, road_slow,
                      slow_share, src_node, src_time, tgt_node, tgt_hours):
    """Earliest arrival (hours) at any target, leaving the sources at their times.

    An edge of a road closed at the departure time (road_from <= t <
    road_until) is entered at road_until (a wait); a slowed road is driven at
    slow_share of the speed, or after its reopening when that is sooner. Every
    edge is FIFO, so Dijkstra on arrival times is exact. Returns inf when no
    target can be reached.
    """
    n = indptr.shape[0] - 1
    arrival = np.full(n, np.inf)
    tgt_extra = np.full(n, np.inf)
    for i in range(tgt_node.shape[0]):
        if tgt_hours[i] < tgt_extra[tgt_node[i]]:
            tgt_extra[tgt_node[i]] = tgt_hours[i]
    cap = neighbour.shape[0] + src_node.shape[0] + 1
    heap_t = np.empty(cap)
    heap_n = np.empty(cap, np.int64)
    size = 0
    for i in range(src_node.shape[0]):
        v = src_node[i]
        t = src_time[i]
        if t < arrival[v]:
            arrival[v] = t
            # push
            j = size
            size += 1
            while j > 0:
                p = (j - 1) // 2
                if heap_t[p] <= t:
                    break
                heap_t[j] = heap_t[p]
                heap_n[j] = heap_n[p]
                j = p
            heap_t[j] = t
            heap_n[j] = v
    best = np.inf
    while size > 0:
        t = heap_t[0]
        u = heap_n[0]
        # pop
        size -= 1
        lt = heap_t[size]
        ln = heap_n[size]
        j = 0
        while True:
            c = 2 * j + 1
            if c >= size:
                break
            if c + 1 < size and heap_t[c + 1] < heap_t[c]:
                c += 1
            if heap_t[c] >= lt:
                break
            heap_t[j] = heap_t[c]
            heap_n[j] = heap_n[c]
            j = c
        if size > 0:
            heap_t[j] = lt
            heap_n[j] = ln
        if t > arrival[u]:
            continue
        if t >= best:
            break
        if t + tgt_extra[u] < best:
            best = t + tgt_extra[u]
        for e in range(indptr[u], indptr[u + 1]):
            r = edge_road[e]
            h = edge_hours[e]
            if road_from[r] <= t < road_until[r]:
                a = road_until[r] + h
                if road_slow[r]:
                    a = min(a, t + h / slow_share)
            else:
                a = t + h
            v = neighbour[e]
            if a < arrival[v]:
                arrival[v] = a
                j = size
                size += 1
                while j > 0:
                    p = (j - 1) // 2
                    if heap_t[p] <= a:
                        break
                    heap_t[j] = heap_t[p]
                    heap_n[j] = heap_n[p]
                    j = p
                heap_t[j] = a
                heap_n[j] = v
    return best


# --------------------------------------------------------------------------- dispatch


@dataclass
class Schedule:
    """Crew-limited repair ends and the jobs behind them.

    finish_hour: float64 [samples, assets], the hour each damaged asset is
    repaired (0 where undamaged), to feed :func:`cascada.cascade.propagate`.
    jobs: one row per (sample, damaged asset): sample, sector, crew (-1 = no
    crew limit), asset (position), priority_class, release_hour, start_hour
    (leaves the depot), arrive_hour, finish_hour, back_hour (at the depot),
    detour (reached off the mapped roads).
    notes: human-readable warnings (sectors without a crew limit, …).
    depots: sector → asset position of its depot (crew-limited sectors).
    """

    finish_hour: np.ndarray
    jobs: pd.DataFrame
    notes: list[str]
    depots: dict[str, int]


def depot_positions(assets: pd.DataFrame, plan: CrewPlan, sectors: list[str],
                    point_xy: np.ndarray) -> dict[str, int]:
    """Asset position of each sector's depot.

    The plan's depot, or by default the sector's asset nearest the mean
    position of the sector's assets (a central yard; assumption).
    point_xy: [assets, 2] projected coordinates (m).
    """
    index = pd.Index(assets["asset_id"])
    sector = assets["sector"].to_numpy()
    out = {}
    for s in sectors:
        if s in plan.depots:
            position = index.get_indexer([plan.depots[s]])[0]
            if position < 0:
                raise CascadaInputError(f"depot {plan.depots[s]!r} of sector {s!r} is not an "
                                        "asset of the region", field="--depot")
            out[s] = int(position)
        else:
            members = np.flatnonzero(sector == s)
            xy = point_xy[members]
            distance = np.hypot(*(xy - xy.mean(axis=0)).T)
            out[s] = int(members[np.lexsort((assets["asset_id"].to_numpy()[members],
                                             distance))[0]])
    for s in plan.depots:
        if s not in sectors:
            raise CascadaInputError(f"depot given for sector {s!r}, which has no crews",
                                    field="--depot")
    return out


def check_plan(plan: CrewPlan, sectors: np.ndarray, damaged: np.ndarray) -> list[str]:
    """Refuse a plan that cannot work; notes for what it leaves unlimited.

    sectors: sector per asset; damaged: bool [samples, assets].
    """
    known = set(sectors)
    for s in plan.crews:
        if s not in known:
            raise CascadaInputError(f"unknown sector {s!r}", field="--crews",
                                    hint=f"the region's sectors: {', '.join(sorted(known))}")
    hit = [str(s) for s in np.unique(sectors[damaged.any(axis=0)])]
    for s in hit:
        if plan.crews.get(s, None) == 0:
            n = int(damaged[:, sectors == s].any(axis=0).sum())
            raise CascadaInputError(
                f"sector {s!r} has 0 crews but {n} damaged asset(s): they would never be "
                "repaired", field="--crews", hint=f"give {s} at least one crew, or leave it out "
                                                  "of --crews for no crew limit")
    return [f"sector {s!r}: no crew limit (not in --crews); repaired as in the run"
            for s in hit if s not in plan.crews]


def dispatch(network: RoadNetwork, assets: pd.DataFrame, rank: np.ndarray,
             onset_hour: np.ndarray, repaired_hour: np.ndarray, damage_state: np.ndarray,
             plan: CrewPlan, priority_class: np.ndarray | None = None) -> Schedule:
    """Schedule every damaged asset's repair with the plan's crews.

    assets: the region's asset table (asset_id, sector) in the order
    of the arrays' columns. rank: [assets] dispatch order (lower first, see
    :func:`priority_rank`). onset_hour, repaired_hour: [samples, assets] hours,
    the run's damage onset and unlimited-crew repair end; damage_state: uint8
    [samples, assets] (0 = undamaged; a road in state 1 is slowed, 2+ closed).
    The work content of a job is ``repaired - onset``. priority_class: [assets],
    only copied to the jobs table.
    """
    damaged = np.asarray(damage_state) > 0
    sector_of = assets["sector"].to_numpy().astype(str)
    notes = check_plan(plan, sector_of, damaged)
    n_samples, n_assets = damaged.shape
    onset = np.asarray(onset_hour, np.float64)
    repaired = np.asarray(repaired_hour, np.float64)
    work = np.maximum(repaired - onset, 0.0)
    finish = np.where(damaged, repaired, 0.0)
    klass = np.zeros(n_assets, np.int64) if priority_class is None else priority_class
    limited = [s for s in plan.crews if plan.crews[s] > 0]
    limited.sort(key=lambda s: (s != TRANSPORT, s))  # roads first
    depots = depot_positions(assets, plan, limited, network.point_xy)
    speed_m_per_h = plan.speed_kmh * 1000.0
    edge_hours = network.edge_m / speed_m_per_h
    access_hours = network.access_m / speed_m_per_h
    is_road = np.zeros(n_assets, bool)
    is_road[network.edge_road] = True
    detour_speed = plan.detour_speed_kmh * 1000.0 / plan.detour_factor
    columns: dict[str, list] = {c: [] for c in (
        "sample", "sector", "crew", "asset", "priority_class", "release_hour", "start_hour",
        "arrive_hour", "finish_hour", "back_hour", "detour")}

    def access(asset: int):
        lo, hi = network.access_ptr[asset], network.access_ptr[asset + 1]
        return network.access_node[lo:hi], access_hours[lo:hi]

    def travel(origin: int, destination: int, leave: float, state) -> tuple[float, bool]:
        straight = math.dist(network.point_xy[origin], network.point_xy[destination])
        detour = leave + straight / detour_speed
        if not plan.travels:
            return leave, False
        src, src_h = access(origin)
        dst, dst_h = access(destination)
        if len(src) == 0 or len(dst) == 0:
            return detour, True
        road_from, road_until, road_slow = state
        arrive = _earliest_arrival(network.indptr, network.neighbour, edge_hours,
                                   network.edge_road, road_from, road_until, road_slow,
                                   plan.damaged_road_speed_share, src, leave + src_h, dst, dst_h)
        return (arrive, False) if arrive <= detour else (detour, True)

    for s in range(n_samples):
        hit = damaged[s]
        road_hit = hit & is_road
        road_from = np.where(road_hit, onset[s], np.inf)
        road_slow = road_hit & (damage_state[s] == 1)
        road_until = np.where(road_hit, repaired[s], 0.0)
        if TRANSPORT in limited:  # closed until the transport pool's schedule says otherwise
            road_until = np.where(road_hit & (sector_of == TRANSPORT), np.inf, road_until)
        for sector in limited:
            jobs = np.flatnonzero(hit & (sector_of == sector))
            if len(jobs) == 0:
                continue
            jobs = jobs[np.argsort(rank[jobs], kind="stable")]
            free = np.zeros(plan.crews[sector])
            depot = depots[sector]
            state = (road_from, road_until, road_slow)
            for a in jobs:
                crew = int(np.argmin(free))  # first free; ties → lowest crew number
                leave = max(onset[s, a], free[crew])
                arrive, detour = travel(depot, a, leave, state)
                done = arrive + work[s, a]
                back, detour_back = travel(a, depot, done, state)
                free[crew] = back
                finish[s, a] = done
                if sector == TRANSPORT and road_hit[a]:
                    road_until[a] = done
                for c, value in zip(columns, (s, sector, crew, a, klass[a], onset[s, a], leave,
                                              arrive, done, back, detour or detour_back),
                                    strict=True):
                    columns[c].append(value)
    ss, aa = np.nonzero(damaged & ~np.isin(sector_of, limited)[None, :])
    table = pd.DataFrame(columns)
    if len(ss):
        table = pd.concat([table, pd.DataFrame({
            "sample": ss, "sector": sector_of[aa], "crew": -1, "asset": aa,
            "priority_class": klass[aa], "release_hour": onset[ss, aa],
            "start_hour": onset[ss, aa], "arrive_hour": onset[ss, aa],
            "finish_hour": repaired[ss, aa], "back_hour": repaired[ss, aa], "detour": False,
        })], ignore_index=True)
    table = table.astype({"sample": np.int32, "crew": np.int32, "asset": np.int64,
                          "priority_class": np.int32, "detour": bool})
    table = table.sort_values(["sample", "sector", "start_hour", "asset"],
                              kind="stable").reset_index(drop=True)
    return Schedule(finish, table, notes, depots)
