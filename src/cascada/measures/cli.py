"""`cascada criticality`: rank assets by N-1 / N-k consequence and contribution to risk."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from cascada.cli_support import clear_errors, console, err_console


@clear_errors
def criticality_command(
    source: Annotated[Path, typer.Argument(
        help="risk scenario (.toml with [risk]), scenario (.toml) or region (.gpkg / folder)")],
    top: Annotated[int, typer.Option(help="rows to print")] = 20,
    k: Annotated[int, typer.Option(help="size of the greedy worst set (N-k); 0: none")] = 3,
    hours: Annotated[int, typer.Option(help="horizon of each contingency, hours")] = 72,
    risk_run: Annotated[Path | None, typer.Option(
        help="risk run folder whose asset_eai to join (default: run the risk scenario)",
        metavar="RUN")] = None,
    risk: Annotated[bool, typer.Option(help="with a risk scenario: run it for each asset's "
                                            "contribution to risk")] = True,
    events: Annotated[int | None, typer.Option(
        help="cap stochastic catalogues when running the risk (quick runs)")] = None,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="folder (default runs/criticality-<name>-<time>)")] = None,
) -> None:
    """Which assets matter most: N-1 and greedy N-k loss through the cascade, and each
    asset's contribution to risk; writes a folder with a table, a map and a report."""
    import geopandas as gpd
    import pandas as pd

    from cascada.errors import CascadaInputError
    from cascada.measures.criticality import criticality_ranking
    from cascada.region.io import read_region
    from cascada.report.criticality import write_criticality_report
    from cascada.store.runfolder import atomic_folder, default_run_dir, write_json

    if top < 1:
        raise CascadaInputError("--top must be >= 1", field="top")
    if k < 0:
        raise CascadaInputError("--k must be >= 0", field="k")
    if not source.exists():
        raise CascadaInputError("file not found", file=source)
    start = time.perf_counter()
    risk_assets = None
    name = source.stem
    if source.suffix == ".toml":
        import tomllib

        with source.open("rb") as handle:
            is_risk = "risk" in tomllib.load(handle)
        if is_risk:
            from cascada.risk.eventsets import read_risk_scenario

            scenario = read_risk_scenario(source)
            region = read_region(scenario.resolve(scenario.risk.region))
            name = scenario.risk.name
            if risk_run is None and risk:
                risk_assets = _run_risk(scenario, region, events)
        else:
            from cascada.risk.config import read_scenario

            scenario = read_scenario(source)
            region = read_region(scenario.resolve(scenario.scenario.region))
            name = scenario.scenario.name
    else:
        region = read_region(source)
    if risk_run is not None:
        path = Path(risk_run) / "asset_eai.parquet"
        if not path.exists():
            raise CascadaInputError("not a risk run folder (no asset_eai.parquet)",
                                    file=risk_run, field="risk_run")
        risk_assets = pd.read_parquet(path, columns=None)
    err_console.print(f"· N-1 over {region.n_assets:,} assets"
                      + (f", then greedy N-{k}" if k else ""), highlight=False)
    result = criticality_ranking(region, k=k, hours=hours, risk_assets=risk_assets)
    result.summary.update(region=region.name, source=str(source))
    destination = Path(output or default_run_dir(f"criticality-{name}"))
    with atomic_folder(destination) as tmp:
        gpd.GeoDataFrame(result.assets).to_parquet(tmp / "criticality.parquet", index=False)
        if len(result.n_k):
            result.n_k.to_parquet(tmp / "n_k.parquet", index=False)
        write_json(tmp / "summary.json", result.summary)
        write_criticality_report(tmp)
    console.print(_table(result.assets, top, risk_assets is not None))
    if len(result.n_k):
        chosen = " → ".join(f"{r.asset_type} {r.name or r.asset_id} "
                            f"({r.people_affected:,.0f})" for r in result.n_k.itertuples())
        console.print(f"greedy worst {k}: {chosen} people cut off", highlight=False)
    console.print(f"folder: {destination}  ({time.perf_counter() - start:.1f} s)",
                  highlight=False)
    console.print(f"report: {(destination / 'report.html').resolve()}", highlight=False,
                  soft_wrap=True)


def _run_risk(scenario, region, events):
    """The risk scenario's per-asset EAI table (serial run, seeded as the file says)."""
    from cascada.risk.eventsets import build_eventset
    from cascada.risk.metrics import risk_tables
    from cascada.risk.montecarlo import run_risk

    settings = scenario.risk
    eventset = build_eventset(scenario, region, max_events=events)
    err_console.print(f"· risk: {eventset.n_events} events × {settings.samples} samples",
                      highlight=False)
    result = run_risk(region, eventset, settings.samples, settings.hours, settings.seed,
                      events_per_block=settings.events_per_block)
    return risk_tables(result, region.assets, 0)["asset_eai"]


def _table(assets, top: int, with_risk: bool) -> Table:
    table = Table(title="Most critical assets (N-1)", title_justify="left")
    for column in ("rank", "asset", "type", "people cut off", "on one supplier",
                   "people-hours", *(("EAI EUR/yr",) if with_risk else ())):
        table.add_column(column, justify="right" if column not in ("asset", "type") else "left")
    for r in assets.head(top).itertuples():
        cells = [str(r.rank), str(r.name or r.asset_id), r.asset_type,
                 f"{r.people_affected:,.0f}", f"{r.people_single_supply:,.0f}",
                 f"{r.people_hours_lost:,.0f}"]
        if with_risk:
            cells.append(f"{r.expected_annual_loss_eur:,.0f}")
        table.add_row(*cells)
    return table
