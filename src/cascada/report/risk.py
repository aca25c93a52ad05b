"""HTML report of a probabilistic risk run (``cascada risk``): one self-contained page.

Reads the risk run folder (``summary.json``, ``eai.parquet``,
``return_periods.parquet``, ``ep_curve.parquet``, ``convergence.parquet``,
``asset_eai.parquet``) and shows: expected annual impact with its standard
error, exceedance-probability curves, return-period values with their
sampling bands, the assets that contribute most, a map of expected annual
loss, and how the estimate settled as events were added.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from cascada.errors import CascadaInputError
from cascada.report import figures
from cascada.report.html import (
    _PAGE,
    OSM_LICENCE,
    _e,
    _figure,
    _table,
    format_count,
    format_eur,
    write_page,
)

TOP_CONTRIBUTORS = 20


def _read(run_dir: Path, name: str) -> pd.DataFrame | None:
    path = run_dir / f"{name}.parquet"
    if not path.exists():
        return None
    return gpd.read_parquet(path) if name == "asset_eai" else pd.read_parquet(path)


def _format(value: float, unit: str) -> str:
    return format_eur(value) if unit == "EUR" else format_count(value, unit)


def _ep_png(ep: pd.DataFrame, unit: str, impacts: list[str]) -> bytes:
    """Impact against return period (log axis), one line per impact, all hazards."""
    figure = figures.new_figure(9.0, 4.2)
    ax = figure.subplots()
    for i, impact in enumerate(impacts):
        rows = ep[(ep["impact"] == impact) & (ep["hazard"] == "all")]
        rows = rows[np.isfinite(rows["return_period_years"]) & (rows["impact_value"] > 0)]
        if len(rows):
            rows = rows.sort_values("return_period_years")
            ax.step(rows["return_period_years"], rows["impact_value"], where="post",
                    label=impact.removeprefix("people_hours_"),
                    color=figures.service_colour(impact.removeprefix("people_hours_"), i))
    return _ep_finish(figure, ax, unit)


def _ep_finish(figure, ax, unit: str) -> bytes:
    """Log return-period axis, labels, grid and legend of an exceedance chart; PNG bytes."""
    ax.set_xscale("log")
    ax.set_xlabel("Return period (years)")
    ax.set_ylabel(unit)
    ax.grid(True, which="both", alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8, frameon=False)
    return figures.to_png(figure)


def _ep_by_hazard_png(ep: pd.DataFrame, impact: str, unit: str) -> bytes:
    """One impact against return period, a line per hazard and one for all hazards."""
    figure = figures.new_figure(9.0, 4.2)
    ax = figure.subplots()
    rows = ep[(ep["impact"] == impact) & np.isfinite(ep["return_period_years"])
              & (ep["impact_value"] > 0)]
    for i, (hazard, part) in enumerate(sorted(rows.groupby("hazard"),
                                              key=lambda kv: kv[0] != "all")):
        part = part.sort_values("return_period_years")
        ax.step(part["return_period_years"], part["impact_value"], where="post",
                label=str(hazard), linewidth=2.4 if hazard == "all" else 1.4,
                color="#222222" if hazard == "all" else figures.service_colour(str(hazard), i))
    return _ep_finish(figure, ax, unit)


def _sector_rows(sectors: pd.DataFrame) -> list[tuple[str, ...]]:
    """EAI by sector (all hazards), largest loss first, with each hazard's share."""
    hazards = [h for h in sectors["hazard"].unique() if h != "all"]
    total = sectors[sectors["hazard"] == "all"].set_index("sector")
    rows = []
    for sector, r in total.sort_values("expected_annual_loss_eur", ascending=False).iterrows():
        if r.expected_annual_loss_eur <= 0 and r.expected_annual_down_hours <= 0:
            continue
        shares = []
        for hazard in hazards:
            part = sectors[(sectors["sector"] == sector) & (sectors["hazard"] == hazard)]
            if len(part) and r.expected_annual_loss_eur > 0:
                share = float(part["expected_annual_loss_eur"].iloc[0]) / \
                    r.expected_annual_loss_eur
                if share > 0:
                    shares.append(f"{hazard} {share:.0%}")
        rows.append((str(sector), format_eur(r.expected_annual_loss_eur),
                     f"{r.expected_annual_down_hours:.3g} h",
                     format_count(r.expected_annual_people_hours_served), ", ".join(shares)))
    return rows


def _convergence_png(convergence: pd.DataFrame, impact: str) -> bytes:
    figure = figures.new_figure(9.0, 3.0)
    ax = figure.subplots()
    rows = convergence[convergence["impact"] == impact]
    for kind, part in rows.groupby("kind"):
        ax.plot(part["n"], part["expected_annual_impact"], marker="o", ms=3, label=str(kind))
    ax.set_xscale("log")
    ax.set_xlabel("events (or samples) included")
    ax.set_ylabel(f"EAI of {impact}")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, frameon=False)
    return figures.to_png(figure)


def _asset_map_png(assets: gpd.GeoDataFrame) -> bytes:
    """Assets coloured and sized by expected annual loss (EUR/yr); no map tiles."""
    return figures.value_map_png(assets, assets["expected_annual_loss_eur"].to_numpy(float),
                                 "expected annual loss, log10 EUR/yr")


def render_risk_report(run_dir: Path) -> str:
    """The risk report page as a string (no file written)."""
    run_dir = Path(run_dir)
    summary_path = run_dir / "summary.json"
    if not summary_path.exists():
        raise CascadaInputError("no summary.json in the run folder", file=run_dir)
    summary: dict[str, Any] = json.loads(summary_path.read_text(encoding="utf-8"))
    eai = _read(run_dir, "eai")
    if eai is None:
        raise CascadaInputError("not a risk run folder (no eai.parquet)", file=run_dir,
                                hint="use `cascada risk` to make one")
    periods = _read(run_dir, "return_periods")
    ep = _read(run_dir, "ep_curve")
    convergence = _read(run_dir, "convergence")
    assets = _read(run_dir, "asset_eai")

    parts = [f"<h1>{_e(summary.get('scenario', 'risk'))}</h1>",
             f'<p class="lead">{_e(summary.get("description", ""))}</p>',
             f"<p>Probabilistic risk: {_e(summary.get('events', '?'))} events × "
             f"{_e(summary.get('samples', '?'))} Monte-Carlo samples, cascade over "
             f"{_e(summary.get('hours', '?'))} hours, seed {_e(summary.get('seed', '?'))}.</p>"]
    for event_set in summary.get("event_sets") or []:
        if isinstance(event_set, dict) and event_set.get("synthetic"):
            parts.append('<div class="banner" role="note"><strong>Synthetic input:</strong> '
                         f"{_e(event_set.get('note') or event_set.get('name', ''))}</div>")

    parts.append("<h2>Expected annual impact</h2>")
    rows = [(r.impact.removeprefix("people_hours_"), r.hazard,
             _format(r.expected_annual_impact, r.unit),
             _format(r.standard_error, r.unit))
            for r in eai.itertuples()]
    parts.append(_table(("Impact", "Hazard", "Per year (mean)", "Standard error"), rows,
                        numeric_from=2))
    parts.append('<p class="note">Expected annual impact = Σ over events of annual rate × '
                 "mean impact over the samples; people-hours are hours without a service "
                 "times the people who lose it.</p>")

    if periods is not None and len(periods):
        parts.append("<h2>Return-period values</h2>")
        rows = [(r.impact.removeprefix("people_hours_"), f"{r.return_period_years:g} years",
                 _format(r.value, r.unit),
                 f"{_format(r.value_p05, r.unit)} – {_format(r.value_p95, r.unit)}")
                for r in periods.itertuples()
                if r.value > 0 or r.impact == "direct_loss_eur"]
        parts.append(_table(("Impact", "Return period", "Value", "5–95 % band"), rows,
                            numeric_from=1))
        parts.append('<p class="note">Impacts whose value is zero at every return period '
                     "are left out.</p>")
        parts.append('<p class="note">In brackets: 5–95 % bootstrap band over the samples of '
                     "each event (biased upward for long return periods, see docs/risk.md)."
                     "</p>")
    if ep is not None and len(ep):
        parts.append("<h2>Exceedance curves</h2>")
        parts.append(_figure(_ep_png(ep, "EUR", ["direct_loss_eur"]),
                             "Loss exceedance curve", "Direct loss (EUR) against return "
                             "period, all hazards."))
        if (ep["hazard"] != "all").any() and ep["hazard"].nunique() > 2:
            parts.append(_figure(_ep_by_hazard_png(ep, "direct_loss_eur", "EUR"),
                                 "Loss exceedance curves by hazard",
                                 "Direct loss (EUR) against return period, each hazard alone "
                                 "and all together."))
        services = [i for i in ep["impact"].unique() if i.startswith("people_hours_")]
        if services:
            parts.append(_figure(_ep_png(ep, "people-hours", services),
                                 "People-hours exceedance curves", "People-hours without "
                                 "each service against return period, all hazards."))
    sectors = _read(run_dir, "sector_eai")
    if sectors is not None and len(sectors):
        rows = _sector_rows(sectors)
        if rows:
            parts.append("<h2>By sector</h2>")
            parts.append(_table(("Sector", "Expected annual loss", "Down-hours per year",
                                 "People-hours served by assets down, per year",
                                 "Share of loss by hazard"), rows, numeric_from=1))
    if assets is not None and len(assets):
        parts.append("<h2>Where the risk sits</h2>")
        parts.append(_figure(_asset_map_png(assets), "Map of expected annual loss",
                             "Assets by expected annual loss (EUR/yr); grey: none. "
                             + OSM_LICENCE + "."))
        top = assets.sort_values(["expected_annual_loss_eur", "expected_annual_down_hours"],
                                 ascending=False).head(TOP_CONTRIBUTORS)
        rows = [(r.asset_type, r.name or r.asset_id, format_eur(r.expected_annual_loss_eur),
                 f"{r.expected_annual_down_hours:.3g} h", f"{r.annual_outage_frequency:.3g}")
                for r in top.itertuples()]
        parts.append("<h3>Top contributors</h3>")
        parts.append(_table(("Type", "Asset", "Expected annual loss", "Down-hours per year",
                             "Outages per year"), rows, numeric_from=2))
    if convergence is not None and len(convergence):
        parts.append("<h2>Convergence</h2>")
        parts.append(_figure(_convergence_png(convergence, "direct_loss_eur"),
                             "Convergence of the EAI estimate",
                             "Expected annual loss as events are added: where the curve "
                             "flattens, more events change little."))
    versions = summary.get("versions") or {}
    inputs = summary.get("inputs") or {}
    parts.append("<h2>Provenance</h2>")
    parts.append(_table(("Item", "Value"), [*sorted(versions.items()), *sorted(inputs.items())],
                        numeric_from=9, css_class="hashes"))
    version = versions.get("cascada", "")
    return _PAGE.substitute(
        version=_e(version), title=_e(f"{summary.get('scenario', 'risk')} — cascada risk"),
        body="\n".join(parts),
        footer=f"cascada {_e(version)} · seed {_e(summary.get('seed', ''))} · "
               f"{_e(OSM_LICENCE)}")


def write_risk_report(run_dir: Path, output: Path | None = None) -> Path:
    """Write ``report.html`` (or ``output``) for a risk run folder, atomically."""
    run_dir = Path(run_dir)
    return write_page(render_risk_report(run_dir), output or run_dir / "report.html")
