"""Criticality: what each asset's loss (N-1), or the worst set of k losses (N-k), costs.

N-1 runs the cascade once per asset with that asset out for the whole horizon,
64 assets at a time: each bit of the cascade's uint64 words, which in a risk
run is a Monte-Carlo sample, is here a different failed asset. The
consequence is counted in people without each service (people at the last
hour of the horizon, once backups have run as long as they can, and
people-hours over the horizon), net of the people already without service when
nothing fails.

N-k is greedy: the most critical asset, then — with it out — the asset whose
loss adds most, and so on (a lower bound on the true worst k-set, which is
combinatorial; the greedy set is the usual screening choice in N-k
contingency analysis).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cascada.cascade import CompiledGraph, compile_graph, propagate
from cascada.errors import CascadaInputError
from cascada.impact.people import ServiceLinks, bits_to_counts, people_without_service
from cascada.region.model import Region

WORD = 64
SERVICES = ("power", "water", "telecom", "health", "finance", "food")


@dataclass(frozen=True)
class CriticalityModel:
    """A region compiled once for many contingencies."""

    graph: CompiledGraph
    links: ServiceLinks
    asset_ids: np.ndarray
    hours: int
    #: per service, uint64 per person: all ones where the person already rests on a
    #: single working supplier with nothing failed (so only new cases count)
    base_single: dict[str, np.ndarray]

    @classmethod
    def compile(cls, region: Region, hours: int = 72) -> CriticalityModel:
        """hours: horizon of each contingency (backups shorter than it run out)."""
        if hours < 1:
            raise CascadaInputError("hours must be >= 1", field="hours")
        index = region.asset_index()
        services = [s for s in SERVICES if (region.service_links["service"] == s).any()]
        graph = compile_graph(region.dependencies, index)
        links = ServiceLinks.compile(region.service_links, region.people, index, services)
        intact = propagate(graph, np.zeros((1, graph.n_assets), np.float32), hours=hours)
        all_ones = np.uint64(0xFFFFFFFFFFFFFFFF)
        base = {s: np.where(_exactly_one(intact.working[-1], links, s) & np.uint64(1),
                            all_ones, np.uint64(0)) for s in links.services}
        return cls(graph, links, region.assets["asset_id"].to_numpy(), hours, base)

    def consequences(self, out: Sequence[np.ndarray]
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """People without each service for contingencies given as sets of asset positions.

        out: one int array of asset positions per contingency (the assets out
        for the whole horizon). Returns (people at the last hour, people-hours,
        people newly left with a single working supplier at the last hour), each
        float64 [contingencies, services], people; and the assets down at the
        last hour (int64 [contingencies], the failed ones included).
        """
        n_services = len(self.links.services)
        final = np.zeros((len(out), n_services))
        total = np.zeros((len(out), n_services))
        single = np.zeros((len(out), n_services))
        down = np.zeros(len(out), np.int64)
        m = self.graph.n_assets
        for lo in range(0, len(out), WORD):
            batch = out[lo:lo + WORD]
            repair = np.zeros((len(batch), m), np.float32)
            for j, positions in enumerate(batch):
                repair[j, positions] = np.inf
            state = propagate(self.graph, repair, hours=self.hours)
            last = ~state.working[-1]
            for j in range(len(batch)):
                down[lo + j] = int(((last >> np.uint64(j)) & np.uint64(1)).sum())
            counts = people_without_service(state.working, len(batch), self.links)
            for s, service in enumerate(self.links.services):
                final[lo:lo + len(batch), s] = counts[service][-1]
                total[lo:lo + len(batch), s] = counts[service].sum(axis=0)
                one = (_exactly_one(state.working[-1], self.links, service)
                       & ~self.base_single[service])
                single[lo:lo + len(batch), s] = bits_to_counts(
                    one, len(batch), self.links.population[service])
        return final, total, single, down


def _exactly_one(working: np.ndarray, links: ServiceLinks, service: str) -> np.ndarray:
    """uint64 [people with the service]: bit s set = exactly one linked asset works."""
    assets, starts = links.assets[service], links.starts[service]
    n_points = len(starts)
    once = np.zeros(n_points, np.uint64)
    twice = np.zeros(n_points, np.uint64)
    if n_points == 0:
        return once
    size = np.diff(np.r_[starts, len(assets)])
    for k in range(int(size.max())):
        points = np.flatnonzero(size > k)
        w = working[assets[starts[points] + k]]
        twice[points] |= once[points] & w
        once[points] |= w
    return once & ~twice


def n_minus_1(region: Region, hours: int = 72, candidates: np.ndarray | None = None,
              progress: Callable[[int, int], None] | None = None) -> pd.DataFrame:
    """N-1 criticality of every asset (or of ``candidates``, asset positions).

    Returns one row per asset: asset_id, sector, asset_type, name, people
    without each service at the end of the horizon (``people_without_<s>``),
    ``people_hours_lost`` over the horizon (all services), ``people_affected``
    (sum over services of people without it at the end; a person without two
    services counts twice), ranked by people_affected then people_hours_lost.
    """
    model = CriticalityModel.compile(region, hours)
    positions = (np.arange(len(model.asset_ids)) if candidates is None
                 else np.asarray(candidates, dtype=np.intp))
    base = model.consequences([np.zeros(0, np.intp)])
    parts = []
    step = WORD * 8
    for lo in range(0, len(positions), step):
        chunk = [positions[i:i + 1] for i in range(lo, min(lo + step, len(positions)))]
        parts.append([c - b for c, b in zip(model.consequences(chunk), base, strict=True)])
        if progress is not None:
            progress(min(lo + step, len(positions)), len(positions))
    if not parts:
        raise CascadaInputError("no candidate assets", field="candidates")
    final, total, single, down = (np.concatenate(x) for x in zip(*parts, strict=True))
    return _table(region, positions, model.links.services, final, total, single, down)


def _table(region: Region, positions: np.ndarray, services: Sequence[str],
           final: np.ndarray, total: np.ndarray, single: np.ndarray, down: np.ndarray
           ) -> pd.DataFrame:
    assets = region.assets.iloc[positions]
    table = pd.DataFrame({
        "asset_id": assets["asset_id"].to_numpy(),
        "sector": assets["sector"].to_numpy(),
        "asset_type": assets["asset_type"].to_numpy(),
        "name": assets["name"].to_numpy() if "name" in assets else "",
        **{f"people_without_{s}": np.maximum(final[:, i], 0.0)
           for i, s in enumerate(services)},
        "people_affected": np.maximum(final, 0.0).sum(axis=1),
        "people_hours_lost": np.maximum(total, 0.0).sum(axis=1),
        "people_single_supply": np.maximum(single, 0.0).sum(axis=1),
        "assets_down": np.maximum(down, 0),
    })
    table = table.sort_values(
        ["people_affected", "people_hours_lost", "people_single_supply", "assets_down",
         "asset_id"], ascending=[False, False, False, False, True], kind="stable")
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    return table.reset_index(drop=True)


def greedy_n_k(region: Region, k: int, hours: int = 72,
               candidates: np.ndarray | None = None,
               progress: Callable[[int, int], None] | None = None) -> pd.DataFrame:
    """Greedy worst k-set: k rows in the order chosen, each with the cumulative
    consequence of losing it and every asset chosen before (columns as
    :func:`n_minus_1`, plus ``added_people_affected``).

    candidates: asset positions to choose from (default all assets).
    """
    if k < 1:
        raise CascadaInputError("k must be >= 1", field="k")
    model = CriticalityModel.compile(region, hours)
    pool = (np.arange(len(model.asset_ids)) if candidates is None
            else np.asarray(candidates, dtype=np.intp))
    if k > len(pool):
        raise CascadaInputError(f"k = {k} is more than the {len(pool)} candidate assets",
                                field="k")
    base = model.consequences([np.zeros(0, np.intp)])
    chosen: list[int] = []
    rows: list[list[np.ndarray]] = []
    added = []
    previous = 0.0
    for step in range(k):
        left = np.setdiff1d(pool, chosen)
        sets = [np.array([*chosen, c], dtype=np.intp) for c in left]
        f, t, one, d = (c - b for c, b in zip(model.consequences(sets), base, strict=True))
        score = np.maximum(f, 0).sum(axis=1)
        # ties: more people-hours, more people on a single supplier, more assets down,
        # then the lower position (deterministic)
        best = np.lexsort((left, -d, -np.maximum(one, 0).sum(axis=1),
                           -np.maximum(t, 0).sum(axis=1), -score))[0]
        chosen.append(int(left[best]))
        rows.append([f[best], t[best], one[best], d[best]])
        added.append(float(score[best]) - previous)
        previous = float(score[best])
        if progress is not None:
            progress(step + 1, k)
    final, total, single, down = (np.array(x) for x in zip(*rows, strict=True))
    table = _table(region, np.array(chosen), model.links.services, final, total, single, down)
    # keep the greedy order, not the ranking by consequence
    order = pd.Index(table["asset_id"]).get_indexer(model.asset_ids[chosen])
    table = table.iloc[order].reset_index(drop=True)
    table["rank"] = np.arange(1, k + 1)
    table["added_people_affected"] = added
    return table


def most_critical(region: Region, k: int, hours: int = 72) -> list[str]:
    """The asset ids of the greedy worst k-set (e.g. for a targeted-attack scenario)."""
    return greedy_n_k(region, k, hours=hours)["asset_id"].tolist()
