"""Synthetic layered supply networks and simulated outbreaks, for benchmarks and tests.

Networks are labelled synthetic. Layers: farms → processors → wholesalers →
retailers. Every station sells to a fixed set of customers in the next layer
(chosen at random, bigger customers more often). A processor makes one lot
per production day from the deliveries it received in the days before; a
wholesaler passes lots through (each outgoing delivery carries one incoming
delivery's lot). Amounts are lognormal, kg.

An outbreak contaminates the deliveries a source station sends out during a
window of days; contamination mixes by mass into the lots made from them, and
cases fall on retailers in proportion to the contaminated mass they receive.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from cascada.foodchain.graph import DeliveryGraph, compile_graph, gather
from cascada.foodchain.model import FoodNetwork

START_DATE = np.datetime64("2024-01-01")


@dataclass(frozen=True)
class LayerSpec:
    """Sizes of the generated network.

    n_farms, n_processors, n_wholesalers, n_retailers: stations per layer.
    n_deliveries: approximate total number of deliveries.
    n_days: length of the period, days.
    customers: customers per station in the next layer.
    ingredients: most recent incoming deliveries that go into a processor lot.
    """

    n_farms: int = 100
    n_processors: int = 20
    n_wholesalers: int = 30
    n_retailers: int = 400
    n_deliveries: int = 5000
    n_days: int = 60
    customers: int = 4
    ingredients: int = 3


def _deliveries(rng: np.random.Generator, suppliers: np.ndarray, customers: np.ndarray,
                n: int, n_days: int, mean_kg: float) -> pd.DataFrame:
    """n deliveries from the supplier rows to their customers on random days."""
    size = rng.pareto(2.0, len(suppliers)) + 1.0
    pick = rng.choice(len(suppliers), size=n, p=size / size.sum())
    customer_table = customers[pick]
    customer = customer_table[np.arange(n), rng.integers(0, customers.shape[1], n)]
    day = rng.integers(0, n_days, n)
    transit = rng.integers(0, 3, n)
    amount = np.round(rng.lognormal(np.log(mean_kg), 0.6, n), 1)
    return pd.DataFrame({"supplier": suppliers[pick], "recipient": customer, "day": day,
                         "arrival_day": day + transit, "amount": amount})


def _customers(rng: np.random.Generator, n_suppliers: int, pool: np.ndarray, k: int
               ) -> np.ndarray:
    """k distinct customers per supplier, drawn without replacement by size (Gumbel top-k)."""
    weight = rng.pareto(1.5, len(pool)) + 1.0
    k = min(k, len(pool))
    keys = np.log(weight)[None, :] + rng.gumbel(size=(n_suppliers, len(pool)))
    return pool[np.argpartition(-keys, k - 1, axis=1)[:, :k]]


def _ingredients(incoming: pd.DataFrame, outgoing: pd.DataFrame, m: int
                 ) -> tuple[np.ndarray, np.ndarray]:
    """(from, to) row pairs: each outgoing delivery takes the m latest incoming
    deliveries of its supplier that arrived strictly before it departs."""
    big = 1 << 20
    in_key = incoming["recipient"].to_numpy(np.int64) * big + incoming["arrival_day"].to_numpy()
    order = np.argsort(in_key, kind="stable")
    sorted_key = in_key[order]
    station_of_sorted = incoming["recipient"].to_numpy(np.int64)[order]
    out_key = outgoing["supplier"].to_numpy(np.int64) * big + outgoing["day"].to_numpy()
    pos = np.searchsorted(sorted_key, out_key, side="left")
    src, dst = [], []
    out_rows = np.arange(len(outgoing))
    out_station = outgoing["supplier"].to_numpy(np.int64)
    for back in range(1, m + 1):
        j = pos - back
        ok = j >= 0
        ok[ok] &= station_of_sorted[j[ok]] == out_station[ok]
        src.append(incoming.index.to_numpy()[order[j[ok]]])
        dst.append(outgoing.index.to_numpy()[out_rows[ok]])
    return np.concatenate(src), np.concatenate(dst)


def generate_network(spec: LayerSpec | None = None, *, seed: int = 0) -> FoodNetwork:
    """A layered synthetic supply network (see the module docstring)."""
    spec = spec or LayerSpec()
    rng = np.random.default_rng(seed)
    sizes = [spec.n_farms, spec.n_processors, spec.n_wholesalers, spec.n_retailers]
    bounds = np.concatenate([[0], np.cumsum(sizes)])
    layers = [np.arange(bounds[i], bounds[i + 1]) for i in range(4)]
    kinds = ["farm", "processor", "wholesaler", "retailer"]
    share = [0.2, 0.25, 0.55]
    mean_kg = [800.0, 200.0, 40.0]
    parts = []
    for i in range(3):
        customers = _customers(rng, sizes[i], layers[i + 1], spec.customers)
        n = max(int(spec.n_deliveries * share[i]), 1)
        part = _deliveries(rng, layers[i], customers, n, spec.n_days, mean_kg[i])
        part["layer"] = i
        parts.append(part)
    table = pd.concat(parts, ignore_index=True)
    # processors: one lot per (station, day) from the latest incoming deliveries;
    # wholesalers: each delivery carries the lot of the latest incoming delivery
    incoming_p = table[table["layer"] == 0]
    out_p = table[table["layer"] == 1]
    src_p, dst_p = _ingredients(incoming_p, out_p, spec.ingredients)
    incoming_w = table[table["layer"] == 1]
    out_w = table[table["layer"] == 2]
    # spread wholesaler lots: each outgoing takes one of the 3 latest, chosen at random
    src_w, dst_w = _ingredients(incoming_w, out_w, 3)
    pick = pd.DataFrame({"src": src_w, "dst": dst_w}).sample(frac=1.0, random_state=seed)
    pick = pick.drop_duplicates("dst")
    src_w, dst_w = pick["src"].to_numpy(), pick["dst"].to_numpy()
    n = len(table)
    ids = np.char.add("D", np.arange(n).astype(str)).astype(object)
    station_names = np.concatenate([
        np.char.add(f"{kinds[i].capitalize()} ", (np.arange(sizes[i]) + 1).astype(str))
        for i in range(4)]).astype(object)
    station_ids = np.char.add("S", np.arange(bounds[-1]).astype(str)).astype(object)
    lot = np.empty(n, dtype=object)
    sup_name = station_ids[table["supplier"].to_numpy()]
    day = table["day"].to_numpy()
    lot[:] = [f"{s}-L{d}" for s, d in zip(sup_name, day, strict=True)]
    # a wholesaler delivery's lot is the lot it carries
    lot[dst_w] = lot[src_w]
    departure = (START_DATE + day).astype(str)
    arrival = (START_DATE + table["arrival_day"].to_numpy()).astype(str)
    products = np.array(["raw produce", "processed food", "packed food"], dtype=object)
    deliveries = pd.DataFrame({
        "delivery_id": ids, "supplier": sup_name,
        "recipient": station_ids[table["recipient"].to_numpy()],
        "product": products[table["layer"].to_numpy()], "lot": lot,
        "departure": departure, "arrival": arrival,
        "amount": table["amount"].to_numpy(), "unit": "kg",
    })
    stations = pd.DataFrame({
        "station_id": station_ids, "name": station_names,
        "station_type": np.repeat(kinds, sizes).astype(object),
    })
    relations = pd.DataFrame({
        "from_delivery": ids[np.concatenate([src_p, src_w])],
        "to_delivery": ids[np.concatenate([dst_p, dst_w])],
    })
    return FoodNetwork.from_tables(deliveries, stations, relations,
                                   metadata={"synthetic": True, "seed": seed,
                                             "generator": "cascada layered"})


def drop_relations(network: FoodNetwork, fraction: float, *, seed: int = 0) -> FoodNetwork:
    """The same network with a random ``fraction`` of the lot relations left out."""
    rng = np.random.default_rng(seed)
    keep = rng.random(len(network.relations)) >= fraction
    return FoodNetwork(network.stations, network.deliveries,
                       network.relations[keep].reset_index(drop=True),
                       network.station_properties, network.delivery_properties,
                       dict(network.metadata))


def contamination(graph: DeliveryGraph, start: np.ndarray, *, max_steps: int = 64
                  ) -> np.ndarray:
    """Share of contaminated mass in each delivery (D float64, 0..1).

    start: rows of the initially contaminated deliveries (share 1). A lot made
    from several deliveries has the mass-weighted mean share of its ingredients.
    """
    n = graph.n_deliveries
    src = np.repeat(np.arange(n), np.diff(graph.next_indptr))
    dst = graph.next_indices
    amount = np.where(np.isfinite(graph.amount) & (graph.amount > 0), graph.amount, 1.0)
    total = np.bincount(dst, weights=amount[src], minlength=n)
    mix = sparse.csr_matrix((amount[src] / total[dst], (dst, src)), shape=(n, n))
    share = np.zeros(n)
    share[start] = 1.0
    initial = share.copy()
    for _ in range(max_steps):
        new = np.maximum(initial, mix @ share)
        if np.array_equal(new, share):
            break
        share = new
    return share


def simulate_outbreak(network: FoodNetwork, source: str, *, n_cases: int = 20,
                      window_days: int = 14, seed: int = 0,
                      graph: DeliveryGraph | None = None) -> pd.Series:
    """Cases per station (station_id -> count) of an outbreak from ``source``.

    The source's outgoing deliveries departing in a random window of
    ``window_days`` are contaminated; cases fall on stations without outgoing
    deliveries in proportion to the contaminated mass they receive (multinomial,
    ``n_cases`` cases). Empty if nothing contaminated reaches a consumer.
    """
    graph = graph if graph is not None else compile_graph(network)
    rng = np.random.default_rng(seed)
    row = network.resolve_stations((source,))
    outs = gather(graph.out_indptr, graph.out_indices, row)
    if outs.size == 0:
        return pd.Series(dtype=np.float64)
    day = (graph.departure[outs, 0] * 372 + graph.departure[outs, 1] * 31
           + graph.departure[outs, 2])
    first = rng.choice(day)
    chosen = outs[(day >= first) & (day < first + window_days)]
    share = contamination(graph, chosen)
    end = np.diff(graph.out_indptr)[graph.recipient] == 0
    mass = np.where(end, share * np.nan_to_num(graph.amount, nan=1.0), 0.0)
    if mass.sum() <= 0:
        return pd.Series(dtype=np.float64)
    counts = rng.multinomial(n_cases, mass / mass.sum())
    hit = counts > 0
    by_station = pd.Series(counts[hit], index=graph.station_ids[graph.recipient[hit]])
    return by_station.groupby(level=0).sum().astype(np.float64)
