"""From contaminated food businesses to closures of a region's assets.

A station that received contaminated food and is a food facility of the
region (a supermarket, a processing site) is closed: it becomes an asset with
damage state 4 in an "attack"-hazard EventSet (the attack hazard's intensity
is the damage state itself), so its loss flows into food-service impact like
any other failure. The closure list also carries how long each asset stays
closed, for callers that set outage windows directly.
"""

from __future__ import annotations

from collections.abc import Iterable
from fnmatch import fnmatch

import numpy as np
import pandas as pd
from scipy import sparse

from cascada.errors import CascadaInputError
from cascada.foodchain.model import FoodNetwork
from cascada.hazards.eventset import EventSet
from cascada.region.model import Region

CLOSED_DAMAGE_STATE = 4
DEFAULT_CLOSURE_HOURS = 72.0
EARTH_RADIUS_M = 6_371_008.8


def _haversine_m(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray
                 ) -> np.ndarray:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi, dlmb = p2 - p1, np.radians(lon2 - lon1)
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def match_stations_to_assets(
    network: FoodNetwork,
    region: Region,
    *,
    asset_types: Iterable[str] = ("food.*",),
    max_distance_m: float = 250.0,
) -> pd.DataFrame:
    """Which region asset each station is.

    A station property ``asset_id`` naming a region asset wins; otherwise the
    nearest asset of the given types (glob patterns) within ``max_distance_m``
    of the station's latitude/longitude.
    Returns: station_id, asset_id, distance_m (0 for explicit matches), one
    row per matched station.
    """
    assets = region.assets
    known = set(assets["asset_id"])
    rows: list[tuple[str, str, float]] = []
    explicit = network.station_properties.get("asset_id")
    matched = np.zeros(len(network.stations), dtype=bool)
    if explicit is not None:
        for i, value in enumerate(explicit):
            if value is None or (isinstance(value, float) and np.isnan(value)) or value == "":
                continue
            if str(value) not in known:
                raise CascadaInputError(
                    f"unknown asset {value!r}",
                    row=f"station {network.stations['station_id'].iloc[i]!r}",
                    field="asset_id", hint="asset_id must name an asset of the region")
            rows.append((network.stations["station_id"].iloc[i], str(value), 0.0))
            matched[i] = True
    patterns = list(asset_types)
    is_type = assets["asset_type"].map(lambda t: any(fnmatch(t, p) for p in patterns))
    candidates = assets[is_type.to_numpy()]
    if len(candidates):
        points = candidates.geometry.representative_point()
        a_lat, a_lon = points.y.to_numpy(), points.x.to_numpy()
        lat = network.stations["latitude"].to_numpy()
        lon = network.stations["longitude"].to_numpy()
        for i in np.flatnonzero(~matched & np.isfinite(lat) & np.isfinite(lon)):
            distance = _haversine_m(lat[i], lon[i], a_lat, a_lon)
            j = int(np.argmin(distance))
            if distance[j] <= max_distance_m:
                rows.append((network.stations["station_id"].iloc[i],
                             candidates["asset_id"].iloc[j], float(distance[j])))
    return pd.DataFrame(rows, columns=["station_id", "asset_id", "distance_m"])


def closure_list(
    stations: Iterable[str],
    matches: pd.DataFrame,
    region: Region,
    *,
    closure_hours: float = DEFAULT_CLOSURE_HOURS,
) -> pd.DataFrame:
    """Assets to close: asset_id, station_id, asset_type, name, closure_hours,
    population_served (people), one row per asset (first station wins)."""
    if closure_hours <= 0 or not np.isfinite(closure_hours):
        raise CascadaInputError("closure hours must be > 0", field="closure_hours")
    wanted = matches[matches["station_id"].isin(set(stations))]
    wanted = wanted.drop_duplicates("asset_id")
    assets = region.assets.set_index("asset_id")
    table = pd.DataFrame({
        "asset_id": wanted["asset_id"].to_numpy(),
        "station_id": wanted["station_id"].to_numpy(),
    })
    table["asset_type"] = assets.loc[table["asset_id"], "asset_type"].to_numpy()
    table["name"] = assets.loc[table["asset_id"], "name"].to_numpy()
    table["closure_hours"] = float(closure_hours)
    served = (assets["population_served"] if "population_served" in assets.columns
              else pd.Series(0.0, index=assets.index))
    table["population_served"] = served.loc[table["asset_id"]].to_numpy(dtype=float)
    return table


def closure_eventset(region: Region, asset_ids: Iterable[str], *,
                     event_id: str = "food-contamination-closure") -> EventSet:
    """One "attack" event with intensity = damage state 4 at the closed assets.

    Returns an EventSet over all region assets (1 × M), annual_rate 0 (a scenario).
    """
    index = pd.Index(region.assets["asset_id"])
    ids = list(asset_ids)
    cols = index.get_indexer(ids)
    if (cols < 0).any():
        bad = ids[int(np.flatnonzero(cols < 0)[0])]
        raise CascadaInputError(f"unknown asset {bad!r}", field="asset_id")
    cols = np.unique(cols)
    intensity = sparse.csr_matrix(
        (np.full(len(cols), float(CLOSED_DAMAGE_STATE), dtype=np.float32),
         (np.zeros(len(cols), dtype=np.int64), cols)), shape=(1, len(index)))
    events = pd.DataFrame({"event_id": [event_id], "hazard": ["attack"], "annual_rate": [0.0]})
    return EventSet(intensity, index.to_numpy(dtype=object), events,
                    metadata={"source": "cascada.foodchain", "closed_assets": len(cols)})
