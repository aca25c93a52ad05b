"""People without service, hour by hour, from the cascade's working bits.

Inputs are the cascade's bit-packed states: ``working`` is uint64
[hours, assets], bit s set when the asset works during hour t in Monte-Carlo
sample s (up to 64 samples per word). People have a service while at least one
of their linked assets for it works (see ``Region.service_links``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from cascada.cascade import sample_mask


def bits_to_counts(words: np.ndarray, n_samples: int, weights: np.ndarray) -> np.ndarray:
    """Weighted count of set bits per sample.

    words: uint64 [..., n]; weights: float [n]. Returns float64 [..., n_samples]:
    for each sample s, the sum of weights over the entries whose bit s is set.
    """
    out = np.empty((*words.shape[:-1], n_samples), dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64)
    for s in range(n_samples):
        out[..., s] = ((words >> np.uint64(s)) & np.uint64(1)).astype(np.float64) @ w
    return out


@dataclass(frozen=True)
class ServiceLinks:
    """Service links compiled to index arrays, per service.

    For each service: ``people`` (positions in the people table, sorted),
    ``assets`` (positions in the asset table), and ``starts`` (offsets of each
    distinct person's run of links, for ``np.bitwise_or.reduceat``).
    """

    services: tuple[str, ...]
    people: dict[str, np.ndarray]
    assets: dict[str, np.ndarray]
    starts: dict[str, np.ndarray]
    population: dict[str, np.ndarray]
    population_total: dict[str, float]

    @classmethod
    def compile(
        cls,
        service_links: pd.DataFrame,
        people: pd.DataFrame,
        asset_ids: pd.Index,
        services: list[str] | None = None,
    ) -> ServiceLinks:
        people_index = pd.Index(people["people_id"])
        pop = people["population"].to_numpy(dtype=np.float64)
        found = list(dict.fromkeys(service_links["service"]))
        services = services or found
        out: dict[str, dict] = {"people": {}, "assets": {}, "starts": {}, "population": {},
                                "population_total": {}}
        for service in services:
            links = service_links[service_links["service"] == service]
            p = people_index.get_indexer(links["people_id"])
            a = asset_ids.get_indexer(links["asset_id"])
            order = np.lexsort((a, p))
            p, a = p[order], a[order]
            starts = np.flatnonzero(np.r_[True, p[1:] != p[:-1]]) if len(p) else np.zeros(0, int)
            out["people"][service] = p[starts]
            out["assets"][service] = a
            out["starts"][service] = starts
            out["population"][service] = pop[p[starts]]
            out["population_total"][service] = float(pop[p[starts]].sum())
        return cls(tuple(services), **out)


def _without_words(working: np.ndarray, n_samples: int, links: ServiceLinks, service: str
                   ) -> np.ndarray:
    """uint64 [hours, people with the service]: bit s set = without it in sample s."""
    served = np.bitwise_or.reduceat(working[:, links.assets[service]], links.starts[service],
                                    axis=1)
    return ~served & sample_mask(n_samples)


def people_without_service(
    working: np.ndarray, n_samples: int, links: ServiceLinks
) -> dict[str, np.ndarray]:
    """People without each service: {service: float64 [hours, n_samples]} (people)."""
    result = {}
    for service in links.services:
        if len(links.assets[service]) == 0:
            result[service] = np.zeros((working.shape[0], n_samples))
            continue
        without = _without_words(working, n_samples, links, service)
        result[service] = bits_to_counts(without, n_samples, links.population[service])
    return result


def people_hours_without_service(
    working: np.ndarray, n_samples: int, links: ServiceLinks
) -> dict[str, np.ndarray]:
    """Hours each population point is without each service: {service: [people, n_samples]}."""
    result = {}
    for service in links.services:
        if len(links.assets[service]) == 0:
            result[service] = np.zeros((0, n_samples))
            continue
        without = _without_words(working, n_samples, links, service)
        hours = np.zeros((without.shape[1], n_samples))
        for s in range(n_samples):
            hours[:, s] = ((without >> np.uint64(s)) & np.uint64(1)).sum(axis=0)
        result[service] = hours
    return result


def summarise_timeseries(
    people_without: dict[str, np.ndarray], population_total: dict[str, float]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Tidy tables from per-sample people without service.

    people_without: {service: [hours, samples]} people. Returns
    (service_timeseries: service, hour, people_without_mean/_p05/_p95,
    population_total; services: service, population_total,
    people_hours_lost_mean/_p05/_p95, peak_people_without_mean, peak_hour,
    restored_90pct_hour).
    """
    rows, summary = [], []
    for service, matrix in people_without.items():
        hours = matrix.shape[0]
        mean = matrix.mean(axis=1)
        p05, p95 = np.percentile(matrix, [5, 95], axis=1)
        rows.append(pd.DataFrame({
            "service": service, "hour": np.arange(hours), "people_without_mean": mean,
            "people_without_p05": p05, "people_without_p95": p95,
            "population_total": population_total[service],
        }))
        lost = matrix.sum(axis=0)  # people-hours per sample
        peak_hour = int(np.argmax(mean)) if mean.max() > 0 else 0
        after = np.flatnonzero(mean[peak_hour:] <= 0.1 * mean[peak_hour])
        restored = float(peak_hour + after[0]) if mean.max() > 0 and len(after) else np.nan
        summary.append({
            "service": service, "population_total": population_total[service],
            "people_hours_lost_mean": float(lost.mean()),
            "people_hours_lost_p05": float(np.percentile(lost, 5)),
            "people_hours_lost_p95": float(np.percentile(lost, 95)),
            "peak_people_without_mean": float(mean.max()),
            "peak_hour": peak_hour,
            "restored_90pct_hour": restored if mean.max() > 0 else 0.0,
        })
    return pd.concat(rows, ignore_index=True), pd.DataFrame(summary)
