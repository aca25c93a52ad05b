"""The set of measures that avoids most risk within a budget, and the efficiency frontier.

- Up to ``exact_max`` measures: every combination is evaluated jointly by the
  risk model (interactions included) and the best affordable one is exact.
- More: each measure alone, then an exact 0-1 knapsack (``scipy.optimize.milp``)
  on the single-measure benefits — additive, an approximation where measures
  interact — and the chosen set evaluated jointly; beyond ``ilp_max`` measures,
  greedy by marginal benefit-cost ratio, each step evaluated jointly.

The budget is on capital (EUR at t = 0). The frontier is the best avoided
risk (benefit, present value) found for each capital spent: a staircase that
never goes down as the budget grows.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cascada.errors import CascadaInputError
from cascada.hazards.eventset import EventSet
from cascada.measures.costbenefit import Evaluate, evaluate_sets
from cascada.measures.model import Measure, Settings
from cascada.region.model import Region


def knapsack_ilp(values: np.ndarray, costs: np.ndarray, budget: float) -> np.ndarray:
    """bool [n]: the subset maximising Σ values within Σ costs ≤ budget (exact, MILP)."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    values = np.asarray(values, float)
    costs = np.asarray(costs, float)
    if len(values) == 0:
        return np.zeros(0, bool)
    result = milp(c=-values, constraints=LinearConstraint(costs[None, :], -np.inf, budget),
                  integrality=np.ones(len(values)), bounds=Bounds(0, 1))
    if not result.success:  # pragma: no cover - a 0-1 knapsack is always feasible (x = 0)
        raise RuntimeError(f"milp failed: {result.message}")
    return np.round(result.x).astype(bool)


def knapsack_brute(values: np.ndarray, costs: np.ndarray, budget: float) -> np.ndarray:
    """The same by enumeration (for tests and tiny sets); ties → fewer, then lower cost."""
    n = len(values)
    best, best_key = np.zeros(n, bool), (0.0, 0, 0.0)
    for r in range(1, n + 1):
        for subset in itertools.combinations(range(n), r):
            c = float(np.sum(np.asarray(costs)[list(subset)]))
            if c > budget:
                continue
            v = float(np.sum(np.asarray(values)[list(subset)]))
            key = (v, -r, -c)
            if key > best_key:
                best_key = key
                best = np.isin(np.arange(n), subset)
    return best


@dataclass
class Portfolio:
    """The chosen set, every evaluated combination, and the frontier."""

    chosen: tuple[int, ...]
    evaluated: pd.DataFrame
    frontier: pd.DataFrame
    method: str


def frontier(table: pd.DataFrame) -> pd.DataFrame:
    """Pareto staircase over (capital_eur, benefit_pv_eur): best benefit per spend."""
    ordered = table.sort_values(["capital_eur", "benefit_pv_eur"], ascending=[True, False])
    keep, best = [], -np.inf
    for row in ordered.itertuples(index=False):
        if row.benefit_pv_eur > best:
            keep.append(row._asdict())
            best = row.benefit_pv_eur
    return pd.DataFrame(keep)


def choose_portfolio(region: Region, eventset: EventSet, measures: Sequence[Measure],
                     budget_eur: float, evaluate: Evaluate, settings: Settings, *,
                     exact_max: int = 5, ilp_max: int = 30,
                     progress: Callable[[int, int], None] | None = None) -> Portfolio:
    """Best affordable set of measures (budget on capital, EUR); see the module docstring."""
    capital = np.array([m.capital_eur for m in measures], float)
    if budget_eur < 0:
        raise CascadaInputError("the budget must be >= 0", field="budget")
    if len(measures) and budget_eur < capital.min():
        raise CascadaInputError(
            f"the budget (EUR {budget_eur:,.0f}) is smaller than every measure's capital "
            f"(cheapest: EUR {capital.min():,.0f})", field="budget")
    cache: dict = {}
    n = len(measures)
    if n <= exact_max:
        subsets = [s for r in range(n + 1) for s in itertools.combinations(range(n), r)]
        table = evaluate_sets(region, eventset, measures, subsets, evaluate, settings,
                              progress, cache)
        method = f"exact: all {len(subsets)} combinations evaluated jointly"
    else:
        singles = [(i,) for i in range(n)]
        table = evaluate_sets(region, eventset, measures, [(), *singles], evaluate, settings,
                              progress, cache)
        value = table.set_index("subset").loc[singles, "benefit_pv_eur"].to_numpy()
        if n <= ilp_max:
            budgets = np.unique(np.r_[np.linspace(capital.min(), capital.sum(), 8),
                                      budget_eur])
            sets = [tuple(np.flatnonzero(knapsack_ilp(np.maximum(value, 0), capital, b)))
                    for b in budgets]
            method = "0-1 knapsack (milp) on single-measure benefits, sets evaluated jointly"
        else:
            sets = _greedy_sets(region, eventset, measures, evaluate, settings, cache,
                                budget_eur)
            method = "greedy by marginal benefit-cost ratio, each step evaluated jointly"
        more = evaluate_sets(region, eventset, measures, sets, evaluate, settings, None, cache)
        table = pd.concat([table, more], ignore_index=True).drop_duplicates("subset")
    affordable = table[table["capital_eur"] <= budget_eur + 1e-6]
    best = affordable.sort_values(["benefit_pv_eur", "n_measures", "capital_eur"],
                                  ascending=[False, True, True]).iloc[0]
    return Portfolio(tuple(best["subset"]), table.reset_index(drop=True), frontier(table),
                     method)


def _greedy_sets(region, eventset, measures, evaluate, settings, cache, budget):
    chosen: list[int] = []
    sets = []
    spent = 0.0
    while True:
        rows = []
        for j in range(len(measures)):
            if j in chosen or spent + measures[j].capital_eur > budget:
                continue
            rows.append(tuple(sorted([*chosen, j])))
        if not rows:
            return sets
        table = evaluate_sets(region, eventset, measures, rows, evaluate, settings, None, cache)
        current = cache[tuple(sorted(chosen))]["row"]["benefit_pv_eur"] if chosen else 0.0
        gain = (table["benefit_pv_eur"] - current) / np.maximum(
            table["cost_pv_eur"] - (cache[tuple(sorted(chosen))]["row"]["cost_pv_eur"]
                                    if chosen else 0.0), 1e-9)
        best = int(np.argmax(gain.to_numpy()))
        if gain.iloc[best] <= 0:
            return sets
        chosen = list(table["subset"].iloc[best])
        spent = float(table["capital_eur"].iloc[best])
        sets.append(tuple(chosen))
