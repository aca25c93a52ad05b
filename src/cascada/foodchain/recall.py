"""Recall lists: the deliveries and stations downstream of suspect lots or stations."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cascada.foodchain.closures import match_stations_to_assets
from cascada.foodchain.model import FoodNetwork
from cascada.foodchain.trace import TraceOptions, Tracer, TraceResult
from cascada.region.model import Region


@dataclass
class Recall:
    """What to recall.

    trace: the forward trace it comes from.
    deliveries: delivery_id, supplier, recipient, product, lot, departure,
        arrival, amount, unit, start (one row per delivery to recall).
    stations: station_id, name, station_type, n_deliveries (recalled deliveries
        received), amount_received (sum of their amounts, the deliveries' unit),
        asset_id and population_served (people; when a region is given).
    """

    trace: TraceResult
    deliveries: pd.DataFrame
    stations: pd.DataFrame

    @property
    def population_served(self) -> float:
        """People served by the recalled stations that are assets of the region."""
        if "population_served" not in self.stations.columns:
            return 0.0
        return float(self.stations["population_served"].fillna(0.0).sum())


def recall(network: FoodNetwork, *, stations: Iterable[str] = (), lots: Iterable[str] = (),
           deliveries: Iterable[str] = (), options: TraceOptions | None = None,
           region: Region | None = None, tracer: Tracer | None = None) -> Recall:
    """Forward-trace the suspect stations / lots / deliveries and list what to recall.

    With lots, only the deliveries of those lots (of the given stations, if
    any) start the trace; otherwise everything the stations sent out.
    """
    tracer = tracer if tracer is not None else Tracer(network, options)
    trace = tracer.forward(stations=tuple(stations), deliveries=tuple(deliveries),
                           lots=tuple(lots))
    table = trace.deliveries()
    received = table.groupby("recipient").agg(
        n_deliveries=("delivery_id", "size"),
        amount_received=("amount", lambda a: float(np.nansum(a))))
    reached = network.stations.loc[trace.station_mask,
                                   ["station_id", "name", "station_type"]].copy()
    reached = reached.merge(received, left_on="station_id", right_index=True, how="left")
    reached["n_deliveries"] = reached["n_deliveries"].fillna(0).astype(int)
    reached["amount_received"] = reached["amount_received"].fillna(0.0)
    if region is not None:
        matches = match_stations_to_assets(network, region)
        assets = region.assets.set_index("asset_id")
        reached = reached.merge(matches[["station_id", "asset_id"]], on="station_id",
                                how="left")
        served = assets["population_served"] if "population_served" in assets.columns \
            else pd.Series(0.0, index=assets.index)
        reached["population_served"] = reached["asset_id"].map(served).astype(float)
    return Recall(trace, table, reached.reset_index(drop=True))
