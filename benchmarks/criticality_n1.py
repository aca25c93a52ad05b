"""Criticality N-1 over every asset of Malta: cascada against a plain networkx loop.

cascada (``cascada.impact.criticality.n_minus_1``): each asset out for the
horizon, 64 contingencies per cascade call (one per bit), people without each
service counted from the words. networkx: the plain cascade of
``cascade_vs_networkx.py`` (per contingency, per hour, sweep until nothing
changes) and a Python count of the people without each service at the last
hour; it runs ``--peer-assets`` contingencies (the first in asset order) and
its time is scaled to all assets (stated in the output). Both must agree on
the people without each service at the last hour for those contingencies.

The region is ``regions/malta.gpkg`` (``make region``), or built from the
repository's OSM extract when missing. Run::

    python benchmarks/criticality_n1.py [--hours 72 --peer-assets 10]

Figures are printed last (``name: value unit``), then ``ratio: N``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cascade_vs_networkx import networkx_cascade, networkx_graph

from cascada.impact.criticality import n_minus_1
from cascada.region.io import read_region

ROOT = Path(__file__).resolve().parents[1]


def malta():
    path = ROOT / "regions" / "malta.gpkg"
    if path.exists():
        return read_region(path)
    from cascada.region.osm import build_region_from_osm

    return build_region_from_osm(ROOT / "data" / "malta" / "malta-2018-08.osm.pbf", "malta")


def people_without(region, working: set) -> dict[str, float]:
    """People without each service given the working assets (plain Python)."""
    links = region.service_links
    population = dict(zip(region.people["people_id"], region.people["population"],
                          strict=True))
    served: dict[tuple[str, str], bool] = {}
    for person, service, asset in links[["people_id", "service", "asset_id"]].itertuples(
            index=False):
        served[(person, service)] = served.get((person, service), False) or asset in working
    out: dict[str, float] = {}
    for (person, service), ok in served.items():
        if not ok:
            out[service] = out.get(service, 0.0) + population[person]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hours", type=int, default=72)
    parser.add_argument("--peer-assets", type=int, default=10)
    args = parser.parse_args()
    region = malta()
    n = region.n_assets
    n_minus_1(region, hours=2, candidates=np.arange(64))  # compile Numba kernels
    start = time.perf_counter()
    table = n_minus_1(region, hours=args.hours)
    ours = time.perf_counter() - start

    ids = region.assets["asset_id"].tolist()
    deps = region.dependencies.copy()
    graph = networkx_graph(ids, deps)
    base = people_without(region, networkx_cascade(graph, dict.fromkeys(ids, 0.0),
                                                   args.hours)[-1])
    by_id = table.set_index("asset_id")
    mismatches = 0
    start = time.perf_counter()
    for asset in ids[:args.peer_assets]:
        repair = dict.fromkeys(ids, 0.0)
        repair[asset] = np.inf
        final = people_without(region, networkx_cascade(graph, repair, args.hours)[-1])
        for service in ("power", "water", "telecom", "health", "finance", "food"):
            column = f"people_without_{service}"
            if column in by_id.columns:
                expected = max(final.get(service, 0.0) - base.get(service, 0.0), 0.0)
                mismatches += not np.isclose(by_id.loc[asset, column], expected)
    peer = (time.perf_counter() - start) / args.peer_assets * n
    print(f"assets: {n} assets")
    print(f"horizon: {args.hours} hours")
    print(f"cascada_n_minus_1: {ours:.2f} s")
    print(f"networkx_n_minus_1: {peer:.1f} s (scaled from {args.peer_assets} contingencies)")
    print(f"assets_cutting_service: {int((table['people_affected'] > 0).sum())} assets")
    print(f"disagreements: {mismatches} values")
    print(f"ratio: {peer / ours:.0f}")


if __name__ == "__main__":
    main()
