"""Risk headline: E events × 64 samples on a generated region → EAI + EP curves.

The region is the layered synthetic region of ``cascade_vs_networkx.py``
(plants → transmission → distribution → consumers, telecom and water, k-of-n
groups, backups, power ↔ telecom cycles), with asset types from the catalogue
and one population point per consumer (served by power, water, telecom).
Events are synthetic earthquakes: each shakes a random stretch of 1 % of the
assets (PGA 0.1–0.8 g), with rates 1e-4..1e-1 per year.

Run::

    python benchmarks/risk_headline.py                       # small, < 2 minutes
    python benchmarks/risk_headline.py --assets 100000 --edges 300000 --events 10000

Prints figures last, one per line (``name: value unit``): the serial run (time,
per event, peak RSS of this process), then the Dask LocalCluster run with 1 and
2 workers (same numbers asserted; cluster start-up and the workers' first call,
which loads the Numba cache, excluded) and, last, ``ratio: N``, the speed-up
from 1 to 2 workers. Never an assertion on wall time.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import sparse

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cascade_vs_networkx import synthetic_region

from cascada.hazards.eventset import EventSet
from cascada.region.model import Region
from cascada.risk.backends import DaskBackend, SerialBackend
from cascada.risk.metrics import eai_table, ep_table
from cascada.risk.montecarlo import run_risk

TYPES = {"plant": "power.plant", "transmission": "power.substation",
         "distribution": "power.substation", "telecom": "telecom.exchange",
         "water": "water.pumping_station"}
CONSUMERS = ("health.clinic", "finance.bank", "food.supermarket", "finance.atm")


def make_region(n_assets: int, n_edges: int, seed: int) -> Region:
    ids, deps, layers = synthetic_region(n_assets, n_edges, seed)
    types = np.empty(len(ids), dtype=object)
    for name, index in layers.items():
        types[index] = TYPES.get(name, "")
    consumers = layers["consumer"]
    types[consumers] = np.array(CONSUMERS, dtype=object)[consumers % len(CONSUMERS)]
    x = 14.3 + 0.3 * np.arange(len(ids)) / len(ids)
    assets = gpd.GeoDataFrame({"asset_id": ids, "asset_type": types},
                              geometry=gpd.points_from_xy(x, np.full(len(ids), 35.9)),
                              crs="EPSG:4326")
    people_ids = [f"p{i}" for i in range(len(consumers))]
    people = gpd.GeoDataFrame({"people_id": people_ids, "population": 100.0},
                              geometry=gpd.points_from_xy(x[consumers], np.full(len(consumers),
                                                                                35.9)),
                              crs="EPSG:4326")
    id_array = np.asarray(ids, dtype=object)
    dist = layers["distribution"]
    links = pd.concat([
        pd.DataFrame({"people_id": people_ids, "service": "power",
                      "asset_id": id_array[dist[(consumers * len(dist)) // n_assets
                                                % len(dist)]]}),
        pd.DataFrame({"people_id": people_ids, "service": "finance",
                      "asset_id": id_array[consumers]}),
    ], ignore_index=True)
    return Region.from_tables("synthetic", assets, deps, people, links)


def make_events(region: Region, n_events: int, seed: int) -> EventSet:
    rng = np.random.default_rng(seed)
    m = region.n_assets
    width = max(1, m // 100)
    start = rng.integers(0, m - width, n_events)
    rows = np.repeat(np.arange(n_events), width)
    cols = (start[:, None] + np.arange(width)).ravel()
    pga = rng.uniform(0.1, 0.8, n_events)
    values = np.repeat(pga, width) * rng.uniform(0.5, 1.0, len(rows))
    intensity = sparse.csr_matrix((values, (rows, cols)), shape=(n_events, m))
    rate = 10.0 ** rng.uniform(-4, -1, n_events)
    return EventSet(intensity, region.assets["asset_id"].to_numpy(),
                    pd.DataFrame({"hazard": "earthquake", "annual_rate": rate}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=int, default=5000)
    parser.add_argument("--edges", type=int, default=15000)
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--samples", type=int, default=64)
    parser.add_argument("--hours", type=int, default=168)
    parser.add_argument("--events-per-block", type=int, default=16)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--skip-dask", action="store_true")
    args = parser.parse_args()

    t0 = time.perf_counter()
    region = make_region(args.assets, args.edges, args.seed)
    events = make_events(region, args.events, args.seed)
    build_s = time.perf_counter() - t0
    kwargs = dict(n_samples=args.samples, hours=args.hours, seed=args.seed,
                  events_per_block=args.events_per_block)
    # warm-up: Numba compilation (cached) and first-touch costs, excluded
    first = EventSet(events.intensity[:1], events.asset_ids, events.events.iloc[:1])
    run_risk(region, first, **{**kwargs, "events_per_block": 1})

    t0 = time.perf_counter()
    serial = run_risk(region, events, backend=SerialBackend(), **kwargs)
    eai = eai_table(serial.events, serial.impacts())
    ep = ep_table(serial.events, serial.impacts())
    serial_s = time.perf_counter() - t0

    figures = [("assets", region.n_assets, "assets"),
               ("dependency_edges", len(region.dependencies), "edges"),
               ("events", args.events, "events"), ("samples", args.samples, "samples"),
               ("hours", args.hours, "hours"), ("build_region_and_events", build_s, "s"),
               ("serial_run_eai_ep", serial_s, "s"),
               ("serial_per_event", 1e3 * serial_s / args.events, "ms"),
               ("serial_per_event_sample", 1e3 * serial_s / (args.events * args.samples), "ms"),
               ("peak_rss_serial", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "MiB"),
               ("eai_direct_loss", float(eai.loc[(eai.impact == "direct_loss_eur")
                                                 & (eai.hazard == "all"),
                                                 "expected_annual_impact"].iloc[0]), "EUR/yr"),
               ("ep_curve_points", len(ep), "rows")]
    if not args.skip_dask:
        times = {}
        for workers in (1, 2):
            with DaskBackend(workers=workers) as backend:
                backend._connect()  # cluster start-up is excluded
                # so is each worker's first call (Numba cache): a few one-event tasks
                warm = EventSet(events.intensity[:4 * workers], events.asset_ids,
                                events.events.iloc[:4 * workers])
                run_risk(region, warm, backend=backend, **{**kwargs, "events_per_block": 1})
                t0 = time.perf_counter()
                result = run_risk(region, events, backend=backend, **kwargs)
                times[workers] = time.perf_counter() - t0
            np.testing.assert_array_equal(result.loss_eur, serial.loss_eur)
            for s in serial.services:
                np.testing.assert_array_equal(result.people_hours[s], serial.people_hours[s])
        figures += [("dask_1_worker", times[1], "s"), ("dask_2_workers", times[2], "s"),
                    ("dask_speedup_1_to_2", times[1] / times[2], "x"),
                    ("dask_equals_serial", 1, "bool")]
    for name, value, unit in figures:
        print(f"{name}: {value:.4g} {unit}" if isinstance(value, float)
              else f"{name}: {value} {unit}")
    if not args.skip_dask:
        print(f"ratio: {times[1] / times[2]:.3g}")


if __name__ == "__main__":
    main()
