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


measures_app = typer.Typer(help="Risk-reduction measures: cost-benefit and portfolios.",
                           no_args_is_help=True)


@measures_app.command("compare")
@clear_errors
def measures_compare(
    scenario: Annotated[Path, typer.Argument(help="risk scenario file (.toml, [risk] table)")],
    measures: Annotated[Path, typer.Argument(help="measures file (.toml)")],
    budget: Annotated[float, typer.Option(help="capital budget, EUR")] = float("inf"),
    discount: Annotated[float | None, typer.Option(
        help="discount rate per year (default: the measures file's, else 0.03)")] = None,
    horizon: Annotated[int | None, typer.Option(
        help="appraisal horizon, years (default: the measures file's, else 30)")] = None,
    samples: Annotated[int | None, typer.Option(help="damage samples per event")] = None,
    events: Annotated[int | None, typer.Option(
        help="cap stochastic catalogues (quick runs)")] = None,
    exact_max: Annotated[int, typer.Option(
        help="up to this many measures, evaluate every combination")] = 5,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="folder (default runs/measures-<name>-<time>)")] = None,
) -> None:
    """Benefit-cost of each measure and the best set within a budget: every set is run
    through the risk model jointly (same seed as the base), never summed."""
    import numpy as np

    from cascada.errors import CascadaInputError
    from cascada.measures.costbenefit import RiskRun
    from cascada.measures.model import read_measures
    from cascada.measures.portfolio import choose_portfolio
    from cascada.region.io import read_region
    from cascada.report.measures import write_measures_report
    from cascada.risk.eventsets import build_eventset, read_risk_scenario
    from cascada.risk.montecarlo import run_risk
    from cascada.store.runfolder import atomic_folder, default_run_dir, write_json

    start = time.perf_counter()
    sc = read_risk_scenario(scenario)
    settings = sc.risk
    region = read_region(sc.resolve(settings.region))
    options = read_measures(measures, region)
    updates = {k: v for k, v in (("discount_rate", discount), ("horizon_years", horizon))
               if v is not None}
    if updates:
        try:
            appraisal = options.settings.model_validate(
                {**options.settings.model_dump(), **updates})
        except Exception as exc:
            raise CascadaInputError(f"bad --discount or --horizon: {exc}",
                                    field="discount") from exc
    else:
        appraisal = options.settings
    n_samples = samples or settings.samples
    eventset = build_eventset(sc, region, max_events=events)
    err_console.print(f"· {eventset.n_events} events × {n_samples} samples per evaluation; "
                      f"{len(options.measures)} measures", highlight=False)

    def evaluate(reg, es) -> RiskRun:
        result = run_risk(reg, es, n_samples, settings.hours, settings.seed,
                          events_per_block=settings.events_per_block)
        return RiskRun(result.events["annual_rate"].to_numpy(np.float64), result.impacts())

    def tick(done: int, total: int) -> None:
        err_console.print(f"· evaluated {done}/{total} sets", highlight=False)

    portfolio = choose_portfolio(region, eventset, options.measures, budget, evaluate,
                                 appraisal, exact_max=exact_max, progress=tick)
    table = portfolio.evaluated.copy()
    table["subset"] = table["subset"].map(lambda s: list(s))
    singles = table[table["n_measures"] == 1].sort_values("bcr", ascending=False)
    chosen = [options.measures[i].id for i in portfolio.chosen]
    summary = {
        "scenario": settings.name, "measures_file": str(measures),
        "events": int(eventset.n_events), "samples": n_samples, "seed": settings.seed,
        "budget_eur": budget if np.isfinite(budget) else None,
        "discount_rate": appraisal.discount_rate, "horizon_years": appraisal.horizon_years,
        "value_eur_per_person_hour": appraisal.value_eur_per_person_hour,
        "method": portfolio.method, "chosen": chosen,
        "chosen_row": table[table["subset"].map(tuple) == portfolio.chosen]
        .drop(columns=["subset"]).iloc[0].to_dict(),
        "measures": {m.id: {"name": m.name, "capital_eur": m.capital_eur,
                            "yearly_eur": m.yearly_eur, "lifetime_years": m.lifetime_years,
                            "effect": m.effect.kind} for m in options.measures},
    }
    destination = Path(output or default_run_dir(f"measures-{settings.name}"))
    with atomic_folder(destination) as tmp:
        table.to_parquet(tmp / "combinations.parquet", index=False)
        portfolio.frontier.assign(subset=portfolio.frontier["subset"].map(list)).to_parquet(
            tmp / "frontier.parquet", index=False)
        write_json(tmp / "summary.json", summary)
        write_measures_report(tmp)
    out = Table(title="Measures, each alone (present values)", title_justify="left")
    for column in ("measure", "cost EUR", "benefit EUR", "BCR", "BCR 90 %", "not evaluated"):
        out.add_column(column, justify="left" if column in ("measure", "not evaluated")
                       else "right")
    for r in singles.itertuples():
        out.add_row(r.measures, f"{r.cost_pv_eur:,.0f}", f"{r.benefit_pv_eur:,.0f}",
                    f"{r.bcr:.2f}", f"{r.bcr_p05:.2f} – {r.bcr_p95:.2f}", r.not_evaluated)
    console.print(out)
    row = summary["chosen_row"]
    console.print(f"best within the budget: {' + '.join(chosen) or 'nothing'} · capital EUR "
                  f"{row['capital_eur']:,.0f} · NPV EUR {row['npv_eur']:,.0f} · BCR "
                  f"{row['bcr']:.2f} ({portfolio.method})", highlight=False)
    console.print(f"folder: {destination}  ({time.perf_counter() - start:.1f} s)",
                  highlight=False)
    console.print(f"report: {(destination / 'report.html').resolve()}", highlight=False,
                  soft_wrap=True)
