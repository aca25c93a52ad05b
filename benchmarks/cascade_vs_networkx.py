"""Cascade propagation: cascada's bit-parallel kernel against a plain networkx loop.

Same synthetic region, same damage, same semantics (k-of-n groups, backup
reserves, power ↔ telecom cycles resolved to the greatest fixed point):

- cascada: ``compile_graph`` once, then ``propagate`` on 64 samples at once.
  Numba compilation is excluded (a warm-up call runs first).
- networkx: a DiGraph (supplier → consumer, edge attribute ``group``); per
  sample and per hour, start from the intact nodes, drop every node with an
  unsupported group, repeat until nothing changes, then charge the backups.
  It runs on ``--peer-samples`` samples only; its time per sample is scaled
  to ``--samples`` (stated in the output).

Both must agree exactly on the samples both ran. Run::

    python benchmarks/cascade_vs_networkx.py [--assets 100000 --edges 300000 ...]

Figures are printed last, one per line (``name: value unit``); the final line
is ``ratio: N``, how many times faster cascada is on ``--samples`` samples.
"""

from __future__ import annotations

import argparse
import time

import networkx as nx
import numpy as np
import pandas as pd

from cascada.cascade import compile_graph, propagate


# --------------------------------------------------------------------------- synthetic region
def _local(rng: np.random.Generator, index: np.ndarray, n_from: int, n_to: int, spread: int):
    """Suppliers near each consumer: consumers are laid along a line and map to a
    supplier layer of n_to by position, plus a small random offset (locality)."""
    centre = (index.astype(np.int64) * n_to) // max(n_from, 1)
    offset = rng.integers(-spread, spread + 1, size=len(index))
    return np.clip(centre + offset, 0, n_to - 1)


def synthetic_region(
    n_assets: int, n_edges: int, seed: int
) -> tuple[list[str], pd.DataFrame, dict[str, np.ndarray]]:
    """A layered region: plants → transmission → distribution → consumers.

    Transmission substations take 2 of 3 plants; distribution substations take
    1 of 2 transmission substations and 1 of 2 telecom nodes (SCADA, no
    backup); telecom nodes run on one distribution substation with 4–8 h of
    battery (the power ↔ telecom cycles); water pumps run on one distribution
    substation (some with 12 h of generator); consumers take power from 1–4
    distribution substations (k = 1; hospitals with 48 h of generator), and
    usually telecom and water. Returns (asset ids, dependency table, layer
    positions).
    """
    rng = np.random.default_rng(seed)
    sizes = {
        "plant": max(3, n_assets // 5000),
        "transmission": max(3, n_assets // 200),
        "distribution": max(4, n_assets // 20),
        "telecom": max(2, n_assets // 50),
        "water": max(2, n_assets // 100),
    }
    sizes["consumer"] = n_assets - sum(sizes.values())
    if sizes["consumer"] < 10:
        raise SystemExit("--assets is too small for the layered region (use >= 500)")
    start, layers, ids = 0, {}, []
    for name, size in sizes.items():
        layers[name] = np.arange(start, start + size)
        ids += [f"{name}-{i}" for i in range(size)]
        start += size

    frames = []

    def add(consumer, supplier, group, k, backup_hours):
        frames.append(
            pd.DataFrame(
                {
                    "consumer": consumer,
                    "supplier": supplier,
                    "group": group,
                    "k": k,
                    "backup_hours": backup_hours,
                }
            )
        )

    def group_edges(consumers, supplier_layer, n_each, spread, group, k, backup):
        n_sup = len(supplier_layer)
        base = _local(rng, np.arange(len(consumers)), len(consumers), n_sup, spread)
        for j in range(n_each):
            idx = (base + j) % n_sup
            add(consumers, supplier_layer[idx], group, k, backup)

    # transmission: 2 of 3 plants
    group_edges(layers["transmission"], layers["plant"], 3, 1, "power", 2, 0.0)
    # distribution: 1 of 2 transmission substations, 1 of 2 telecom nodes (SCADA)
    group_edges(layers["distribution"], layers["transmission"], 2, 2, "power", 1, 0.0)
    group_edges(layers["distribution"], layers["telecom"], 2, 2, "scada", 1, 0.0)
    # telecom: one distribution substation, 4–8 h of battery
    battery = rng.integers(4, 9, size=len(layers["telecom"])).astype(float)
    group_edges(layers["telecom"], layers["distribution"], 1, 3, "power", 1, battery)
    # water pumps: one distribution substation, a third with a 12 h generator
    generator = np.where(rng.random(len(layers["water"])) < 1 / 3, 12.0, 0.0)
    group_edges(layers["water"], layers["distribution"], 1, 3, "power", 1, generator)

    # consumers: spend the rest of the edge budget
    consumers = layers["consumer"]
    n_cons = len(consumers)
    used = sum(len(f) for f in frames)
    per_consumer = max(n_edges - used, n_cons) / n_cons
    has_telecom = rng.random(n_cons) < 0.8
    has_water = rng.random(n_cons) < 0.8
    extra_power = np.clip((per_consumer - 1.6 - 1.0) / 3.0, 0.0, 1.0)
    n_power = 1 + rng.binomial(3, extra_power, size=n_cons)
    backup = np.where(rng.random(n_cons) < 0.05, 48.0, 0.0)  # hospitals and the like
    position = np.arange(n_cons)
    dist = layers["distribution"]
    base = _local(rng, position, n_cons, len(dist), 2)
    for j in range(4):
        take = n_power > j
        add(consumers[take], dist[(base[take] + j) % len(dist)], "power", 1, backup[take])
    tel = layers["telecom"]
    add(
        consumers[has_telecom],
        tel[_local(rng, position, n_cons, len(tel), 2)[has_telecom]],
        "telecom",
        1,
        0.0,
    )
    wat = layers["water"]
    add(
        consumers[has_water],
        wat[_local(rng, position, n_cons, len(wat), 2)[has_water]],
        "water",
        1,
        0.0,
    )

    edges = pd.concat(frames, ignore_index=True)
    id_array = np.asarray(ids, dtype=object)
    deps = pd.DataFrame(
        {
            "consumer": id_array[edges["consumer"].to_numpy()],
            "supplier": id_array[edges["supplier"].to_numpy()],
            "kind": edges["group"].replace({"scada": "telecom"}),
            "group": edges["group"],
            "k": edges["k"].astype(int),
            "backup_hours": edges["backup_hours"].astype(float),
        }
    )
    deps = deps.drop_duplicates(["consumer", "supplier"]).reset_index(drop=True)
    # k-of-n must stay within the group after de-duplication
    size = deps.groupby(["consumer", "group"])["supplier"].transform("size")
    deps["k"] = np.minimum(deps["k"].to_numpy(), size.to_numpy())
    return ids, deps, layers


def synthetic_damage(
    layers: dict[str, np.ndarray], n_assets: int, n_samples: int, seed: int, pool_size: int = 600
) -> np.ndarray:
    """An event footprint: a local window of ~``pool_size`` assets across the layers;
    each sample damages each of them with probability 1/2 (a few hundred per
    sample), repaired after 1–48 h, one in ten not within the horizon.
    Returns float32 [n_samples, n_assets]."""
    rng = np.random.default_rng(seed + 1)
    where = rng.random()
    pool = []
    share = {"transmission": 0.01, "distribution": 0.04, "telecom": 0.03, "water": 0.02}
    for name, fraction in share.items():
        layer = layers[name]
        count = max(1, int(pool_size * fraction))
        first = int(where * max(len(layer) - count, 0))
        pool.append(layer[first : first + count])
    consumers = layers["consumer"]
    count = pool_size - sum(len(p) for p in pool)
    first = int(where * max(len(consumers) - count, 0))
    pool.append(consumers[first : first + count])
    pool = np.concatenate(pool)

    repair = np.zeros((n_samples, n_assets), dtype=np.float32)
    hit = rng.random((n_samples, len(pool))) < 0.5
    hours = rng.uniform(1.0, 48.0, size=(n_samples, len(pool))).astype(np.float32)
    hours[rng.random((n_samples, len(pool))) < 0.1] = np.inf
    repair[:, pool] = np.where(hit, hours, 0.0)
    return repair


# --------------------------------------------------------------------------- networkx peer
def networkx_graph(ids: list[str], deps: pd.DataFrame) -> nx.DiGraph:
    """supplier → consumer edges with their group; each node knows its groups' (k, backup)."""
    graph = nx.DiGraph()
    graph.add_nodes_from((asset_id, {"groups": {}}) for asset_id in ids)
    for row in deps.itertuples(index=False):
        graph.add_edge(row.supplier, row.consumer, group=row.group)
        graph.nodes[row.consumer]["groups"][row.group] = (
            int(row.k),
            int(np.floor(row.backup_hours)),
        )
    return graph


def networkx_cascade(graph: nx.DiGraph, repair_hours: dict[str, float], hours: int) -> list[set]:
    """One sample: the set of working nodes in each hour.

    Each hour: start from the intact nodes, sweep the consumers and drop those
    with a group that has fewer than k working suppliers and no backup left,
    until a sweep drops nothing; then charge an hour of backup to every
    unsatisfied group.
    """
    groups = dict(graph.nodes(data="groups"))
    consumers = [node for node in graph if groups[node]]
    used: dict[tuple[str, str], int] = {}
    result = []

    def unsatisfied(node: str, working: set) -> list[str]:
        count = dict.fromkeys(groups[node], 0)
        for supplier, data in graph.pred[node].items():
            if supplier in working:
                count[data["group"]] += 1
        return [g for g, (k, _) in groups[node].items() if count[g] < k]

    for t in range(hours):
        working = {node for node in graph if repair_hours[node] <= t}
        changed = True
        while changed:
            changed = False
            for node in consumers:
                if node in working and any(
                    used.get((node, g), 0) >= groups[node][g][1] for g in unsatisfied(node, working)
                ):
                    working.discard(node)
                    changed = True
        result.append(working)
        for node in consumers:
            for g in unsatisfied(node, working):
                if used.get((node, g), 0) < groups[node][g][1]:
                    used[(node, g)] = used.get((node, g), 0) + 1
    return result


# --------------------------------------------------------------------------- main
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--assets", type=int, default=100_000, help="assets in the region")
    parser.add_argument("--edges", type=int, default=300_000, help="dependency edges (about)")
    parser.add_argument("--hours", type=int, default=24, help="simulated hours")
    parser.add_argument("--samples", type=int, default=64, help="samples for cascada (<= 64)")
    parser.add_argument(
        "--peer-samples",
        type=int,
        default=1,
        help="samples networkx runs (~75 s each at default size)",
    )
    parser.add_argument("--repeats", type=int, default=5, help="timed cascada runs (median)")
    parser.add_argument("--seed", type=int, default=20240601, help="seed for region and damage")
    args = parser.parse_args()
    if not 1 <= args.samples <= 64:
        parser.error("--samples must be 1..64 (one uint64 word)")
    peer_samples = min(args.peer_samples, args.samples)

    ids, deps, layers = synthetic_region(args.assets, args.edges, args.seed)
    repair = synthetic_damage(layers, len(ids), args.samples, args.seed)

    t0 = time.perf_counter()
    graph = compile_graph(deps, ids)
    compile_s = time.perf_counter() - t0
    propagate(graph, repair, args.hours)  # warm-up: numba compilation (or cache load)
    times = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        state = propagate(graph, repair, args.hours)
        times.append(time.perf_counter() - t0)
    cascada_s = float(np.median(times))

    t0 = time.perf_counter()
    nx_graph = networkx_graph(ids, deps)
    nx_build_s = time.perf_counter() - t0
    nx_times = []
    for s in range(peer_samples):
        repair_of = dict(zip(ids, repair[s].tolist(), strict=True))
        t0 = time.perf_counter()
        working_sets = networkx_cascade(nx_graph, repair_of, args.hours)
        nx_times.append(time.perf_counter() - t0)
        position = {asset_id: i for i, asset_id in enumerate(ids)}
        expected = np.zeros((args.hours, len(ids)), dtype=bool)
        for t, working in enumerate(working_sets):
            expected[t, [position[a] for a in working]] = True
        got = ((state.working >> np.uint64(s)) & np.uint64(1)).astype(bool)
        mismatch = int((got != expected).sum())
        assert mismatch == 0, f"sample {s}: cascada and networkx differ in {mismatch} cells"
    nx_per_sample = float(np.mean(nx_times))
    nx_scaled = nx_per_sample * args.samples
    down = state.down_hours()
    damaged = (repair > 0).sum(axis=1)

    print(
        f"region: {len(ids)} assets, {len(deps)} edges, {graph.n_groups} groups, seed {args.seed}"
    )
    print(
        f"damage: {damaged.mean():.0f} assets damaged per sample (mean); "
        f"{(down > 0).sum(axis=1).mean():.0f} assets ever down per sample (mean)"
    )
    print(
        f"measured: cascada propagate on {args.samples} samples × {args.hours} h "
        f"(median of {args.repeats}, numba compile excluded); networkx on {peer_samples} "
        f"sample(s) × {args.hours} h"
    )
    print(
        f"scaled: networkx time per sample × {args.samples} samples; "
        f"graph building (compile_graph, DiGraph) excluded from both"
    )
    print(f"agreement: cascada == networkx on {peer_samples} sample(s), every asset and hour")
    print(f"compile_graph_time: {compile_s:.3f} s")
    print(f"networkx_build_time: {nx_build_s:.3f} s")
    print(f"cascada_time: {cascada_s:.4f} s")
    print(f"cascada_time_per_sample: {cascada_s / args.samples * 1e3:.3f} ms")
    print(f"networkx_time_per_sample: {nx_per_sample:.2f} s")
    print(f"networkx_time_{args.samples}_samples_scaled: {nx_scaled:.1f} s")
    print(f"ratio: {nx_scaled / cascada_s:.0f}")


if __name__ == "__main__":
    main()
