"""A site compiled to arrays: every path's P_I for every tactic in one NumPy call.

Upgrade ranking, portfolios and uncertainty sampling evaluate a site many
times with changed values but the same paths; :class:`CompiledSite` holds the
paths as index arrays into one table of step values per tactic, so each
evaluation is a gather and :func:`~cascada.protection.easi.probability_of_interruption`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from cascada.protection.easi import probability_of_interruption
from cascada.protection.paths import MAX_ENUMERATED_PATHS, enumerate_paths
from cascada.protection.site import Site

__all__ = ["BASE_TACTICS", "CompiledSite", "compile_site"]

#: Tactics with their own values; ``insider`` derives from one of them.
BASE_TACTICS = ("stealth", "force")
P_DETECTION, LOCATION_FACTOR, DELAY_MEAN, DELAY_SD = range(4)


@dataclass(frozen=True)
class CompiledSite:
    """Paths as step indices and step values per base tactic.

    paths: element-id tuples; step_ids: every element id and ``transit:<area>``;
    index: paths × width step indices, padding points at the last row of the
    value tables (a zero step); values: base tactic → (steps + 1) × 4 array of
    (P_D, location factor, delay mean s, delay sd s); response: (mean s, sd s,
    P_C); tactics: the tactics evaluated (stealth, force[, insider]).
    """

    paths: tuple[tuple[str, ...], ...]
    step_ids: tuple[str, ...]
    index: np.ndarray
    values: dict[str, np.ndarray]
    response: np.ndarray
    p_neutralisation: float | None
    tactics: tuple[str, ...]
    insider_base: str
    insider_no_detection: np.ndarray
    insider_no_delay: np.ndarray
    p_detection_sd: dict[str, np.ndarray]
    delay_relative_sd: dict[str, np.ndarray]
    response_relative_sd: float | None

    def step_position(self, step_id: str) -> int:
        return self.step_ids.index(step_id)

    def tactic_values(self, tactic: str, values: dict[str, np.ndarray] | None = None
                      ) -> np.ndarray:
        """(…, steps + 1, 4) values for any tactic (insider applies its bypasses)."""
        values = self.values if values is None else values
        if tactic != "insider":
            return values[tactic]
        out = values[self.insider_base].copy()
        out[..., self.insider_no_detection, P_DETECTION] = 0.0
        out[..., self.insider_no_delay, DELAY_MEAN] = 0.0
        out[..., self.insider_no_delay, DELAY_SD] = 0.0
        return out

    def p_interruption(self, values: dict[str, np.ndarray] | None = None,
                       response: np.ndarray | None = None) -> np.ndarray:
        """P_I of every path: array tactics × [samples ×] paths.

        values: value tables like :attr:`values`, optionally with a leading
        samples axis; response: (mean s, sd s, P_C), or samples × 3.
        """
        response = self.response if response is None else np.asarray(response)
        results = []
        for tactic in self.tactics:
            table = self.tactic_values(tactic, values)
            steps = table[..., self.index, :]  # [samples ×] paths × width × 4
            if response.ndim == 2:
                mean, sd, p_c = (response[:, k][:, None] for k in range(3))
            else:
                mean, sd, p_c = response
            results.append(probability_of_interruption(
                steps[..., 0], steps[..., 1], steps[..., 2], steps[..., 3], mean, sd, p_c))
        return np.asarray(results)

    def worst(self, values: dict[str, np.ndarray] | None = None,
              response: np.ndarray | None = None) -> tuple[float, str, tuple[str, ...]]:
        """(worst-path P_I, its tactic, its path) over every tactic and path."""
        p_i = self.p_interruption(values, response)
        flat = int(np.argmin(p_i))
        t, p = np.unravel_index(flat, p_i.shape)
        return float(p_i[t, p]), self.tactics[t], self.paths[p]

    def with_values(self, values: dict[str, np.ndarray], response: np.ndarray) -> CompiledSite:
        return replace(self, values=values, response=response)


def compile_site(site: Site, *, limit: int = MAX_ENUMERATED_PATHS) -> CompiledSite:
    """Enumerate the site's paths and tabulate its step values (see :class:`CompiledSite`)."""
    paths = tuple(enumerate_paths(site, limit=limit))
    step_ids = tuple([e.id for e in site.elements]
                     + [f"transit:{a.id}" for a in site.areas if a.transit is not None])
    position = {s: i for i, s in enumerate(step_ids)}
    rows = []
    for path in paths:
        row = []
        for element_id in path:
            row.append(position[element_id])
            to = site.element(element_id).to_area
            if f"transit:{to}" in position:
                row.append(position[f"transit:{to}"])
        rows.append(row)
    width = max(len(r) for r in rows)
    pad = len(step_ids)
    index = np.full((len(rows), width), pad, dtype=np.intp)
    for i, row in enumerate(rows):
        index[i, : len(row)] = row
    values: dict[str, np.ndarray] = {}
    p_sd: dict[str, np.ndarray] = {}
    rel_sd: dict[str, np.ndarray] = {}
    for tactic in BASE_TACTICS:
        table = np.zeros((pad + 1, 4))
        table[pad, LOCATION_FACTOR] = 1.0
        p_sd[tactic] = np.full(pad + 1, np.nan)
        rel_sd[tactic] = np.full(pad + 1, np.nan)
        for i, step_id in enumerate(step_ids):
            d = site.step(step_id, tactic).detection
            table[i] = (d.p_detection, d.location_factor, d.delay_mean_s, d.delay_sd_s)
            if d.p_detection_sd is not None:
                p_sd[tactic][i] = d.p_detection_sd
            if d.delay_relative_sd is not None:
                rel_sd[tactic][i] = d.delay_relative_sd
        values[tactic] = table
    insider = site.insider
    no_detection = np.zeros(pad + 1, dtype=bool)
    no_delay = np.zeros(pad + 1, dtype=bool)
    if insider is not None:
        for step_id in insider.bypass_detection:
            no_detection[position[step_id]] = True
        for step_id in insider.bypass_delay:
            no_delay[position[step_id]] = True
    r = site.response
    return CompiledSite(
        paths=paths, step_ids=step_ids, index=index, values=values,
        response=np.array([r.mean_s, r.sd_s, r.p_communication]),
        p_neutralisation=r.p_neutralisation, tactics=tuple(site.tactics()),
        insider_base=insider.base if insider is not None else "stealth",
        insider_no_detection=no_detection, insider_no_delay=no_delay,
        p_detection_sd=p_sd, delay_relative_sd=rel_sd, response_relative_sd=r.relative_sd,
    )
