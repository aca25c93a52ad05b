"""Evaluation at inspection budgets, baselines, a chart and a drift report.

For each budget share b (1, 2, 5, 10 % by default), with n = ceil(b · N) of N
declarations selected by the ranking:

- precision: frauds among the selected / n;
- recall: frauds selected / all frauds;
- critical captured: critical frauds selected / all critical frauds;
- revenue captured: tax due (item price × tax rate) of the frauds selected /
  tax due of all frauds — a proxy, the benchmark data carry no recovered
  revenue.

Baselines on the same rows: **random** selection (its expected value: precision
= fraud rate, recall = n / N, computed exactly, not drawn), and a simple
**rule** (the HS6 codes with the highest fraud rate in the training period,
ties broken by tax due) — what an office without a model might do.

Drift: the population stability index per feature between the training period
and the evaluated period, PSI = Σ (a − e) · ln(a / e) over ten training-decile
bins plus a missing-value bin; by convention < 0.1 stable, 0.1–0.25 moderate,
> 0.25 large shift.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from cascada.customs.drift import drift_report
from cascada.customs.model import CustomsModel
from cascada.customs.select import budget_count, ranking_score
from cascada.store.runfolder import atomic_folder, write_json

DEFAULT_BUDGETS = (0.01, 0.02, 0.05, 0.10)


def tax_due(table: pd.DataFrame) -> np.ndarray:
    """Item price × tax rate / 100 (zeros where a field is missing)."""
    if {"item_price", "tax_rate_pct"} <= set(table.columns):
        return (np.asarray(table["item_price"], dtype=np.float64)
                * np.asarray(table["tax_rate_pct"], dtype=np.float64) / 100.0)
    return np.zeros(len(table))


def budget_metrics(score: np.ndarray, table: pd.DataFrame,
                   budgets: tuple[float, ...] = DEFAULT_BUDGETS) -> pd.DataFrame:
    """Precision, recall, critical and revenue captured of a ranking at each budget."""
    fraud = np.asarray(table["fraud"], dtype=np.float64)
    critical = (np.asarray(table["critical_fraud"], dtype=np.float64)
                if "critical_fraud" in table.columns else np.zeros(len(table)))
    revenue = tax_due(table) * fraud
    order = np.argsort(-np.asarray(score, dtype=np.float64), kind="stable")
    rows = []
    for b in budgets:
        n = budget_count(len(table), b)
        top = order[:n]
        rows.append({
            "budget_pct": round(b * 100, 6), "selected": n,
            "precision": float(fraud[top].mean()),
            "recall": float(fraud[top].sum() / max(fraud.sum(), 1)),
            "critical_captured": float(critical[top].sum() / max(critical.sum(), 1)),
            "revenue_captured": float(revenue[top].sum() / max(revenue.sum(), 1e-12)),
        })
    return pd.DataFrame(rows)


def random_metrics(table: pd.DataFrame,
                   budgets: tuple[float, ...] = DEFAULT_BUDGETS) -> pd.DataFrame:
    """Expected figures of uniform random selection (exact expectation)."""
    fraud = np.asarray(table["fraud"], dtype=np.float64)
    rows = []
    for b in budgets:
        n = budget_count(len(table), b)
        share = n / len(table)
        rows.append({"budget_pct": round(b * 100, 6), "selected": n,
                     "precision": float(fraud.mean()), "recall": share,
                     "critical_captured": share, "revenue_captured": share})
    return pd.DataFrame(rows)


def rule_baseline_score(model: CustomsModel, table: pd.DataFrame) -> np.ndarray:
    """Training-period fraud rate of the declaration's HS6 code (+ tiny tax-due tie-break)."""
    x = model.encoder.transform(table)
    rate = (x["fraud_rate__hs6"].to_numpy(dtype=np.float64) if "fraud_rate__hs6" in x
            else np.zeros(len(table)))
    due = tax_due(table)
    return rate + 1e-6 * due / (due.max() + 1.0)


# ---------------------------------------------------------------------- evaluation


@dataclass
class Evaluation:
    """Figures of one model on one labelled period."""

    metrics: pd.DataFrame        # method × budget
    drift: pd.DataFrame          # feature, psi, shift
    summary: dict = field(default_factory=dict)


def evaluate_model(model: CustomsModel, table: pd.DataFrame,
                   budgets: tuple[float, ...] = DEFAULT_BUDGETS,
                   *, critical_weight: float | None = None) -> Evaluation:
    """Model ranking (expected value) vs random and the HS6 rule, plus drift."""
    x = model.features(table)
    predictions = model.predict(table, features=x, critical_weight=critical_weight)
    parts = []
    for method, frame in (
        ("cascada", budget_metrics(ranking_score(predictions), table, budgets)),
        ("rule: riskiest HS6 codes", budget_metrics(rule_baseline_score(model, table), table,
                                                    budgets)),
        ("random", random_metrics(table, budgets)),
    ):
        frame.insert(0, "method", method)
        parts.append(frame)
    metrics = pd.concat(parts, ignore_index=True)
    reference = model.feature_reference
    drift = drift_report(reference, x)
    dates = np.asarray(table["date"], dtype="datetime64[D]")
    summary = {
        "rows": len(table), "fraud_rate": float(table["fraud"].mean()),
        "dates": [str(dates.min()), str(dates.max())],
        "training_dates": model.metadata.get("training_dates"),
        "critical_weight": (model.config.critical_weight if critical_weight is None
                            else critical_weight),
        "precision": {f"{r.budget_pct:g}%": r.precision
                      for r in metrics[metrics.method == "cascada"].itertuples()},
        "features_with_large_drift": int((drift["shift"] == "large").sum()),
    }
    return Evaluation(metrics, drift, summary)


def plot_metrics(metrics: pd.DataFrame, path: str | Path) -> None:
    """Precision and recall against the budget, one line per method (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(12, 3.6))
    for method, frame in metrics.groupby("method", sort=False):
        for ax, column in zip(axes, ("precision", "recall", "critical_captured"), strict=True):
            ax.plot(frame["budget_pct"], frame[column], marker="o", label=method)
    for ax, title in zip(axes, ("precision", "recall (frauds caught)",
                                "critical frauds caught"), strict=True):
        ax.set_xlabel("inspected (% of declarations)")
        ax.set_title(title)
        ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_evaluation(evaluation: Evaluation, folder: str | Path, *,
                     overwrite: bool = False) -> Path:
    """``metrics.csv``, ``drift.csv``, ``precision.png``, ``summary.json`` (atomic)."""
    with atomic_folder(folder, overwrite=overwrite) as tmp:
        evaluation.metrics.to_csv(tmp / "metrics.csv", index=False)
        evaluation.drift.to_csv(tmp / "drift.csv", index=False)
        plot_metrics(evaluation.metrics, tmp / "precision.png")
        write_json(tmp / "summary.json", evaluation.summary)
    return Path(folder)
