"""One self-contained HTML page for a scenario run folder.

:func:`write_report` reads the tables a run writes (``summary.json``,
``assets.parquet``, ``service_timeseries.parquet``, ``services.parquet``,
``facilities.parquet``, ``people.parquet`` and, when present,
``hazard_footprint.parquet``) and writes ``report.html``: inline CSS, figures
as base64 PNG, no scripts, no links, nothing fetched from the internet. The
page carries no timestamp or path, so the same run folder gives the same bytes.
"""

from __future__ import annotations

import base64
import html
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Any

import geopandas as gpd
import pandas as pd

from cascada.datafile import atomic_write_text
from cascada.errors import CascadaInputError
from cascada.report import figures

__all__ = ["RunFolder", "read_run_folder", "render_report", "write_report"]

SUMMARY_FILE = "summary.json"
ASSETS_FILE = "assets.parquet"
TIMESERIES_FILE = "service_timeseries.parquet"
SERVICES_FILE = "services.parquet"
FACILITIES_FILE = "facilities.parquet"
PEOPLE_FILE = "people.parquet"
FOOTPRINT_FILE = "hazard_footprint.parquet"

#: Columns each run-folder table must have for the report (others are ignored).
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    ASSETS_FILE: (
        "asset_id", "sector", "asset_type", "name", "value_eur", "p_damaged",
        "expected_loss_eur", "p_down", "mean_down_hours", "worst_state", "population_served",
    ),
    TIMESERIES_FILE: (
        "service", "hour", "people_without_mean", "people_without_p05",
        "people_without_p95", "population_total",
    ),
    SERVICES_FILE: (
        "service", "population_total", "people_hours_lost_mean", "people_hours_lost_p05",
        "people_hours_lost_p95", "peak_people_without_mean", "peak_hour",
        "restored_90pct_hour",
    ),
    FACILITIES_FILE: (
        "asset_id", "name", "asset_type", "p_down", "mean_down_hours",
        "mean_on_backup_hours", "p_without_power", "p_without_water",
    ),
    PEOPLE_FILE: ("population",),
    FOOTPRINT_FILE: ("intensity",),
}
_GEO_FILES = {ASSETS_FILE, PEOPLE_FILE, FOOTPRINT_FILE}
TOP_ASSETS = 20
OSM_LICENCE = "Map data © OpenStreetMap contributors, ODbL 1.0"


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class RunFolder:
    """The tables of one run folder; a missing optional table is ``None``."""

    path: Path
    summary: dict[str, Any]
    assets: gpd.GeoDataFrame | None
    timeseries: pd.DataFrame | None
    services: pd.DataFrame | None
    facilities: pd.DataFrame | None
    people: gpd.GeoDataFrame | None
    footprint: gpd.GeoDataFrame | None


def _read_summary(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise CascadaInputError(
            "no summary.json: this is not a cascada run folder (or the run did not finish)",
            file=path, hint="pass the folder written by `cascada run`",
        )
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CascadaInputError(f"not valid JSON ({exc})", file=path) from exc
    if not isinstance(summary, dict):
        raise CascadaInputError("expected a JSON object at the top level", file=path)
    for key in ("scenario", "seed", "samples", "hours"):
        if key not in summary:
            raise CascadaInputError("missing key", file=path, field=key)
    return summary


def _read_table(run_dir: Path, name: str) -> pd.DataFrame | None:
    """Read one table, or ``None`` if the file is absent; check its required columns."""
    path = run_dir / name
    if not path.is_file():
        return None
    try:
        table = gpd.read_parquet(path) if name in _GEO_FILES else pd.read_parquet(path)
    except Exception as exc:  # pyarrow and geopandas raise several types
        raise CascadaInputError(f"cannot read table ({exc})", file=path) from exc
    for column in REQUIRED_COLUMNS[name]:
        if column not in table.columns:
            raise CascadaInputError("missing column", file=path, field=column)
    is_geographic = isinstance(table, gpd.GeoDataFrame) and table.crs is not None
    if is_geographic and table.crs.to_epsg() != 4326:
        table = table.to_crs(4326)
    return table


def read_run_folder(run_dir: Path) -> RunFolder:
    """Read the tables of ``run_dir``; raise :class:`CascadaInputError` on bad input.

    ``summary.json`` is required; every other table may be absent (its section
    then says so), but a table that is present must have the report's columns.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise CascadaInputError("run folder not found", file=run_dir)
    summary = _read_summary(run_dir / SUMMARY_FILE)
    return RunFolder(
        path=run_dir,
        summary=summary,
        assets=_read_table(run_dir, ASSETS_FILE),
        timeseries=_read_table(run_dir, TIMESERIES_FILE),
        services=_read_table(run_dir, SERVICES_FILE),
        facilities=_read_table(run_dir, FACILITIES_FILE),
        people=_read_table(run_dir, PEOPLE_FILE),
        footprint=_read_table(run_dir, FOOTPRINT_FILE),
    )


# --------------------------------------------------------------------------- formatting


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return not math.isfinite(float(value))
    except (TypeError, ValueError):
        return True


def _significant(value: float) -> str:
    """Three significant figures without exponent: 1.23, 12.3, 123."""
    magnitude = abs(value)
    if magnitude >= 100:
        return f"{value:,.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def format_eur(value: Any) -> str:
    """``12_345_678`` → ``"€ 12.3 M"``; ``950`` → ``"€ 950"``; missing → ``"—"``."""
    if _is_missing(value):
        return "—"
    value = float(value)
    for threshold, suffix in ((1e9, " bn"), (1e6, " M"), (1e3, " k")):
        if abs(value) >= threshold * 0.9995:
            return f"€ {_significant(value / threshold)}{suffix}"
    return f"€ {value:,.0f}"


def format_count(value: Any, noun: str = "") -> str:
    """Whole number with thousands separators: ``48210.4`` → ``"48,210 people"``.

    Means below 10 keep one decimal (``"2.4 assets"``) so small counts are not hidden.
    """
    if _is_missing(value):
        return "—"
    value = float(value)
    text = f"{value:,.1f}" if 0 < abs(value) < 10 and value != round(value) else f"{value:,.0f}"
    return f"{text} {noun}".rstrip()


def format_share(value: Any) -> str:
    """Probability 0..1 as a percentage: ``0.873`` → ``"87 %"``, ``0.002`` → ``"<1 %"``."""
    if _is_missing(value):
        return "—"
    value = float(value)
    if value <= 0:
        return "0 %"
    if value < 0.005:
        return "<1 %"
    return f"{100 * value:.0f} %"


def format_hours(value: Any) -> str:
    """``12.34`` → ``"12.3 h"``; missing → ``"—"``."""
    if _is_missing(value):
        return "—"
    return f"{float(value):,.1f} h"


def format_interval(low: Any, high: Any, formatter: Any = format_count) -> str:
    """``"low – high"`` with ``formatter``; ``"—"`` when either end is missing."""
    if _is_missing(low) or _is_missing(high):
        return "—"
    return f"{formatter(low)} – {formatter(high)}"


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _table(
    header: Sequence[str], rows: Iterable[Sequence[str]], *, numeric_from: int = 1,
    css_class: str = "",
) -> str:
    """HTML table; cells are escaped here; columns from ``numeric_from`` are right-aligned."""
    head = "".join(
        f'<th class="num">{_e(h)}</th>' if i >= numeric_from else f"<th>{_e(h)}</th>"
        for i, h in enumerate(header)
    )
    body = []
    for row in rows:
        cells = "".join(
            f'<td class="num">{_e(c)}</td>' if i >= numeric_from else f"<td>{_e(c)}</td>"
            for i, c in enumerate(row)
        )
        body.append(f"<tr>{cells}</tr>")
    class_attribute = f' class="{_e(css_class)}"' if css_class else ""
    return (f"<table{class_attribute}><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table>")


def _figure(png: bytes, alt: str, caption: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return (f'<figure><img alt="{_e(alt)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{_e(caption)}</figcaption></figure>")


def _absent(name: str) -> str:
    return (f'<p class="absent">Not available: <code>{_e(name)}</code> is not in this '
            "run folder.</p>")


# --------------------------------------------------------------------------- sections


def _title_section(summary: Mapping[str, Any]) -> str:
    facts = [
        ("Region", summary.get("region", "—")),
        ("Seed", summary.get("seed", "—")),
        ("Monte-Carlo samples", format_count(summary.get("samples"))),
        ("Time horizon", f"{format_count(summary.get('hours'))} hours"),
    ]
    hazards = summary.get("hazards") or []
    names = ", ".join(str(h.get("hazard", "?")) for h in hazards if isinstance(h, Mapping))
    if names:
        facts.insert(1, ("Hazards", names))
    items = "".join(f"<div><dt>{_e(k)}</dt><dd>{_e(v)}</dd></div>" for k, v in facts)
    parts = [f"<h1>{_e(summary.get('scenario', 'Scenario'))}</h1>"]
    if summary.get("description"):
        parts.append(f'<p class="lead">{_e(summary["description"])}</p>')
    parts.append(f'<dl class="facts">{items}</dl>')
    for hazard in hazards:
        if isinstance(hazard, Mapping) and hazard.get("synthetic"):
            note = str(hazard.get("note") or "the footprint is not an observed or modelled event")
            note = note if note.rstrip().endswith((".", "!", "?")) else note.rstrip() + "."
            parts.append(
                '<div class="banner" role="note"><strong>Synthetic / illustrative hazard: '
                f"{_e(hazard.get('hazard', '?'))}.</strong> {_e(note)} "
                "Figures show what such an event would do, not what a real one did.</div>"
            )
    return "\n".join(parts)


def _headline_section(run: RunFolder) -> str:
    headline = run.summary.get("headline") or {}
    hospitals_total = headline.get("hospitals_total")
    of_total = (f" of {format_count(hospitals_total)} hospitals"
                if not _is_missing(hospitals_total) else "")
    rows = [
        ("Direct economic loss", format_eur(headline.get("direct_loss_eur_mean")),
         format_interval(headline.get("direct_loss_eur_p05"),
                         headline.get("direct_loss_eur_p95"), format_eur)),
        ("Assets damaged (mean)", format_count(headline.get("assets_damaged_mean"), "assets"), ""),
        ("Hospitals that lose function (mean)",
         format_count(headline.get("hospitals_affected_mean")) + of_total, ""),
        ("Hospitals running on backup power (mean)",
         format_count(headline.get("hospitals_on_backup_mean")) + of_total, ""),
    ]
    parts = ["<h2>Headline</h2>",
             _table(("Measure", "Mean", "90 % interval"), rows, css_class="headline")]

    service_rows = []
    if run.services is not None and len(run.services):
        for record in run.services.to_dict("records"):
            service_rows.append((
                str(record["service"]),
                format_count(record["population_total"], "people"),
                format_count(record["peak_people_without_mean"], "people"),
                f"hour {record['peak_hour']:.0f}" if not _is_missing(record["peak_hour"])
                else "—",
                format_count(record["people_hours_lost_mean"], "people-hours"),
                format_interval(record["people_hours_lost_p05"], record["people_hours_lost_p95"]),
                format_hours(record["restored_90pct_hour"])
                if not _is_missing(record["restored_90pct_hour"]) else "not within horizon",
            ))
        header = ("Service", "Population served", "Peak people without (mean)", "Peak at",
                  "People-hours lost (mean)", "90 % interval", "90 % restored by")
    else:
        lost = headline.get("people_hours_lost") or {}
        peak = headline.get("peak_people_without") or {}
        for service in dict.fromkeys([*peak, *lost]):
            service_rows.append((service, format_count(peak.get(service), "people"),
                                 format_count(lost.get(service), "people-hours")))
        header = ("Service", "Peak people without (mean)", "People-hours lost (mean)")
    if service_rows:
        parts.append("<h3>Essential services</h3>")
        parts.append(_table(header, service_rows))
        parts.append('<p class="note">Means over Monte-Carlo samples; the 90 % interval runs '
                     "from the 5th to the 95th percentile of samples. Hours count from the "
                     "event.</p>")
    exposed_rows = [
        (str(h.get("id") or h.get("hazard", "?")), str(h.get("hazard", "?")), str(level),
         format_count(people, "people"), format_share(h.get("probability", 1.0)))
        for h in run.summary.get("hazards") or [] if isinstance(h, Mapping)
        for level, people in (h.get("people_exposed") or {}).items()
    ]
    if exposed_rows:
        parts.append("<h3>People exposed directly</h3>")
        parts.append(_table(("Hazard", "Family", "Level", "People if it happens",
                             "Share of samples where it happens"), exposed_rows,
                            numeric_from=3))
        parts.append('<p class="note">Residents at their population points: AEGL levels (60 '
                     "min) of a toxic release, or inside the evacuation / shelter distances of "
                     "an incident (published stand-off chart). A triggered release (natech) "
                     "happens only in the samples where its trigger damages the source.</p>")
    return "\n".join(parts)


def _water_section(summary: Mapping[str, Any]) -> str:
    """The water supply–demand balance (drought as capacity; desalination needs power)."""
    water = summary.get("water_balance") or {}
    if not water:
        return ""
    lasts = water.get("storage_lasts_hours")
    rows = [
        ("Demand", f"{format_count(water.get('demand_m3_day'))} m³/day"),
        ("Rain-dependent yield (wells, reservoirs)",
         f"{format_count(water.get('rain_dependent_capacity_m3_day'))} m³/day"),
        ("… lost to drought", f"{format_count(water.get('rain_dependent_capacity_lost_m3_day'))}"
                              " m³/day"),
        ("Desalination capacity", f"{format_count(water.get('desalination_capacity_m3_day'))}"
                                  " m³/day"),
        ("Extra desalination (mean)",
         f"{format_count(water.get('desalination_extra_m3_day_mean'))} m³/day"),
        ("Extra electricity for desalination (mean / peak hour)",
         f"{water.get('desalination_extra_power_mw_mean', 0):.2f} / "
         f"{water.get('desalination_extra_power_mw_peak', 0):.2f} MW"),
        ("Shortfall with every desalination plant running",
         f"{format_count(water.get('deficit_with_all_desalination_m3_day'))} m³/day"),
        ("Storage", f"{format_count(water.get('storage_m3'))} m³"
                    + (f", empty after {format_hours(lasts)} at that shortfall"
                       if lasts is not None else "")),
        ("Water rationed (mean)", format_count(water.get("rationed_people_hours_mean"),
                                               "people-hours")),
        ("Peak share of demand rationed (mean)", format_share(water.get(
            "rationed_share_peak_mean", 0.0))),
    ]
    return "\n".join([
        "<h2>Water supply and demand</h2>",
        _table(("Quantity", "Value"), rows, numeric_from=1),
        '<p class="note">An hourly mass balance of the whole potable-water system '
        "(cascada.impact.water): drought cuts the yield of wells and reservoirs, "
        "desalination covers what its spare capacity allows — if the cascade leaves it "
        "powered — storage buffers the rest, and what is left is rationed over the people "
        "served. Shares and storage are assumptions; see the Methods section.</p>",
    ])


def _map_section(run: RunFolder) -> str:
    if run.assets is None:
        return "<h2>Map</h2>" + _absent(ASSETS_FILE)
    unit = None
    for hazard in run.summary.get("hazards") or []:
        if isinstance(hazard, Mapping) and hazard.get("unit"):
            unit = str(hazard["unit"])
            break
    png = figures.map_png(run.assets, run.people, run.footprint, footprint_unit=unit)
    caption = ("Assets by their typical worst state — each sample's worst state over the "
               "horizon, median over the Monte-Carlo samples: damaged, lost supply "
               "(out of service through a dependency), on backup, working. ")
    caption += ("Blue: hazard footprint. " if run.footprint is not None
                else "No hazard footprint in this run folder. ")
    caption += "Grey dots: people, sized by population. " + OSM_LICENCE + "."
    return "<h2>Map</h2>" + _figure(png, "Map of assets by worst state", caption)


def _timeseries_section(run: RunFolder) -> str:
    if run.timeseries is None or not len(run.timeseries):
        return "<h2>Services over time</h2>" + _absent(TIMESERIES_FILE)
    png = figures.service_timeseries_png(run.timeseries)
    caption = ("People without each service, hour by hour: line = mean over samples, band = "
               "5th–95th percentile. Lower panel: mean as a share of the people the service "
               "reaches.")
    return "<h2>Services over time</h2>" + _figure(png, "People without service over time",
                                                   caption)


def _service_hours_section(run: RunFolder) -> str:
    if run.people is None or not len(run.people):
        return ""
    prefix = "hours_without_"
    services = [c[len(prefix):] for c in run.people.columns if c.startswith(prefix)]
    if not services:
        return ""
    hours = run.summary.get("hours")
    png = figures.service_hours_png(
        run.people, services, hours=int(hours) if not _is_missing(hours) else None)
    caption = ("Mean hours without each service where people live (grey: no loss of "
               "service). " + OSM_LICENCE + ".")
    return "<h3>Where people lose service</h3>" + _figure(png, "Hours without service per "
                                                          "service", caption)


def _label(record: Mapping[str, Any]) -> str:
    """The asset's name, or its id where the name is empty or missing."""
    name = record.get("name")
    if name is None or (isinstance(name, float) and math.isnan(name)) or not str(name).strip():
        return str(record.get("asset_id", "—"))
    return str(name)


def _hazard_units(summary: Mapping[str, Any]) -> dict[str, str]:
    return {str(h.get("hazard")): str(h.get("unit", "")) for h in summary.get("hazards") or []
            if isinstance(h, Mapping)}


def _intensity(record: Mapping[str, Any], units: Mapping[str, str]) -> str:
    """``"1.35 depth_m"``; ``"—"`` where the asset is not exposed."""
    hazard = record.get("hazard")
    value = record.get("intensity")
    if not hazard or _is_missing(value) or float(value) <= 0:
        return "—"
    unit = units.get(str(hazard), "")
    return f"{float(value):.3g} {unit}".rstrip() if unit else f"{float(value):.3g} ({hazard})"


def top_assets(assets: pd.DataFrame, limit: int = TOP_ASSETS) -> pd.DataFrame:
    """The ``limit`` most affected assets.

    Ranked by ``p_down × population_served``, then ``expected_loss_eur``; assets
    never down and never damaged are left out.
    """
    population = pd.to_numeric(assets["population_served"], errors="coerce").fillna(0.0)
    p_down = pd.to_numeric(assets["p_down"], errors="coerce").fillna(0.0)
    ranked = assets.assign(
        _people_at_risk=p_down * population,
        _loss=pd.to_numeric(assets["expected_loss_eur"], errors="coerce").fillna(0.0),
    )
    affected = ranked[(p_down > 0) | (ranked["_loss"] > 0)
                      | (pd.to_numeric(ranked["p_damaged"], errors="coerce").fillna(0) > 0)]
    ordered = affected.sort_values(["_people_at_risk", "_loss", "asset_id"],
                                   ascending=[False, False, True], kind="stable")
    return ordered.head(limit).drop(columns=["_people_at_risk", "_loss"])


def _top_assets_section(run: RunFolder) -> str:
    title = f"<h2>Most affected assets (top {TOP_ASSETS})</h2>"
    if run.assets is None:
        return title + _absent(ASSETS_FILE)
    top = top_assets(run.assets)
    if not len(top):
        return title + "<p>No asset was damaged or out of service in any sample.</p>"
    units = _hazard_units(run.summary)
    rows = [
        (str(r["asset_type"]), _label(r), str(r["worst_state"]), _intensity(r, units),
         format_count(r["population_served"]),
         format_share(r["p_damaged"]), format_share(r["p_down"]),
         format_hours(r["mean_down_hours"]), format_eur(r["expected_loss_eur"]))
        for r in top.to_dict("records")
    ]
    header = ("Type", "Name", "Worst state", "Hazard intensity", "People served", "P(damaged)",
              "P(out of service)", "Mean hours down", "Expected loss")
    note = ('<p class="note">Ranked by probability of being out of service × people served, '
            "then by expected direct loss. P(out of service) counts damage and lost supply "
            "through a dependency.</p>")
    return title + _table(header, rows, numeric_from=3) + note


def _facilities_section(run: RunFolder) -> str:
    title = "<h2>Hospitals and clinics</h2>"
    if run.facilities is None:
        return title + _absent(FACILITIES_FILE)
    if not len(run.facilities):
        return title + "<p>No hospital or clinic in this region.</p>"
    facilities = run.facilities.sort_values(["p_down", "mean_down_hours", "asset_id"],
                                            ascending=[False, False, True], kind="stable")
    rows = [
        (str(r["asset_type"]), _label(r), format_share(r["p_down"]),
         format_hours(r["mean_down_hours"]),
         format_hours(r["mean_on_backup_hours"]), format_share(r["p_without_power"]),
         format_share(r["p_without_water"]))
        for r in facilities.to_dict("records")
    ]
    header = ("Type", "Name", "P(loses function)", "Mean hours down", "Mean hours on backup",
              "P(no grid power)", "P(no water)")
    return title + _table(header, rows, numeric_from=2)


def _methods_section(summary: Mapping[str, Any]) -> str:
    region_info = summary.get("region_info") or {}
    rows = [
        ("Scenario", summary.get("scenario", "—")),
        ("Monte-Carlo samples", format_count(summary.get("samples"))),
        ("Seed", summary.get("seed", "—")),
        ("Time horizon", f"{format_count(summary.get('hours'))} hours"),
        ("Assets in region", format_count(region_info.get("assets"))),
        ("Dependency edges", format_count(region_info.get("dependencies"))),
        ("Population", format_count(region_info.get("population"), "people")),
        ("Population method", region_info.get("population_method", "—")),
    ]
    parts = ["<h2>Methods and provenance</h2>", _table(("Item", "Value"), rows, numeric_from=9)]
    hazards = [h for h in summary.get("hazards") or [] if isinstance(h, Mapping)]
    if hazards:
        parts.append("<h3>Hazards</h3>")
        parts.append(_table(
            ("Hazard", "Unit", "Source", "Synthetic", "Note"),
            [(h.get("hazard", "—"), h.get("unit", "—"), h.get("source", "—"),
              "yes" if h.get("synthetic") else "no", h.get("note", "")) for h in hazards],
            numeric_from=9))
    versions = summary.get("versions") or {}
    if versions:
        parts.append("<h3>Versions</h3>")
        parts.append(_table(("Component", "Version"), sorted(versions.items()), numeric_from=9))
    inputs = summary.get("inputs") or {}
    if inputs:
        parts.append("<h3>Inputs (SHA-256)</h3>")
        parts.append(_table(("Input", "SHA-256"), sorted(inputs.items()), numeric_from=9,
                            css_class="hashes"))
    licence = str(region_info.get("licence") or "")
    credit = _e(OSM_LICENCE) + "."
    if licence and licence not in OSM_LICENCE:
        credit += f" Region data licence: {_e(licence)}."
    parts.append(f'<p class="credit">{credit}</p>')
    parts.append('<p class="note">Produced by cascada. Every figure above can be traced to the '
                 "inputs, seed and versions listed here; rerunning them gives the same "
                 "numbers.</p>")
    return "\n".join(parts)


# --------------------------------------------------------------------------- page

_PAGE = Template("""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="cascada $version">
<title>$title</title>
<style>
:root { --ink: #1d2125; --muted: #5b6770; --rule: #d8dde1; --band: #f5f7f8; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--ink); background: #fff;
  font: 15px/1.45 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1040px; margin: 0 auto; padding: 24px 28px 48px; }
h1 { font-size: 1.9em; margin: 0.2em 0 0.1em; }
h2 { font-size: 1.35em; margin: 1.8em 0 0.5em; padding-bottom: 0.2em;
  border-bottom: 2px solid var(--rule); }
h3 { font-size: 1.08em; margin: 1.3em 0 0.4em; }
p.lead { font-size: 1.1em; color: var(--muted); margin: 0.2em 0 0.8em; }
dl.facts { display: flex; flex-wrap: wrap; gap: 6px 28px; margin: 0.6em 0 1em; }
dl.facts div { display: flex; gap: 6px; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; font-weight: 600; }
.banner { background: #fff4cc; border: 1px solid #e0b400; border-left: 6px solid #e0b400;
  padding: 10px 14px; margin: 10px 0; border-radius: 3px; }
table { border-collapse: collapse; width: 100%; margin: 0.4em 0 0.6em; font-size: 0.92em; }
th, td { padding: 5px 8px; border-bottom: 1px solid var(--rule); text-align: left;
  vertical-align: top; }
th { background: var(--band); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.headline td:nth-child(2) { font-weight: 700; font-size: 1.08em; }
table.hashes td { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 0.85em;
  word-break: break-all; }
figure { margin: 0.6em 0 1em; }
figure img { max-width: 100%; height: auto; display: block; border: 1px solid var(--rule); }
figcaption, p.note, p.credit, p.absent { color: var(--muted); font-size: 0.88em; }
p.absent { font-style: italic; }
footer { margin-top: 2.5em; color: var(--muted); font-size: 0.85em; }
@media print { main { max-width: none; padding: 0; } h2 { break-after: avoid; }
  figure, table { break-inside: avoid; } }
</style>
</head>
<body>
<main>
$body
<footer>$footer</footer>
</main>
</body>
</html>
""")


def render_report(run: RunFolder) -> str:
    """The whole report page as a string (no file is written)."""
    summary = run.summary
    sections = [
        _title_section(summary),
        _headline_section(run),
        _map_section(run),
        _timeseries_section(run),
        _water_section(summary),
        _service_hours_section(run),
        _top_assets_section(run),
        _facilities_section(run),
        _methods_section(summary),
    ]
    version = (summary.get("versions") or {}).get("cascada", "")
    footer = (f"cascada {_e(version)} · scenario {_e(summary.get('scenario', ''))} · "
              f"seed {_e(summary.get('seed', ''))} · {_e(OSM_LICENCE)}")
    return _PAGE.substitute(
        version=_e(version),
        title=_e(f"{summary.get('scenario', 'Scenario')} — cascada report"),
        body="\n".join(s for s in sections if s),
        footer=footer,
    )


def write_report(run_dir: Path, output: Path | None = None) -> Path:
    """Write a self-contained HTML report of the run in ``run_dir``.

    output: the HTML file to write; default ``run_dir / "report.html"``. The page
    is written to a temporary file in the same folder and renamed into place, so
    a reader never sees half a report. Returns the path written.
    Raises :class:`CascadaInputError` when ``summary.json`` is missing or a table
    lacks a column the report needs; ``MissingExtraError`` without matplotlib.
    """
    run_dir = Path(run_dir)
    output = Path(output) if output is not None else run_dir / "report.html"
    return write_page(render_report(read_run_folder(run_dir)), output)


def write_page(page: str, output: Path) -> Path:
    """Write an HTML page atomically (a temporary name beside it, then renamed)."""
    return atomic_write_text(output, page)

