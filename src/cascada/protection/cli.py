"""``cascada protect …``: physical-protection commands (parse arguments, call the library).

Wire into the main app with ``app.add_typer(protect_app, name="protect")``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

from cascada.cli_support import clear_errors
from cascada.datafile import sha256_file

__all__ = ["protect_app"]

protect_app = typer.Typer(
    help="Physical protection of sites and crowded places: EASI P_I, most vulnerable "
         "path, upgrades.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
_console = Console(width=None if sys.stdout.isatty() else 110)


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("cascada")
    except Exception:  # pragma: no cover - not installed
        return "0.0.0"


def _tactic_table(evaluation: Any) -> Table:
    table = Table(title=f"{evaluation.site_name}: most vulnerable path per tactic")
    for column in ("tactic", "most vulnerable path", "P_I", "P_E", "CDP path",
                   "P_I of CDP path"):
        table.add_column(column, justify="right" if column.startswith("P_") else "left")
    for tactic, result in evaluation.worst.items():
        cdp = evaluation.cdp[tactic]
        table.add_row(tactic, result.label, f"{result.p_interruption:.3f}",
                      "—" if result.p_effectiveness is None else f"{result.p_effectiveness:.3f}",
                      cdp.label, f"{cdp.p_interruption:.3f}")
    return table


def _write_folder(destination: Path, files: dict[str, Callable[[Path], None]]) -> None:
    from cascada.store.runfolder import atomic_folder

    with atomic_folder(destination) as tmp:
        for name, writer in files.items():
            writer(tmp / name)


SiteArg = Annotated[Path, typer.Argument(help="site file (.toml or .json), see docs/protection.md")]
OutputOpt = Annotated[Path | None, typer.Option("--output", "-o", help="run folder to write")]


@protect_app.command("evaluate")
@clear_errors
def evaluate_cmd(
    site: SiteArg,
    output: OutputOpt = None,
    all_paths: Annotated[bool, typer.Option("--all-paths", help="print every path")] = False,
) -> None:
    """P_I on every path, the most vulnerable path per tactic, critical detection point."""
    from cascada.protection.paths import evaluate_site
    from cascada.protection.site import load_site
    from cascada.store.runfolder import write_json

    model = load_site(site)
    evaluation = evaluate_site(model)
    _console.print(_tactic_table(evaluation))
    summary = evaluation.summary()
    worst = evaluation.overall
    _console.print(f"worst-path P_I = [bold]{worst.p_interruption:.3f}[/] ({worst.tactic}: "
                   f"{worst.label}); critical detection point: "
                   f"{summary['critical_detection_point']}", highlight=False)
    if all_paths and evaluation.paths is not None:
        _console.print(evaluation.paths.to_string(index=False), highlight=False)
    if output is not None:
        summary.update(inputs={"site": sha256_file(site)}, version=_version())
        files: dict[str, Callable[[Path], None]] = {
            "summary.json": lambda p: write_json(p, summary),
            "timeline.csv": lambda p: evaluation.timeline.to_csv(p, index=False),
        }
        if evaluation.paths is not None:
            files["paths.csv"] = lambda p: evaluation.paths.to_csv(p, index=False)
        _write_folder(output, files)
        _console.print(f"run folder: {output}")


@protect_app.command("upgrades")
@clear_errors
def upgrades_cmd(
    site: SiteArg,
    options: Annotated[Path, typer.Argument(help="upgrade options file (.toml or .json)")],
    budget: Annotated[float, typer.Option("--budget", help="budget, EUR")] = float("inf"),
    method: Annotated[str, typer.Option(help="portfolio search: auto, exact or greedy")
                      ] = "auto",
    output: OutputOpt = None,
) -> None:
    """Which upgrades raise the worst-path P_I most per euro, and the best set within --budget."""
    from cascada.protection.site import load_site
    from cascada.protection.upgrades import choose_portfolio, load_options, rank_options
    from cascada.store.runfolder import write_json

    model = load_site(site)
    opts = load_options(options, model)
    ranking = rank_options(model, opts)
    table = Table(title="Upgrades one at a time (best gain per euro first)")
    for column in ("option", "cost EUR", "P_I after", "gain", "gain per M EUR", "worst path"):
        table.add_column(column)
    for _, row in ranking.iterrows():
        table.add_row(row["option"], f"{row['cost_eur']:,.0f}",
                      f"{row['p_interruption_after']:.3f}", f"{row['gain']:+.3f}",
                      f"{row['gain_per_million_eur']:.3f}", row["worst_path_after"])
    _console.print(table)
    portfolio = None
    if np.isfinite(budget):
        portfolio = choose_portfolio(model, opts, budget, method=method)
        _console.print(
            f"portfolio within {budget:,.0f} EUR ({portfolio.method}): "
            f"{', '.join(portfolio.options) or 'none'} — cost {portfolio.cost_eur:,.0f} EUR, "
            f"worst-path P_I {portfolio.p_interruption_before:.3f} → "
            f"[bold]{portfolio.p_interruption:.3f}[/]", highlight=False)
    if output is not None:
        summary: dict[str, Any] = {
            "site": model.name,
            "inputs": {"site": sha256_file(site), "options": sha256_file(options)},
            "version": _version(),
            "p_interruption_before": float(ranking["p_interruption_before"].iloc[0]),
        }
        if portfolio is not None:
            summary["portfolio"] = {
                "options": list(portfolio.options), "cost_eur": portfolio.cost_eur,
                "budget_eur": portfolio.budget_eur, "p_interruption": portfolio.p_interruption,
                "method": portfolio.method, "worst_tactic": portfolio.worst_tactic,
                "worst_path": list(portfolio.worst_path)}
        _write_folder(output, {
            "summary.json": lambda p: write_json(p, summary),
            "upgrades.csv": lambda p: ranking.to_csv(p, index=False),
        })
        _console.print(f"run folder: {output}")


@protect_app.command("report")
@clear_errors
def report_cmd(
    site: SiteArg,
    options: Annotated[Path | None, typer.Option(help="upgrade options file to rank")] = None,
    budget: Annotated[float | None, typer.Option(help="portfolio budget, EUR")] = None,
    samples: Annotated[int, typer.Option(help="uncertainty samples (0: none)")] = 2000,
    seed: Annotated[int, typer.Option(help="seed of the uncertainty sampling")] = 12345,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="run folder (default runs/protect-<time>)")] = None,
) -> None:
    """Self-contained HTML report: ASD with the worst path, timeline chart, upgrades table."""
    from cascada.protection.paths import evaluate_site
    from cascada.protection.report import render_report
    from cascada.protection.site import load_site
    from cascada.protection.upgrades import (
        choose_portfolio,
        interruption_uncertainty,
        load_options,
        rank_options,
    )
    from cascada.store.runfolder import default_run_dir, write_json

    model = load_site(site)
    evaluation = evaluate_site(model)
    ranking = portfolio = uncertainty = None
    inputs = {"site": sha256_file(site)}
    if options is not None:
        opts = load_options(options, model)
        inputs["options"] = sha256_file(options)
        ranking = rank_options(model, opts)
        if budget is not None:
            portfolio = choose_portfolio(model, opts, budget)
    if samples > 0:
        uncertainty = interruption_uncertainty(model, n_samples=samples,
                                               rng=np.random.default_rng(seed))
    page = render_report(model, evaluation, ranking=ranking, portfolio=portfolio,
                         uncertainty=uncertainty)
    summary = evaluation.summary()
    summary.update(inputs=inputs, version=_version(), seed=seed)
    if uncertainty is not None:
        summary["uncertainty"] = {k: v for k, v in uncertainty.items() if k != "samples"}
    destination = output or default_run_dir("protect")
    _write_folder(destination, {
        "summary.json": lambda p: write_json(p, summary),
        "report.html": lambda p: p.write_text(page, encoding="utf-8"),
        "timeline.csv": lambda p: evaluation.timeline.to_csv(p, index=False),
    })
    _console.print(f"worst-path P_I = {evaluation.overall.p_interruption:.3f}; report: "
                   f"{(destination / 'report.html').resolve()}", highlight=False,
                   soft_wrap=True)


@protect_app.command("crowded")
@clear_errors
def crowded_cmd(
    pbf: Annotated[Path, typer.Argument(help="OSM extract (.osm.pbf) of the region")],
    kinds: Annotated[str, typer.Option(
        help="comma-separated: stadium, bus_station, marketplace, place_of_worship")
    ] = "stadium,bus_station,marketplace",
    dispatch: Annotated[float, typer.Option(help="police dispatch time, s")] = 180.0,
    output: OutputOpt = None,
) -> None:
    """P_I per entrance of crowded places, police response over the region's roads."""
    from cascada.protection.crowded import evaluate_crowded_places, read_crowded_places
    from cascada.region.osm import build_region_from_osm
    from cascada.store.runfolder import write_json

    region = build_region_from_osm(pbf, name=pbf.stem)
    places = read_crowded_places(pbf, [k.strip() for k in kinds.split(",") if k.strip()])
    table = evaluate_crowded_places(region, places, dispatch_s=dispatch)
    if table.empty:
        _console.print("no crowded places reached")
        return
    worst = (table.sort_values("p_interruption").groupby("place_id", sort=False).head(1)
             .sort_values(["kind", "p_interruption"]))
    view = Table(title="Crowded places: weakest entrance (worst tactic)")
    for column in ("kind", "name", "police", "response s", "entrance", "tactic", "P_I"):
        view.add_column(column)
    for _, row in worst.iterrows():
        view.add_row(row["kind"], row["name"] or row["place_id"], row["police_name"] or
                     row["police_id"], f"{row['response_mean_s']:.0f}", row["entrance"],
                     row["tactic"], f"{row['p_interruption']:.3f}")
    _console.print(view)
    if output is not None:
        summary = {"inputs": {"osm": sha256_file(pbf)}, "version": _version(),
                   "places": int(table["place_id"].nunique()),
                   "median_worst_p_interruption": float(worst["p_interruption"].median())}
        _write_folder(output, {
            "summary.json": lambda p: write_json(p, summary),
            "crowded_places.csv": lambda p: table.to_csv(p, index=False),
        })
        _console.print(f"run folder: {output}")
