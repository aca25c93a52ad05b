"""Forward and backward tracing through lots, as FoodChain-Lab defines it.

Contamination moves from a delivery into the deliveries made from it (the lot
relations). Options, as in FCL:

- temporal order: cross-contamination links an incoming delivery to an
  outgoing one only if it may have arrived before the other departed (unknown
  date parts count as "may");
- cross-contamination at a station: every incoming delivery may contaminate
  every outgoing one; at a delivery: the cross-contaminating deliveries into
  one station share the deliveries made from each of them;
- kill-contamination (e.g. heat treatment) at a station: nothing leaves it
  contaminated (its outgoing deliveries carry no contamination from before);
  at a delivery: it contaminates nothing further, not even its recipient.

Every trace is a breadth-first search over CSR arrays, one NumPy step per
frontier, never a Python recursion per delivery.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cascada.errors import CascadaInputError
from cascada.foodchain.graph import (
    DeliveryGraph,
    compile_graph,
    csr_from_edges,
    gather,
    unique_sorted,
)
from cascada.foodchain.model import FoodNetwork, maybe_before


@dataclass(frozen=True)
class TraceOptions:
    """Tracing settings; station and delivery ids as in the network's tables."""

    enforce_temporal_order: bool = True
    cross_contamination_stations: tuple[str, ...] = ()
    cross_contamination_deliveries: tuple[str, ...] = ()
    kill_contamination_stations: tuple[str, ...] = ()
    kill_contamination_deliveries: tuple[str, ...] = ()

    @classmethod
    def from_network(cls, network: FoodNetwork, **overrides: object) -> TraceOptions:
        """The settings stored in the network (FCL ``tracing`` section), with overrides."""
        s, d = network.stations, network.deliveries
        values: dict = dict(
            enforce_temporal_order=bool(network.metadata.get("enforce_temporal_order", True)),
            cross_contamination_stations=tuple(s["station_id"][s["cross_contamination"]]),
            cross_contamination_deliveries=tuple(d["delivery_id"][d["cross_contamination"]]),
            kill_contamination_stations=tuple(s["station_id"][s["kill_contamination"]]),
            kill_contamination_deliveries=tuple(d["delivery_id"][d["kill_contamination"]]),
        )
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


@dataclass(frozen=True)
class TraceGraph:
    """The delivery graph with the options applied: effective links and kill masks.

    next_*/prev_*: CSR over deliveries of the effective links (lot relations,
    plus cross-contamination, minus kill-contamination) and their reverse.
    killed_station, killed_delivery: bool masks (S,) and (D,).
    """

    graph: DeliveryGraph
    options: TraceOptions
    next_indptr: np.ndarray
    next_indices: np.ndarray
    prev_indptr: np.ndarray
    prev_indices: np.ndarray
    killed_station: np.ndarray
    killed_delivery: np.ndarray

    @property
    def n_links(self) -> int:
        return int(self.next_indptr[-1])


def _rows(ids: Iterable[str], table_ids: np.ndarray, kind: str) -> np.ndarray:
    index = pd.Index(table_ids)
    ids = list(ids)
    rows = index.get_indexer(ids) if ids else np.empty(0, dtype=np.int64)
    if (rows < 0).any():
        bad = ids[int(np.flatnonzero(rows < 0)[0])]
        raise CascadaInputError(f"unknown {kind} {bad!r}", field=kind)
    return rows.astype(np.int64)


def apply_options(graph: DeliveryGraph, options: TraceOptions) -> TraceGraph:
    """Effective links under the options (vectorised; see the module docstring)."""
    n_d = graph.n_deliveries
    src = np.repeat(np.arange(n_d, dtype=np.int64), np.diff(graph.next_indptr))
    dst = graph.next_indices.astype(np.int64)
    temporal = options.enforce_temporal_order

    # cross-contamination at stations: every incoming x every outgoing delivery
    cc_stations = np.unique(_rows(options.cross_contamination_stations, graph.station_ids,
                                  "station"))
    if cc_stations.size:
        ins = graph.incoming(cc_stations)
        at = graph.recipient[ins]
        pair_in = np.repeat(ins, graph.out_indptr[at + 1] - graph.out_indptr[at])
        pair_out = graph.outgoing(at)  # each incoming delivery x its station's outgoing ones
        keep = pair_in != pair_out
        if temporal:
            keep &= maybe_before(graph.arrival[pair_in], graph.departure[pair_out])
        src = np.concatenate([src, pair_in[keep]])
        dst = np.concatenate([dst, pair_out[keep]])

    # cross-contamination of deliveries: those into one station share their next deliveries
    cc_deliveries = np.unique(_rows(options.cross_contamination_deliveries, graph.delivery_ids,
                                    "delivery"))
    if cc_deliveries.size > 1:
        is_cc = np.zeros(n_d, dtype=bool)
        is_cc[cc_deliveries] = True
        links = pd.DataFrame({"in": src[is_cc[src]], "out": dst[is_cc[src]]})
        links["station"] = graph.recipient[links["in"].to_numpy()]
        members = pd.DataFrame({"member": cc_deliveries,
                                "station": graph.recipient[cc_deliveries]})
        pairs = members.merge(links[["station", "out"]].drop_duplicates(), on="station")
        pair_in = pairs["member"].to_numpy(np.int64)
        pair_out = pairs["out"].to_numpy(np.int64)
        keep = pair_in != pair_out
        if temporal:
            keep &= maybe_before(graph.arrival[pair_in], graph.departure[pair_out])
        src = np.concatenate([src, pair_in[keep]])
        dst = np.concatenate([dst, pair_out[keep]])

    killed_station = np.zeros(graph.n_stations, dtype=bool)
    killed_station[_rows(options.kill_contamination_stations, graph.station_ids,
                         "station")] = True
    killed_delivery = np.zeros(n_d, dtype=bool)
    killed_delivery[_rows(options.kill_contamination_deliveries, graph.delivery_ids,
                          "delivery")] = True
    keep = ~killed_station[graph.recipient[src]] & ~killed_station[graph.supplier[dst]]
    keep &= ~killed_delivery[src] & (src != dst)
    src, dst = src[keep], dst[keep]
    next_indptr, next_indices = csr_from_edges(src, dst, n_d)
    prev_indptr, prev_indices = csr_from_edges(dst, src, n_d)
    return TraceGraph(graph, options, next_indptr, next_indices, prev_indptr, prev_indices,
                      killed_station, killed_delivery)


def reach(indptr: np.ndarray, indices: np.ndarray, seeds: np.ndarray, n: int) -> np.ndarray:
    """Nodes reachable from ``seeds`` over at least one link (bool mask, length n).

    Multi-source breadth-first search: each step gathers the CSR neighbours
    of the whole frontier at once.
    """
    seen = np.zeros(n, dtype=bool)
    frontier = unique_sorted(seeds)
    while frontier.size:
        neighbours = gather(indptr, indices, frontier)
        neighbours = neighbours[~seen[neighbours]]
        if neighbours.size == 0:
            break
        neighbours = unique_sorted(neighbours)
        seen[neighbours] = True
        frontier = neighbours
    return seen


@dataclass
class TraceResult:
    """The stations and deliveries a trace reaches.

    direction: "forward" or "backward".
    station_mask (S,), delivery_mask (D,): reached (starts not included unless
        reached again); start_stations, start_deliveries: row indices of the starts.
    """

    network: FoodNetwork
    direction: str
    station_mask: np.ndarray
    delivery_mask: np.ndarray
    start_stations: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    start_deliveries: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))

    @property
    def station_ids(self) -> set[str]:
        return set(self.network.stations["station_id"].to_numpy()[self.station_mask])

    @property
    def delivery_ids(self) -> set[str]:
        return set(self.network.deliveries["delivery_id"].to_numpy()[self.delivery_mask])

    def stations(self) -> pd.DataFrame:
        """Reached stations, with a ``start`` column, in table order."""
        start = np.zeros(len(self.station_mask), dtype=bool)
        start[self.start_stations] = True
        mask = self.station_mask | start
        table = self.network.stations.loc[mask, ["station_id", "name", "station_type"]].copy()
        table["start"] = start[mask]
        return table.reset_index(drop=True)

    def deliveries(self) -> pd.DataFrame:
        """Reached deliveries (and the start deliveries), with a ``start`` column."""
        start = np.zeros(len(self.delivery_mask), dtype=bool)
        start[self.start_deliveries] = True
        mask = self.delivery_mask | start
        columns = ["delivery_id", "supplier", "recipient", "product", "lot", "departure",
                   "arrival", "amount", "unit"]
        table = self.network.deliveries.loc[mask, columns].copy()
        table["start"] = start[mask]
        return table.reset_index(drop=True)


class Tracer:
    """Forward and backward traces of one network under one set of options."""

    def __init__(self, network: FoodNetwork, options: TraceOptions | None = None,
                 graph: DeliveryGraph | None = None) -> None:
        self.network = network
        self.options = options if options is not None else TraceOptions.from_network(network)
        self.graph = graph if graph is not None else compile_graph(network)
        self.trace_graph = apply_options(self.graph, self.options)

    # -------------------------------------------------------- primitive masks
    def forward_reach(self, deliveries: np.ndarray) -> np.ndarray:
        """Deliveries reached from the given ones over >= 1 link (bool, D)."""
        t = self.trace_graph
        return reach(t.next_indptr, t.next_indices, deliveries, self.graph.n_deliveries)

    def backward_reach(self, deliveries: np.ndarray) -> np.ndarray:
        """Deliveries from which the given ones are reached over >= 1 link (bool, D)."""
        t = self.trace_graph
        return reach(t.prev_indptr, t.prev_indices, deliveries, self.graph.n_deliveries)

    def _stations_of(self, rows: np.ndarray, column: np.ndarray) -> np.ndarray:
        mask = np.zeros(self.graph.n_stations, dtype=bool)
        mask[column[rows]] = True
        return mask

    # -------------------------------------------------------- traces
    def forward(self, stations: Iterable[str] = (), deliveries: Iterable[str] = (),
                lots: Iterable[str] = ()) -> TraceResult:
        """Where contamination at these stations, deliveries or lots can go.

        From a station: its outgoing deliveries (none if it kills contamination)
        and everything they reach. From a delivery or a lot's deliveries:
        everything they reach; their recipients unless the delivery kills
        contamination.
        """
        g, t = self.graph, self.trace_graph
        station_rows = self.network.resolve_stations(tuple(stations)) if stations else \
            np.empty(0, np.int64)
        delivery_rows = self._delivery_rows(deliveries, lots, station_rows)
        from_stations = g.outgoing(station_rows[~t.killed_station[station_rows]]) \
            if not lots else np.empty(0, np.int64)
        starts = np.unique(np.concatenate([from_stations, delivery_rows]))
        reached = self.forward_reach(starts)
        carrying = reached.copy()
        carrying[starts[~t.killed_delivery[starts]]] = True
        delivery_mask = reached.copy()
        delivery_mask[from_stations] = True
        return TraceResult(self.network, "forward",
                           self._stations_of(np.flatnonzero(carrying), g.recipient),
                           delivery_mask, station_rows, delivery_rows)

    def backward(self, stations: Iterable[str] = (), deliveries: Iterable[str] = (),
                 lots: Iterable[str] = ()) -> TraceResult:
        """Where contamination found at these stations or deliveries can come from.

        To a station: its incoming deliveries (except those that kill
        contamination), their suppliers (unless they kill contamination) and
        everything upstream of them.
        """
        g, t = self.graph, self.trace_graph
        station_rows = self.network.resolve_stations(tuple(stations)) if stations else \
            np.empty(0, np.int64)
        delivery_rows = self._delivery_rows(deliveries, lots, np.empty(0, np.int64))
        into = g.incoming(station_rows)
        into = into[~t.killed_delivery[into]]
        starts = np.unique(np.concatenate([into, delivery_rows]))
        reached = self.backward_reach(starts)
        station_mask = self._stations_of(np.flatnonzero(reached), g.supplier)
        own = starts[~t.killed_station[g.supplier[starts]]]
        station_mask[g.supplier[own]] = True
        delivery_mask = reached.copy()
        delivery_mask[into] = True
        return TraceResult(self.network, "backward", station_mask, delivery_mask,
                           station_rows, delivery_rows)

    def _delivery_rows(self, deliveries: Iterable[str], lots: Iterable[str],
                       station_rows: np.ndarray) -> np.ndarray:
        parts = [np.empty(0, np.int64)]
        deliveries, lots = tuple(deliveries), tuple(lots)
        if deliveries:
            parts.append(self.network.resolve_deliveries(deliveries))
        if lots:
            parts.append(self.network.resolve_lots(lots, station_rows))
        return np.unique(np.concatenate(parts))

    # -------------------------------------------------------- FCL set queries
    def forward_deliveries_of_delivery(self, delivery: str) -> set[str]:
        """FCL: deliveries reached from a delivery, not counting itself."""
        row = self.network.resolve_deliveries((delivery,))
        mask = self.forward_reach(row)
        mask[row] = False
        return set(self.graph.delivery_ids[mask])

    def backward_deliveries_of_delivery(self, delivery: str) -> set[str]:
        """FCL: deliveries from which a delivery is reached, not counting itself."""
        row = self.network.resolve_deliveries((delivery,))
        mask = self.backward_reach(row)
        mask[row] = False
        return set(self.graph.delivery_ids[mask])

    def forward_stations_of_station(self, station: str) -> set[str]:
        return self.forward(stations=(station,)).station_ids

    def backward_stations_of_station(self, station: str) -> set[str]:
        return self.backward(stations=(station,)).station_ids

    def forward_deliveries_of_station(self, station: str) -> set[str]:
        return self.forward(stations=(station,)).delivery_ids

    def backward_deliveries_of_station(self, station: str) -> set[str]:
        return self.backward(stations=(station,)).delivery_ids

    def forward_stations_of_delivery(self, delivery: str) -> set[str]:
        return self.forward(deliveries=(delivery,)).station_ids

    def backward_stations_of_delivery(self, delivery: str) -> set[str]:
        return self.backward(deliveries=(delivery,)).station_ids


def trace_forward(network: FoodNetwork, *, stations: Iterable[str] = (),
                  deliveries: Iterable[str] = (), lots: Iterable[str] = (),
                  options: TraceOptions | None = None) -> TraceResult:
    """Forward trace (see :meth:`Tracer.forward`)."""
    return Tracer(network, options).forward(stations, deliveries, lots)


def trace_backward(network: FoodNetwork, *, stations: Iterable[str] = (),
                   deliveries: Iterable[str] = (), lots: Iterable[str] = (),
                   options: TraceOptions | None = None) -> TraceResult:
    """Backward trace (see :meth:`Tracer.backward`)."""
    return Tracer(network, options).backward(stations, deliveries, lots)
