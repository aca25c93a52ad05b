"""Cost-benefit of measures and of combinations of them, with the risk model's uncertainty.

For a set of measures applied together (never a sum of separate ones: two
measures on the same asset are not additive), the risk model runs on the
changed region and event set with the **same seed** as the base run, so both
runs see the same events and — for every asset the measures leave alone — the
same random draws (common random numbers: the difference is far less noisy
than either estimate).

- Avoided expected annual impact (per year): direct loss (EUR) and
  people-hours without each service, the latter valued at
  ``value_eur_per_person_hour`` (EUR per person-hour; assumptions).
- Benefit, present value: avoided EAI (EUR/yr) × A, with the annuity factor
  A = Σ_{t=1..H} (1 + r)^−t over the horizon H (years) at discount rate r.
- Cost, present value: capital at t = 0, renewed at every multiple of the
  lifetime inside the horizon (discounted), plus yearly cost × A.
- NPV = benefit − cost; BCR = benefit / cost. Their 90 % interval comes from
  the standard error of the avoided EAI over events × samples (normal
  approximation): SE² = Σ_e rate_e² · Var_s(d_e,s) / S, d the per-sample
  avoided impact of event e.

This is CLIMADA's cost-benefit logic (benefit = discounted avoided expected
impact; ratio = benefit / cost) with three differences: costs include
renewals and yearly costs, the avoided impact includes service loss valued in
EUR, and combinations are evaluated jointly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cascada.hazards.eventset import EventSet
from cascada.measures.model import Measure, Settings, apply_measures
from cascada.region.model import Region

Z90 = 1.6448536269514722


def annuity_factor(rate: float, horizon_years: int) -> float:
    """A = Σ_{t=1..H} (1 + r)^−t (years)."""
    t = np.arange(1, horizon_years + 1)
    return float(np.sum((1.0 + rate) ** -t))


def present_cost(measure: Measure, rate: float, horizon_years: int) -> float:
    """Capital (renewed every lifetime within the horizon) + yearly cost, EUR, discounted."""
    renewals = np.arange(0.0, horizon_years, measure.lifetime_years)
    capital = float(np.sum(measure.capital_eur * (1.0 + rate) ** -renewals))
    return capital + measure.yearly_eur * annuity_factor(rate, horizon_years)


@dataclass(frozen=True)
class RiskRun:
    """What a risk run gives cost-benefit: per-event rates and per-sample impacts."""

    annual_rate: np.ndarray  # [events], 1/yr
    impacts: dict[str, np.ndarray]  # {direct_loss_eur | people_hours_<s>: [events, samples]}

    def eai(self, name: str) -> float:
        return float(self.annual_rate @ self.impacts[name].mean(axis=1))


def monetised(run: RiskRun, values: dict[str, float]) -> np.ndarray:
    """[events, samples] EUR: direct loss + Σ services people-hours × value (EUR/person-hour)."""
    total = run.impacts["direct_loss_eur"].astype(np.float64).copy()
    for name, impact in run.impacts.items():
        service = name.removeprefix("people_hours_")
        if name != service:
            total += impact * values.get(service, 0.0)
    return total


def avoided(base: RiskRun, other: RiskRun, values: dict[str, float]) -> dict[str, float]:
    """Avoided EAI of ``other`` against ``base`` (EUR/yr and people-hours/yr) with its SE."""
    diff = monetised(base, values) - monetised(other, values)
    rate = base.annual_rate
    samples = diff.shape[1]
    var = diff.var(axis=1, ddof=1) if samples > 1 else np.zeros(len(rate))
    out = {"avoided_eur_per_year": float(rate @ diff.mean(axis=1)),
           "avoided_eur_per_year_se": float(np.sqrt(np.sum(rate ** 2 * var) / samples)),
           "avoided_loss_eur_per_year": base.eai("direct_loss_eur")
           - other.eai("direct_loss_eur")}
    for name in base.impacts:
        if name.startswith("people_hours_"):
            out[f"avoided_{name}_per_year"] = base.eai(name) - other.eai(name)
    return out


Evaluate = Callable[[Region, EventSet], RiskRun]


def appraise(selected: Sequence[Measure], base: RiskRun, run: RiskRun,
             settings: Settings, not_evaluated: Sequence[str] = ()) -> dict:
    """Costs, benefits, NPV and BCR (with 90 % intervals) of measures taken together."""
    a = annuity_factor(settings.discount_rate, settings.horizon_years)
    gain = avoided(base, run, settings.value_eur_per_person_hour)
    cost = sum(present_cost(m, settings.discount_rate, settings.horizon_years)
               for m in selected)
    benefit = gain["avoided_eur_per_year"] * a
    half = Z90 * gain["avoided_eur_per_year_se"] * a
    bcr = benefit / cost if cost > 0 else np.inf
    return {
        "measures": "+".join(m.id for m in selected) or "(none)",
        "n_measures": len(selected),
        "capital_eur": float(sum(m.capital_eur for m in selected)),
        "cost_pv_eur": cost,
        **gain,
        "benefit_pv_eur": benefit,
        "benefit_pv_eur_p05": benefit - half,
        "benefit_pv_eur_p95": benefit + half,
        "npv_eur": benefit - cost,
        "bcr": bcr,
        "bcr_p05": (benefit - half) / cost if cost > 0 else np.inf,
        "bcr_p95": (benefit + half) / cost if cost > 0 else np.inf,
        "not_evaluated": ",".join(not_evaluated),
    }


def evaluate_sets(region: Region, eventset: EventSet, measures: Sequence[Measure],
                  subsets: Sequence[tuple[int, ...]], evaluate: Evaluate, settings: Settings,
                  progress: Callable[[int, int], None] | None = None,
                  cache: dict[tuple[int, ...], dict] | None = None) -> pd.DataFrame:
    """Appraise each subset (tuple of measure indices) jointly against the base model."""
    cache = {} if cache is None else cache
    if () not in cache:
        cache[()] = {"run": evaluate(region, eventset)}
    base = cache[()]["run"]
    rows = []
    for i, subset in enumerate(subsets):
        key = tuple(sorted(subset))
        if key not in cache or "row" not in cache[key]:
            chosen = [measures[j] for j in key]
            applied = apply_measures(region, eventset, chosen)
            run = base if not key else evaluate(applied.region, applied.eventset)
            cache[key] = {"run": run,
                          "row": appraise(chosen, base, run, settings, applied.not_evaluated)}
        rows.append({"subset": key, **cache[key]["row"]})
        if progress is not None:
            progress(i + 1, len(subsets))
    return pd.DataFrame(rows)
