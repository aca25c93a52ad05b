"""People-hours without service from a sparse cascade (only the affected assets).

A person is without a service in hour t of sample s when none of their linked
assets for it works (see :mod:`cascada.impact.people`). An asset that no
event reaches works throughout, so only people all of whose linked assets are
affected can lose the service: they are found from the affected assets through
the reverse links (asset → people), and their hours are counted from the
assets' change lists, change point to change point.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba as nb
import numpy as np

from cascada.cascade import SparseCascade, sample_mask
from cascada.impact.people import ServiceLinks


@dataclass(frozen=True)
class ServiceIndex:
    """Service links of one service as CSR in both directions.

    person_ptr: int64 [people + 1]; the linked assets of person p are
    ``person_asset[person_ptr[p]:person_ptr[p + 1]]`` (int32 positions).
    asset_ptr: int64 [assets + 1]; the people linked to asset a are
    ``asset_person[asset_ptr[a]:asset_ptr[a + 1]]`` (int32 people).
    population: float64 [people], people at each linked population point.
    single_population: float64 [assets], people of the points linked to that
    asset only (counted per asset, not per point); the reverse links above
    hold only the points with several linked assets.
    """

    person_ptr: np.ndarray
    person_asset: np.ndarray
    asset_ptr: np.ndarray
    asset_person: np.ndarray
    population: np.ndarray
    max_links: int
    single_population: np.ndarray

    @classmethod
    def from_links(cls, links: ServiceLinks, service: str, n_assets: int) -> ServiceIndex:
        assets = np.asarray(links.assets[service], dtype=np.int64)
        starts = np.asarray(links.starts[service], dtype=np.int64)
        person_ptr = np.r_[starts, len(assets)].astype(np.int64)
        n_links = np.diff(person_ptr)
        person = np.repeat(np.arange(len(starts)), n_links)
        population = np.asarray(links.population[service], dtype=np.float64)
        single = n_links == 1
        single_population = np.bincount(assets[starts[single]], population[single],
                                         minlength=n_assets).astype(np.float64)
        several = np.repeat(~single, n_links)
        order = np.argsort(assets[several], kind="stable")
        asset_ptr = np.zeros(n_assets + 1, dtype=np.int64)
        np.cumsum(np.bincount(assets[several], minlength=n_assets), out=asset_ptr[1:])
        return cls(person_ptr, assets.astype(np.int32), asset_ptr,
                   person[several][order].astype(np.int32), population,
                   int(n_links.max()) if len(starts) else 0, single_population)


@nb.njit(cache=True)
def _people_hours(assets, ptr, change_hour, change_word, hours, mask, n_samples,
                  person_ptr, person_asset, asset_ptr, asset_person, population,
                  single_population, max_links, position, visited, visit, out):
    n = assets.shape[0]
    for i in range(n):
        position[assets[i]] = i
    cursor = np.empty(max_links, dtype=np.int64)
    end = np.empty(max_links, dtype=np.int64)
    value = np.empty(max_links, dtype=np.uint64)
    hrs = np.zeros(n_samples)
    one = np.uint64(1)
    zero = np.uint64(0)
    n_visit = 0
    # points linked to one asset only: that asset's hours, once per asset
    for i in range(n):
        weight = single_population[assets[i]]
        if weight == 0.0:
            continue
        for j in range(ptr[i], ptr[i + 1]):
            until = change_hour[j + 1] if j + 1 < ptr[i + 1] else hours
            without = ~change_word[j] & mask
            if without != zero:
                run = np.float64(until - change_hour[j])
                for s in range(n_samples):
                    hrs[s] += run * np.float64((without >> np.uint64(s)) & one)
        for s in range(n_samples):
            out[s] += weight * hrs[s]
            hrs[s] = 0.0
    for i in range(n):
        a = assets[i]
        for j in range(asset_ptr[a], asset_ptr[a + 1]):
            p = asset_person[j]
            if visited[p]:
                continue
            visited[p] = True
            visit[n_visit] = p
            n_visit += 1
            lo = person_ptr[p]
            n_links = person_ptr[p + 1] - lo
            reached = True
            for k in range(n_links):
                q = position[person_asset[lo + k]]
                if q < 0:  # one linked asset works throughout
                    reached = False
                    break
                cursor[k] = ptr[q]
                end[k] = ptr[q + 1]
                value[k] = mask
            if not reached:
                continue
            down = False
            t = 0
            while t < hours:
                served = zero
                following = hours
                for k in range(n_links):
                    while cursor[k] < end[k] and change_hour[cursor[k]] <= t:
                        value[k] = change_word[cursor[k]]
                        cursor[k] += 1
                    served |= value[k]
                    if cursor[k] < end[k] and change_hour[cursor[k]] < following:
                        following = change_hour[cursor[k]]
                without = ~served & mask
                if without != zero:
                    down = True
                    run = np.float64(following - t)
                    for s in range(n_samples):
                        hrs[s] += run * np.float64((without >> np.uint64(s)) & one)
                t = following
            if down:
                for s in range(n_samples):
                    out[s] += population[p] * hrs[s]
                    hrs[s] = 0.0
    for i in range(n):
        position[assets[i]] = -1
    for i in range(n_visit):
        visited[visit[i]] = False


class PeopleWorkspace:
    """Scratch of :func:`people_hours` for one region (reused across events)."""

    def __init__(self, n_assets: int, indexes: dict[str, ServiceIndex]) -> None:
        self.position = np.full(n_assets, -1, dtype=np.int64)
        self.visited = {s: np.zeros(len(ix.population), dtype=np.bool_)
                        for s, ix in indexes.items()}
        self.visit = {s: np.empty(len(ix.population), dtype=np.int64)
                      for s, ix in indexes.items()}


def people_hours(cascade: SparseCascade, index: ServiceIndex, service: str,
                 workspace: PeopleWorkspace) -> np.ndarray:
    """People-hours without ``service`` per sample: float64 [cascade.n_samples]."""
    out = np.zeros(cascade.n_samples)
    if len(cascade.assets) == 0 or index.max_links == 0:
        return out
    _people_hours(cascade.assets, cascade.change_ptr, cascade.change_hour,
                  cascade.change_working, cascade.hours, sample_mask(cascade.n_samples),
                  cascade.n_samples, index.person_ptr, index.person_asset, index.asset_ptr,
                  index.asset_person, index.population, index.single_population,
                  index.max_links,
                  workspace.position, workspace.visited[service], workspace.visit[service], out)
    return out
