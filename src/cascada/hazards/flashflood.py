"""Generated flash flood: water depth along drainage lines from a DEM and a rainfall amount.

SIMPLIFIED METHOD, not a hydraulic model (registered as "flood"; the raster and
vector footprint readers in :mod:`cascada.hazards.footprint` stay as they are).

1. Flow directions (D8) and upstream area ``A`` (km²) from the terrain model
   with ``pyflwdir``; cells draining at least ``drainage_km2`` are drainage
   cells (Malta's valleys, *widien*).
2. Peak discharge by the rational method, Q = C · i · A / 3.6 (m³/s), with
   runoff coefficient C (``runoff_coefficient``, 0.5: built-up, thin-soiled
   catchments, assumption) and rainfall intensity i = rainfall_mm / duration_h
   (mm/h).
3. Water depth in the valley by Manning's normal depth in a wide rectangular
   channel, h = (n · Q / (W · √S))^(3/5), with Manning's n (0.05, valley
   floors with roads and walls, Chow 1959 range), bed slope S (0.01,
   assumption) and a valley width W = 1.7 · Q^0.5 m (hydraulic-geometry form,
   Leopold & Maddock 1953; the coefficient is calibrated so that 100 mm in
   24 h gives ≈ 1 m in a 20 km² valley — the order reported for Malta's
   flash floods). So h ∝ Q^0.3.
4. Height above nearest drainage (HAND, Nobre et al. 2011): the water surface
   of each drainage cell (elevation + h) is carried upstream over the cells
   that drain to it; depth = surface − elevation where ≥ ``min_depth_m``
   (= h − HAND). Cells below their drainage cell (HAND < 0: closed pits such
   as quarries) stay dry.
5. The depth raster is sampled at assets with
   :func:`cascada.hazards.footprint.sample_raster` (points: cell value;
   lines: maximum every 10 m, and the wet length).
6. **Proxy** where the terrain model does not cover an asset (Gozo, Comino):
   depth = h(A = ``proxy_area_km2``) · max(0, 1 − d / ``proxy_buffer_m``),
   with d the distance to the nearest OSM waterway (stream, river, canal,
   drain, ditch). A labelled proxy, not a model: the event's metadata lists
   how many assets it covers.

Limits: steady peak flow, no routing, storage, culverts or backwater; one
rainfall over the whole island; constant slope and width law; the 40 m DTM
(ED50 / UTM 33N) is offset up to ~100 m from WGS84.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import ClassVar

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from pydantic import Field
from scipy import sparse

from cascada.datafile import data_path
from cascada.errors import CascadaInputError, require
from cascada.hazards.eventset import EventSet
from cascada.hazards.footprint import sample_array
from cascada.hazards.registry import HazardModel, HazardParameters, register
from cascada.region.osm import open_osm

DEFAULT_DEM = data_path("malta", "malta-dtm-40m.tif")
DEFAULT_PBF = data_path("malta", "malta-2018-08.osm.pbf")
WATERWAY_VALUES = ["stream", "river", "canal", "drain", "ditch", "wadi"]
WIDTH_COEFFICIENT = 1.7  # W = 1.7 · Q^0.5 (m), calibrated: see the module docstring
_NODATA = -9999.0


@dataclass(frozen=True)
class Terrain:
    """A terrain model with its flow directions (computed once per file).

    elevation: rows × cols float32, m (NaN outside land). upstream_km2: same
    shape, km². flow: pyflwdir.FlwdirRaster. transform, crs: rasterio's.
    """

    elevation: np.ndarray
    upstream_km2: np.ndarray
    flow: object
    transform: object
    crs: object
    bounds: tuple[float, float, float, float]


@lru_cache(maxsize=4)
def _terrain(path: str, mtime_ns: int) -> Terrain:
    rasterio = require("rasterio", "raster")
    pyflwdir = require("pyflwdir", "flood")
    with rasterio.open(path) as src:
        if src.crs is None:
            raise CascadaInputError("the terrain model has no CRS", file=path, field="dem_path")
        z = src.read(1, masked=True).astype("float32").filled(np.nan)
        transform, crs, bounds = src.transform, src.crs, tuple(src.bounds)
    land = np.isfinite(z)
    elevation = np.where(land, z, _NODATA).astype("float32")
    flow = pyflwdir.from_dem(elevation, nodata=_NODATA, transform=transform, latlon=False)
    upstream = np.where(land, flow.upstream_area("km2"), 0.0)
    return Terrain(np.where(land, z, np.nan).astype("float32"), upstream, flow, transform, crs,
                   bounds)


def terrain(dem_path: str | Path) -> Terrain:
    """The terrain model at ``dem_path`` with flow directions (cached per file version)."""
    path = Path(dem_path)
    if not path.is_file():
        raise CascadaInputError("terrain model not found", file=path, field="dem_path")
    return _terrain(str(path.resolve()), path.stat().st_mtime_ns)


def valley_depth_m(upstream_km2: np.ndarray, rainfall_mm: float, duration_h: float, *,
                   runoff_coefficient: float = 0.5, manning_n: float = 0.05,
                   bed_slope: float = 0.01) -> np.ndarray:
    """Normal depth (m) of the peak flow in a valley draining ``upstream_km2`` (km²).

    Rational method + Manning, wide channel of width 1.7·Q^0.5 m (module docs).
    Returns: array of upstream_km2's shape, m; 0 where the area is 0.
    """
    intensity_mm_h = rainfall_mm / duration_h
    discharge = runoff_coefficient * intensity_mm_h * np.asarray(upstream_km2, float) / 3.6
    width = WIDTH_COEFFICIENT * np.sqrt(np.maximum(discharge, 1e-12))
    return (manning_n * discharge / (width * np.sqrt(bed_slope))) ** 0.6


class FlashFloodParameters(HazardParameters):
    """A rainfall over the terrain model; field names carry their units."""

    rainfall_mm: float = Field(gt=0, le=1000, description="rainfall depth, mm")
    duration_h: float = Field(24.0, gt=0, le=240, description="hours")
    drainage_km2: float = Field(1.0, gt=0, description="upstream area of drainage cells")
    dem_path: str = Field(str(DEFAULT_DEM), description="terrain model GeoTIFF (m)")
    runoff_coefficient: float = Field(0.5, gt=0, le=1, description="rational-method C")
    manning_n: float = Field(0.05, gt=0, le=0.5, description="Manning n, s/m^(1/3)")
    bed_slope: float = Field(0.01, gt=0, le=1, description="valley bed slope, m/m")
    min_depth_m: float = Field(0.05, ge=0, description="shallower counts as dry, m")
    waterways_pbf: str | None = Field(str(DEFAULT_PBF), description="OSM file for the proxy; "
                                                                    "None: no proxy")
    proxy_area_km2: float = Field(2.0, gt=0, description="catchment assumed by the proxy")
    proxy_buffer_m: float = Field(50.0, gt=0, description="proxy flood width each side, m")


def depth_raster(parameters: FlashFloodParameters) -> tuple[np.ndarray, Terrain]:
    """Flood depth (m, float32, 0 = dry) on the terrain model's grid, and the terrain."""
    p = parameters
    t = terrain(p.dem_path)
    land = np.isfinite(t.elevation)
    drain = land & (t.upstream_km2 >= p.drainage_km2)
    level = valley_depth_m(t.upstream_km2, p.rainfall_mm, p.duration_h,
                           runoff_coefficient=p.runoff_coefficient, manning_n=p.manning_n,
                           bed_slope=p.bed_slope)
    elevation = np.nan_to_num(t.elevation).astype("float64")
    surface = np.where(drain, elevation + level, _NODATA)
    surface = t.flow.fillnodata(surface, _NODATA, direction="up")
    drain_elevation = t.flow.fillnodata(np.where(drain, elevation, _NODATA), _NODATA,
                                        direction="up")
    # HAND >= 0: cells in closed pits (quarries) below their drainage cell stay dry
    reached = land & (surface != _NODATA) & (elevation >= drain_elevation)
    depth = np.where(reached, surface - elevation, 0.0)
    depth[depth < max(p.min_depth_m, 1e-6)] = 0.0
    return depth.astype("float32"), t


@lru_cache(maxsize=2)
def _waterways(pbf_path: str) -> gpd.GeoSeries:
    osm = open_osm(pbf_path)
    ways = osm.get_data_by_custom_criteria(custom_filter={"waterway": WATERWAY_VALUES},
                                           filter_type="keep", keep_nodes=False,
                                           keep_relations=False)
    if ways is None or len(ways) == 0:
        return gpd.GeoSeries([], crs="EPSG:4326")
    return gpd.GeoSeries(ways.geometry.values, crs="EPSG:4326")


def _inside_bounds(assets: gpd.GeoDataFrame, t: Terrain) -> np.ndarray:
    crs = pyproj.CRS.from_user_input(t.crs.to_wkt())
    geoms = assets.geometry.to_crs(crs).values
    left, bottom, right, top = t.bounds
    return shapely.within(geoms, shapely.box(left, bottom, right, top))


def proxy_depth(assets: gpd.GeoDataFrame, parameters: FlashFloodParameters) -> np.ndarray:
    """PROXY depth (m) from distance to OSM waterways, for assets without terrain data."""
    p = parameters
    if p.waterways_pbf is None:
        return np.zeros(len(assets))
    ways = _waterways(str(Path(p.waterways_pbf).resolve()))
    if len(ways) == 0:
        return np.zeros(len(assets))
    crs = assets.estimate_utm_crs()
    tree = shapely.STRtree(ways.to_crs(crs).values)
    geoms = assets.geometry.to_crs(crs).values
    _, distance = tree.query_nearest(geoms, return_distance=True, all_matches=False)
    level = float(valley_depth_m(np.array(p.proxy_area_km2), p.rainfall_mm, p.duration_h,
                                 runoff_coefficient=p.runoff_coefficient,
                                 manning_n=p.manning_n, bed_slope=p.bed_slope))
    depth = level * np.clip(1.0 - distance / p.proxy_buffer_m, 0.0, None)
    return np.where(depth >= p.min_depth_m, depth, 0.0)


@register
class FlashFlood(HazardModel):
    """Flash-flood depth from rainfall on a terrain model (HAND + Manning, simplified)."""

    name: ClassVar[str] = "flood"
    unit: ClassVar[str] = "depth_m"
    description: ClassVar[str] = ("flash flood generated from rainfall on a DEM (pyflwdir HAND, "
                                  "rational method + Manning; OSM-waterway proxy off the DEM)")
    Parameters: ClassVar[type[HazardParameters]] = FlashFloodParameters
    size_parameter: ClassVar[str | None] = "rainfall_mm"
    example: ClassVar[dict] = {"rainfall_mm": 100.0, "duration_h": 24.0, "drainage_km2": 1.0}

    def event_set(self, assets: gpd.GeoDataFrame, parameters: HazardParameters,
                  rng: np.random.Generator) -> EventSet:
        """One event: depth_m at every asset (deterministic; rng unused)."""
        p = parameters
        assert isinstance(p, FlashFloodParameters)
        depth, t = depth_raster(p)
        intensity, exposed = sample_array(assets, depth, t.transform, t.crs)
        outside = ~_inside_bounds(assets, t)
        n_proxy = 0
        if outside.any():
            proxy = proxy_depth(assets.loc[outside], p).astype(np.float32)
            intensity[outside] = proxy
            lengths = shapely.length(assets.geometry.to_crs(assets.estimate_utm_crs()).values)
            exposed[outside] = np.where(proxy > 0, lengths[outside], 0.0)
            n_proxy = int(outside.sum())
        events = pd.DataFrame({"event_id": [f"flashflood-{p.rainfall_mm:g}mm"],
                               "hazard": ["flood"]})
        wet = depth > 0
        cell_km2 = abs(t.transform.a * t.transform.e) / 1e6
        return EventSet(
            intensity=sparse.csr_matrix(intensity[None, :]),
            asset_ids=assets["asset_id"].to_numpy(), events=events,
            exposed_length_m=sparse.csr_matrix(exposed[None, :].astype(np.float32)),
            metadata={"method": "simplified: HAND (pyflwdir) + rational method + Manning",
                      "dem": str(p.dem_path), "wet_area_km2": float(wet.sum() * cell_km2),
                      "max_depth_m": float(depth.max()), "assets_by_proxy": n_proxy,
                      "proxy": "distance to OSM waterways (no terrain model), a proxy"},
        )
