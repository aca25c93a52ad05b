"""Adversary paths over the ASD: enumeration, most vulnerable path, timeline.

A path is a sequence of path elements leading from the ``outside`` area to
the ``target`` area without entering an area twice; its steps are each
element followed by the transit of the area it leads into (the target's
transit is the task at the target). See :mod:`cascada.protection.site`.

Two searches for the most vulnerable path (minimum P_I):

- :func:`most_vulnerable_path` — exact, by depth-first enumeration with
  branch-and-bound pruning. The bound: a partial path's own EASI terms can
  only grow with any completion's extra delay (the completion adds at least
  the fastest remaining mean delay, found by Dijkstra, and at most every
  remaining step's variance), and the completion's own terms are ≥ 0.
- :func:`critical_detection_path` — the critical-detection-point (CDP)
  formulation (Garcia 2008, ch. 14): with mean times, a detection is timely
  when the time left after it, on the fastest way on, is at least the mean
  response time; the adversary minimises the probability of a timely
  detection, i.e. a shortest path on weights −log(1 − P_D) of the timely
  steps. Fast (one Dijkstra per tactic) and suited to large sites; its value
  P_C·(1 − Π(1 − P_D)) is the deterministic-time estimate, and the path is
  also evaluated with EASI.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.special import ndtr

from cascada.errors import CascadaInputError
from cascada.protection.easi import interruption_terms, probability_of_interruption
from cascada.protection.site import Site, Step

__all__ = [
    "PathResult",
    "SiteEvaluation",
    "critical_detection_path",
    "enumerate_paths",
    "evaluate_paths",
    "evaluate_site",
    "most_vulnerable_path",
    "path_arrays",
    "path_timeline",
]

#: Refuse to enumerate more paths than this (use the branch-and-bound search).
MAX_ENUMERATED_PATHS = 200_000


@dataclass(frozen=True)
class PathResult:
    """A path (element ids), its tactic and P_I (and P_E = P_I × P_N)."""

    tactic: str
    elements: tuple[str, ...]
    p_interruption: float
    p_effectiveness: float | None
    method: str = "exact"
    extra: dict = field(default_factory=dict)

    @property
    def label(self) -> str:
        return " → ".join(self.elements)


# -------------------------------------------------------------------- enumeration


def _outgoing(site: Site) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {a.id: [] for a in site.areas}
    for element in site.elements:
        out[element.from_area].append(element.id)
    return out


def enumerate_paths(site: Site, *, limit: int = MAX_ENUMERATED_PATHS) -> list[tuple[str, ...]]:
    """Every path (tuple of element ids) from outside to target, no area entered twice.

    Raises CascadaInputError when there are more than ``limit`` paths.
    """
    out = _outgoing(site)
    target = site.site.target
    paths: list[tuple[str, ...]] = []
    stack: list[tuple[str, tuple[str, ...], frozenset[str]]] = [
        (site.site.outside, (), frozenset({site.site.outside}))]
    while stack:
        area, prefix, visited = stack.pop()
        for element_id in reversed(out[area]):
            nxt = site.element(element_id).to_area
            if nxt in visited:
                continue
            path = (*prefix, element_id)
            if nxt == target:
                paths.append(path)
                if len(paths) > limit:
                    raise CascadaInputError(
                        f"more than {limit} paths from outside to target", file=site.source,
                        hint="use most_vulnerable_path (branch and bound) or "
                             "critical_detection_path for large sites")
            else:
                stack.append((nxt, path, visited | {nxt}))
    return paths


def _step_values(step: Step) -> tuple[float, float, float, float]:
    d = step.detection
    return d.p_detection, d.location_factor, d.delay_mean_s, d.delay_sd_s


def path_arrays(site: Site, paths: list[tuple[str, ...]], tactic: str) -> np.ndarray:
    """Steps of many paths as one padded array: paths × steps × 4 (P_D, f, μ s, σ s)."""
    rows = [[_step_values(s) for s in site.path_steps(p, tactic)] for p in paths]
    width = max((len(r) for r in rows), default=0)
    array = np.zeros((len(rows), width, 4))
    array[:, :, 1] = 1.0
    for i, row in enumerate(rows):
        if row:
            array[i, : len(row)] = row
    return array


def _p_interruption_of(arrays: np.ndarray, site: Site) -> np.ndarray:
    r = site.response
    return np.asarray(probability_of_interruption(
        arrays[..., 0], arrays[..., 1], arrays[..., 2], arrays[..., 3],
        r.mean_s, r.sd_s, r.p_communication))


def evaluate_paths(site: Site, tactics: list[str] | None = None) -> pd.DataFrame:
    """P_I (and P_E) of every path for every tactic, most vulnerable first.

    Columns: tactic, path (element ids joined by " → "), n_steps,
    delay_mean_s (total mean delay), p_detection_any (1 − Π(1 − P_D)),
    p_interruption, p_effectiveness (NaN without P_N).
    """
    paths = enumerate_paths(site)
    frames = []
    for tactic in tactics or site.tactics():
        arrays = path_arrays(site, paths, tactic)
        p_i = _p_interruption_of(arrays, site)
        p_n = site.response.p_neutralisation
        frames.append(pd.DataFrame({
            "tactic": tactic,
            "path": [" → ".join(p) for p in paths],
            "n_steps": [len(site.path_steps(p, tactic)) for p in paths],
            "delay_mean_s": arrays[..., 2].sum(axis=-1),
            "p_detection_any": 1.0 - np.prod(1.0 - arrays[..., 0], axis=-1),
            "p_interruption": p_i,
            "p_effectiveness": p_i * p_n if p_n is not None else np.nan,
        }))
    table = pd.concat(frames, ignore_index=True)
    return table.sort_values(["p_interruption", "tactic", "path"],
                             kind="stable").reset_index(drop=True)


# ----------------------------------------------------------- branch and bound


def _fastest_remaining(site: Site, tactic: str) -> dict[str, float]:
    """Minimum mean delay (s) still ahead on arriving in each area, transit included."""
    target = site.site.target
    transit = {a.id: (site.step(f"transit:{a.id}", tactic).detection.delay_mean_s
                      if a.transit is not None else 0.0) for a in site.areas}
    best = {a.id: math.inf for a in site.areas}
    best[target] = transit[target]
    incoming: dict[str, list[str]] = {a.id: [] for a in site.areas}
    for element in site.elements:
        incoming[element.to_area].append(element.id)
    heap = [(best[target], target)]
    while heap:
        value, area = heapq.heappop(heap)
        if value > best[area]:
            continue
        for element_id in incoming[area]:
            element = site.element(element_id)
            if element.from_area == target:
                continue
            cost = site.step(element_id, tactic).detection.delay_mean_s + value
            cost += transit[element.from_area] if element.from_area != site.site.outside else 0
            if cost < best[element.from_area]:
                best[element.from_area] = cost
                heapq.heappush(heap, (cost, element.from_area))
    return best


def most_vulnerable_path(site: Site, tactic: str) -> PathResult:
    """The path of minimum P_I for one tactic: exact branch-and-bound search.

    Returns the path, its P_I and P_E, with ``extra['visited']`` partial
    paths expanded (a measure of the pruning).
    """
    response = site.response
    out = _outgoing(site)
    target = site.site.target
    steps = {e.id: _step_values(site.step(e.id, tactic)) for e in site.elements}
    transits = {a.id: _step_values(site.step(f"transit:{a.id}", tactic))
                for a in site.areas if a.transit is not None}
    fastest = _fastest_remaining(site, tactic)
    # Time still ahead on arriving in an area, before its transit: subtract it again.
    ahead = {a: fastest[a] - (transits[a][2] if a in transits else 0.0) for a in fastest}
    all_variance = sum(v[3] ** 2 for v in steps.values()) + sum(
        v[3] ** 2 for v in transits.values())
    mu_r, sd_r, p_c = response.mean_s, response.sd_s, response.p_communication

    best_value = math.inf
    best_path: tuple[str, ...] = ()
    visited_count = 0

    def bound(prefix_steps: list[tuple[float, float, float, float]], area: str,
              used_variance: float) -> float:
        if not prefix_steps:
            return 0.0
        array = np.asarray(prefix_steps)
        min_extra = ahead[area]
        max_var = max(all_variance - used_variance, 0.0)
        terms = interruption_terms(array[:, 0], array[:, 1], array[:, 2], array[:, 3],
                                   mu_r, sd_r, p_c)
        margin = terms["remaining_mean_s"] + min_extra - mu_r
        var = terms["remaining_var_s2"] + sd_r**2 + np.where(margin >= 0, max_var, 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            phi = np.where(var > 0, ndtr(margin / np.sqrt(np.where(var > 0, var, 1.0))),
                           np.where(margin > 0, 1.0, np.where(margin == 0, 0.5, 0.0)))
        return float((p_c * terms["p_first_detection"] * phi).sum())

    def search(area: str, prefix: tuple[str, ...], prefix_steps: list, visited: frozenset,
               used_variance: float) -> None:
        nonlocal best_value, best_path, visited_count
        visited_count += 1
        order = sorted(out[area], key=lambda e: (steps[e][0], e))
        for element_id in order:
            nxt = site.element(element_id).to_area
            if nxt in visited or math.isinf(fastest[nxt]):
                continue
            new_steps = [*prefix_steps, steps[element_id]]
            new_var = used_variance + steps[element_id][3] ** 2
            if nxt in transits:
                new_steps.append(transits[nxt])
                new_var += transits[nxt][3] ** 2
            path = (*prefix, element_id)
            if nxt == target:
                array = np.asarray(new_steps)
                value = float(probability_of_interruption(
                    array[:, 0], array[:, 1], array[:, 2], array[:, 3], mu_r, sd_r, p_c))
                if value < best_value:
                    best_value, best_path = value, path
                continue
            if bound(new_steps, nxt, new_var) >= best_value:
                continue
            search(nxt, path, new_steps, visited | {nxt}, new_var)

    search(site.site.outside, (), [], frozenset({site.site.outside}), 0.0)
    if not best_path:
        raise CascadaInputError(f"no path from {site.site.outside!r} to {target!r}",
                                file=site.source, field="elements")
    p_n = response.p_neutralisation
    return PathResult(tactic, best_path, best_value,
                      best_value * p_n if p_n is not None else None, "exact",
                      {"visited": visited_count})


# ---------------------------------------------------------------- CDP search


def critical_detection_path(site: Site, tactic: str) -> PathResult:
    """Most vulnerable path in the critical-detection-point formulation.

    A step's detection counts when f·μ of the step plus the fastest mean
    delay after it is at least the mean response time (it is timely even if
    the adversary hurries on); the adversary then minimises Σ −log(1 − P_D)
    over the counted steps: Dijkstra over the area graph. Returns the path
    with ``p_interruption`` from EASI and ``extra['p_interruption_cdp']`` =
    P_C·(1 − Π(1 − P_D)) over the counted steps.
    """
    mu_r = site.response.mean_s
    fastest = _fastest_remaining(site, tactic)
    transit_steps = {a.id: site.step(f"transit:{a.id}", tactic)
                     for a in site.areas if a.transit is not None}

    def weight(step: Step, after_s: float) -> float:
        d = step.detection
        timely = d.location_factor * d.delay_mean_s + after_s >= mu_r
        if not timely or d.p_detection <= 0:
            return 0.0
        return -math.log1p(-d.p_detection) if d.p_detection < 1 else 1e6

    # area → [(next area, element id, weight, mean delay)]: a multigraph as lists.
    out_edges: dict[str, list[tuple[str, str, float, float]]] = {}
    for element in site.elements:
        step = site.step(element.id, tactic)
        to = element.to_area
        transit = transit_steps.get(to)
        after_transit = fastest[to] - (transit.detection.delay_mean_s if transit else 0.0)
        after_element = fastest[to]
        w = weight(step, after_element)
        if transit is not None:
            w += weight(transit, after_transit)
        out_edges.setdefault(element.from_area, []).append(
            (to, element.id, w, step.detection.delay_mean_s))
    # Weighted shortest path, ties broken by mean delay (faster first).
    best: dict[str, tuple[float, float]] = {site.site.outside: (0.0, 0.0)}
    previous: dict[str, tuple[str, str]] = {}
    heap = [(0.0, 0.0, site.site.outside)]
    done: set[str] = set()
    while heap:
        cost, delay, area = heapq.heappop(heap)
        if area in done:
            continue
        done.add(area)
        if area == site.site.target:
            break
        for nxt, key, weight_to, delay_to in out_edges.get(area, []):
            candidate = (cost + weight_to, delay + delay_to)
            if nxt not in done and candidate < best.get(nxt, (math.inf, math.inf)):
                best[nxt] = candidate
                previous[nxt] = (area, key)
                heapq.heappush(heap, (*candidate, nxt))
    path: list[str] = []
    area = site.site.target
    while area != site.site.outside:
        area, key = previous[area]
        path.append(key)
    elements = tuple(reversed(path))
    arrays = path_arrays(site, [elements], tactic)
    p_i = float(_p_interruption_of(arrays, site)[0])
    p_cdp = site.response.p_communication * (1.0 - math.exp(-best[site.site.target][0]))
    p_n = site.response.p_neutralisation
    return PathResult(tactic, elements, p_i, p_i * p_n if p_n is not None else None, "cdp",
                      {"p_interruption_cdp": p_cdp})


# -------------------------------------------------------------------- timeline


def path_timeline(site: Site, elements: tuple[str, ...] | list[str], tactic: str) -> pd.DataFrame:
    """The adversary's timeline along a path: one row per step, mean times in seconds.

    Columns: step (1…n), id, name, type, p_detection, location, delay_mean_s,
    delay_sd_s, start_s, end_s, detection_s (when detection happens),
    remaining_mean_s (m_i), p_first_detection, p_timely (Φ term),
    contribution (to P_I), timely (remaining_mean_s ≥ mean response time) and
    critical (the critical detection point: the last timely step with P_D > 0).
    """
    steps = site.path_steps(elements, tactic)
    r = site.response
    values = np.asarray([_step_values(s) for s in steps])
    terms = interruption_terms(values[:, 0], values[:, 1], values[:, 2], values[:, 3],
                               r.mean_s, r.sd_s, r.p_communication)
    end = np.cumsum(values[:, 2])
    start = end - values[:, 2]
    table = pd.DataFrame({
        "step": np.arange(1, len(steps) + 1),
        "id": [s.id for s in steps],
        "name": [s.name for s in steps],
        "type": [s.type for s in steps],
        "p_detection": values[:, 0],
        "location": [s.detection.location for s in steps],
        "delay_mean_s": values[:, 2],
        "delay_sd_s": values[:, 3],
        "start_s": start,
        "end_s": end,
        "detection_s": start + (1.0 - values[:, 1]) * values[:, 2],
        "remaining_mean_s": terms["remaining_mean_s"],
        "p_first_detection": terms["p_first_detection"],
        "p_timely": terms["p_timely"],
        "contribution": terms["contribution"],
    })
    table["timely"] = table["remaining_mean_s"] >= r.mean_s
    candidates = np.flatnonzero(table["timely"].to_numpy() & (values[:, 0] > 0))
    table["critical"] = False
    if len(candidates):
        table.loc[candidates[-1], "critical"] = True
    return table


# -------------------------------------------------------------------- summary


@dataclass(frozen=True)
class SiteEvaluation:
    """Everything ``cascada protect evaluate`` reports about a site.

    paths: :func:`evaluate_paths` table (None when the site has too many
    paths to list); worst: most vulnerable path per tactic (exact);
    cdp: the critical-detection-point path per tactic; overall: the worst of
    ``worst``; timeline: :func:`path_timeline` of ``overall``.
    """

    site_name: str
    paths: pd.DataFrame | None
    worst: dict[str, PathResult]
    cdp: dict[str, PathResult]
    overall: PathResult
    timeline: pd.DataFrame

    def summary(self) -> dict:
        """Headline figures (JSON-ready; no paths or timestamps)."""
        def one(result: PathResult) -> dict:
            data = {"path": list(result.elements), "p_interruption": result.p_interruption,
                    "p_effectiveness": result.p_effectiveness}
            data.update(result.extra)
            return data

        critical = self.timeline.loc[self.timeline["critical"], "id"].tolist()
        return {
            "site": self.site_name,
            "n_paths": None if self.paths is None else int(self.paths["path"].nunique()),
            "worst_tactic": self.overall.tactic,
            "worst_path": list(self.overall.elements),
            "worst_p_interruption": self.overall.p_interruption,
            "worst_p_effectiveness": self.overall.p_effectiveness,
            "critical_detection_point": critical[0] if critical else None,
            "by_tactic": {t: one(r) for t, r in self.worst.items()},
            "cdp_by_tactic": {t: one(r) for t, r in self.cdp.items()},
        }


def evaluate_site(site: Site) -> SiteEvaluation:
    """P_I on every path (when enumerable), the most vulnerable path per tactic, its CDP."""
    try:
        paths = evaluate_paths(site)
    except CascadaInputError:
        paths = None
    worst = {t: most_vulnerable_path(site, t) for t in site.tactics()}
    cdp = {t: critical_detection_path(site, t) for t in site.tactics()}
    overall = min(worst.values(), key=lambda r: (r.p_interruption, r.tactic))
    timeline = path_timeline(site, overall.elements, overall.tactic)
    return SiteEvaluation(site.name, paths, worst, cdp, overall, timeline)
