"""The `cascada` command line: parses arguments and calls the library, nothing more."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from cascada.cascade.restore_cli import restore_command
from cascada.cli_support import clear_errors, console, err_console
from cascada.customs.cli import customs_app
from cascada.errors import CascadaInputError
from cascada.foodchain.cli import food_app
from cascada.measures.cli import criticality_command, measures_app
from cascada.protection.cli import protect_app
from cascada.risk.cli import results_app, risk_command
from cascada.service.cli import projects_app, serve_command, users_app

app = typer.Typer(
    help="cascada: all-hazards risk and resilience — assets, dependencies, people, cascades.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
region_app = typer.Typer(help="Build, inspect and convert regions.", no_args_is_help=True)
hazards_app = typer.Typer(help="Hazard families.", no_args_is_help=True)
app.add_typer(region_app, name="region")
app.add_typer(hazards_app, name="hazards")
app.add_typer(protect_app, name="protect")
app.add_typer(customs_app, name="customs")
app.add_typer(food_app, name="food")
app.command("risk")(risk_command)
app.add_typer(results_app, name="results")
app.command("criticality")(criticality_command)
app.command("restore")(restore_command)
app.add_typer(measures_app, name="measures")
app.command("serve")(serve_command)
app.add_typer(users_app, name="users")
app.add_typer(projects_app, name="projects")


class _Steps:
    """A Rich progress display fed by the library's step callbacks."""

    def __init__(self, total: int) -> None:
        self.progress = Progress(
            SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
            TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(),
            console=err_console, transient=False, disable=not err_console.is_terminal,
        )
        self.task = self.progress.add_task("starting", total=total)
        self.started = False

    def __enter__(self) -> _Steps:
        self.progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.update(self.task, completed=self.progress.tasks[0].total,
                             description="done")
        self.progress.__exit__(*exc)

    def __call__(self, name: str) -> None:
        if self.started:
            self.progress.advance(self.task)
        self.started = True
        self.progress.update(self.task, description=name)
        if not err_console.is_terminal:
            err_console.print(f"· {name}", highlight=False)


# --------------------------------------------------------------------------- region


@region_app.command("from-osm")
@clear_errors
def region_from_osm(
    pbf: Annotated[Path, typer.Argument(help="OpenStreetMap extract (.osm.pbf)")],
    output: Annotated[Path, typer.Option("--output", "-o",
                                         help="region file (.gpkg) or folder")] = Path(
        "regions/region.gpkg"),
    name: Annotated[str, typer.Option(help="region name")] = "",
    population: Annotated[float, typer.Option(help="residents to place (people)")] = 519_562,
    dependencies: Annotated[Path | None, typer.Option(
        help="explicit dependency table (CSV or Parquet: consumer, supplier, kind, group, k, "
             "backup_hours); its rows replace inferred ones of the same consumer and group")
    ] = None,
) -> None:
    """Build a region (assets, inferred dependencies, people) from an OSM extract."""
    from cascada.region.io import write_region
    from cascada.region.osm import build_region_from_osm

    if not pbf.exists():
        raise CascadaInputError("OSM file not found", file=pbf)
    start = time.perf_counter()
    with _Steps(total=6) as steps:
        region = build_region_from_osm(pbf, name=name or pbf.name.split(".")[0],
                                       population_total=population, progress=steps,
                                       explicit_dependencies=dependencies)
        steps("writing")
        write_region(region, output)
    console.print(
        f"region [bold]{region.name}[/]: {region.n_assets:,} assets, "
        f"{len(region.dependencies):,} dependencies, {len(region.people):,} population points "
        f"({region.people['population'].sum():,.0f} people) → {output} "
        f"in {time.perf_counter() - start:.1f} s"
    )


@region_app.command("info")
@clear_errors
def region_info(
    region: Annotated[Path, typer.Argument(help="region file (.gpkg) or folder")],
) -> None:
    """Show a region's assets per sector and type, dependencies and people."""
    from cascada.region.io import read_region

    r = read_region(region)
    table = Table(title=f"{r.name}: {r.n_assets:,} assets")
    for col in ("sector", "asset type", "assets", "value (EUR M)"):
        table.add_column(col, justify="right" if col in ("assets", "value (EUR M)") else "left")
    for row in r.summary().itertuples():
        table.add_row(row.sector, row.asset_type, f"{row.assets:,}", f"{row.value_eur / 1e6:,.1f}")
    console.print(table)
    kinds = r.dependencies.groupby("kind").size()
    console.print("dependencies: " + ", ".join(f"{k} {v:,}" for k, v in kinds.items()))
    console.print(f"people: {r.people['population'].sum():,.0f} in {len(r.people):,} points; "
                  f"service links: {len(r.service_links):,}")
    for key in ("licence", "population_method"):
        if key in r.metadata:
            console.print(f"{key.replace('_', ' ')}: {r.metadata[key]}", highlight=False)


@region_app.command("types")
def region_types() -> None:
    """List the asset types of the catalogue with their defaults."""
    from cascada.region.catalogue import load_asset_types

    cat = load_asset_types()
    table = Table(title=f"asset types (catalogue {cat.version})")
    for col in ("asset type", "label", "value (EUR)", "basis", "backup (h)",
                "repair ds1-ds4 (h)"):
        table.add_column(col)
    for asset_type, row in cat.table.iterrows():
        repair = "/".join(f"{row[f'repair_hours_ds{i}']:g}" for i in range(1, 5))
        table.add_row(asset_type, str(row["label"]), f"{row['value_eur']:,.0f}",
                      row["value_basis"], f"{row['backup_hours']:g}", repair)
    console.print(table)


# --------------------------------------------------------------------------- hazards


@hazards_app.command("list")
def hazards_list() -> None:
    """List the hazard families, their intensity units and parameters."""
    import cascada.hazards  # noqa: F401  (registers the hazard models)
    from cascada.hazards.eventset import HAZARD_UNITS
    from cascada.hazards.registry import hazard_models

    models = hazard_models()
    table = Table(title="hazard families")
    for col in ("hazard", "intensity unit", "model", "parameters"):
        table.add_column(col)
    for hazard, unit in HAZARD_UNITS.items():
        model = models.get(hazard)
        params = ", ".join(model.Parameters.model_fields) if model else "footprint file only"
        table.add_row(hazard, unit, model.description if model else "-", params)
    console.print(table)


@hazards_app.command("show")
@clear_errors
def hazards_show(
    name: Annotated[str, typer.Argument(help="hazard family (cascada hazards list)")],
) -> None:
    """Show a hazard model's parameters: type, default and what each means."""
    import cascada.hazards  # noqa: F401  (registers the hazard models)
    from cascada.hazards.registry import hazard_model

    model = hazard_model(name)
    table = Table(title=f"{name} ({model.unit}): {model.description}")
    for col in ("parameter", "type", "default", "meaning"):
        table.add_column(col)
    for field_name, info in model.Parameters.model_fields.items():
        default = "required" if info.is_required() else repr(info.default)
        kind = getattr(info.annotation, "__name__", str(info.annotation))
        table.add_row(field_name, kind.replace("typing.", ""), default, info.description or "")
    console.print(table)
    example = getattr(model, "example", None)
    if example:
        args = " ".join(f"--{k.replace('_', '-')} {v}" for k, v in example.items())
        console.print(f"example: cascada hazard {name} --region malta {args} -o {name}.parquet",
                      highlight=False, soft_wrap=True)


def _resolve_region(region: Path) -> Path:
    """A region path, or a name under regions/ (``--region malta`` → regions/malta.gpkg)."""
    if region.exists():
        return region
    candidate = Path("regions") / f"{region}.gpkg"
    if candidate.exists():
        return candidate
    raise CascadaInputError("region not found", file=region,
                            hint="give a .gpkg/folder, or a name under regions/")


def _hazard_arguments(args: list[str], fields: dict, hazard: str) -> dict[str, str | bool]:
    """``--name value`` pairs → parameter values; names may be unique prefixes of fields.

    ``--magnitude 7.4`` sets ``magnitude_mw`` when that is the only field that
    starts with "magnitude".
    """
    values: dict[str, str | bool] = {}
    i = 0
    while i < len(args):
        token = args[i]
        if not token.startswith("--"):
            raise CascadaInputError(f"unexpected argument {token!r}", field=hazard,
                                    hint="give parameters as --name value")
        key, _, inline = token[2:].partition("=")
        key = key.replace("-", "_")
        if inline:
            value: str | bool = inline
            i += 1
        elif i + 1 < len(args) and not args[i + 1].startswith("--"):
            value = args[i + 1]
            i += 2
        else:
            value = True
            i += 1
        matches = [f for f in fields if f == key] or [f for f in fields if f.startswith(key)]
        if len(matches) != 1:
            raise CascadaInputError(
                f"{'ambiguous' if matches else 'unknown'} parameter --{key.replace('_', '-')}",
                field=hazard, hint=f"parameters of {hazard}: {', '.join(fields)}",
            )
        values[matches[0]] = value
    return values


@app.command(
    "hazard",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)
@clear_errors
def hazard_cmd(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="hazard family (cascada hazards list)")],
    region: Annotated[Path, typer.Option(help="region file, folder, or name under regions/")],
    output: Annotated[Path, typer.Option("--output", "-o", help="event set (.parquet)")],
    seed: Annotated[int, typer.Option(help="random seed")] = 12345,
) -> None:
    """Compute a hazard's intensity at every asset of a region; parameters as --name value.

    Example: cascada hazard earthquake --region malta --magnitude 7.4 --lat 37.1 --lon 15.2
    --depth 20 --mechanism reverse -o eq1693.parquet. Parameter names may be
    shortened to a unique prefix (--magnitude for magnitude_mw).
    """
    import numpy as np

    import cascada.hazards  # noqa: F401  (registers the hazard models)
    from cascada.hazards.eventset import write_eventset
    from cascada.hazards.registry import hazard_model
    from cascada.region.io import read_region

    model = hazard_model(name)
    values = _hazard_arguments(list(ctx.args), model.Parameters.model_fields, name)
    parameters = model.parameters(values, source="command line")
    r = read_region(_resolve_region(region))
    start = time.perf_counter()
    events = model.event_set(r.assets, parameters, np.random.default_rng(seed))
    write_eventset(events, output)
    exposed = np.diff(events.intensity.indptr)
    console.print(
        f"{name}: {events.n_events} event(s) × {events.n_assets:,} assets, "
        f"{int(exposed.sum()):,} exposed asset-events, max intensity "
        f"{events.intensity.max() if events.intensity.nnz else 0:.3g} "
        f"{_unit_label(model.unit, events.metadata)} "
        f"→ {output} in {time.perf_counter() - start:.1f} s"
    )


def _unit_label(unit: str, metadata: dict) -> str:
    """The event set's unit: the model's, or its intensity measure's (e.g. SA(1.0) g)."""
    imt = metadata.get("imt")
    return f"{imt} {metadata.get('imt_unit', '')}".strip() if imt else unit


# --------------------------------------------------------------------------- run / report


SNAPSHOT_HOURS = (0, 6, 24, 72, 167)


def _headline_table(summary: dict, services, timeseries) -> Table:
    """People without each service at a few hours, people-hours lost, recovery."""
    head = summary["headline"]
    hours = [h for h in SNAPSHOT_HOURS if h < summary["hours"]]
    table = Table(title=f"{summary['scenario']}: people without service (mean of "
                        f"{summary['samples']} samples, seed {summary['seed']})")
    table.add_column("service")
    for h in hours:
        table.add_column(f"hour {h}", justify="right")
    table.add_column("people-hours lost", justify="right")
    table.add_column("90 % restored", justify="right")
    at = timeseries.set_index(["service", "hour"])["people_without_mean"]
    for r in services.itertuples():
        restored = (f"> {summary['hours']} h" if r.restored_90pct_hour != r.restored_90pct_hour
                    else f"{r.restored_90pct_hour:.0f} h")
        table.add_row(r.service, *(f"{at[(r.service, h)]:,.0f}" for h in hours),
                      f"{r.people_hours_lost_mean:,.0f}", restored)
    table.caption = (
        f"hospitals losing function: {head['hospitals_affected_mean']:.1f} of "
        f"{head['hospitals_total']} (on backup: {head['hospitals_on_backup_mean']:.1f}) · "
        f"direct loss: EUR {head['direct_loss_eur_mean'] / 1e6:,.1f} M "
        f"(90 %: {head['direct_loss_eur_p05'] / 1e6:,.1f} – "
        f"{head['direct_loss_eur_p95'] / 1e6:,.1f} M) · "
        f"assets damaged: {head['assets_damaged_mean']:.1f}"
    )
    return table


@app.command("run")
@clear_errors
def run(
    scenario: Annotated[Path, typer.Argument(help="scenario file (.toml)")],
    output: Annotated[Path | None, typer.Option("--output", "-o",
                                                help="run folder (default runs/<name>-<time>)")
                      ] = None,
    seed: Annotated[int | None, typer.Option(help="override the scenario's seed")] = None,
    samples: Annotated[int | None, typer.Option(help="override Monte-Carlo samples")] = None,
    region: Annotated[Path | None, typer.Option(help="override the scenario's region")] = None,
    report: Annotated[bool, typer.Option(help="write report.html")] = True,
) -> None:
    """Run one scenario: hazard → damage → cascade → impact; write a run folder."""
    from cascada.risk.config import read_scenario
    from cascada.risk.scenario import run_scenario
    from cascada.store.runfolder import default_run_dir, write_run

    sc = read_scenario(scenario)
    overrides = {k: v for k, v in (("seed", seed), ("samples", samples)) if v is not None}
    if region is not None:
        overrides["region"] = region.resolve()
    if overrides:
        sc = sc.model_copy(update={"scenario": sc.scenario.model_copy(update=overrides)})
    destination = output or default_run_dir(sc.scenario.name)
    writer = None
    if report:
        from cascada.report import write_report

        writer = write_report
    start = time.perf_counter()
    with _Steps(total=7) as steps:
        result = run_scenario(sc, progress=steps)
        steps("writing run folder and report")
        write_run(result, destination, report=writer)
    console.print(_headline_table(result.summary, result.services,
                                  result.service_timeseries))
    for h in result.summary["hazards"]:
        if h.get("people_exposed"):
            levels = " · ".join(f"{level} {people:,.0f}"
                                for level, people in h["people_exposed"].items())
            chance = (f" if it happens (in {h['probability']:.0%} of samples)"
                      if h.get("probability", 1.0) < 1.0 else "")
            console.print(f"people exposed to {h['id']} ({h['hazard']}){chance}: {levels}",
                          highlight=False)
    console.print(f"run folder: {destination}  ({time.perf_counter() - start:.1f} s)")
    if report:
        console.print(f"report: {(destination / 'report.html').resolve()}", highlight=False,
                      soft_wrap=True)


@app.command("report")
@clear_errors
def report_cmd(
    run_dir: Annotated[Path, typer.Argument(help="run folder")],
    output: Annotated[Path | None, typer.Option("--output", "-o",
                                                help="report file (default RUN/report.html)")
                      ] = None,
) -> None:
    """(Re)write the HTML report of a run folder."""
    from cascada.report import write_report

    if not run_dir.is_dir():
        raise CascadaInputError("run folder not found", file=run_dir)
    path = write_report(run_dir, output)
    console.print(f"report: {Path(path).resolve()}", highlight=False, soft_wrap=True)


def main() -> None:  # pragma: no cover
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
