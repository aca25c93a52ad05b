"""The compiled delivery graph: integer arrays and CSR adjacency, no Python objects.

Deliveries are the nodes of tracing: contamination moves from a delivery into
the deliveries made from it at its recipient (the lot relations), and, where
cross-contamination is possible, into other deliveries leaving that station.
Stations are reached through the deliveries' supplier and recipient columns.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cascada.foodchain.model import FoodNetwork, maybe_before, parse_date_column


@dataclass(frozen=True)
class DeliveryGraph:
    """A FoodNetwork compiled to arrays.

    supplier, recipient: D int64 station rows of each delivery.
    departure, arrival: D × 3 int32 (year, month, day; 0 unknown); where one of
        the two dates is unknown it is taken from the other (as FCL does).
    amount: D float64 (NaN unknown).
    next_indptr, next_indices: CSR over deliveries of the lot relations
        (delivery -> deliveries made from it), sorted, without duplicates.
    out_indptr, out_indices: CSR station -> outgoing deliveries.
    in_indptr, in_indices: CSR station -> incoming deliveries.
    station_ids, delivery_ids: the ids, in table order.
    """

    n_stations: int
    n_deliveries: int
    supplier: np.ndarray
    recipient: np.ndarray
    departure: np.ndarray
    arrival: np.ndarray
    amount: np.ndarray
    next_indptr: np.ndarray
    next_indices: np.ndarray
    out_indptr: np.ndarray
    out_indices: np.ndarray
    in_indptr: np.ndarray
    in_indices: np.ndarray
    station_ids: np.ndarray
    delivery_ids: np.ndarray

    def outgoing(self, stations: np.ndarray) -> np.ndarray:
        """Deliveries leaving the given station rows (int64, may repeat if stations repeat)."""
        return gather(self.out_indptr, self.out_indices, np.asarray(stations, dtype=np.int64))

    def incoming(self, stations: np.ndarray) -> np.ndarray:
        """Deliveries arriving at the given station rows."""
        return gather(self.in_indptr, self.in_indices, np.asarray(stations, dtype=np.int64))


def gather(indptr: np.ndarray, indices: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Concatenated CSR neighbours of ``rows`` (vectorised, no Python loop)."""
    rows = np.asarray(rows, dtype=np.int64)
    if rows.size == 0:
        return np.empty(0, dtype=np.int64)
    starts = indptr[rows]
    counts = indptr[rows + 1] - starts
    total = int(counts.sum())
    if total == 0:
        return np.empty(0, dtype=np.int64)
    offsets = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(total)
    return indices[offsets].astype(np.int64, copy=False)


def unique_sorted(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values of an int array (sort-based; faster than np.unique here)."""
    values = np.sort(np.asarray(values, dtype=np.int64))
    if values.size < 2:
        return values
    keep = np.empty(values.size, dtype=bool)
    keep[0] = True
    np.not_equal(values[1:], values[:-1], out=keep[1:])
    return values[keep]


def csr_from_edges(src: np.ndarray, dst: np.ndarray, n_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """(indptr, indices) of the edges src -> dst, duplicates removed, neighbours sorted."""
    src = np.asarray(src, dtype=np.int64)
    dst = np.asarray(dst, dtype=np.int64)
    if src.size:
        width = max(n_rows, 1)
        key = unique_sorted(src * width + dst)
        src, dst = key // width, key % width
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.add.at(indptr, src + 1, 1)
    return np.cumsum(indptr), dst


def _grouped(keys: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(keys, kind="stable")
    indptr = np.concatenate([[0], np.cumsum(np.bincount(keys, minlength=n))]).astype(np.int64)
    return indptr, order.astype(np.int64)


def compile_graph(network: FoodNetwork) -> DeliveryGraph:
    """Compile a validated FoodNetwork into a DeliveryGraph."""
    stations = network.station_index()
    deliveries = network.deliveries
    supplier = stations.get_indexer(deliveries["supplier"]).astype(np.int64)
    recipient = stations.get_indexer(deliveries["recipient"]).astype(np.int64)
    ids = deliveries["delivery_id"]
    departure = parse_date_column(deliveries["departure"], "departure", ids, None)
    arrival = parse_date_column(deliveries["arrival"], "arrival", ids, None)
    no_arrival = arrival[:, 0] == 0
    arrival[no_arrival] = departure[no_arrival]
    no_departure = departure[:, 0] == 0
    departure[no_departure] = arrival[no_departure]
    n, d = len(stations), len(deliveries)
    src, dst = network.relation_indices()
    next_indptr, next_indices = csr_from_edges(src, dst, d)
    out_indptr, out_indices = _grouped(supplier, n)
    in_indptr, in_indices = _grouped(recipient, n)
    return DeliveryGraph(
        n_stations=n, n_deliveries=d, supplier=supplier, recipient=recipient,
        departure=departure, arrival=arrival,
        amount=deliveries["amount"].to_numpy(dtype=np.float64),
        next_indptr=next_indptr, next_indices=next_indices,
        out_indptr=out_indptr, out_indices=out_indices,
        in_indptr=in_indptr, in_indices=in_indices,
        station_ids=network.stations["station_id"].to_numpy(dtype=object),
        delivery_ids=deliveries["delivery_id"].to_numpy(dtype=object),
    )


def delivery_before(graph: DeliveryGraph, first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Whether delivery ``first`` may have arrived before ``second`` departed (element-wise)."""
    return maybe_before(graph.arrival[first], graph.departure[second])
