"""FoodChain-Lab scores: the share of weighted cases a station or delivery can explain.

score(x) = [w(x) + Σ w(forward stations of x) + Σ w(forward deliveries of x)] / W

with weights on stations (cases, > 0; evidence against, < 0) and deliveries.
FCL reports three scores: the positive score (positive weights only, W = sum
of positive weights), the negative score (negated negative weights, W = sum of
their magnitudes) and the combined score (signed weights, W = the larger of
the two sums). All are 0 when W is 0.

Computed in reverse, one backward trace per weighted station or delivery: x
gets w(c) exactly when c lies in x's forward set, i.e. when x lies in the
set of stations and deliveries from which c is reached.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from cascada.errors import CascadaInputError
from cascada.foodchain.graph import gather
from cascada.foodchain.model import FoodNetwork
from cascada.foodchain.trace import TraceOptions, Tracer


@dataclass
class Scores:
    """FCL scores.

    stations: station_id, name, score, positive_score, negative_score (one row
        per station, table order).
    deliveries: delivery_id, score, positive_score, negative_score.
    """

    stations: pd.DataFrame
    deliveries: pd.DataFrame

    def station_score(self, station_id: str) -> float:
        row = self.stations.index[self.stations["station_id"] == station_id]
        return float(self.stations.loc[row[0], "score"])

    def delivery_score(self, delivery_id: str) -> float:
        row = self.deliveries.index[self.deliveries["delivery_id"] == delivery_id]
        return float(self.deliveries.loc[row[0], "score"])


def fcl_scores(
    network: FoodNetwork,
    station_weights: dict[str, float] | pd.Series | None = None,
    delivery_weights: dict[str, float] | pd.Series | None = None,
    *,
    options: TraceOptions | None = None,
    tracer: Tracer | None = None,
) -> Scores:
    """FCL station and delivery scores.

    station_weights, delivery_weights: id -> weight (cases; e.g. number of
        cases at a station); None takes the ``weight`` columns of the network.
    """
    tracer = tracer if tracer is not None else Tracer(network, options)
    g, t = tracer.graph, tracer.trace_graph
    w_station = _weights(network.stations["station_id"], network.stations["weight"],
                         station_weights)
    w_delivery = _weights(network.deliveries["delivery_id"], network.deliveries["weight"],
                          delivery_weights)
    kinds = {"score": lambda w: w, "positive_score": lambda w: np.maximum(w, 0.0),
             "negative_score": lambda w: np.maximum(-w, 0.0)}
    numer_s = {k: np.zeros(g.n_stations) for k in kinds}
    numer_d = {k: np.zeros(g.n_deliveries) for k in kinds}
    for k, fn in kinds.items():
        numer_s[k] += fn(w_station)
        numer_d[k] += fn(w_delivery)

    def add(delivery_mask: np.ndarray, weight: float,
            supplying: np.ndarray | None = None) -> None:
        stations = np.zeros(g.n_stations, dtype=bool)
        stations[g.supplier[delivery_mask if supplying is None else supplying]] = True
        stations &= ~t.killed_station
        for k, fn in kinds.items():
            value = float(fn(np.float64(weight)))
            if value:
                numer_s[k][stations] += value
                numer_d[k][delivery_mask] += value

    for c in np.flatnonzero(w_station != 0):
        seeds = gather(g.in_indptr, g.in_indices, np.array([c]))
        mask = tracer.backward_reach(seeds)
        mask[seeds[~t.killed_delivery[seeds]]] = True
        add(mask, w_station[c])
    for f in np.flatnonzero(w_delivery != 0):
        mask = tracer.backward_reach(np.array([f]))
        supplying = mask.copy()
        supplying[f] = True  # its supplier explains it; its own weight is in numer_d already
        add(mask, w_delivery[f], supplying)

    all_w = np.concatenate([w_station, w_delivery])
    positive = float(all_w[all_w > 0].sum())
    negative = float(-all_w[all_w < 0].sum())
    denominators = {"score": max(positive, negative), "positive_score": positive,
                    "negative_score": negative}
    stations = network.stations[["station_id", "name"]].copy()
    deliveries = network.deliveries[["delivery_id"]].copy()
    for k in kinds:
        denom = denominators[k]
        stations[k] = numer_s[k] / denom if denom else 0.0
        deliveries[k] = numer_d[k] / denom if denom else 0.0
    return Scores(stations.reset_index(drop=True), deliveries.reset_index(drop=True))


def _weights(ids: pd.Series, column: pd.Series,
             given: dict[str, float] | pd.Series | None) -> np.ndarray:
    if given is None:
        return column.to_numpy(dtype=np.float64).copy()
    series = pd.Series(given, dtype=np.float64)
    unknown = ~series.index.isin(ids)
    if unknown.any():
        raise CascadaInputError(f"weight for unknown id {series.index[unknown][0]!r}",
                                field="weight")
    return series.reindex(ids.to_numpy()).fillna(0.0).to_numpy(dtype=np.float64)
