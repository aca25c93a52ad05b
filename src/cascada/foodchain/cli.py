"""`cascada food …`: food-chain tracing from the command line (parses, calls the library).

The lead wires this in with ``app.add_typer(food_app, name="food")``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import numpy as np
import pandas as pd
import typer
from rich.table import Table

from cascada.cli_support import clear_errors, console
from cascada.errors import CascadaInputError
from cascada.foodchain.closures import closure_eventset
from cascada.foodchain.fcl_io import read_network, write_csv_network, write_fcl_json
from cascada.foodchain.model import FoodNetwork
from cascada.foodchain.recall import recall as make_recall
from cascada.foodchain.report import write_report
from cascada.foodchain.scores import fcl_scores
from cascada.foodchain.sources import rank_sources, read_cases
from cascada.foodchain.trace import TraceOptions, Tracer, TraceResult
from cascada.hazards.eventset import EventSet, write_eventset
from cascada.store.runfolder import atomic_folder, write_json

food_app = typer.Typer(
    help="Food-chain tracing: import FoodChain-Lab data, trace forward and backward, "
         "rank likely sources, list recalls.",
    no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
)
trace_app = typer.Typer(help="Forward and backward traces through lots.", no_args_is_help=True)
food_app.add_typer(trace_app, name="trace")


NetworkOption = Annotated[Path, typer.Option(
    "--network", "-n", envvar="CASCADA_FOOD_NETWORK",
    help="FCL JSON file, CSV folder or imported network folder "
         "(default: $CASCADA_FOOD_NETWORK)")]
OutputOption = Annotated[Path | None, typer.Option(
    "--output", "-o", help="write the result tables into this new folder (atomically)")]
TemporalOption = Annotated[bool | None, typer.Option(
    "--temporal-order/--no-temporal-order",
    help="cross-contamination only from deliveries that arrived before the other left "
         "(default: the network's setting, else on)")]
CrossOption = Annotated[bool, typer.Option(
    "--cross-contamination", help="allow cross-contamination at every station")]
CrossStationOption = Annotated[list[str] | None, typer.Option(
    "--cc-station", help="allow cross-contamination at this station (repeatable)")]
KillStationOption = Annotated[list[str] | None, typer.Option(
    "--kill-station", help="this station kills contamination, e.g. heat treatment (repeatable)")]
KillDeliveryOption = Annotated[list[str] | None, typer.Option(
    "--kill-delivery", help="this delivery kills contamination (repeatable)")]




def _split(values: list[str] | None) -> tuple[str, ...]:
    """Repeatable options that may also hold comma-separated lists."""
    out: list[str] = []
    for value in values or []:
        out.extend(v.strip() for v in value.split(",") if v.strip())
    return tuple(out)


def _options(network: FoodNetwork, temporal: bool | None, cross_all: bool,
             cc: list[str] | None, kill_s: list[str] | None,
             kill_d: list[str] | None) -> TraceOptions:
    base = TraceOptions.from_network(network)
    cc_ids = tuple(network.stations["station_id"]) if cross_all else tuple(
        network.stations["station_id"].to_numpy()[network.resolve_stations(_split(cc))])
    kill_ids = tuple(network.stations["station_id"].to_numpy()[
        network.resolve_stations(_split(kill_s))])
    return TraceOptions(
        enforce_temporal_order=base.enforce_temporal_order if temporal is None else temporal,
        cross_contamination_stations=tuple(dict.fromkeys(
            base.cross_contamination_stations + cc_ids)),
        cross_contamination_deliveries=base.cross_contamination_deliveries,
        kill_contamination_stations=tuple(dict.fromkeys(
            base.kill_contamination_stations + kill_ids)),
        kill_contamination_deliveries=tuple(dict.fromkeys(
            base.kill_contamination_deliveries + _split(kill_d))),
    )


def _read_table(path: Path) -> pd.DataFrame:
    if not path.exists():
        raise CascadaInputError("file not found", file=path)
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise CascadaInputError(f"unreadable CSV: {exc}", file=path) from None


def _load(network: Path) -> FoodNetwork:
    if network.is_dir() and (network / "network.json").exists():
        return read_network(network / "network.json")
    return read_network(network)


def _print_frame(frame: pd.DataFrame, title: str, limit: int = 40) -> None:
    table = Table(title=f"{title} ({len(frame):,})")
    for column in frame.columns:
        numeric = pd.api.types.is_numeric_dtype(frame[column])
        table.add_column(str(column), justify="right" if numeric else "left")
    for row in frame.head(limit).itertuples(index=False):
        table.add_row(*[f"{v:.4g}" if isinstance(v, float) else str(v) for v in row])
    console.print(table)
    if len(frame) > limit:
        console.print(f"… {len(frame) - limit:,} more rows (use --output for all)")


def _write_outputs(output: Path | None, tables: dict[str, pd.DataFrame], summary: dict,
                   network: FoodNetwork | None = None, report: dict | None = None,
                   event_set: EventSet | None = None) -> None:
    if output is None:
        return
    with atomic_folder(output) as tmp:
        for name, frame in tables.items():
            frame.to_csv(tmp / f"{name}.csv", index=False)
        if event_set is not None:
            write_eventset(event_set, tmp / "closures.parquet")
        write_json(tmp / "summary.json", summary)
        if network is not None and report is not None:
            write_report(tmp / "report.html", network, **report)
    console.print(f"written → {output}")


# --------------------------------------------------------------------------- commands
@food_app.command("import")
@clear_errors
def import_network(
    source: Annotated[Path, typer.Argument(
        help="FCL JSON (schema v1 or the older exchange format), a CSV folder "
             "(deliveries.csv, stations.csv, relations.csv) or a deliveries CSV")],
    output: OutputOption = None,
) -> None:
    """Read and check a supply network; with --output, store it as FCL JSON v1 + CSV."""
    network = read_network(source)
    lots = network.lots()
    table = Table(title=f"{source.name}")
    table.add_column("item")
    table.add_column("count", justify="right")
    for item, count in (("stations", network.n_stations), ("deliveries", network.n_deliveries),
                        ("lot relations", len(network.relations)), ("lots", len(lots)),
                        ("cases (weight > 0)", int((network.stations["weight"] > 0).sum()))):
        table.add_row(item, f"{count:,}")
    console.print(table)
    console.print(f"format: {network.metadata.get('format')}")
    if output is not None:
        with atomic_folder(output) as tmp:
            write_fcl_json(network, tmp / "network.json")
            write_csv_network(network, tmp)
            write_json(tmp / "summary.json", {
                "stations": network.n_stations, "deliveries": network.n_deliveries,
                "relations": len(network.relations), "lots": len(lots),
                "format": network.metadata.get("format")})
        console.print(f"written → {output}")


def _trace_summary(trace: TraceResult) -> dict:
    return {"direction": trace.direction, "stations": int(trace.station_mask.sum()),
            "deliveries": int(trace.delivery_mask.sum())}


@trace_app.command("forward")
@clear_errors
def trace_forward_command(
    network: NetworkOption,
    from_: Annotated[list[str] | None, typer.Option(
        "--from", help="station id or name the contamination starts at (repeatable)")] = None,
    delivery: Annotated[list[str] | None, typer.Option(
        "--delivery", help="delivery id the contamination starts in (repeatable)")] = None,
    lots: Annotated[str, typer.Option(help="only these lots (comma-separated)")] = "",
    temporal_order: TemporalOption = None,
    cross_contamination: CrossOption = False,
    cc_station: CrossStationOption = None,
    kill_station: KillStationOption = None,
    kill_delivery: KillDeliveryOption = None,
    output: OutputOption = None,
) -> None:
    """Where can contamination at these stations, lots or deliveries go?"""
    net = _load(network)
    if not (from_ or delivery):
        raise CascadaInputError("nothing to trace from", field="--from",
                                hint="give --from STATION or --delivery ID")
    options = _options(net, temporal_order, cross_contamination, cc_station, kill_station,
                       kill_delivery)
    trace = Tracer(net, options).forward(stations=_split(from_), deliveries=_split(delivery),
                                         lots=_split([lots]))
    _print_frame(trace.stations(), "stations reached")
    _print_frame(trace.deliveries(), "deliveries reached")
    _write_outputs(output, {"stations": trace.stations(), "deliveries": trace.deliveries()},
                   _trace_summary(trace), net, {"trace": trace, "title": "Forward trace"})


@trace_app.command("backward")
@clear_errors
def trace_backward_command(
    network: NetworkOption,
    to: Annotated[list[str] | None, typer.Option(
        "--to", help="station id or name where contamination was found (repeatable)")] = None,
    cases: Annotated[Path | None, typer.Option(
        help="CSV of cases: station (id or name), optional cases (count)")] = None,
    delivery: Annotated[list[str] | None, typer.Option(
        "--delivery", help="contaminated delivery id (repeatable)")] = None,
    temporal_order: TemporalOption = None,
    cross_contamination: CrossOption = False,
    cc_station: CrossStationOption = None,
    kill_station: KillStationOption = None,
    kill_delivery: KillDeliveryOption = None,
    output: OutputOption = None,
) -> None:
    """Where can contamination found at these stations or deliveries come from?

    With --cases, also prints the FCL score of every station upstream of a case.
    """
    net = _load(network)
    stations = list(_split(to))
    case_series = None
    if cases is not None:
        case_series = read_cases(_read_table(cases), net, file=str(cases))
        stations += list(case_series.index)
    if not (stations or delivery):
        raise CascadaInputError("nothing to trace back from", field="--to",
                                hint="give --to STATION, --cases FILE or --delivery ID")
    options = _options(net, temporal_order, cross_contamination, cc_station, kill_station,
                       kill_delivery)
    tracer = Tracer(net, options)
    trace = tracer.backward(stations=stations, deliveries=_split(delivery))
    found = trace.stations()
    if case_series is not None:
        scores = fcl_scores(net, case_series.to_dict(), tracer=tracer).stations
        found = found.merge(scores[["station_id", "score", "negative_score"]],
                            on="station_id", how="left")
        found = found.sort_values(["score", "station_id"], ascending=[False, True])
    _print_frame(found, "stations upstream")
    _print_frame(trace.deliveries(), "deliveries upstream")
    _write_outputs(output, {"stations": found, "deliveries": trace.deliveries()},
                   _trace_summary(trace), net, {"trace": trace, "title": "Backward trace"})


@food_app.command("sources")
@clear_errors
def sources_command(
    network: NetworkOption,
    cases: Annotated[Path, typer.Option(
        help="CSV of cases: station (id or name), optional cases (count)")],
    top: Annotated[int, typer.Option(help="show the best N candidates")] = 10,
    candidates: Annotated[str, typer.Option(
        help="candidate source stations, comma-separated (default: every supplier)")] = "",
    priors: Annotated[Path | None, typer.Option(
        help="CSV of prior weights: station, prior (e.g. from inspections, lab results)")
    ] = None,
    missing_link_probability: Annotated[float, typer.Option(
        help="chance that a case came by a route missing from the data")] = 0.01,
    temporal_order: TemporalOption = None,
    output: OutputOption = None,
) -> None:
    """Rank likely sources with probabilities (volume-weighted random walk) and FCL scores."""
    net = _load(network)
    case_series = read_cases(_read_table(cases), net, file=str(cases))
    prior_series = None
    if priors is not None:
        table = _read_table(priors)
        if "prior" not in table.columns:
            raise CascadaInputError("missing column", file=priors, field="prior")
        ids = net.stations["station_id"].to_numpy()[
            net.resolve_stations(tuple(table.iloc[:, 0].astype(str)))]
        values = pd.to_numeric(table["prior"], errors="coerce").to_numpy()
        if not np.all(np.isfinite(values)) or (values < 0).any():
            raise CascadaInputError("priors must be numbers >= 0", file=priors, field="prior")
        prior_series = pd.Series(values, index=ids)
    options = _options(net, temporal_order, False, None, None, None)
    tracer = Tracer(net, options)
    ranking = rank_sources(net, case_series, candidates=_split([candidates]) or None,
                           priors=prior_series,
                           missing_link_probability=missing_link_probability,
                           options=options)
    scores = fcl_scores(net, case_series.to_dict(), tracer=tracer).stations
    ranking = ranking.merge(scores[["station_id", "score"]].rename(
        columns={"score": "fcl_score"}), on="station_id", how="left")
    _print_frame(ranking.head(max(top, 1)), "likely sources", limit=max(top, 1))
    summary = {"cases": float(case_series.sum()), "case_stations": len(case_series),
               "top_source": str(ranking["station_id"].iloc[0]),
               "top_posterior": float(ranking["posterior"].iloc[0])}
    _write_outputs(output, {"sources": ranking}, summary, net,
                   {"ranking": ranking.head(max(top, 1)), "title": "Likely sources"})


@food_app.command("recall")
@clear_errors
def recall_command(
    network: NetworkOption,
    from_: Annotated[list[str] | None, typer.Option(
        "--from", help="suspect station id or name (repeatable)")] = None,
    lots: Annotated[str, typer.Option(help="suspect lots, comma-separated")] = "",
    delivery: Annotated[list[str] | None, typer.Option(
        "--delivery", help="suspect delivery id (repeatable)")] = None,
    region: Annotated[Path | None, typer.Option(
        help="region file: count the people served by recalled food facilities")] = None,
    temporal_order: TemporalOption = None,
    cross_contamination: CrossOption = False,
    cc_station: CrossStationOption = None,
    kill_station: KillStationOption = None,
    output: OutputOption = None,
) -> None:
    """Which deliveries and stations to recall, and how many people they serve."""
    net = _load(network)
    if not (from_ or delivery or lots):
        raise CascadaInputError("nothing to recall", field="--from",
                                hint="give --from STATION, --lots LOTS or --delivery ID")
    region_obj = None
    if region is not None:
        from cascada.region.io import read_region

        region_obj = read_region(region)
    options = _options(net, temporal_order, cross_contamination, cc_station, kill_station,
                       None)
    result = make_recall(net, stations=_split(from_), lots=_split([lots]),
                         deliveries=_split(delivery), options=options, region=region_obj)
    _print_frame(result.deliveries, "deliveries to recall")
    _print_frame(result.stations, "stations to notify")
    if region_obj is not None:
        console.print(f"people served by recalled facilities: {result.population_served:,.0f}")
    summary = {"deliveries": len(result.deliveries),
               "stations": len(result.stations),
               "population_served": result.population_served}
    closures = None
    if region_obj is not None and "asset_id" in result.stations.columns:
        closed = result.stations["asset_id"].dropna().unique().tolist()
        summary["closed_assets"] = len(closed)
        if closed:
            closures = closure_eventset(region_obj, closed)
    _write_outputs(output, {"deliveries": result.deliveries, "stations": result.stations},
                   summary, net, {"trace": result.trace, "recall": result.deliveries,
                                  "title": "Recall"},
                   event_set=closures)
    if output is not None and closures is not None:
        console.print(
            f"closures of {summary['closed_assets']} food facilities → {output}/closures.parquet;"
            " feed them into a cascade with a scenario hazard: hazard = \"attack\", "
            "event_set = \".../closures.parquet\", outage_hours = 72", highlight=False)


@food_app.command("report")
@clear_errors
def report_command(
    network: NetworkOption,
    output: Annotated[Path, typer.Option("--output", "-o",
                                         help="HTML file to write (atomically)")],
    from_: Annotated[list[str] | None, typer.Option(
        "--from", help="forward trace from this station (repeatable)")] = None,
    lots: Annotated[str, typer.Option(help="only these lots (comma-separated)")] = "",
    cases: Annotated[Path | None, typer.Option(
        help="CSV of cases: backward trace and source ranking")] = None,
    top: Annotated[int, typer.Option(help="sources to list")] = 10,
) -> None:
    """Write an HTML report: network diagram, source ranking, recall list."""
    net = _load(network)
    tracer = Tracer(net, TraceOptions.from_network(net))
    trace = ranking = recall_table = None
    if cases is not None:
        case_series = read_cases(_read_table(cases), net, file=str(cases))
        trace = tracer.backward(stations=list(case_series.index))
        ranking = rank_sources(net, case_series, options=tracer.options).head(max(top, 1))
    if from_ or lots:
        result = make_recall(net, stations=_split(from_), lots=_split([lots]), tracer=tracer)
        trace, recall_table = result.trace, result.deliveries
    if output.suffix.lower() not in (".html", ".htm"):
        output = output / "report.html" if output.is_dir() else output.with_suffix(".html")
    write_report(output, net, trace=trace, ranking=ranking, recall=recall_table,
                 title="Food-chain report")
    console.print(f"written → {output}")
