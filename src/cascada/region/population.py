"""People: where they live, and which service assets serve them.

:func:`place_population` is a *synthetic placement*: a census total is
distributed over residential buildings in proportion to their footprint area
(a proxy for residential floor area) and aggregated to a square grid of
population points. It is not a census map: it follows where OSM has mapped
buildings. :func:`link_services` links each population point to its nearest
service assets (rules in ``data/dependency_rules.toml`` ``[services]``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from cascada.errors import CascadaInputError, require
from cascada.region.inference import DependencyRules, load_dependency_rules, nearest_suppliers

MALTA_POPULATION = 519_562  # residents, Census of Population and Housing 2021, NSO Malta
METHOD = ("synthetic placement: census total distributed by residential floor area "
          "(building footprint area as its proxy), aggregated to a {cell_m:g} m grid")

# building=* values that are clearly not homes. building=yes (most of Malta's
# mapped buildings) counts as residential unless another tag says otherwise.
NON_RESIDENTIAL_BUILDINGS = frozenset({
    "church", "chapel", "cathedral", "basilica", "mosque", "temple", "synagogue", "shrine",
    "wayside_shrine", "religious", "convent", "monastery",
    "school", "college", "university", "kindergarten", "hospital", "public", "civic",
    "government", "military", "bunker", "fire_station", "train_station", "transportation",
    "industrial", "manufacture", "warehouse", "commercial", "office", "retail", "kiosk",
    "supermarket", "hotel", "hangar", "greenhouse", "garage", "garages", "carport",
    "parking", "shed", "hut", "barn", "farm_auxiliary", "stable", "cowshed", "sty",
    "roof", "ruins", "collapsed", "construction", "container", "boathouse", "grandstand",
    "stadium", "sports_hall", "service", "transformer_tower", "water_tower", "windmill",
    "storage_tank", "silo", "toilets", "tower", "bridge", "entrance", "digester",
})
# Any of these tags marks a building=yes as used for something other than homes.
NON_RESIDENTIAL_USE_TAGS = ("amenity", "shop", "office", "tourism", "craft", "man_made",
                            "power", "historic", "military", "leisure", "industrial")


def read_buildings(pbf_path: str | Path, *, osm: Any = None) -> gpd.GeoDataFrame:
    """Building footprints of an OSM extract: building, use tags, geometry (EPSG:4326).

    osm: an already open pyrosm ``OSM`` of the same file (avoids a re-read).
    Returns: GeoDataFrame with ``building``, ``nonresidential_use`` (bool:
    the building carries an amenity/shop/office/tourism/... tag) and polygon
    geometry.
    """
    if osm is None:
        pbf_path = Path(pbf_path)
        if not pbf_path.is_file():
            raise CascadaInputError("no such OSM file", file=pbf_path)
        osm = require("pyrosm", "osm").OSM(str(pbf_path))
    raw = osm.get_buildings()
    if raw is not None:
        raw.attrs = {}  # pyrosm's read metadata, deep-copied by pandas on every operation
    if raw is None or len(raw) == 0:
        return gpd.GeoDataFrame({"building": [], "nonresidential_use": []},
                                geometry=[], crs="EPSG:4326")
    use = np.zeros(len(raw), bool)
    extra = raw["tags"].fillna("").astype(str) if "tags" in raw else pd.Series("", index=raw.index)
    for key in NON_RESIDENTIAL_USE_TAGS:
        if key in raw.columns:
            use |= raw[key].notna().to_numpy()
        use |= extra.str.contains(f'"{key}":', regex=False).to_numpy()
    return gpd.GeoDataFrame(
        {"building": raw["building"].fillna("yes").astype(str).to_numpy(),
         "nonresidential_use": use},
        geometry=raw.geometry.values, crs=raw.crs or "EPSG:4326",
    )


def residential_buildings(buildings: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The buildings people live in: polygons whose type is not clearly non-residential.

    Dropped: ``building`` in :data:`NON_RESIDENTIAL_BUILDINGS` (churches,
    schools, industrial, hotels, garages, ...), and buildings tagged with a
    non-residential use (:data:`NON_RESIDENTIAL_USE_TAGS`).
    """
    kind = buildings["building"].astype(str) if "building" in buildings else "yes"
    keep = ~pd.Series(kind, index=buildings.index).isin(NON_RESIDENTIAL_BUILDINGS)
    if "nonresidential_use" in buildings:
        keep &= ~buildings["nonresidential_use"].astype(bool)
    keep &= buildings.geometry.geom_type.isin(["Polygon", "MultiPolygon"])
    return buildings[keep.to_numpy()]


def _largest_remainder(weights: np.ndarray, total: int) -> np.ndarray:
    """Whole numbers proportional to weights that sum exactly to total."""
    share = weights / weights.sum() * total
    whole = np.floor(share)
    left = int(total - whole.sum())
    if left > 0:
        order = np.argsort(-(share - whole), kind="stable")
        whole[order[:left]] += 1
    return whole


def place_population(
    source: str | Path | gpd.GeoDataFrame,
    total: float = MALTA_POPULATION,
    cell_m: float = 250.0,
) -> gpd.GeoDataFrame:
    """Population points: a census total over residential buildings, on a grid.

    source: an .osm.pbf path, or a buildings GeoDataFrame (``building`` type
    column optional, polygons). total: residents (people); a whole number is
    conserved exactly (people are whole). cell_m: grid cell side, metres, in
    the region's UTM zone.
    Returns: GeoDataFrame (EPSG:4326) people_id ("pop-<col>-<row>"),
    population (people), footprint_m2 (residential footprint in the cell),
    geometry = footprint-weighted centroid of the cell's buildings. The method
    is in ``.attrs["method"]``.
    """
    buildings = source if isinstance(source, gpd.GeoDataFrame) else read_buildings(source)
    if total < 0:
        raise CascadaInputError(f"population total must be >= 0, got {total!r}",
                                field="total")
    homes = residential_buildings(buildings)
    if homes.empty:
        raise CascadaInputError("no residential building to place people in",
                                hint="the extract has no building polygons")
    crs = homes.estimate_utm_crs()
    metric = homes.to_crs(crs)
    area = metric.geometry.area.to_numpy()
    centre = shapely.get_coordinates(shapely.centroid(np.asarray(metric.geometry.values)))
    keep = area > 0
    area, centre = area[keep], centre[keep]
    col = np.floor(centre[:, 0] / cell_m).astype(np.int64)
    row = np.floor(centre[:, 1] / cell_m).astype(np.int64)
    cells = pd.DataFrame({"col": col, "row": row, "area": area,
                          "ax": area * centre[:, 0], "ay": area * centre[:, 1]})
    grid = cells.groupby(["col", "row"], sort=True).sum().reset_index()
    weights = grid["area"].to_numpy()
    if float(total).is_integer():
        population = _largest_remainder(weights, int(total))
    else:
        population = weights / weights.sum() * float(total)
    x, y = grid["ax"] / grid["area"], grid["ay"] / grid["area"]
    people = gpd.GeoDataFrame(
        {"people_id": "pop-" + grid["col"].astype(str) + "-" + grid["row"].astype(str),
         "population": population.astype(float),
         "footprint_m2": weights},
        geometry=gpd.points_from_xy(x, y), crs=crs,
    ).to_crs("EPSG:4326")
    people = people[people["population"] > 0].reset_index(drop=True)
    people.attrs["method"] = METHOD.format(cell_m=cell_m)
    return people


def link_services(
    people: gpd.GeoDataFrame,
    assets: gpd.GeoDataFrame,
    rules: DependencyRules | str | Path | None = None,
) -> pd.DataFrame:
    """Link each population point to its n nearest service assets, per service.

    rules: the ``[services]`` of a dependency rules TOML (default: shipped).
    Returns: DataFrame people_id, service, asset_id — n rows per point and
    service (fewer where the region has fewer assets of the service; none
    for a service with no asset at all).
    """
    if not isinstance(rules, DependencyRules):
        rules = load_dependency_rules(rules)
    crs = people.estimate_utm_crs() if len(people) else "EPSG:4326"
    people_m = np.asarray(people.to_crs(crs).geometry.values, dtype=object)
    assets = assets.reset_index(drop=True)
    assets_m = np.asarray(assets.to_crs(crs).geometry.values, dtype=object)
    types = assets["asset_type"].astype(str)
    frames = []
    for service in rules.services:
        pick = np.flatnonzero(types.isin(service.assets).to_numpy())
        p_pos, a_pos, _ = nearest_suppliers(people_m, assets_m[pick], service.n)
        frames.append(pd.DataFrame({
            "people_id": people["people_id"].to_numpy()[p_pos],
            "service": service.service,
            "asset_id": assets["asset_id"].to_numpy()[pick[a_pos]],
        }))
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=object)
                             for c in ("people_id", "service", "asset_id")})
    return pd.concat(frames, ignore_index=True)


def population_served(
    people: pd.DataFrame, links: pd.DataFrame, assets: pd.DataFrame
) -> np.ndarray:
    """People served by each asset (population of linked points / assets linked), people.

    A point linked to n assets for a service counts population / n to each.
    Returns: array aligned with ``assets`` rows.
    """
    if len(links) == 0:
        return np.zeros(len(assets))
    pop = links["people_id"].map(people.set_index("people_id")["population"]).to_numpy(float)
    n = links.groupby(["people_id", "service"])["asset_id"].transform("size").to_numpy()
    served = pd.Series(pop / n).groupby(links["asset_id"].to_numpy()).sum()
    return served.reindex(assets["asset_id"].to_numpy()).fillna(0.0).to_numpy()


__all__ = [
    "MALTA_POPULATION",
    "METHOD",
    "link_services",
    "place_population",
    "population_served",
    "read_buildings",
    "residential_buildings",
]
