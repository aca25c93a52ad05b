"""Hazard footprints read from files and sampled at assets.

A footprint is a raster (GeoTIFF / COG, or a NetCDF variable read through
GDAL's netCDF driver) or a vector layer (GeoJSON, GeoPackage,
GeoParquet, Shapefile) of polygons with an intensity column, in the hazard's
unit. Sampling rules: a point asset takes the value at the point; a line asset
takes the maximum along the line, and its exposed length (metres of line where
the intensity is > 0) is recorded. Rasters in another CRS are handled by
projecting the assets into the raster's CRS; nodata / NaN cells mean "no
hazard". Vector intensities must be finite numbers.

NetCDF: name the variable (``variable``) when the file holds several; each
slice of its extra dimension (time, return period …) is a band. A grid without
a grid mapping whose axes are CF latitude/longitude (units degrees_north /
degrees_east) is read as EPSG:4326, the CF default; any other grid without a
CRS is an error.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
import shapely.geometry
from scipy import sparse

from cascada.errors import CascadaInputError, require
from cascada.hazards.eventset import HAZARD_UNITS, EventSet

RASTER_SUFFIXES = {".tif", ".tiff", ".nc"}
VECTOR_SUFFIXES = {".geojson", ".json", ".gpkg", ".parquet", ".shp", ".fgb"}
_LINE_STEP_M = 10.0  # sampling step along lines for rasters, metres


def read_vector_footprint(path: str | Path, intensity_column: str) -> gpd.GeoDataFrame:
    """Read polygons with an intensity column; checks CRS, geometry and values."""
    path = Path(path)
    if not path.exists():
        raise CascadaInputError("hazard footprint not found", file=path)
    try:
        gdf = gpd.read_parquet(path) if path.suffix == ".parquet" else gpd.read_file(path)
    except Exception as exc:
        raise CascadaInputError(f"cannot read the footprint: {exc}", file=path) from exc
    if gdf.crs is None:
        raise CascadaInputError(
            "the footprint has no coordinate reference system (CRS)", file=path,
            field="geometry", hint="GeoJSON is EPSG:4326 by definition; set the CRS of other files",
        )
    if intensity_column not in gdf.columns:
        raise CascadaInputError(
            f"no intensity column {intensity_column!r}", file=path, field=intensity_column,
            hint=f"columns: {', '.join(c for c in gdf.columns if c != 'geometry')}",
        )
    values = pd.to_numeric(gdf[intensity_column], errors="coerce").to_numpy(dtype=float)
    bad = np.flatnonzero(~np.isfinite(values) | (values < 0))
    if len(bad):
        raise CascadaInputError(
            f"intensity must be a finite number >= 0, got {gdf[intensity_column].iloc[bad[0]]!r}",
            file=path, row=int(bad[0]), field=intensity_column,
        )
    geoms = gdf.geometry.values
    bad = np.flatnonzero(shapely.is_missing(geoms) | ~shapely.is_valid(geoms))
    if len(bad):
        reason = "missing" if shapely.is_missing(geoms[bad[0]]) else shapely.is_valid_reason(
            geoms[bad[0]])
        raise CascadaInputError(f"invalid geometry ({reason})", file=path, row=int(bad[0]),
                                field="geometry", hint="repair it, e.g. QGIS 'Fix geometries'")
    gtype = gdf.geometry.geom_type
    bad = np.flatnonzero(~gtype.isin(["Polygon", "MultiPolygon"]).to_numpy())
    if len(bad):
        raise CascadaInputError(f"footprints must be polygons, got {gtype.iloc[bad[0]]}",
                                file=path, row=int(bad[0]), field="geometry")
    out = gpd.GeoDataFrame({"intensity": values}, geometry=gdf.geometry.values, crs=gdf.crs)
    return out.to_crs("EPSG:4326")


def sample_vector(assets: gpd.GeoDataFrame, footprint: gpd.GeoDataFrame
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Intensity and exposed length at each asset from footprint polygons.

    Returns (intensity [assets] float32 — max over intersecting polygons,
    exposed_length_m [assets] float32 — line length inside polygons with
    intensity > 0, 0 for points).
    """
    metric_crs = assets.estimate_utm_crs()
    a = assets.geometry.to_crs(metric_crs).reset_index(drop=True)
    f = footprint.to_crs(metric_crs)
    f = f[f["intensity"] > 0].reset_index(drop=True)
    intensity = np.zeros(len(a), np.float32)
    exposed = np.zeros(len(a), np.float32)
    if len(f) == 0 or len(a) == 0:
        return intensity, exposed
    tree = shapely.STRtree(f.geometry.values)
    asset_idx, poly_idx = tree.query(a.values, predicate="intersects")
    if len(asset_idx):
        np.maximum.at(intensity, asset_idx, f["intensity"].to_numpy(np.float32)[poly_idx])
    is_line = a.geom_type.isin(["LineString", "MultiLineString"]).to_numpy()
    hit_lines = np.unique(asset_idx[is_line[asset_idx]])
    if len(hit_lines):
        union = shapely.union_all(f.geometry.values)
        exposed[hit_lines] = shapely.length(
            shapely.intersection(a.values[hit_lines], union)
        ).astype(np.float32)
    return intensity, exposed


def read_raster(path: str | Path, band: int = 1, variable: str | None = None):
    """(data rows × columns float64 with NaN for nodata, affine transform, pyproj CRS).

    path: GeoTIFF / COG or NetCDF (``variable`` names the NetCDF variable; band
    counts slices of its extra dimension from 1). Raises CascadaInputError on a
    missing file, an unreadable raster, a missing band or variable, or no CRS.
    """
    rasterio = require("rasterio", "raster")
    path = Path(path)
    if not path.exists():
        raise CascadaInputError("hazard raster not found", file=path)
    netcdf = path.suffix.lower() == ".nc"
    target = f'NETCDF:"{path}":{variable}' if netcdf and variable else str(path)
    if variable and not netcdf:
        raise CascadaInputError("variable applies to NetCDF files only", file=path,
                                field="variable")
    try:
        src = rasterio.open(target)
    except Exception as exc:
        raise CascadaInputError(f"cannot read the raster: {exc}", file=path,
                                field="variable" if variable else None) from exc
    with src:
        if src.count == 0 and src.subdatasets:
            names = [name.rsplit(":", 1)[-1] for name in src.subdatasets]
            raise CascadaInputError("the NetCDF file holds several variables", file=path,
                                    field="variable", hint=f"name one of: {', '.join(names)}")
        if not 1 <= band <= src.count:
            raise CascadaInputError(f"band {band} does not exist (the raster has "
                                    f"{src.count})", file=path, field="band")
        crs = _raster_crs(src, netcdf)
        if crs is None:
            raise CascadaInputError("the raster has no CRS", file=path, field="crs",
                                    hint="assign one, e.g. gdal_edit.py -a_srs EPSG:32633")
        data = src.read(band, masked=True).astype("float64").filled(np.nan)
        return data, src.transform, crs


def _raster_crs(src, netcdf: bool) -> pyproj.CRS | None:
    """The raster's CRS; for NetCDF without one, EPSG:4326 when the axes are CF lat/lon."""
    if src.crs is not None:
        return pyproj.CRS.from_user_input(src.crs.to_wkt())
    if netcdf:
        units = {v.strip().lower() for k, v in src.tags().items() if k.endswith("#units")}
        if {"degrees_north", "degrees_east"} <= units:
            return pyproj.CRS.from_epsg(4326)
    return None


def sample_raster(assets: gpd.GeoDataFrame, path: str | Path, band: int = 1,
                  variable: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Intensity and exposed length at each asset from a raster band (GeoTIFF or NetCDF).

    Points take the cell value; lines the maximum over points every 10 m along
    the line, and the exposed length is the share of those points with a value
    > 0 times the line's length (metres). Nodata and NaN cells count as 0.
    """
    data, transform, crs = read_raster(path, band, variable)
    return sample_array(assets, data, transform, crs)


def sample_array(assets: gpd.GeoDataFrame, data: np.ndarray, transform, crs
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Intensity and exposed length at each asset from an in-memory grid.

    data: rows × columns, in the hazard's unit (NaN or <= 0 = no hazard);
    transform: the grid's affine transform (rasterio/affine); crs: its CRS
    (anything pyproj accepts). Same rules as :func:`sample_raster`, which
    reads a file and calls this.
    """
    intensity, exposed = sample_stack(assets, np.asarray(data)[None], transform, crs)
    return intensity[0], exposed[0]


def sample_stack(assets: gpd.GeoDataFrame, stack: np.ndarray, transform, crs
                 ) -> tuple[np.ndarray, np.ndarray]:
    """:func:`sample_array` for many grids on one raster grid (events × rows × columns):
    the asset → cell mapping is computed once. Returns (intensity, exposed length m),
    each float32 events × assets."""
    rasterio = require("rasterio", "raster")
    raster_crs = pyproj.CRS.from_user_input(crs)
    stack = np.asarray(stack, dtype="float64")
    metric_crs = assets.estimate_utm_crs()
    metric = assets.geometry.to_crs(metric_crs).reset_index(drop=True)
    n = len(metric)
    is_line = metric.geom_type.isin(["LineString", "MultiLineString"]).to_numpy()
    # Sample points: the point itself, or points every _LINE_STEP_M along each line.
    dense = shapely.segmentize(metric.values, _LINE_STEP_M)
    coords, owner = shapely.get_coordinates(dense, return_index=True)
    xs, ys = pyproj.Transformer.from_crs(metric_crs, raster_crs, always_xy=True).transform(
        coords[:, 0], coords[:, 1])
    rows, cols = rasterio.transform.rowcol(transform, xs, ys)
    rows, cols = np.asarray(rows), np.asarray(cols)
    inside = (rows >= 0) & (rows < stack.shape[1]) & (cols >= 0) & (cols < stack.shape[2])
    total = np.bincount(owner, minlength=n).astype(float)
    lengths = shapely.length(metric.values)
    intensity = np.zeros((len(stack), n), np.float32)
    exposed = np.zeros((len(stack), n), np.float32)
    for b, data in enumerate(stack):
        values = np.zeros(len(rows))
        values[inside] = data[rows[inside], cols[inside]]
        values = np.where(np.isfinite(values) & (values > 0), values, 0.0)
        band = np.zeros(n)
        np.maximum.at(band, owner, values)
        wet = np.bincount(owner, weights=(values > 0).astype(float), minlength=n)
        intensity[b] = band
        exposed[b] = np.where(is_line, lengths * wet / np.maximum(total, 1), 0.0)
    return intensity, exposed


def value_at_points(geometries: gpd.GeoSeries, grid: np.ndarray, transform, crs,
                    outside: float = np.nan) -> np.ndarray:
    """The grid cell value (rows × columns) under each geometry's representative point;
    ``outside`` where the point is off the grid. transform: the grid's north-up affine
    transform; crs: its CRS."""
    points = geometries.representative_point().to_crs(crs)
    col = np.floor((points.x.to_numpy() - transform.c) / transform.a).astype(np.int64)
    row = np.floor((points.y.to_numpy() - transform.f) / transform.e).astype(np.int64)
    inside = (row >= 0) & (row < grid.shape[0]) & (col >= 0) & (col < grid.shape[1])
    out = np.full(len(points), outside, dtype=np.float64)
    out[inside] = grid[row[inside], col[inside]]
    return out


def footprint_eventset(
    assets: gpd.GeoDataFrame,
    path: str | Path,
    hazard: str,
    *,
    intensity_column: str = "intensity",
    event_id: str | None = None,
    annual_rate: float = 0.0,
    band: int = 1,
    variable: str | None = None,
) -> EventSet:
    """A one-event EventSet from a footprint file sampled at the region's assets."""
    path = Path(path)
    if hazard not in HAZARD_UNITS:
        raise CascadaInputError(f"unknown hazard {hazard!r}", field="hazard",
                                hint=f"known hazards: {', '.join(HAZARD_UNITS)}")
    suffix = path.suffix.lower()
    if suffix in RASTER_SUFFIXES:
        intensity, exposed = sample_raster(assets, path, band=band, variable=variable)
    elif suffix in VECTOR_SUFFIXES:
        intensity, exposed = sample_vector(assets, read_vector_footprint(path, intensity_column))
    else:
        raise CascadaInputError(
            f"unsupported footprint format {suffix!r}", file=path,
            hint=f"use one of {', '.join(sorted(RASTER_SUFFIXES | VECTOR_SUFFIXES))}",
        )
    events = pd.DataFrame({"event_id": [event_id or path.stem], "hazard": [hazard],
                           "annual_rate": [annual_rate]})
    return EventSet(
        intensity=sparse.csr_matrix(intensity[None, :]),
        asset_ids=assets["asset_id"].to_numpy(),
        events=events,
        exposed_length_m=sparse.csr_matrix(exposed[None, :]),
        metadata={"source": str(path)},
    )


def footprint_polygons(
    path: str | Path,
    *,
    intensity_column: str = "intensity",
    band: int = 1,
    variable: str | None = None,
    step: float = 0.25,
) -> gpd.GeoDataFrame:
    """The footprint as polygons (intensity, geometry) in EPSG:4326, for maps.

    Vector footprints are returned as read. Rasters are polygonised after
    rounding the intensity up to multiples of ``step`` (in the hazard's unit),
    so a 40 m depth grid becomes a few hundred polygons, not thousands of cells.
    """
    path = Path(path)
    if path.suffix.lower() not in RASTER_SUFFIXES:
        return read_vector_footprint(path, intensity_column)
    require("rasterio", "raster")
    from rasterio import features

    data, transform, crs = read_raster(path, band, variable)
    wet = np.isfinite(data) & (data > 0)
    classes = np.where(wet, np.ceil(np.where(wet, data, 0) / step) * step, 0).astype("float32")
    shapes = [(shapely.geometry.shape(geom), value)
              for geom, value in features.shapes(classes, mask=wet, transform=transform)]
    if not shapes:
        return gpd.GeoDataFrame({"intensity": []}, geometry=[], crs="EPSG:4326")
    geoms, values = zip(*shapes, strict=True)
    out = gpd.GeoDataFrame({"intensity": np.asarray(values, float)}, geometry=list(geoms),
                           crs=crs)
    out = out.dissolve(by="intensity", as_index=False)
    return out.to_crs("EPSG:4326")
