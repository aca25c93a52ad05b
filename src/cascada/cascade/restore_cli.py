"""``cascada restore RUN --crews …``: restoration of a scenario run with limited repair crews.

Reads a scenario run folder (``outages.parquet``: the sampled damage, onset
and unlimited-crew repair end per sample and asset) and its region, schedules
the repairs with :func:`cascada.cascade.restoration.dispatch`, re-runs the
cascade (:func:`cascada.cascade.propagate`) with the crew-limited repair ends
and, for comparison, with the run's own, and counts people without each
service hour by hour (:mod:`cascada.impact.people`).

Wire into the main app with ``app.command("restore")(restore_command)``.
"""

from __future__ import annotations

import base64
import html
import json
import time
import tomllib
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
import typer
from rich.table import Table

from cascada.cascade import compile_graph, propagate
from cascada.cascade.restoration import (
    POLICIES,
    CrewPlan,
    RoadNetwork,
    Schedule,
    dispatch,
    parse_crews,
    priority_rank,
)
from cascada.cli_support import clear_errors, console, err_console
from cascada.datafile import atomic_write_text, sha256_file
from cascada.errors import CascadaInputError
from cascada.impact.people import ServiceLinks, people_without_service
from cascada.region.io import read_region
from cascada.region.model import Region
from cascada.report.figures import new_figure, service_colour, to_png
from cascada.store.runfolder import atomic_folder, write_json

__all__ = ["RestorationResult", "restore_command", "restore_run", "write_restoration"]

BLOCK = 64  # samples per cascade call (bits of a uint64 word)
SERVICES = ("power", "water", "telecom", "health", "finance", "food")
LEVELS = (0.5, 0.9, 1.0)
_FULL = 1e-9  # a share within this of the level counts as reaching it


@dataclass
class RestorationResult:
    """Restoration with crews next to the run's unlimited-crew restoration.

    curves: service, hour, share_crews_mean/_p05/_p95,
    share_unlimited_mean/_p05/_p95, population_total (share of the service's
    people who have it). jobs: see :class:`~cascada.cascade.restoration.Schedule`,
    with asset_id. summary: headline figures for ``summary.json``.
    """

    curves: pd.DataFrame
    jobs: pd.DataFrame
    summary: dict
    notes: list[str] = field(default_factory=list)
    dispatch_seconds: float = 0.0  # wall time of the dispatch (not in summary.json)


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:  # pragma: no cover
        return "unknown"


# --------------------------------------------------------------------------- inputs


def read_run_summary(run_dir: Path) -> dict:
    path = run_dir / "summary.json"
    if not path.is_file():
        raise CascadaInputError("not a scenario run folder (no summary.json)", file=run_dir,
                                hint="give the folder `cascada run` wrote")
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise CascadaInputError(f"cannot read JSON: {exc.msg}", file=path, row=exc.lineno
                                ) from None
    for key in ("samples", "hours", "region"):
        if key not in summary:
            raise CascadaInputError("missing entry", file=path, field=key,
                                    hint="restore reads the run folder of a scenario run")
    if not (run_dir / "outages.parquet").is_file():
        raise CascadaInputError("no outages.parquet in the run folder", file=run_dir)
    return summary


def find_region(run_dir: Path, summary: dict, region: Path | None) -> Path:
    """The region file of the run: ``region`` or ``regions/<name>.gpkg``, checked by hash."""
    if region is None:
        region = Path("regions") / f"{summary['region']}.gpkg"
        if not region.exists():
            raise CascadaInputError(
                f"cannot find the run's region {summary['region']!r}", field="--region",
                hint=f"give --region (the run used a region named {summary['region']!r})")
    if not region.exists():
        raise CascadaInputError("no such region file", file=region, field="--region")
    expected = (summary.get("inputs") or {}).get("region")
    if expected and region.is_file() and sha256_file(region) != expected:
        raise CascadaInputError(
            "this region file is not the one the run used (its sha256 differs from the "
            "run's summary.json)", file=region, field="--region",
            hint="give the region file the scenario ran on")
    return region


def read_damage(run_dir: Path, asset_index: pd.Index, n_samples: int
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(damage_state uint8, onset float32, repaired float32), each [samples, assets]."""
    path = run_dir / "outages.parquet"
    outages = pd.read_parquet(path, columns=["sample", "asset_id", "damage_state",
                                             "damage_onset_hour", "repaired_hour"])
    hit = outages[(outages["damage_state"] > 0) & (outages["sample"] < n_samples)]
    position = asset_index.get_indexer(hit["asset_id"])
    if (position < 0).any():
        raise CascadaInputError(
            f"asset {hit['asset_id'].to_numpy()[position < 0][0]!r} is not in the region",
            file=path, field="asset_id", hint="give the region file the scenario ran on")
    shape = (n_samples, len(asset_index))
    states = np.zeros(shape, np.uint8)
    onset = np.zeros(shape, np.float32)
    repaired = np.zeros(shape, np.float32)
    rows = hit["sample"].to_numpy()
    states[rows, position] = hit["damage_state"].to_numpy()
    onset[rows, position] = hit["damage_onset_hour"].to_numpy(np.float32)
    repaired[rows, position] = hit["repaired_hour"].to_numpy(np.float32)
    return states, onset, repaired


# --------------------------------------------------------------------------- analysis


def _people_without(graph, links: ServiceLinks, repaired: np.ndarray, onset: np.ndarray,
                    hours: int) -> dict[str, np.ndarray]:
    """{service: people without it, float64 [hours, samples]}."""
    parts: dict[str, list[np.ndarray]] = {s: [] for s in links.services}
    for start in range(0, repaired.shape[0], BLOCK):
        state = propagate(graph, repaired[start:start + BLOCK], hours=hours,
                          onset_hours=onset[start:start + BLOCK])
        for service, matrix in people_without_service(state.working, state.n_samples,
                                                      links).items():
            parts[service].append(matrix)
    return {s: np.concatenate(v, axis=1) for s, v in parts.items()}


def time_to_service(share: np.ndarray, level: float) -> np.ndarray:
    """Per sample, the first hour from which the share stays >= level to the horizon.

    share: [hours, samples] in 0..1. Returns float64 [samples]; ``inf`` where
    the level is not held at the horizon (the time is beyond it); 0 where the
    share never drops below the level.
    """
    good = share >= level - _FULL
    stays = np.flip(np.logical_and.accumulate(np.flip(good, axis=0), axis=0), axis=0)
    first = np.argmax(stays, axis=0).astype(np.float64)
    return np.where(stays[-1], first, np.inf)


def _quantile(values: np.ndarray, q: float) -> float | None:
    """Quantile over samples (nearest rank, so ``inf`` stays ``inf``); None = beyond horizon."""
    value = float(np.quantile(values, q, method="inverted_cdf"))
    return value if np.isfinite(value) else None


def restore_run(run_dir: str | Path, plan: CrewPlan, *, region_path: str | Path | None = None,
                region: Region | None = None, samples: int | None = None,
                hours: int | None = None) -> RestorationResult:
    """Restoration of a scenario run with the plan's crews, against unlimited crews.

    samples: use the run's first N samples (default all); hours: horizon of
    the service curves (default the run's; longer shows restoration past it).
    """
    run_dir = Path(run_dir)
    run_summary = read_run_summary(run_dir)
    n_samples = int(run_summary["samples"]) if samples is None else samples
    if not 1 <= n_samples <= int(run_summary["samples"]):
        raise CascadaInputError(f"must be 1..{run_summary['samples']} (the run's samples), "
                                f"got {n_samples}", field="--samples")
    horizon = int(run_summary["hours"]) if hours is None else hours
    if horizon < 1:
        raise CascadaInputError(f"must be >= 1, got {horizon}", field="--hours")
    path = None
    if region is None:
        path = find_region(run_dir, run_summary, None if region_path is None
                           else Path(region_path))
        region = read_region(path)
    assets = region.assets
    asset_index = region.asset_index()
    states, onset, repaired = read_damage(run_dir, asset_index, n_samples)

    started = time.perf_counter()
    network = RoadNetwork.build(assets)
    rank, klass = priority_rank(assets, region.dependencies, plan)
    schedule: Schedule = dispatch(network, assets, rank, onset, repaired, states, plan, klass)
    dispatch_s = time.perf_counter() - started

    graph = compile_graph(region.dependencies, asset_index)
    services = [s for s in SERVICES if (region.service_links["service"] == s).any()]
    links = ServiceLinks.compile(region.service_links, region.people, asset_index, services)
    with_crews = _people_without(graph, links, schedule.finish_hour.astype(np.float32), onset,
                                 horizon)
    unlimited = _people_without(graph, links, repaired, onset, horizon)

    frames, per_service = [], {}
    for service in links.services:
        total = links.population_total[service]
        share_c = 1.0 - with_crews[service] / total if total > 0 else np.ones_like(
            with_crews[service])
        share_u = 1.0 - unlimited[service] / total if total > 0 else np.ones_like(
            unlimited[service])
        frame = {"service": service, "hour": np.arange(horizon)}
        for name, share in (("crews", share_c), ("unlimited", share_u)):
            frame[f"share_{name}_mean"] = share.mean(axis=1)
            frame[f"share_{name}_p05"], frame[f"share_{name}_p95"] = np.percentile(
                share, [5, 95], axis=1)
        frame["population_total"] = total
        frames.append(pd.DataFrame(frame))
        entry: dict[str, Any] = {"population_total": total}
        for name, share, people in (("crews", share_c, with_crews[service]),
                                    ("unlimited", share_u, unlimited[service])):
            lost = people.sum(axis=0)
            entry[name] = {
                "people_hours_lost_mean": float(lost.mean()),
                "people_hours_lost_p05": float(np.percentile(lost, 5)),
                "people_hours_lost_p95": float(np.percentile(lost, 95)),
                "people_without_at_horizon_mean": float(people[-1].mean()),
            }
            for level in LEVELS:
                t = time_to_service(share, level)
                key = f"t{int(level * 100)}"
                entry[name][f"{key}_hour_median"] = _quantile(t, 0.5)
                entry[name][f"{key}_hour_p95"] = _quantile(t, 0.95)
                entry[name][f"{key}_beyond_horizon_share"] = float(np.isinf(t).mean())
        per_service[service] = entry

    jobs = schedule.jobs.copy()
    jobs.insert(3, "asset_id", assets["asset_id"].to_numpy()[jobs["asset"].to_numpy()])
    jobs["unlimited_finish_hour"] = repaired[jobs["sample"].to_numpy(),
                                             jobs["asset"].to_numpy()].astype(np.float64)
    jobs = jobs.drop(columns="asset")
    per_sector = {}
    for sector, rows in jobs.groupby("sector", sort=True):
        last = rows.groupby("sample")["finish_hour"].max()
        last_unlimited = rows.groupby("sample")["unlimited_finish_hour"].max()
        per_sector[str(sector)] = {
            "crews": plan.crews.get(str(sector)),
            "jobs_per_sample_mean": float(len(rows) / n_samples),
            "all_repaired_hour_median": float(last.median()),
            "all_repaired_hour_median_unlimited": float(last_unlimited.median()),
            "detour_share": float(rows["detour"].mean()),
        }
    summary = {
        "scenario": run_summary.get("scenario", ""),
        "region": region.name,
        "seed": run_summary.get("seed"),
        "samples": n_samples,
        "hours": horizon,
        "plan": {
            "crews": dict(sorted(plan.crews.items())),
            "priority": plan.policy,
            "order": list(plan.targets),
            "depots": {s: str(assets["asset_id"].iloc[p])
                       for s, p in sorted(schedule.depots.items())},
            "speed_kmh": plan.speed_kmh if np.isfinite(plan.speed_kmh) else "inf",
            "damaged_road_speed_share": plan.damaged_road_speed_share,
            "detour_speed_kmh": plan.detour_speed_kmh,
            "detour_factor": plan.detour_factor,
        },
        "notes": schedule.notes,
        "services": per_service,
        "sectors": per_sector,
        "inputs": {
            "run_summary": sha256_file(run_dir / "summary.json"),
            "outages": sha256_file(run_dir / "outages.parquet"),
            "region": sha256_file(path) if path is not None and path.is_file() else "",
        },
        "versions": {**(run_summary.get("versions") or {}), "cascada": _version("cascada")},
    }
    return RestorationResult(pd.concat(frames, ignore_index=True), jobs, summary,
                             schedule.notes, dispatch_s)


# --------------------------------------------------------------------------- output


def _hours(value: float | None, horizon: int) -> str:
    return f"> {horizon} h" if value is None else f"{value:.0f} h"


def curves_png(curves: pd.DataFrame) -> bytes:
    """Small multiples: share of people with each service, with crews vs unlimited."""
    services = list(dict.fromkeys(curves["service"]))
    columns = min(3, max(1, len(services)))
    rows = -(-len(services) // columns)
    figure = new_figure(9.0, 2.4 * rows + 0.3)
    axes = figure.subplots(rows, columns, squeeze=False, sharex=True)
    for i, service in enumerate(services):
        ax = axes[i // columns][i % columns]
        data = curves[curves["service"] == service]
        colour = service_colour(service, i)
        hour = data["hour"].to_numpy()
        ax.fill_between(hour, data["share_crews_p05"] * 100, data["share_crews_p95"] * 100,
                        color=colour, alpha=0.18, linewidth=0)
        ax.plot(hour, data["share_crews_mean"] * 100, color=colour, linewidth=1.8,
                label="with crews")
        ax.plot(hour, data["share_unlimited_mean"] * 100, color="#333333", linewidth=1.1,
                linestyle="--", label="no crew limit")
        ax.set_title(service, fontsize=10)
        low = 100 * min(data["share_crews_p05"].min(), data["share_unlimited_mean"].min())
        span = max(100 - low, 1.0)
        ax.set_ylim(max(0.0, 100 - 1.15 * span), 100 + 0.05 * span)
        ax.ticklabel_format(axis="y", useOffset=False)
        ax.grid(alpha=0.3)
        if i % columns == 0:
            ax.set_ylabel("people with service (%)")
        if i // columns == rows - 1:
            ax.set_xlabel("hour")
    for j in range(len(services), rows * columns):
        axes[j // columns][j % columns].set_visible(False)
    axes[0][0].legend(fontsize=8, loc="lower right")
    return to_png(figure)


_STYLE = """body{margin:0;color:#1d2125;font:15px/1.45 -apple-system,"Segoe UI",Roboto,Arial,
sans-serif}main{max-width:1040px;margin:0 auto;padding:24px 28px 48px}h1{font-size:1.8em}
h2{font-size:1.3em;border-bottom:2px solid #d8dde1;margin-top:1.6em}table{border-collapse:
collapse;width:100%;font-size:.92em}th,td{padding:5px 8px;border-bottom:1px solid #d8dde1;
text-align:left}th{background:#f5f7f8}td.num,th.num{text-align:right;white-space:nowrap;
font-variant-numeric:tabular-nums}img{max-width:100%;border:1px solid #d8dde1}
p.note{color:#5b6770;font-size:.88em}"""


def _html_table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f'<th class="{"num" if i else ""}">{html.escape(h)}</th>'
                   for i, h in enumerate(header))
    body = "".join("<tr>" + "".join(f'<td class="{"num" if i else ""}">{html.escape(c)}</td>'
                                    for i, c in enumerate(row)) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def service_rows(summary: dict) -> list[list[str]]:
    horizon = summary["hours"]
    rows = []
    for service, entry in summary["services"].items():
        row = [service]
        for key in ("t50", "t90", "t100"):
            row.append(f"{_hours(entry['crews'][f'{key}_hour_median'], horizon)} / "
                       f"{_hours(entry['unlimited'][f'{key}_hour_median'], horizon)}")
        row.append(f"{entry['crews']['people_hours_lost_mean']:,.0f} / "
                   f"{entry['unlimited']['people_hours_lost_mean']:,.0f}")
        rows.append(row)
    return rows


SERVICE_HEADER = ["service", "T50 crews / unlimited", "T90 crews / unlimited",
                  "T100 crews / unlimited", "people-hours lost crews / unlimited"]
SECTOR_HEADER = ["sector", "crews", "jobs per sample", "all repaired (median)",
                 "unlimited (median)", "detours"]


def sector_rows(summary: dict) -> list[list[str]]:
    return [[sector, "no limit" if e["crews"] is None else str(e["crews"]),
             f"{e['jobs_per_sample_mean']:.1f}", f"{e['all_repaired_hour_median']:.0f} h",
             f"{e['all_repaired_hour_median_unlimited']:.0f} h", f"{e['detour_share']:.0%}"]
            for sector, e in summary["sectors"].items()]


def render_page(result: RestorationResult) -> str:
    """A self-contained HTML page: curves, times to service, crew pools, notes."""
    summary = result.summary
    plan = summary["plan"]
    crews = ", ".join(f"{s}={n}" for s, n in plan["crews"].items())
    png = base64.b64encode(curves_png(result.curves)).decode("ascii")
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in result.notes)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{html.escape(summary['scenario'])} — restoration with crews</title>
<style>{_STYLE}</style></head><body><main>
<h1>Restoration with repair crews — {html.escape(summary['scenario'])}</h1>
<p>Crews {html.escape(crews)}; priority {html.escape(plan['priority'])}
({html.escape(' → '.join(plan['order']))}); {summary['samples']} samples,
{summary['hours']} h horizon, roads at {html.escape(str(plan['speed_kmh']))} km/h.</p>
<h2>Service restoration curves</h2>
<img alt="share of people with each service, hour by hour" src="data:image/png;base64,{png}">
<p class="note">Mean over samples (band: 5–95 %); dashed: the run's own repairs
(no crew limit). Each panel's vertical axis is zoomed to its own range.</p>
<h2>Time to 50 / 90 / 100 % service and resilience loss</h2>
{_html_table(SERVICE_HEADER, service_rows(summary))}
<p class="note">Median over samples of the first hour from which the share of people with the
service stays at the level; resilience loss: people-hours without the service within the
horizon (the area above the curve × the people served).</p>
<h2>Crew pools</h2>
{_html_table(SECTOR_HEADER, sector_rows(summary))}
<ul>{notes}</ul>
<p class="note">Method and assumptions: docs/restoration.md. cascada
{html.escape(str(summary['versions'].get('cascada', '')))}.</p>
</main></body></html>
"""


def write_restoration(result: RestorationResult, destination: str | Path) -> Path:
    """restoration.parquet, crew_jobs.parquet, summary.json, report.html (atomic)."""
    destination = Path(destination)
    with atomic_folder(destination) as tmp:
        result.curves.to_parquet(tmp / "restoration.parquet", index=False)
        result.jobs.to_parquet(tmp / "crew_jobs.parquet", index=False)
        write_json(tmp / "summary.json", result.summary)
        atomic_write_text(tmp / "report.html", render_page(result))
    return destination


# --------------------------------------------------------------------------- CLI


def _parse_pairs(items: list[str], name: str) -> dict[str, str]:
    out = {}
    for item in items:
        key, sep, value = (p.strip() for p in item.partition("="))
        if not sep or not key or not value:
            raise CascadaInputError(f"cannot read {item!r}", field=name,
                                    hint="write sector=asset_id, e.g. power=osm-w123")
        out[key] = value
    return out


def read_priority_file(path: Path) -> tuple[str, ...]:
    """``order = ["hospitals", "water", …]`` from a TOML file."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CascadaInputError("no such file", file=path, field="--priority-file") from None
    except tomllib.TOMLDecodeError as exc:
        raise CascadaInputError(f"cannot read TOML: {exc}", file=path) from None
    order = data.get("order")
    if not isinstance(order, list) or not order or not all(isinstance(o, str) for o in order):
        raise CascadaInputError("must be a non-empty list of names", file=path, field="order",
                                hint='e.g. order = ["hospitals", "water", "power"]')
    return tuple(order)


def _slug(crews: dict[str, int]) -> str:
    return "-".join(f"{s}{n}" for s, n in sorted(crews.items()))


@clear_errors
def restore_command(
    run: Annotated[Path, typer.Argument(help="scenario run folder (written by `cascada run`)")],
    crews: Annotated[str, typer.Option(
        "--crews", help="repair crews per sector, e.g. power=4,water=2,telecom=2,transport=3; "
                        "sectors not named have no crew limit")],
    priority: Annotated[str | None, typer.Option(
        "--priority", help=f"dispatch policy: {', '.join([*POLICIES, 'custom'])} "
                           "(default hospitals-first; custom with --order or --priority-file)"
    )] = None,
    order: Annotated[str | None, typer.Option(
        "--order", help="custom priority: targets first to last, comma-separated "
                        "(hospitals, sectors, asset types)")] = None,
    priority_file: Annotated[Path | None, typer.Option(
        "--priority-file", help='custom priority from TOML: order = ["hospitals", ...]')] = None,
    depot: Annotated[list[str] | None, typer.Option(
        "--depot", help="sector=asset_id where the sector's crews start and return "
                        "(repeatable; default: the sector's asset nearest the middle of "
                        "its assets)")] = None,
    speed_kmh: Annotated[float, typer.Option(
        "--speed-kmh", help="crew speed on open roads, km/h ('inf': no travel time)")] = 40.0,
    samples: Annotated[int | None, typer.Option(
        "--samples", help="use the run's first N samples (default all)")] = None,
    hours: Annotated[int | None, typer.Option(
        "--hours", help="horizon of the service curves, h (default the run's)")] = None,
    region: Annotated[Path | None, typer.Option(
        "--region", help="the run's region file (default regions/<name>.gpkg)")] = None,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="folder to write (default RUN/restoration-<policy>-<crews>)")
    ] = None,
) -> None:
    """Restore a scenario run with limited repair crews and compare with no crew limit."""
    custom = order is not None or priority_file is not None
    if order is not None and priority_file is not None:
        raise CascadaInputError("give --order or --priority-file, not both", field="--order")
    if custom and priority not in (None, "custom"):
        raise CascadaInputError(f"--order/--priority-file need --priority custom, not "
                                f"{priority!r}", field="--priority")
    policy = "custom" if custom else (priority or "hospitals-first")
    targets: tuple[str, ...] = ()
    if order is not None:
        targets = tuple(t.strip() for t in order.split(",") if t.strip())
    elif priority_file is not None:
        targets = read_priority_file(priority_file)
    plan = CrewPlan(crews=parse_crews(crews), policy=policy, order=targets,
                    depots=_parse_pairs(depot or [], "--depot"), speed_kmh=speed_kmh)
    if not run.is_dir():
        raise CascadaInputError("no such run folder", file=run)
    destination = output or run / f"restoration-{policy}-{_slug(plan.crews)}"
    if destination.exists():
        raise CascadaInputError("output folder already exists", file=destination,
                                field="--output", hint="choose another --output, or remove it")
    err_console.print("[dim]dispatching crews and re-running the cascade…[/]")
    result = restore_run(run, plan, region_path=region, samples=samples, hours=hours)
    write_restoration(result, destination)
    for note in result.notes:
        err_console.print(f"[yellow]note:[/] {note}", highlight=False)
    table = Table(title=f"Restoration with crews ({policy}), {result.summary['samples']} "
                        f"samples, horizon {result.summary['hours']} h")
    for i, column in enumerate(SERVICE_HEADER):
        table.add_column(column, justify="right" if i else "left")
    for row in service_rows(result.summary):
        table.add_row(*row)
    console.print(table)
    pools = Table(title="Crew pools")
    for i, column in enumerate(SECTOR_HEADER):
        pools.add_column(column, justify="right" if i else "left")
    for row in sector_rows(result.summary):
        pools.add_row(*row)
    console.print(pools)
    console.print(f"dispatch {result.dispatch_seconds:.1f} s · wrote {destination}")
