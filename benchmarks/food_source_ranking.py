"""Source ranking on generated outbreaks: FCL scores vs the probabilistic ranking; speed.

Synthetic, labelled as such: layered networks (farms → processors →
wholesalers → retailers) from ``cascada.foodchain.generator``, outbreaks
simulated from a known farm (contaminated deliveries over a window of days,
mixing by mass into lots, cases on retailers by contaminated mass).

For every outbreak both methods rank the candidate farms:

- FCL: the FoodChain-Lab station score with each case station weighted by
  its number of cases (ties are common: every farm upstream of all cases
  scores 1);
- probabilistic: posterior of the volume-weighted random walk (Horn &
  Friedrich 2019) with uniform priors.

Accuracy counts a hit at rank k as the probability that the true source is in
the top k when ties are broken at random. A second pass ranks on the same
outbreaks with 20 % of the lot relations left out of the data (missing links).

Speed on a 100,000-delivery network: compiling the network, one forward trace
from a farm and one backward trace from the case stations, wide traces (200
farms forward, 500 retailers backward), FCL scores of every station, and the
probabilistic ranking of every supplier; the same forward trace with networkx
(descendants on the delivery graph) as the peer.

Figures are printed last as ``name: value unit`` lines.

    python benchmarks/food_source_ranking.py [--outbreaks 300] [--seed 7] [--quick]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from cascada.foodchain.generator import (
    LayerSpec,
    drop_relations,
    generate_network,
    simulate_outbreak,
)
from cascada.foodchain.scores import fcl_scores
from cascada.foodchain.sources import WalkModel, rank_sources
from cascada.foodchain.trace import Tracer

ACCURACY_SPEC = LayerSpec(n_farms=100, n_processors=20, n_wholesalers=30, n_retailers=400,
                          n_deliveries=5000, n_days=60)
LARGE_SPEC = LayerSpec(n_farms=2000, n_processors=400, n_wholesalers=600, n_retailers=8000,
                       n_deliveries=100_000, n_days=120)


def hit_probability(values: np.ndarray, truth: int, k: int) -> float:
    """P(true candidate in the top k) when ties are broken uniformly at random."""
    better = int(np.sum(values > values[truth]))
    tied = int(np.sum(values == values[truth]))
    return float(np.clip((k - better) / tied, 0.0, 1.0))


def accuracy(network, data_network, farms: list[str], n_outbreaks: int, seed: int
             ) -> dict[str, float]:
    """Top-1 / top-5 hit rates of FCL and the probabilistic ranking.

    network: the true network (outbreaks spread on it); data_network: what the
    investigators know (possibly with missing relations); both rank on it.
    """
    rng = np.random.default_rng(seed)
    truth_tracer = Tracer(network)
    tracer = Tracer(data_network)
    model = WalkModel(data_network, tracer=tracer)
    farm_rows = data_network.resolve_stations(tuple(farms))
    sums = dict.fromkeys(("fcl_top1", "fcl_top5", "prob_top1", "prob_top5"), 0.0)
    done = 0
    while done < n_outbreaks:
        source = farms[int(rng.integers(len(farms)))]
        n_cases = int(rng.integers(5, 41))
        cases = simulate_outbreak(network, source, n_cases=n_cases,
                                  seed=int(rng.integers(2**31)), graph=truth_tracer.graph)
        if cases.empty:
            continue
        truth = farms.index(source)
        scores = fcl_scores(data_network, cases.to_dict(), tracer=tracer)
        fcl = scores.stations["score"].to_numpy()[farm_rows]
        ranking = rank_sources(data_network, cases, candidates=farms, model=model)
        posterior = ranking.set_index("station_id")["posterior"].reindex(farms).to_numpy()
        sums["fcl_top1"] += hit_probability(fcl, truth, 1)
        sums["fcl_top5"] += hit_probability(fcl, truth, 5)
        sums["prob_top1"] += hit_probability(posterior, truth, 1)
        sums["prob_top5"] += hit_probability(posterior, truth, 5)
        done += 1
    return {k: v / done for k, v in sums.items()}


def networkx_forward(network, farm: str) -> tuple[set[str], float]:
    """The same forward trace (lot relations only) with networkx; (stations, seconds)."""
    import networkx as nx

    graph = nx.DiGraph()
    graph.add_nodes_from(network.deliveries["delivery_id"])
    graph.add_edges_from(zip(network.relations["from_delivery"],
                             network.relations["to_delivery"], strict=True))
    recipient = dict(zip(network.deliveries["delivery_id"], network.deliveries["recipient"],
                         strict=True))
    starts = network.deliveries["delivery_id"][network.deliveries["supplier"] == farm]
    start = time.perf_counter()
    reached: set[str] = set(starts)
    for d in starts:
        reached |= nx.descendants(graph, d)
    stations = {recipient[d] for d in reached}
    return stations, time.perf_counter() - start


def timings(seed: int) -> dict[str, float]:
    """Seconds for tracing and ranking on the 100,000-delivery network."""
    t0 = time.perf_counter()
    network = generate_network(LARGE_SPEC, seed=seed)
    generated = time.perf_counter() - t0
    farms = list(network.stations["station_id"][network.stations["station_type"] == "farm"])
    t0 = time.perf_counter()
    tracer = Tracer(network)
    compile_s = time.perf_counter() - t0
    rng = np.random.default_rng(seed)
    cases = pd.Series(dtype=float)
    while cases.empty:
        source = farms[int(rng.integers(len(farms)))]
        cases = simulate_outbreak(network, source, n_cases=40, seed=seed, graph=tracer.graph)
    t0 = time.perf_counter()
    forward = tracer.forward(stations=(source,))
    backward = tracer.backward(stations=list(cases.index))
    trace_s = time.perf_counter() - t0
    retailers = list(network.stations["station_id"][
        network.stations["station_type"] == "retailer"])
    t0 = time.perf_counter()
    wide_forward = tracer.forward(stations=farms[:200])
    wide_backward = tracer.backward(stations=retailers[:500])
    wide_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    fcl_scores(network, cases.to_dict(), tracer=tracer)
    scores_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    ranking = rank_sources(network, cases, model=WalkModel(network, tracer=tracer))
    rank_s = time.perf_counter() - t0
    nx_stations, nx_s = networkx_forward(network, source)
    assert nx_stations == forward.station_ids, "networkx and cascada disagree"
    t0 = time.perf_counter()
    for _ in range(20):
        tracer.forward(stations=(source,))
    one_forward = (time.perf_counter() - t0) / 20
    print(f"100k network: {network.n_deliveries:,} deliveries, {len(network.relations):,} "
          f"relations, {network.n_stations:,} stations (generated in {generated:.1f} s); "
          f"forward trace reaches {forward.station_mask.sum()} stations, backward "
          f"{backward.station_mask.sum()}; wide traces (200 farms forward, 500 retailers "
          f"backward) reach {wide_forward.delivery_mask.sum():,} and "
          f"{wide_backward.delivery_mask.sum():,} deliveries; true source ranked "
          f"{int(ranking.set_index('station_id').loc[source, 'rank'])} of {len(ranking):,} "
          f"suppliers")
    return {"compile_s": compile_s, "trace_s": trace_s, "wide_s": wide_s, "scores_s": scores_s,
            "rank_s": rank_s, "one_forward_s": one_forward, "networkx_forward_s": nx_s}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outbreaks", type=int, default=300, help="simulated outbreaks")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="60 outbreaks, for a smoke run")
    args = parser.parse_args()
    n_outbreaks = 60 if args.quick else args.outbreaks
    network = generate_network(ACCURACY_SPEC, seed=args.seed)
    farms = list(network.stations["station_id"][network.stations["station_type"] == "farm"])
    print(f"accuracy network (synthetic): {network.n_deliveries:,} deliveries, "
          f"{len(network.relations):,} relations, {len(farms)} candidate farms, "
          f"{n_outbreaks} outbreaks, seed {args.seed}")
    full = accuracy(network, network, farms, n_outbreaks, args.seed)
    partial = accuracy(network, drop_relations(network, 0.2, seed=args.seed), farms,
                       n_outbreaks, args.seed)
    speed = timings(args.seed)
    print("ratio below: networkx forward trace time / cascada forward trace time (100k)")
    print("fcl_top1_accuracy: {:.3f} fraction".format(full["fcl_top1"]))
    print("prob_top1_accuracy: {:.3f} fraction".format(full["prob_top1"]))
    print("fcl_top5_accuracy: {:.3f} fraction".format(full["fcl_top5"]))
    print("prob_top5_accuracy: {:.3f} fraction".format(full["prob_top5"]))
    print("fcl_top1_accuracy_missing_links: {:.3f} fraction".format(partial["fcl_top1"]))
    print("prob_top1_accuracy_missing_links: {:.3f} fraction".format(partial["prob_top1"]))
    print("fcl_top5_accuracy_missing_links: {:.3f} fraction".format(partial["fcl_top5"]))
    print("prob_top5_accuracy_missing_links: {:.3f} fraction".format(partial["prob_top5"]))
    print(f"compile_100k: {speed['compile_s']:.3f} s")
    print(f"trace_100k: {speed['trace_s']:.4f} s")
    print(f"wide_traces_100k: {speed['wide_s']:.4f} s")
    print(f"compile_plus_trace_100k: {speed['compile_s'] + speed['trace_s']:.3f} s")
    print(f"fcl_scores_100k: {speed['scores_s']:.3f} s")
    print(f"ranking_100k: {speed['rank_s']:.3f} s")
    print(f"forward_trace_100k: {speed['one_forward_s'] * 1e3:.2f} ms")
    print(f"networkx_forward_trace_100k: {speed['networkx_forward_s'] * 1e3:.2f} ms")
    # ratio: networkx forward trace time / cascada forward trace time
    print(f"ratio: {speed['networkx_forward_s'] / speed['one_forward_s']:.1f}")


if __name__ == "__main__":
    main()
