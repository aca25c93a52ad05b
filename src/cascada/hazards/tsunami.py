"""Tsunami inundation depth (m) at assets from an offshore earthquake: an empirical model.

Method (no bathymetry exists offline, so no wave propagation is computed):

1. **Tide-gauge amplitude** at distance R (km, straight line from the epicentre
   to the asset, a lower bound of the oceanic path) from Abe's tsunami magnitude
   with Mt = Mw (Abe 1981, Phys. Earth Planet. Inter. 27:194-205,
   Mt = log10 H + log10 R + 5.80): log10 H0 = Mw - log10 R - 5.80 + C, with the
   regional constant C (default 0).
2. **Shoaling** with Green's law, H1 = H0 (h0 / h1)^(1/4), from a nominal depth
   h0 = 50 m to a near-shore depth h1 = 5 m (assumption: the factor 10^0.25 =
   1.78 is what turns Abe's (1981) tide-gauge constant 5.80 into the 5.55 of
   Abe (1989, Bull. Earthq. Res. Inst. 64:51-69), log10 Ht = Mw - log10 R -
   5.55 + C, whose Ht approximates the mean coastal height; the tests check
   this). The near-field height is capped by Abe's (1989) maximum mean height,
   log10 Hr = 0.5 Mw - 3.30 + C.
3. **Run-up** R_u = runup_factor × H1 (default 1: the mean; Abe 1989: 2 Ht
   approximates the local maximum).
4. **Inland inundation**: the inundation limit X_max = 0.06 R_u^(4/3) / n²
   metres (Hills & Mader 1997, Manning's n, default 0.03 for built-up land),
   the water surface falls linearly from R_u at the shoreline to 0 at X_max,
   and depth = max(0, surface - ground elevation). Distance inland is to the
   coastline of the Maltese islands (OpenStreetMap, on a 40 m grid: +-20 m);
   ground elevation is the
   40 m terrain model of the island of Malta (``data/malta/malta-dtm-40m.tif``).
   **Proxy** for Gozo, Comino and anything the terrain model does not cover:
   elevation unknown, taken as 0 m, so depth there is the decayed run-up only
   (an upper bound; the count of such assets is in ``metadata['proxy_assets']``).
   Points at sea take the shoreline value (depth = R_u). Lines take the maximum
   over points every 40 m.

The source must be at sea: an epicentre on land (Natural Earth 1:110m land, or
the Maltese islands) is an error. Natural Earth 1:110m is coarse (~10 km at
coasts). Travel time (:func:`long_wave_travel_time_hours`): straight-line distance to the
nearest asset divided by the long-wave speed sqrt(g h) for a mean path depth
h (default 500 m, assumption between the Malta plateau, ~100-200 m, and the
Ionian basin, ~3000 m).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any, ClassVar

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from pydantic import Field
from scipy import sparse

from cascada.datafile import data_path
from cascada.errors import CascadaInputError, require
from cascada.hazards.earthquake import EarthquakeParameters
from cascada.hazards.eventset import EventSet
from cascada.hazards.footprint import footprint_eventset
from cascada.hazards.registry import HazardModel, HazardParameters, hazard_model, register

DATA_DIR = Path(__file__).parent / "data"
LAND_GEOJSON = DATA_DIR / "ne-110m-land-central-mediterranean.geojson"
ISLANDS_GEOJSON = DATA_DIR / "maltese-islands-osm.geojson"
MALTA_DTM = data_path("malta", "malta-dtm-40m.tif")
GRAVITY_M_S2 = 9.81
SAMPLE_STEP_M = 40.0  # sampling step along lines (the terrain model's cell size)
_METRIC_CRS = "EPSG:32633"  # UTM 33N: the Maltese islands


class TsunamiParameters(HazardParameters):
    """An offshore earthquake source and the empirical coastal model."""

    magnitude_mw: float = Field(gt=0, le=9.5, description="moment magnitude Mw of the source")
    lat: float = Field(ge=-90, le=90, description="epicentre latitude, degrees north (WGS84)")
    lon: float = Field(ge=-180, le=180, description="epicentre longitude, degrees east (WGS84)")
    depth_km: float = Field(10.0, ge=0, le=100, description="source depth, km (recorded; the "
                            "empirical relation has no depth term; > 100 km is not tsunamigenic)")
    abe_c: float = Field(0.0, ge=-1, le=1, description="Abe's regional constant C (log10 units)")
    offshore_depth_m: float = Field(50.0, gt=0, description="water depth where Abe's amplitude "
                                    "applies (Green's law start), m")
    nearshore_depth_m: float = Field(5.0, gt=0, description="water depth at the shore (Green's "
                                     "law end), m")
    runup_factor: float = Field(1.0, gt=0, le=5, description="run-up / near-shore height (1 = "
                                "mean coastal height, 2 = local maximum after Abe 1989)")
    manning_n: float = Field(0.03, gt=0, le=0.2, description="Manning roughness of the land "
                             "(Hills & Mader 1997: 0.015 smooth, 0.03 built-up, 0.07 forest)")
    path_depth_m: float = Field(500.0, gt=0, description="mean water depth along the path, m, "
                                "for the travel time")
    annual_rate: float = Field(0.0, ge=0, description="events per year (0 for a scenario)")
    event_name: str = Field("tsunami", min_length=1, description="event id")


# --------------------------------------------------------------------------- geography


@cache
def _land() -> Any:
    """Land polygons (EPSG:4326): Natural Earth 1:110m around the central Mediterranean and
    the Maltese islands from OpenStreetMap."""
    parts = []
    for path in (LAND_GEOJSON, ISLANDS_GEOJSON):
        parts.extend(shapely.from_geojson(json.dumps(f["geometry"]))
                     for f in json.loads(path.read_text())["features"])
    return shapely.union_all(parts)


@cache
def _inland_grid() -> tuple[np.ndarray, float, float]:
    """Distance inland (m) from the Maltese islands' coast on a 40 m grid in UTM 33N.

    Returns (grid rows × cols, NaN at sea; x of the west edge; y of the north edge).
    """
    from rasterio import features, transform  # rasterio: the 'raster' extra
    from scipy import ndimage

    islands = gpd.read_file(ISLANDS_GEOJSON).to_crs(_METRIC_CRS)
    x0, y0, x1, y1 = islands.total_bounds + np.array([-1000, -1000, 1000, 1000])
    shape = (int(np.ceil((y1 - y0) / SAMPLE_STEP_M)), int(np.ceil((x1 - x0) / SAMPLE_STEP_M)))
    land = features.rasterize(((g, 1) for g in islands.geometry), out_shape=shape,
                              transform=transform.from_origin(x0, y1, SAMPLE_STEP_M,
                                                              SAMPLE_STEP_M)).astype(bool)
    inland = ndimage.distance_transform_edt(land) * SAMPLE_STEP_M - SAMPLE_STEP_M / 2
    return np.where(land, np.maximum(inland, 0.0), np.nan), float(x0), float(y1)


def _inland_m(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Distance inland (m) at UTM 33N points; NaN at sea or off the islands."""
    grid, x0, y1 = _inland_grid()
    col = np.floor((x - x0) / SAMPLE_STEP_M).astype(np.int64)
    row = np.floor((y1 - y) / SAMPLE_STEP_M).astype(np.int64)
    inside = (row >= 0) & (row < grid.shape[0]) & (col >= 0) & (col < grid.shape[1])
    out = np.full(len(x), np.nan)
    out[inside] = grid[row[inside], col[inside]]
    return out


def is_on_land(lat: float, lon: float) -> bool:
    """Whether a point is on land (coarse away from Malta: Natural Earth 1:110m)."""
    return bool(shapely.contains_xy(_land(), lon, lat))


def raster_cell_index(path: str | Path, x: np.ndarray, y: np.ndarray, *,
                      crs: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Row and column (int64, N) of points in a raster's grid; -1 outside it.

    x, y: N coordinates in ``crs`` (default: the raster's own CRS). Compute once
    per region and grid, then :func:`sample_raster_points` many rasters on it.
    """
    rasterio = require("rasterio", "raster")
    x, y = np.asarray(x, float), np.asarray(y, float)
    with rasterio.open(path) as src:
        if crs is not None:
            x, y = pyproj.Transformer.from_crs(crs, src.crs.to_wkt(),
                                               always_xy=True).transform(x, y)
        inverse, height, width = ~src.transform, src.height, src.width
    col = np.floor(inverse.a * x + inverse.b * y + inverse.c).astype(np.int64)
    row = np.floor(inverse.d * x + inverse.e * y + inverse.f).astype(np.int64)
    outside = (row.astype(np.uint64) >= height) | (col.astype(np.uint64) >= width)
    row[outside] = -1
    col[outside] = -1
    return row, col


def sample_raster_points(path: str | Path, x: np.ndarray | None = None,
                         y: np.ndarray | None = None, *, crs: str | None = None,
                         cells: tuple[np.ndarray, np.ndarray] | None = None,
                         band: int = 1) -> np.ndarray:
    """Raster values at points, vectorised: one windowed read of the points' bounding box.

    Give x, y (N coordinates in ``crs``, default the raster's CRS) or ``cells``
    from :func:`raster_cell_index` (for many rasters on one grid). Returns N float64
    values; NaN outside the raster and on nodata cells.
    """
    rasterio = require("rasterio", "raster")
    row, col = cells if cells is not None else raster_cell_index(path, x, y, crs=crs)
    out = np.full(len(row), np.nan)
    inside = np.flatnonzero(row >= 0)
    if len(inside) == 0:
        return out
    r, c = row[inside], col[inside]
    r0, r1, c0, c1 = r.min(), r.max() + 1, c.min(), c.max() + 1
    with rasterio.open(path) as src:
        block = src.read(band, window=rasterio.windows.Window(c0, r0, c1 - c0, r1 - r0))
        nodata = src.nodata
    values = block.ravel()[(r - r0) * (c1 - c0) + (c - c0)].astype(np.float64)
    if nodata is not None:
        values[values == nodata] = np.nan
    out[inside] = values
    return out


def _elevation_m(x: np.ndarray, y: np.ndarray, dtm: Path) -> np.ndarray:
    """Ground elevation (m) at UTM 33N points from the terrain model; NaN where not covered."""
    if not dtm.exists():
        return np.full(len(x), np.nan)
    return sample_raster_points(dtm, x, y, crs=_METRIC_CRS)


# --------------------------------------------------------------------------- physics


def abe_tide_gauge_height_m(magnitude_mw: float, distance_km: np.ndarray, c: float = 0.0
                            ) -> np.ndarray:
    """Abe (1981) with Mt = Mw: log10 H = Mw - log10 R - 5.80 + C; metres, R in km (>= 1)."""
    r = np.maximum(np.asarray(distance_km, float), 1.0)
    return 10.0 ** (magnitude_mw - np.log10(r) - 5.80 + c)


def greens_law(height_m: np.ndarray, from_depth_m: float, to_depth_m: float) -> np.ndarray:
    """Green's law shoaling: H1 = H0 (h0 / h1)^(1/4)."""
    return np.asarray(height_m) * (from_depth_m / to_depth_m) ** 0.25


def coastal_height_m(p: TsunamiParameters, distance_km: np.ndarray) -> np.ndarray:
    """Near-shore tsunami height, m, at distance R (km): Abe (1981) amplitude, Green's law,
    capped by Abe's (1989) near-field maximum 10^(0.5 Mw - 3.30 + C)."""
    h0 = abe_tide_gauge_height_m(p.magnitude_mw, distance_km, p.abe_c)
    h1 = greens_law(h0, p.offshore_depth_m, p.nearshore_depth_m)
    return np.minimum(h1, 10.0 ** (0.5 * p.magnitude_mw - 3.30 + p.abe_c))


def inundation_limit_m(runup_m: np.ndarray, manning_n: float) -> np.ndarray:
    """Hills & Mader (1997): X_max = 0.06 R_u^(4/3) / n², metres inland."""
    return 0.06 * np.asarray(runup_m, float) ** (4.0 / 3.0) / manning_n**2


def long_wave_travel_time_hours(assets: gpd.GeoDataFrame, lat: float, lon: float,
                      path_depth_m: float = 500.0) -> float:
    """Hours for the long wave (speed sqrt(g h)) to cover the straight line from the
    epicentre to the nearest asset."""
    metric = assets.geometry.to_crs(_METRIC_CRS).values
    source = shapely.Point(pyproj.Transformer.from_crs("EPSG:4326", _METRIC_CRS,
                                                       always_xy=True).transform(lon, lat))
    distance_m = float(np.min(shapely.distance(metric, source)))
    return distance_m / np.sqrt(GRAVITY_M_S2 * path_depth_m) / 3600.0


# --------------------------------------------------------------------------- event set


def _sample_points(assets: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Points (UTM 33N, metres; V × 2) and their owner asset index: points themselves,
    lines every 40 m."""
    metric = assets.geometry.to_crs(_METRIC_CRS).values
    coords, owner = shapely.get_coordinates(shapely.segmentize(metric, SAMPLE_STEP_M),
                                            return_index=True)
    return coords, owner


def inundation_depth_m(assets: gpd.GeoDataFrame, p: TsunamiParameters, *, dtm: Path = MALTA_DTM
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Depth (m) at each asset and whether it used the elevation proxy: (M,), (M,) bool."""
    xy, owner = _sample_points(assets)
    to_metric = pyproj.Transformer.from_crs("EPSG:4326", _METRIC_CRS, always_xy=True)
    sx, sy = to_metric.transform(p.lon, p.lat)
    distance_km = np.hypot(xy[:, 0] - sx, xy[:, 1] - sy) / 1000.0
    runup = p.runup_factor * coastal_height_m(p, distance_km)
    inland_m = _inland_m(xy[:, 0], xy[:, 1])
    on_land = np.isfinite(inland_m)
    inland_m = np.where(on_land, inland_m, 0.0)
    elevation = _elevation_m(xy[:, 0], xy[:, 1], dtm)
    proxy = on_land & ~np.isfinite(elevation)
    ground = np.where(on_land & np.isfinite(elevation), np.maximum(elevation, 0.0), 0.0)
    x_max = inundation_limit_m(runup, p.manning_n)
    surface = runup * np.clip(1.0 - inland_m / np.maximum(x_max, 1e-9), 0.0, None)
    depth = np.maximum(surface - ground, 0.0)
    n = len(assets)
    out = np.zeros(n)
    np.maximum.at(out, owner, depth)
    used_proxy = np.zeros(n, bool)
    np.logical_or.at(used_proxy, owner, proxy & (depth > 0))
    return out, used_proxy


@register
class Tsunami(HazardModel):
    """Inundation depth (m) from an offshore earthquake: Abe + Green's law + Hills & Mader."""

    name = "tsunami"
    unit = "depth_m"
    description = ("inundation depth (m) from an offshore earthquake: Abe (1981/1989) height, "
                   "Green's law, Hills & Mader (1997) inland decay on the terrain model")
    Parameters = TsunamiParameters
    size_parameter = "magnitude_mw"
    #: valid example parameters for Malta (contract tests, CLI help): offshore SE of Malta
    example: ClassVar[dict[str, Any]] = {
        "magnitude_mw": 7.0, "lat": 35.60, "lon": 14.90, "depth_km": 15.0,
    }

    def event_set(self, assets: gpd.GeoDataFrame, parameters: HazardParameters | dict,
                  rng: np.random.Generator) -> EventSet:
        """One event; deterministic (rng unused)."""
        if not isinstance(parameters, TsunamiParameters):
            parameters = self.parameters(
                parameters.model_dump() if isinstance(parameters, HazardParameters)
                else parameters)
        p = parameters
        if is_on_land(p.lat, p.lon):
            raise CascadaInputError(
                f"a tsunami needs an offshore rupture; ({p.lat}, {p.lon}) is on land",
                field="lat/lon", hint="move the epicentre offshore")
        depth, proxy = inundation_depth_m(assets, p)
        events = pd.DataFrame({"event_id": [p.event_name], "hazard": ["tsunami"],
                               "annual_rate": [p.annual_rate]})
        return EventSet(
            intensity=sparse.csr_matrix(depth.astype(np.float32)[None, :]),
            asset_ids=assets["asset_id"].to_numpy(), events=events,
            metadata={"hazard": "tsunami", "parameters": p.model_dump(),
                      "proxy_assets": int(proxy.sum()),
                      "proxy": "elevation unknown (no terrain model), taken as 0 m"})


def from_inundation_raster(assets: gpd.GeoDataFrame, path: str | Path, *,
                           event_id: str | None = None, annual_rate: float = 0.0) -> EventSet:
    """A one-event tsunami EventSet from a depth raster (m) of a dedicated model (GeoClaw...)."""
    return footprint_eventset(assets, path, "tsunami", event_id=event_id,
                              annual_rate=annual_rate)


def tsunami_from_earthquake(
    assets: gpd.GeoDataFrame,
    earthquake_params: EarthquakeParameters | dict,
    rng: np.random.Generator,
    travel_time_hours: float | None = None,
    **tsunami_overrides: Any,
) -> EventSet:
    """The tsunami triggered by an earthquake rupture, as a one-event EventSet.

    The event's ``time_offset_hours`` is ``travel_time_hours`` or the long-wave
    travel time to the nearest asset; ``parent`` stays -1 (the caller who
    concatenates event sets sets it to the earthquake's row).
    """
    if isinstance(earthquake_params, dict):
        earthquake_params = hazard_model("earthquake").parameters(earthquake_params)
    q = earthquake_params
    values = {"magnitude_mw": q.magnitude_mw, "lat": q.lat, "lon": q.lon,
              "depth_km": q.depth_km, "event_name": f"{q.event_name}-tsunami",
              "annual_rate": q.annual_rate, **tsunami_overrides}
    model = Tsunami()
    params = model.parameters(values)
    out = model.event_set(assets, params, rng)
    hours = (long_wave_travel_time_hours(assets, q.lat, q.lon, params.path_depth_m)
             if travel_time_hours is None else float(travel_time_hours))
    out.events["time_offset_hours"] = hours
    return out
