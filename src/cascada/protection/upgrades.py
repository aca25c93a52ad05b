"""Upgrades to a protection system: ranking, portfolios, and P_I uncertainty.

The figure of merit is the **worst-path P_I**: the minimum EASI P_I over
every path and every tactic (stealth, force, insider). An upgrade option
changes a step's detection or delay (for some tactics) or the response; it
has a cost in EUR. Options file (TOML or JSON)::

    [[options]]
    id = "fence-sensor"
    name = "Taut-wire fence sensor"
    cost_eur = 60000
    target = "perimeter-fence"     # element id, "transit:<area id>" or "response"
    tactics = ["stealth", "force"] # optional, default both (insider follows its base)
    p_detection = 0.8              # any of p_detection, location, delay_mean_s,
                                   # delay_sd_s (steps) or response_mean_s,
                                   # response_sd_s, p_communication (response)
    group = "fence"                # optional: at most one option per group

:func:`rank_options` ranks options one at a time by worst-path P_I gain per
euro. :func:`choose_portfolio` picks a set within a budget that maximises the
worst-path P_I: exactly (every feasible subset) for up to
``EXACT_PORTFOLIO_LIMIT`` options, greedily by gain per euro otherwise.
Worst-path P_I is not additive across options (raising one path's P_I can
leave another path the weakest), so the exact search is preferred.
:func:`interruption_uncertainty` samples uncertain inputs and returns bands
of the worst-path P_I.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field

from cascada.errors import CascadaInputError
from cascada.protection.compiled import (
    BASE_TACTICS,
    DELAY_MEAN,
    DELAY_SD,
    LOCATION_FACTOR,
    P_DETECTION,
    CompiledSite,
    compile_site,
)
from cascada.protection.site import (
    LOCATION_FACTOR as LOCATION_FACTORS,
)
from cascada.protection.site import Site, _Strict, _validate, site_from_dict

__all__ = [
    "EXACT_PORTFOLIO_LIMIT",
    "Portfolio",
    "UpgradeOption",
    "apply_options",
    "choose_portfolio",
    "interruption_uncertainty",
    "load_options",
    "options_from_dict",
    "rank_options",
]

#: Up to this many options, portfolios are found by exhaustive search.
EXACT_PORTFOLIO_LIMIT = 16
_STEP_FIELDS = ("p_detection", "location", "delay_mean_s", "delay_sd_s")
_RESPONSE_FIELDS = {"response_mean_s": "mean_s", "response_sd_s": "sd_s",
                    "p_communication": "p_communication"}


class UpgradeOption(_Strict):
    """One upgrade: new values for a step or the response, and its cost (EUR)."""

    id: str = Field(min_length=1)
    name: str = ""
    cost_eur: float = Field(ge=0.0)
    target: str = Field(min_length=1)
    tactics: list[Literal["stealth", "force"]] = Field(
        default_factory=lambda: list(BASE_TACTICS))
    group: str | None = None
    p_detection: float | None = Field(None, ge=0.0, le=1.0)
    location: Literal["beginning", "middle", "end"] | None = None
    delay_mean_s: float | None = Field(None, ge=0.0)
    delay_sd_s: float | None = Field(None, ge=0.0)
    response_mean_s: float | None = Field(None, ge=0.0)
    response_sd_s: float | None = Field(None, ge=0.0)
    p_communication: float | None = Field(None, ge=0.0, le=1.0)

    def changes(self) -> dict[str, Any]:
        fields = _STEP_FIELDS + tuple(_RESPONSE_FIELDS)
        return {k: getattr(self, k) for k in fields if getattr(self, k) is not None}

    @property
    def label(self) -> str:
        return self.name or self.id


def options_from_dict(data: Mapping[str, Any], site: Site, *, source: str = "<memory>"
                      ) -> list[UpgradeOption]:
    """Validate ``{"options": [...]}`` against a site (targets must exist)."""
    raw_options = data.get("options") if isinstance(data, Mapping) else None
    if not isinstance(raw_options, list) or not raw_options:
        raise CascadaInputError("no [[options]] found", file=source, field="options")
    step_ids = {e.id for e in site.elements} | {
        f"transit:{a.id}" for a in site.areas if a.transit is not None}
    options: list[UpgradeOption] = []
    seen: set[str] = set()
    for i, raw in enumerate(raw_options):
        name = raw.get("id", f"#{i + 1}") if isinstance(raw, Mapping) else f"#{i + 1}"
        option = _validate(UpgradeOption, raw, source=source, what=f"option {name!r}",
                           row=f"option {name!r}")
        where = {"file": source, "row": f"option {option.id!r}"}
        if option.id in seen:
            raise CascadaInputError(f"duplicate option id {option.id!r}", field="id", **where)
        seen.add(option.id)
        changes = option.changes()
        if not changes:
            raise CascadaInputError(f"option {option.id!r} changes nothing", field="target",
                                    hint="set p_detection, delay_mean_s, … or response_mean_s",
                                    **where)
        if option.target == "response":
            wrong = [k for k in changes if k not in _RESPONSE_FIELDS]
        elif option.target in step_ids:
            wrong = [k for k in changes if k not in _STEP_FIELDS]
        else:
            raise CascadaInputError(
                f"option {option.id!r} targets unknown element {option.target!r}",
                field="target", hint="an element id, transit:<area id>, or response", **where)
        if wrong:
            raise CascadaInputError(
                f"option {option.id!r}: {wrong[0]} does not apply to target {option.target!r}",
                field=wrong[0], **where)
        options.append(option)
    return options


def load_options(path: str | Path, site: Site) -> list[UpgradeOption]:
    """Read and validate an options file (``.toml`` or ``.json``)."""
    path = Path(path)
    if not path.is_file():
        raise CascadaInputError("options file not found", file=path)
    text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise CascadaInputError(f"cannot parse: {exc}", file=path) from None
    return options_from_dict(data, site, source=str(path))


# ------------------------------------------------------------------ applying


def apply_options(site: Site, options: Sequence[UpgradeOption]) -> Site:
    """A new site with the options' values in place (later options win)."""
    data = site.model_dump(by_alias=True, exclude={"source"})
    for option in options:
        changes = option.changes()
        if option.target == "response":
            for key, value in changes.items():
                data["response"][_RESPONSE_FIELDS[key]] = value
            continue
        if option.target.startswith("transit:"):
            area_id = option.target.removeprefix("transit:")
            holder = next(a for a in data["areas"] if a["id"] == area_id)["transit"]
        else:
            holder = next(e for e in data["elements"] if e["id"] == option.target)
        for tactic in option.tactics:
            override = dict(holder.get(tactic) or {})
            override.update(changes)
            holder[tactic] = override
    return site_from_dict(data, source=site.source)


def _apply_compiled(compiled: CompiledSite, options: Sequence[UpgradeOption]
                    ) -> tuple[dict[str, np.ndarray], np.ndarray]:
    values = {t: v.copy() for t, v in compiled.values.items()}
    response = compiled.response.copy()
    columns = {"p_detection": P_DETECTION, "delay_mean_s": DELAY_MEAN, "delay_sd_s": DELAY_SD}
    for option in options:
        changes = option.changes()
        if option.target == "response":
            for key, value in changes.items():
                response[("response_mean_s", "response_sd_s", "p_communication").index(key)] = (
                    value)
            continue
        position = compiled.step_position(option.target)
        for tactic in option.tactics:
            for key, value in changes.items():
                if key == "location":
                    values[tactic][position, LOCATION_FACTOR] = LOCATION_FACTORS[value]
                else:
                    values[tactic][position, columns[key]] = value
    return values, response


# ------------------------------------------------------------------- ranking


def rank_options(site: Site | CompiledSite, options: Sequence[UpgradeOption]) -> pd.DataFrame:
    """Each option alone: worst-path P_I before and after, gain per euro; best first.

    Columns: option, name, target, cost_eur, p_interruption_before,
    p_interruption_after, gain (P_I), gain_per_million_eur, worst_tactic_after,
    worst_path_after.
    """
    compiled = site if isinstance(site, CompiledSite) else compile_site(site)
    before, _, _ = compiled.worst()
    rows = []
    for option in options:
        after, tactic, path = compiled.worst(*_apply_compiled(compiled, [option]))
        gain = after - before
        per_euro = gain / option.cost_eur if option.cost_eur > 0 else (
            np.inf if gain > 0 else 0.0)
        rows.append({
            "option": option.id, "name": option.label, "target": option.target,
            "cost_eur": option.cost_eur, "p_interruption_before": before,
            "p_interruption_after": after, "gain": gain,
            "gain_per_million_eur": per_euro * 1e6,
            "worst_tactic_after": tactic, "worst_path_after": " → ".join(path),
        })
    table = pd.DataFrame(rows)
    return table.sort_values(["gain_per_million_eur", "gain", "option"],
                             ascending=[False, False, True], kind="stable").reset_index(drop=True)


@dataclass(frozen=True)
class Portfolio:
    """Options chosen within a budget, their cost (EUR) and the worst-path P_I."""

    options: tuple[str, ...]
    cost_eur: float
    budget_eur: float
    p_interruption_before: float
    p_interruption: float
    worst_tactic: str
    worst_path: tuple[str, ...]
    method: str
    evaluated: int


def choose_portfolio(site: Site | CompiledSite, options: Sequence[UpgradeOption],
                     budget_eur: float, *, method: str = "auto") -> Portfolio:
    """The set of options within ``budget_eur`` that maximises worst-path P_I.

    method: ``exact`` (every feasible subset, at most one option per group;
    ties go to the cheaper set), ``greedy`` (add the option with the best
    gain per euro while it fits and gains), or ``auto`` (exact up to
    ``EXACT_PORTFOLIO_LIMIT`` options).
    """
    if budget_eur < 0:
        raise CascadaInputError(f"budget must be >= 0, got {budget_eur}", field="budget")
    compiled = site if isinstance(site, CompiledSite) else compile_site(site)
    before, tactic0, path0 = compiled.worst()
    if method == "auto":
        method = "exact" if len(options) <= EXACT_PORTFOLIO_LIMIT else "greedy"
    if method not in ("exact", "greedy"):
        raise CascadaInputError(f"unknown portfolio method {method!r}", field="method",
                                hint="exact, greedy or auto")
    best = (before, 0.0, (), tactic0, path0)
    evaluated = 0
    if method == "exact":
        order = sorted(range(len(options)), key=lambda i: options[i].id)

        def search(start: int, chosen: list[int], cost: float, groups: set[str]) -> None:
            nonlocal best, evaluated
            for k in range(start, len(order)):
                option = options[order[k]]
                new_cost = cost + option.cost_eur
                if new_cost > budget_eur + 1e-9 or (option.group and option.group in groups):
                    continue
                picked = [*chosen, order[k]]
                value, tactic, path = compiled.worst(
                    *_apply_compiled(compiled, [options[i] for i in picked]))
                evaluated += 1
                if value > best[0] + 1e-12 or (abs(value - best[0]) <= 1e-12
                                               and new_cost < best[1]):
                    best = (value, new_cost, tuple(options[i].id for i in picked), tactic, path)
                search(k + 1, picked, new_cost,
                       groups | ({option.group} if option.group else set()))

        search(0, [], 0.0, set())
    else:
        chosen: list[UpgradeOption] = []
        cost = 0.0
        current = before
        while True:
            groups = {o.group for o in chosen if o.group}
            candidates = []
            for option in options:
                if option in chosen or cost + option.cost_eur > budget_eur + 1e-9:
                    continue
                if option.group and option.group in groups:
                    continue
                value, tactic, path = compiled.worst(
                    *_apply_compiled(compiled, [*chosen, option]))
                evaluated += 1
                gain = value - current
                if gain > 1e-12:
                    ratio = gain / option.cost_eur if option.cost_eur > 0 else np.inf
                    candidates.append((ratio, gain, option, value, tactic, path))
            if not candidates:
                break
            candidates.sort(key=lambda c: (-c[0], -c[1], c[2].id))
            _, _, option, current, tactic, path = candidates[0]
            chosen.append(option)
            cost += option.cost_eur
            best = (current, cost, tuple(o.id for o in chosen), tactic, path)
    value, cost, ids, tactic, path = best
    return Portfolio(ids, cost, budget_eur, before, value, tactic, path, method, evaluated)


# --------------------------------------------------------------- uncertainty


def _beta_around(rng: np.random.Generator, mean: np.ndarray, sd: np.ndarray) -> np.ndarray:
    """Beta draws with the given mean and sd (sd capped so the Beta exists; 0/1 stay)."""
    mean = np.clip(mean, 0.0, 1.0)
    var_max = mean * (1 - mean)
    var = np.minimum(sd**2, 0.99 * var_max)
    inner = (mean > 0) & (mean < 1) & (var > 0)
    out = np.array(mean, dtype=float, copy=True)
    k = np.where(inner, var_max / np.where(inner, var, 1.0) - 1.0, 1.0)
    a = np.where(inner, mean * k, 1.0)
    b = np.where(inner, (1 - mean) * k, 1.0)
    draws = rng.beta(a, b)
    return np.where(inner, draws, out)


def interruption_uncertainty(
    site: Site | CompiledSite,
    *,
    n_samples: int = 2000,
    rng: np.random.Generator,
    p_detection_sd: float = 0.05,
    delay_relative_sd: float = 0.2,
    response_relative_sd: float = 0.2,
) -> dict[str, Any]:
    """Worst-path P_I with bands from uncertain inputs (sampling).

    Each sample draws every step's P_D from a Beta with the step's mean and
    ``p_detection_sd`` (the step's own ``p_detection_sd`` where given), scales
    its mean delay by a lognormal factor with median 1 and log-sd
    ``delay_relative_sd`` (or the step's ``delay_relative_sd``), and the mean
    response time likewise (``response.relative_sd`` or
    ``response_relative_sd``); the same step shares its draw across paths.
    rng: seeded generator. Returns mean, p05, p50, p95 of the worst-path P_I,
    ``p_interruption_nominal`` and the ``samples`` array.
    """
    compiled = site if isinstance(site, CompiledSite) else compile_site(site)
    values: dict[str, np.ndarray] = {}
    for tactic, table in compiled.values.items():
        n_rows = table.shape[0]
        p_sd = np.where(np.isnan(compiled.p_detection_sd[tactic]), p_detection_sd,
                        compiled.p_detection_sd[tactic])
        rel = np.where(np.isnan(compiled.delay_relative_sd[tactic]), delay_relative_sd,
                       compiled.delay_relative_sd[tactic])
        sampled = np.broadcast_to(table, (n_samples, n_rows, 4)).copy()
        sampled[:, :, P_DETECTION] = _beta_around(
            rng, np.broadcast_to(table[:, P_DETECTION], (n_samples, n_rows)),
            np.broadcast_to(p_sd, (n_samples, n_rows)))
        factor = np.exp(rel * rng.standard_normal((n_samples, n_rows)))
        sampled[:, :, DELAY_MEAN] *= factor
        sampled[:, :, DELAY_SD] *= factor
        values[tactic] = sampled
    rel_r = compiled.response_relative_sd
    rel_r = response_relative_sd if rel_r is None else rel_r
    response = np.broadcast_to(compiled.response, (n_samples, 3)).copy()
    factor = np.exp(rel_r * rng.standard_normal(n_samples))
    response[:, 0] *= factor
    response[:, 1] *= factor
    p_i = compiled.p_interruption(values, response)  # tactics × samples × paths
    worst = p_i.min(axis=(0, 2))
    nominal, _, _ = compiled.worst()
    return {
        "p_interruption_nominal": nominal,
        "mean": float(worst.mean()),
        "p05": float(np.quantile(worst, 0.05)),
        "p50": float(np.quantile(worst, 0.50)),
        "p95": float(np.quantile(worst, 0.95)),
        "n_samples": n_samples,
        "samples": worst,
    }
