"""HTML page of a measures appraisal (``cascada measures compare``): BCR table, frontier."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from cascada.errors import CascadaInputError
from cascada.report import figures
from cascada.report.html import _PAGE, _e, _figure, _table, format_eur, write_page


def _frontier_png(table: pd.DataFrame, front: pd.DataFrame, budget: float | None) -> bytes:
    figure = figures.new_figure(8.0, 4.5)
    ax = figure.subplots()
    ax.scatter(table["capital_eur"] / 1e6, table["benefit_pv_eur"] / 1e6, s=14,
               color="#9aa5ad", label="combinations evaluated", zorder=1)
    if len(front):
        ax.step(front["capital_eur"] / 1e6, front["benefit_pv_eur"] / 1e6, where="post",
                color="#0072B2", label="frontier", zorder=2)
    if budget is not None:
        ax.axvline(budget / 1e6, color="#D55E00", linestyle="--", label="budget")
    ax.set_xlabel("capital, million EUR")
    ax.set_ylabel("avoided risk (benefit, PV), million EUR")
    ax.legend(frameon=False)
    ax.grid(alpha=0.3)
    return figures.to_png(figure)


def render_measures_report(folder: Path) -> str:
    """The appraisal page as a string (no file written)."""
    folder = Path(folder)
    path = folder / "combinations.parquet"
    if not path.exists():
        raise CascadaInputError("not a measures folder (no combinations.parquet)", file=folder)
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    table = pd.read_parquet(path)
    front = pd.read_parquet(folder / "frontier.parquet")
    singles = table[table["n_measures"] == 1].sort_values("bcr", ascending=False)
    measures = summary.get("measures", {})
    parts = [f"<h1>Measures — {_e(summary.get('scenario', ''))}</h1>",
             f"<p class=\"lead\">Each measure, and each set of measures, run through the "
             f"risk model jointly ({_e(summary.get('events'))} events × "
             f"{_e(summary.get('samples'))} samples, seed {_e(summary.get('seed'))}); "
             f"discount rate {summary.get('discount_rate', 0):.1%}, horizon "
             f"{_e(summary.get('horizon_years'))} years.</p>",
             "<h2>Each measure alone</h2>"]
    rows = [(measures.get(r.measures, {}).get("name") or r.measures,
             measures.get(r.measures, {}).get("effect", ""), format_eur(r.capital_eur),
             format_eur(r.cost_pv_eur), format_eur(r.benefit_pv_eur), f"{r.bcr:.2f}",
             f"{r.bcr_p05:.2f} – {r.bcr_p95:.2f}", r.not_evaluated or "")
            for r in singles.itertuples()]
    parts.append(_table(("Measure", "Effect", "Capital", "Cost (PV)", "Benefit (PV)", "BCR",
                         "BCR 90 % interval", "Not evaluated"), rows, numeric_from=2))
    parts.append('<p class="note">Benefit: avoided expected annual loss plus avoided '
                 "people-hours without service valued at "
                 + _e(", ".join(f"{k} EUR {v:g}" for k, v in
                                (summary.get("value_eur_per_person_hour") or {}).items()))
                 + " per person-hour (assumptions), discounted over the horizon. Cost: "
                 "capital renewed every lifetime plus yearly cost, discounted. Measures "
                 "that change restoration or people's exposure (crews, early warning) are "
                 "costed but not seen by the risk model.</p>")
    chosen = summary.get("chosen") or []
    row = summary.get("chosen_row") or {}
    budget = summary.get("budget_eur")
    parts.append("<h2>Best set within the budget</h2>")
    parts.append(f"<p><strong>{_e(' + '.join(chosen) or 'nothing')}</strong>: capital "
                 f"{format_eur(row.get('capital_eur'))}, benefit "
                 f"{format_eur(row.get('benefit_pv_eur'))}, NPV "
                 f"{format_eur(row.get('npv_eur'))}, BCR {row.get('bcr', np.nan):.2f} "
                 f"(budget {format_eur(budget) if budget else 'none'}). "
                 f"Method: {_e(summary.get('method', ''))}.</p>")
    parts.append(_figure(_frontier_png(table, front, budget), "Efficiency frontier",
                         "Avoided risk against capital for every set evaluated; the line "
                         "is the best set for each spend."))
    combos = table[table["n_measures"] > 1].sort_values("benefit_pv_eur", ascending=False)
    if len(combos):
        parts.append("<h2>Combinations (evaluated jointly)</h2>")
        parts.append(_table(("Measures", "Capital", "Benefit (PV)", "NPV", "BCR"),
                            [(r.measures, format_eur(r.capital_eur),
                              format_eur(r.benefit_pv_eur), format_eur(r.npv_eur),
                              f"{r.bcr:.2f}") for r in combos.head(30).itertuples()],
                            numeric_from=1))
    return _PAGE.substitute(version="", title=_e("measures — cascada"),
                            body="\n".join(parts), footer="cascada")


def write_measures_report(folder: Path, output: Path | None = None) -> Path:
    """Write ``report.html`` (or ``output``) for a measures folder, atomically."""
    folder = Path(folder)
    return write_page(render_measures_report(folder), output or folder / "report.html")
