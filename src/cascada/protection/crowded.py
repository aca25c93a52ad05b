"""Crowded places (soft targets): the EASI method with police response over the roads.

A crowded place — stadium, bus station, market, place of worship — is read
from an OpenStreetMap extract (pyrosm, the ``cascada[osm]`` extra). Each gets
a site built from a **documented default template** (:data:`DEFAULT_TEMPLATE`)
of access control and surveillance layers::

    public (outside) ──entrance──▶ concourse ──▶ crowd (target)
          approach transit: CCTV / patrols on the forecourt
          entrances: per kind (screened main gate, stewarded side gate, …)
          concourse transit: stewards, CCTV
          target task: time from reaching the crowd to an attack under way

and a response time = dispatch time + travel of the nearest police car
(``emergency.police`` assets of the region) over the road network
(``transport.road`` lines of the region) at a documented speed per road
class (:data:`ROAD_SPEED_KMH`), plus the straight-line legs from the police
station and to the place onto the network (× :data:`DETOUR_FACTOR` at
:data:`ACCESS_SPEED_KMH`). The result is P_I per entrance and tactic.

All template values are **assumptions** for illustration, of the order used
in open guidance on crowded-places protection (screening detects a concealed
weapon with probability well below 1; a determined armed attacker is delayed
seconds, not minutes); replace them with surveyed values for a real place.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from cascada.errors import CascadaInputError, require
from cascada.protection.paths import evaluate_paths
from cascada.protection.site import Site, site_from_dict

__all__ = [
    "ACCESS_SPEED_KMH",
    "CROWDED_KINDS",
    "DEFAULT_TEMPLATE",
    "DETOUR_FACTOR",
    "DISPATCH_S",
    "ROAD_SPEED_KMH",
    "RoadNetwork",
    "build_road_network",
    "crowded_place_site",
    "evaluate_crowded_places",
    "police_response_times",
    "read_crowded_places",
]

#: Kind → (OSM key, value).
CROWDED_KINDS: dict[str, tuple[str, str]] = {
    "stadium": ("leisure", "stadium"),
    "bus_station": ("amenity", "bus_station"),
    "marketplace": ("amenity", "marketplace"),
    "place_of_worship": ("amenity", "place_of_worship"),
}

#: Police driving speed per OSM highway class, km/h (assumption: urban blue-light
#: averages; 40 km/h for urban tertiary/secondary roads).
ROAD_SPEED_KMH: dict[str, float] = {
    "motorway": 80.0, "trunk": 70.0, "primary": 50.0, "secondary": 40.0, "tertiary": 40.0,
    "motorway_link": 50.0, "trunk_link": 40.0, "primary_link": 40.0,
    "secondary_link": 30.0, "tertiary_link": 30.0,
}
#: Speed for classes not listed, km/h.
DEFAULT_ROAD_SPEED_KMH = 30.0
#: Speed on the straight-line legs from a station / to a place onto the network, km/h.
ACCESS_SPEED_KMH = 20.0
#: Straight-line legs are lengthened by this factor (street network detour).
DETOUR_FACTOR = 1.3
#: Call handling and dispatch before the car moves, s (assumption).
DISPATCH_S = 180.0
#: Standard deviation of the response time as a share of its mean (assumption).
RESPONSE_RELATIVE_SD = 0.3

_SCREENED = {"type": "screening", "stealth": {"p_detection": 0.6, "location": "middle",
                                              "delay_mean_s": 30, "delay_sd_s": 10},
             "force": {"p_detection": 0.95, "location": "beginning", "delay_mean_s": 10,
                       "delay_sd_s": 4}}
_STEWARDED = {"type": "entrance", "stealth": {"p_detection": 0.2, "location": "middle",
                                              "delay_mean_s": 10, "delay_sd_s": 3},
              "force": {"p_detection": 0.8, "location": "beginning", "delay_mean_s": 5,
                        "delay_sd_s": 2}}
_LOCKED = {"type": "gate", "stealth": {"p_detection": 0.3, "location": "end",
                                       "delay_mean_s": 60, "delay_sd_s": 20},
           "force": {"p_detection": 0.7, "location": "beginning", "delay_mean_s": 20,
                     "delay_sd_s": 6}}
_OPEN = {"type": "entrance", "stealth": {"p_detection": 0.05, "location": "middle",
                                         "delay_mean_s": 3, "delay_sd_s": 1},
         "force": {"p_detection": 0.5, "location": "beginning", "delay_mean_s": 2,
                   "delay_sd_s": 1}}

#: Kind → layers: approach and concourse transits, entrances, task. Assumptions.
DEFAULT_TEMPLATE: dict[str, dict[str, Any]] = {
    "stadium": {
        "approach": {"name": "cross forecourt (CCTV, police on event days)",
                     "p_detection": 0.2, "delay_mean_s": 60, "delay_sd_s": 20},
        "entrances": {"main-gate": _SCREENED, "side-gate": _STEWARDED,
                      "service-gate": _LOCKED},
        "concourse": {"name": "concourse to stands (stewards, CCTV)",
                      "p_detection": 0.3, "delay_mean_s": 60, "delay_sd_s": 20},
        "task": {"name": "reach the crowd", "delay_mean_s": 10, "delay_sd_s": 3},
    },
    "bus_station": {
        "approach": {"name": "approach (CCTV)", "p_detection": 0.1, "delay_mean_s": 30,
                     "delay_sd_s": 10},
        "entrances": {"platform-open-side": _OPEN, "ticket-hall-door": _STEWARDED},
        "concourse": {"name": "platforms", "p_detection": 0.1, "delay_mean_s": 20,
                      "delay_sd_s": 6},
        "task": {"name": "reach the crowd", "delay_mean_s": 5, "delay_sd_s": 2},
    },
    "marketplace": {
        "approach": {"name": "approach", "p_detection": 0.05, "delay_mean_s": 30,
                     "delay_sd_s": 10},
        "entrances": {"street-opening": _OPEN, "vehicle-barrier-gap": _OPEN},
        "concourse": {"name": "aisles", "p_detection": 0.1, "delay_mean_s": 20,
                      "delay_sd_s": 6},
        "task": {"name": "reach the crowd", "delay_mean_s": 5, "delay_sd_s": 2},
    },
    "place_of_worship": {
        "approach": {"name": "parvis / square", "p_detection": 0.05, "delay_mean_s": 20,
                     "delay_sd_s": 6},
        "entrances": {"main-door": _STEWARDED, "side-door": _OPEN},
        "concourse": {"name": "nave", "p_detection": 0.2, "delay_mean_s": 15,
                      "delay_sd_s": 5},
        "task": {"name": "reach the congregation", "delay_mean_s": 5, "delay_sd_s": 2},
    },
}


# -------------------------------------------------------------------- OSM places


def read_crowded_places(pbf: str | Path, kinds: list[str] | None = None) -> gpd.GeoDataFrame:
    """Crowded places from an OSM extract: place_id, kind, name, geometry (point, EPSG:4326).

    Ways and relations become their (representative) point. Data ©
    OpenStreetMap contributors, ODbL 1.0.
    """
    kinds = list(kinds or CROWDED_KINDS)
    unknown = [k for k in kinds if k not in CROWDED_KINDS]
    if unknown:
        raise CascadaInputError(f"unknown crowded-place kind {unknown[0]!r}", field="kinds",
                                hint=f"known: {', '.join(CROWDED_KINDS)}")
    pbf = Path(pbf)
    if not pbf.is_file():
        raise CascadaInputError("OSM extract not found", file=pbf)
    pyrosm = require("pyrosm", "osm")
    custom: dict[str, list[str]] = {}
    for kind in kinds:
        key, value = CROWDED_KINDS[kind]
        custom.setdefault(key, []).append(value)
    osm = pyrosm.OSM(str(pbf))
    data = osm.get_data_by_custom_criteria(custom_filter=custom, filter_type="keep",
                                           keep_nodes=True, keep_ways=True,
                                           keep_relations=True)
    columns = ["place_id", "kind", "name", "geometry"]
    if data is None or len(data) == 0:
        return gpd.GeoDataFrame({c: [] for c in columns[:-1]},
                                geometry=gpd.GeoSeries([], crs="EPSG:4326"))
    kind = pd.Series(pd.NA, index=data.index, dtype="object")
    for name in kinds:
        key, value = CROWDED_KINDS[name]
        if key in data.columns:
            kind = kind.where(kind.notna() | (data[key] != value), name)
    data = data[kind.notna()]
    kind = kind[kind.notna()]
    letter = data["osm_type"].map({"node": "n", "way": "w", "relation": "r"}).fillna("x")
    geometry = shapely.point_on_surface(data.geometry.to_numpy())
    names = data["name"].fillna("").astype(str) if "name" in data.columns else ""
    places = gpd.GeoDataFrame({
        "place_id": ("osm-" + letter + data["id"].astype(str)).to_numpy(),
        "kind": kind.to_numpy(), "name": np.asarray(names),
    }, geometry=geometry, crs="EPSG:4326")
    return places.sort_values("place_id").reset_index(drop=True)


# ------------------------------------------------------------------ road network


@dataclass(frozen=True)
class RoadNetwork:
    """Road graph in a metric CRS: node coordinates (m) and travel times (s) as CSR."""

    crs: Any
    nodes_xy: np.ndarray
    travel_s: sparse.csr_matrix
    road_km: float

    def snap(self, points: gpd.GeoSeries) -> tuple[np.ndarray, np.ndarray]:
        """Nearest node of each point and the access time onto it (s)."""
        xy = np.column_stack([points.to_crs(self.crs).x, points.to_crs(self.crs).y])
        distance, node = cKDTree(self.nodes_xy).query(xy)
        return node, distance * DETOUR_FACTOR / (ACCESS_SPEED_KMH / 3.6)


def _road_class(tags: Any) -> str:
    for part in str(tags or "").split(";"):
        key, _, value = part.strip().partition("=")
        if key == "highway":
            return value
    for part in str(tags or "").replace(",", ";").split(";"):
        if "highway" in part and "=" in part:
            return part.split("=", 1)[1].strip()
    return ""


def build_road_network(region: Any) -> RoadNetwork:
    """Undirected road graph from the region's ``transport.road`` lines.

    Nodes are line vertices (shared OSM nodes join ways); edges carry the
    travel time at :data:`ROAD_SPEED_KMH` of the way's highway class (from
    its ``osm_tags``; :data:`DEFAULT_ROAD_SPEED_KMH` otherwise).
    """
    assets = region.assets
    roads = assets[assets["asset_type"] == "transport.road"]
    if roads.empty:
        raise CascadaInputError("the region has no transport.road lines",
                                field="asset_type", hint="build the region from OSM")
    crs = assets.estimate_utm_crs()
    projected = roads.to_crs(crs)
    tags = projected["osm_tags"] if "osm_tags" in projected.columns else [""] * len(projected)
    speeds = np.array([ROAD_SPEED_KMH.get(_road_class(t), DEFAULT_ROAD_SPEED_KMH) / 3.6
                       for t in tags])
    parts, owner = shapely.get_parts(projected.geometry.to_numpy(), return_index=True)
    coords, line = shapely.get_coordinates(parts, return_index=True)
    keys = np.round(coords, 1)
    unique, node = np.unique(keys, axis=0, return_inverse=True)
    node = node.ravel()
    same_line = line[1:] == line[:-1]
    a, b = node[:-1][same_line], node[1:][same_line]
    length = np.hypot(*(coords[1:][same_line] - coords[:-1][same_line]).T)
    seconds = length / speeds[owner[line[:-1][same_line]]]
    n = len(unique)
    graph = sparse.coo_matrix((np.concatenate([seconds, seconds]),
                               (np.concatenate([a, b]), np.concatenate([b, a]))),
                              shape=(n, n)).tocsr()
    # Parallel segments: keep the fastest (coo → csr sums duplicates; rebuild with min).
    order = np.lexsort((np.concatenate([seconds, seconds]), np.concatenate([b, a]),
                        np.concatenate([a, b])))
    rows = np.concatenate([a, b])[order]
    cols = np.concatenate([b, a])[order]
    vals = np.concatenate([seconds, seconds])[order]
    first = np.ones(len(rows), dtype=bool)
    first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
    graph = sparse.csr_matrix((np.maximum(vals[first], 1e-6), (rows[first], cols[first])),
                              shape=(n, n))
    return RoadNetwork(crs, unique, graph, float(length.sum() / 1000.0))


def police_response_times(region: Any, places: gpd.GeoDataFrame, *,
                          network: RoadNetwork | None = None,
                          dispatch_s: float = DISPATCH_S) -> pd.DataFrame:
    """Fastest police response to each place (s): dispatch + access + road + access legs.

    Returns one row per place (same order): place_id, police_id, police_name,
    response_mean_s, travel_s, response_sd_s (RESPONSE_RELATIVE_SD × mean).
    A place no station reaches by road (another island) gets NaN.
    """
    assets = region.assets
    police = assets[assets["asset_type"] == "emergency.police"].reset_index(drop=True)
    if police.empty:
        raise CascadaInputError("the region has no emergency.police assets",
                                field="asset_type")
    network = network or build_road_network(region)
    police_points = police.geometry.representative_point()
    police_node, police_access = network.snap(police_points)
    place_node, place_access = network.snap(places.geometry)
    stations, inverse = np.unique(police_node, return_inverse=True)
    distance = dijkstra(network.travel_s, directed=False, indices=stations)
    # time[station, place] over the police assets (several may share a node).
    road = distance[inverse][:, place_node]  # police × places
    total = police_access[:, None] + road + place_access[None, :]
    best = np.argmin(total, axis=0)
    travel = total[best, np.arange(len(places))]
    reachable = np.isfinite(travel)
    response = np.where(reachable, dispatch_s + travel, np.nan)
    return pd.DataFrame({
        "place_id": places["place_id"].to_numpy() if "place_id" in places.columns
        else np.arange(len(places)),
        "police_id": np.where(reachable, police["asset_id"].to_numpy()[best], None),
        "police_name": np.where(reachable, police["name"].to_numpy()[best], None),
        "travel_s": np.where(reachable, travel, np.nan),
        "response_mean_s": response,
        "response_sd_s": response * RESPONSE_RELATIVE_SD,
    })


# --------------------------------------------------------------------- sites


def crowded_place_site(kind: str, response_mean_s: float, response_sd_s: float, *,
                       name: str = "", template: dict[str, dict[str, Any]] | None = None,
                       p_communication: float = 0.95) -> Site:
    """The template site of one crowded place with the given response time (s)."""
    template = template or DEFAULT_TEMPLATE
    if kind not in template:
        raise CascadaInputError(f"no template for crowded-place kind {kind!r}", field="kind",
                                hint=f"templates: {', '.join(template)}")
    layers = template[kind]
    elements = [{"id": "approach-path", "type": "area", "from": "public", "to": "forecourt",
                 "name": "walk in"}]
    for entrance, values in layers["entrances"].items():
        elements.append({"id": entrance, "from": "forecourt", "to": "concourse",
                         "name": entrance.replace("-", " "), **values})
    elements.append({"id": "into-crowd", "type": "area", "from": "concourse", "to": "crowd"})
    data = {
        "site": {"name": name or kind, "outside": "public", "target": "crowd"},
        "response": {"mean_s": response_mean_s, "sd_s": response_sd_s,
                     "p_communication": p_communication},
        "areas": [{"id": "public"},
                  {"id": "forecourt", "transit": layers["approach"]},
                  {"id": "concourse", "transit": layers["concourse"]},
                  {"id": "crowd", "transit": layers["task"]}],
        "elements": elements,
    }
    return site_from_dict(data, source=f"crowded-place template {kind!r}")


def evaluate_crowded_places(region: Any, places: gpd.GeoDataFrame, *,
                            template: dict[str, dict[str, Any]] | None = None,
                            dispatch_s: float = DISPATCH_S,
                            network: RoadNetwork | None = None) -> pd.DataFrame:
    """P_I per place, entrance and tactic with the nearest police response.

    Columns: place_id, kind, name, police_id, police_name, response_mean_s,
    response_sd_s, entrance, tactic, p_interruption, delay_mean_s (adversary
    time outside → crowd). Places no police reaches by road are left out.
    """
    response = police_response_times(region, places, network=network, dispatch_s=dispatch_s)
    rows = []
    for (_, place), (_, resp) in zip(places.iterrows(), response.iterrows(), strict=True):
        if not math.isfinite(resp["response_mean_s"]):
            continue
        site = crowded_place_site(place["kind"], resp["response_mean_s"],
                                  resp["response_sd_s"], name=place["name"], template=template)
        table = evaluate_paths(site)
        for _, path in table.iterrows():
            entrance = path["path"].split(" → ")[1]
            rows.append({
                "place_id": place["place_id"], "kind": place["kind"], "name": place["name"],
                "police_id": resp["police_id"], "police_name": resp["police_name"],
                "response_mean_s": resp["response_mean_s"],
                "response_sd_s": resp["response_sd_s"], "entrance": entrance,
                "tactic": path["tactic"], "p_interruption": path["p_interruption"],
                "delay_mean_s": path["delay_mean_s"],
            })
    return pd.DataFrame(rows)
