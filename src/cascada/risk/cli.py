"""`cascada risk` and `cascada results`: parse arguments, call the library, print.

The lead registers them in ``cascada/cli.py``::

    from cascada.risk.cli import results_app, risk_command
    app.command("risk")(risk_command)
    app.add_typer(results_app, name="results")
"""

from __future__ import annotations

import platform
import time
from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from cascada.cli_support import clear_errors, console, err_console

results_app = typer.Typer(help="Query and list run folders (embedded DuckDB).",
                          no_args_is_help=True)


def _version(package: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:  # pragma: no cover
        return "unknown"


def risk_summary(scenario, region, eventset, result, tables, backend_name: str) -> dict:
    """summary.json of a risk run: settings, seed, input hashes, versions, headline EAI."""
    from cascada.datafile import sha256_file

    region_path = scenario.resolve(scenario.risk.region)
    eai = tables["eai"]
    total = eai[eai["hazard"] == "all"]
    rp = tables["return_periods"]
    return {
        "kind": "risk",
        "scenario": scenario.risk.name,
        "description": scenario.risk.description,
        "region": region.name,
        "seed": result.seed,
        "samples": result.n_samples,
        "hours": result.hours,
        "events": len(result.events),
        "events_per_block": result.events_per_block,
        "event_sets": [
            {"id": eid, "hazard": e.hazard, "generator": e.generator,
             "events": int((eventset.events["source"] == eid).sum()),
             "annual_rate": float(eventset.events.loc[eventset.events["source"] == eid,
                                                      "annual_rate"].sum()),
             "synthetic": e.synthetic, "note": e.note}
            for eid, e in zip(scenario.entry_ids(), scenario.event_sets, strict=True)
        ],
        "expected_annual_impact": {r.impact: r.expected_annual_impact
                                   for r in total.itertuples()},
        "return_period_values": {
            name: {f"{t:g}": v for t, v in zip(g["return_period_years"], g["value"],
                                               strict=True)}
            for name, g in rp.groupby("impact", sort=False)},
        "backend_independent": True,
        "inputs": {
            "scenario": sha256_file(scenario.path) if scenario.path else "",
            "region": sha256_file(region_path) if region_path.is_file() else "",
        },
        "versions": {"cascada": _version("cascada"), "python": platform.python_version(),
                     "numpy": np.__version__},
        "notes": {"backend_used": backend_name},
    }


def _results_table(tables) -> Table:
    eai = tables["eai"]
    rp = tables["return_periods"]
    table = Table(title="Expected annual impact and return-period values (all hazards)")
    table.add_column("impact")
    table.add_column("EAI /yr", justify="right")
    periods = sorted(rp["return_period_years"].unique())
    for t in periods:
        table.add_column(f"{t:g} yr", justify="right")
    total = eai[eai["hazard"] == "all"].set_index("impact")
    for name, row in total.iterrows():
        values = rp[rp["impact"] == name].set_index("return_period_years")
        cells = [f"{values.loc[t, 'value']:,.0f}" for t in periods]
        label = ("direct loss (EUR)" if name == "direct_loss_eur"
                 else name.removeprefix("people_hours_") + " (people-h)")
        table.add_row(label, f"{row['expected_annual_impact']:,.0f}", *cells)
    return table


@clear_errors
def risk_command(
    scenario: Annotated[Path | None, typer.Argument(
        help="risk scenario file (.toml, [risk] table); not needed with --resume")] = None,
    samples: Annotated[int | None, typer.Option(help="damage samples per event")] = None,
    workers: Annotated[int, typer.Option(help="local worker processes (Dask LocalCluster; "
                                              "1 = serial)")] = 1,
    scheduler: Annotated[str | None, typer.Option(
        help="Dask scheduler address, e.g. tcp://host:8786 (or env CASCADA_SCHEDULER)")] = None,
    backend: Annotated[str | None, typer.Option(
        help="serial, processes or dask (default: serial for 1 worker, else dask)")] = None,
    events: Annotated[int | None, typer.Option(
        help="cap the events of stochastic catalogues (quick runs)")] = None,
    seed: Annotated[int | None, typer.Option(help="override the scenario's seed")] = None,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="run folder (default runs/<name>-<time>)")] = None,
    resume: Annotated[Path | None, typer.Option(
        help="finish an interrupted run: RUN is the run folder it was writing (its "
             "finished blocks are in RUN.partial/)", metavar="RUN")] = None,
    report: Annotated[bool, typer.Option(help="write report.html")] = True,
) -> None:
    """Probabilistic risk: event sets × Monte Carlo → EAI, EP curves; writes a run folder.

    Finished event blocks are kept in RUN.partial/ while the run goes; RUN appears
    only when the run is complete. An interrupted run continues with --resume RUN.
    """
    from cascada.datafile import sha256_file
    from cascada.errors import CascadaInputError
    from cascada.region.io import read_region
    from cascada.report.risk import write_risk_report
    from cascada.risk.backends import close_backend, make_backend
    from cascada.risk.eventsets import build_eventset, read_risk_scenario
    from cascada.risk.metrics import risk_tables
    from cascada.risk.montecarlo import run_risk
    from cascada.risk.resume import BlockFolder, eventset_digest, partial_folder, read_request
    from cascada.store.duckdb_store import register_run, write_tables
    from cascada.store.runfolder import default_run_dir

    if resume is not None:
        if output is not None and Path(output).resolve() != Path(resume).resolve():
            raise CascadaInputError("--output and --resume name different run folders",
                                    field="output")
        if Path(resume).exists():
            raise CascadaInputError("this run is already complete", file=resume,
                                    field="resume")
        request = read_request(resume)
        scenario = scenario or Path(request["scenario"])
        samples = samples if samples is not None else request.get("samples")
        seed = seed if seed is not None else request.get("seed")
        events = events if events is not None else request.get("events")
    elif scenario is None:
        raise CascadaInputError("give a risk scenario file (or --resume RUN)", field="scenario")
    sc = read_risk_scenario(scenario)
    overrides = {k: v for k, v in (("seed", seed), ("samples", samples)) if v is not None}
    if overrides:
        sc = sc.model_copy(update={"risk": sc.risk.model_copy(update=overrides)})
    settings = sc.risk
    destination = Path(resume or output or default_run_dir(settings.name))
    if resume is None and partial_folder(destination).exists():
        raise CascadaInputError("an unfinished run of this folder is in the way",
                                file=partial_folder(destination),
                                hint=f"continue it with --resume {destination}, or remove it")
    if resume is None and destination.exists():
        raise CascadaInputError("output folder already exists", file=destination,
                                hint="choose another --output, or remove the folder")
    start = time.perf_counter()
    err_console.print("· reading region and building event sets", highlight=False)
    region_path = sc.resolve(settings.region)
    region = read_region(region_path)
    eventset = build_eventset(sc, region, max_events=events)
    err_console.print(f"· {eventset.n_events} events × {settings.samples} samples",
                      highlight=False)
    store = BlockFolder(
        partial_folder(destination),
        fingerprint={"seed": settings.seed, "samples": settings.samples,
                     "hours": settings.hours, "events_per_block": settings.events_per_block,
                     "events": eventset_digest(eventset),
                     "region": sha256_file(region_path) if region_path.is_file() else ""},
        request={"scenario": str(Path(scenario).resolve()), "samples": samples, "seed": seed,
                 "events": events})
    chosen = make_backend(workers, scheduler, backend)
    progress = Progress(TextColumn("event blocks"), BarColumn(),
                        TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(),
                        console=err_console, disable=not err_console.is_terminal)
    try:
        with progress:
            task = progress.add_task("blocks", total=None)

            def tick(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            result = run_risk(region, eventset, settings.samples, settings.hours,
                              settings.seed, chosen, events_per_block=settings.events_per_block,
                              progress=tick, block_store=store)
    finally:
        close_backend(chosen)
    if result.metadata.get("blocks_resumed"):
        err_console.print(f"· resumed: {result.metadata['blocks_resumed']} of "
                          f"{result.metadata['blocks']} blocks were already done",
                          highlight=False)
    result.events["source"] = eventset.events["source"].to_numpy()
    tables = risk_tables(result, region.assets, settings.bootstrap)
    summary = risk_summary(sc, region, eventset, result, tables, type(chosen).__name__)
    write_tables(tables, summary, destination, report=write_risk_report if report else None)
    store.remove()
    try:
        register_run(destination)
    except ImportError:  # no duckdb: the run folder is complete without the index
        pass
    console.print(_results_table(tables))
    console.print(f"run folder: {destination}  ({time.perf_counter() - start:.1f} s)",
                  highlight=False)
    if report:
        console.print(f"report: {(Path(destination) / 'report.html').resolve()}",
                      highlight=False, soft_wrap=True)


@results_app.command("query")
@clear_errors
def results_query(
    run: Annotated[Path, typer.Argument(help="run folder")],
    sql: Annotated[str, typer.Argument(help="SQL over the run's tables (views named after "
                                            "the Parquet files: outage, eai, ...)")],
    csv: Annotated[bool, typer.Option(help="print CSV instead of a table")] = False,
    limit: Annotated[int, typer.Option(help="rows to print at most")] = 50,
) -> None:
    """Run SQL over a run folder's tables with embedded DuckDB."""
    from cascada.store.duckdb_store import query

    frame = query(run, sql)
    frame = frame[[c for c in frame.columns
                   if frame[c].dtype != object or not frame[c].map(
                       lambda v: isinstance(v, bytes | bytearray)).any()]]
    if csv:
        console.print(frame.to_csv(index=False), end="", highlight=False, soft_wrap=True)
        return
    table = Table()
    for column in frame.columns:
        table.add_column(str(column))
    for row in frame.head(limit).itertuples(index=False):
        table.add_row(*[f"{v:,.4g}" if isinstance(v, float) else str(v) for v in row])
    console.print(table)
    if len(frame) > limit:
        console.print(f"({len(frame)} rows; first {limit} shown)", highlight=False)


@results_app.command("list")
@clear_errors
def results_list(
    root: Annotated[Path, typer.Argument(help="folder of run folders")] = Path("runs"),
) -> None:
    """List the runs in a folder (its index.duckdb plus any unindexed run folder)."""
    from cascada.store.duckdb_store import list_runs

    runs = list_runs(root)
    if len(runs) == 0:
        console.print(f"no runs in {root}", highlight=False)
        return
    table = Table()
    for column in ("name", "kind", "scenario", "seed", "samples", "events"):
        table.add_column(column)
    for r in runs.itertuples():
        table.add_row(*[str(v) if v is not None else "" for v in
                        (r.name, r.kind, r.scenario, r.seed, r.samples, r.events)])
    console.print(table)
