"""HTML page of a criticality run (``cascada criticality``): map, N-1 table, N-k set."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import geopandas as gpd
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

TOP = 20


def _map_png(assets: gpd.GeoDataFrame) -> bytes:
    """Assets sized and coloured by people cut off or left on a single supplier (N-1)."""
    value = (assets["people_affected"] + assets["people_single_supply"]).to_numpy(float)
    return figures.value_map_png(assets, value, "people cut off or left on one supplier, log10",
                                 cmap="viridis_r", max_size=80.0)


def render_criticality_report(folder: Path) -> str:
    """The criticality page as a string (no file written)."""
    folder = Path(folder)
    path = folder / "criticality.parquet"
    if not path.exists():
        raise CascadaInputError("not a criticality folder (no criticality.parquet)",
                                file=folder, hint="make one with `cascada criticality`")
    summary: dict[str, Any] = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    assets = gpd.read_parquet(path)
    n_k_path = folder / "n_k.parquet"
    n_k = pd.read_parquet(n_k_path) if n_k_path.exists() else pd.DataFrame()
    hours = summary.get("hours", "?")
    parts = [f"<h1>Criticality — {_e(summary.get('region', ''))}</h1>",
             f'<p class="lead">Each asset out for {_e(hours)} hours, one at a time (N-1), '
             "through the dependency cascade; then the greedy worst set of "
             f"{_e(summary.get('n_k', {}).get('k', 0))} (N-k).</p>"]
    n1 = summary.get("n_minus_1", {})
    parts.append("<h2>N-1</h2>")
    parts.append(f"<p>{format_count(n1.get('assets_cutting_service'))} of "
                 f"{format_count(summary.get('assets'))} assets cut someone off a service "
                 "on their own; the largest single loss leaves "
                 f"{format_count(n1.get('max_people_single_supply'), 'people')} on a single "
                 "working supplier.</p>")
    parts.append(_figure(_map_png(assets), "Map of N-1 criticality",
                         "Assets by people cut off or left on one supplier when the asset "
                         "is lost; grey: none. " + OSM_LICENCE + "."))
    risk = "expected_annual_loss_eur" in assets.columns
    rows = []
    for r in assets.head(TOP).itertuples():
        row = [str(r.rank), r.asset_type, str(r.name or r.asset_id),
               format_count(r.people_affected), format_count(r.people_single_supply),
               format_count(r.people_hours_lost), format_count(r.assets_down)]
        if risk:
            row += [format_eur(r.expected_annual_loss_eur),
                    f"{r.expected_annual_down_hours:.3g} h"]
        rows.append(tuple(row))
    header = ["Rank", "Type", "Asset", "People cut off", "People on one supplier",
              "People-hours lost", "Assets down"]
    if risk:
        header += ["Expected annual loss", "Down-hours per year"]
    parts.append(_table(tuple(header), rows, numeric_from=3))
    parts.append('<p class="note">People cut off: at the end of the horizon, summed over '
                 "services (someone without two services counts twice). People on one "
                 "supplier: those whose service now rests on a single working asset.</p>")
    if risk:
        top = assets.sort_values("expected_annual_loss_eur", ascending=False).head(TOP)
        parts.append("<h2>Contribution to risk</h2>")
        parts.append(_table(("Type", "Asset", "Expected annual loss", "Down-hours per year",
                             "N-1 rank"),
                            [(r.asset_type, str(r.name or r.asset_id),
                              format_eur(r.expected_annual_loss_eur),
                              f"{r.expected_annual_down_hours:.3g} h", str(r.rank))
                             for r in top.itertuples()], numeric_from=2))
    if len(n_k):
        parts.append(f"<h2>Greedy worst set of {len(n_k)}</h2>")
        parts.append(_table(("Order", "Type", "Asset", "People cut off (cumulative)",
                             "Added", "People-hours lost (cumulative)"),
                            [(str(r.rank), r.asset_type, str(r.name or r.asset_id),
                              format_count(r.people_affected),
                              format_count(r.added_people_affected),
                              format_count(r.people_hours_lost))
                             for r in n_k.itertuples()], numeric_from=3))
        parts.append('<p class="note">Greedy: each step adds the asset whose loss, with the '
                     "earlier ones, cuts off most people — a lower bound on the true worst "
                     "set. An attack scenario can target it: "
                     "<code>parameters = { most_critical = k }</code>.</p>")
    version = (summary.get("versions") or {}).get("cascada", "")
    return _PAGE.substitute(version=_e(version), title=_e("criticality — cascada"),
                            body="\n".join(parts),
                            footer=f"cascada {_e(version)} · {_e(OSM_LICENCE)}")


def write_criticality_report(folder: Path, output: Path | None = None) -> Path:
    """Write ``report.html`` (or ``output``) for a criticality folder, atomically."""
    folder = Path(folder)
    return write_page(render_criticality_report(folder), output or folder / "report.html")
