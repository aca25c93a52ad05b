"""Site conditions for ground motion: Vs30 from topographic slope where no site data exist.

Wald & Allen (2007, BSSA 97(5), "Topographic slope as a proxy for seismic
site conditions and amplification") map the slope of a 30 arc-second
terrain model to Vs30 classes. Their table for *active tectonic* regions
(used here: the central Mediterranean is seismically active):

========================  ===========
slope (m/m)               Vs30 (m/s)
========================  ===========
< 1.0e-4                  < 180
1.0e-4 – 2.2e-3           180 – 240
2.2e-3 – 6.3e-3           240 – 300
6.3e-3 – 0.018            300 – 360
0.018 – 0.050             360 – 490
0.050 – 0.10              490 – 620
0.10 – 0.138              620 – 760
> 0.138                   > 760
========================  ===========

Vs30 is interpolated linearly in log10(slope) between the class bounds (as the
USGS global Vs30 map does) and clamped to 180–760 m/s. The terrain model is
first averaged to 30 arc-seconds, the resolution the relation was calibrated
on — steeper slopes of a finer grid would bias Vs30 up. Assets outside the
terrain model (in Malta: Gozo and Comino) keep the default Vs30.

Limits: a proxy, not a measurement: it misses stiff rock on flat plateaus
(much of Malta's limestone) and soft fill in steep valleys; its scatter is
about a factor of 1.5 in Vs30 (Wald & Allen 2007, fig. 7).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
from scipy import ndimage

from cascada.errors import CascadaInputError, require
from cascada.hazards.footprint import value_at_points

#: (slope m/m, Vs30 m/s) class bounds, Wald & Allen (2007) table 1, active tectonic.
WALD_ALLEN_ACTIVE = ((1.0e-4, 180.0), (2.2e-3, 240.0), (6.3e-3, 300.0), (1.8e-2, 360.0),
                     (5.0e-2, 490.0), (1.0e-1, 620.0), (1.38e-1, 760.0))
ARC_SECONDS_30 = 30.0 / 3600.0  # degrees


def vs30_from_slope_values(slope: np.ndarray) -> np.ndarray:
    """Vs30 (m/s) from slope (m/m), log-linear between Wald & Allen's class bounds."""
    knots = np.array(WALD_ALLEN_ACTIVE)
    s = np.log10(np.clip(np.asarray(slope, float), knots[0, 0], knots[-1, 0]))
    return np.interp(s, np.log10(knots[:, 0]), knots[:, 1])


def slope_grid(dem_path: str | Path, cell_deg: float = ARC_SECONDS_30):
    """(slope m/m rows × cols with NaN off the terrain model, affine transform) on a
    geographic grid of ``cell_deg`` degrees, from any-CRS elevation (metres)."""
    rasterio = require("rasterio", "raster")
    from rasterio.transform import from_origin
    from rasterio.warp import Resampling, reproject, transform_bounds

    dem_path = Path(dem_path)
    if not dem_path.is_file():
        raise CascadaInputError("terrain model not found", file=dem_path, field="dem_path")
    with rasterio.open(dem_path) as src:
        if src.crs is None:
            raise CascadaInputError("the terrain model has no CRS", file=dem_path, field="crs")
        west, south, east, north = transform_bounds(src.crs, "EPSG:4326", *src.bounds)
        cols = int(np.ceil((east - west) / cell_deg))
        rows = int(np.ceil((north - south) / cell_deg))
        transform = from_origin(west, north, cell_deg, cell_deg)
        elevation = np.full((rows, cols), np.nan)
        reproject(source=rasterio.band(src, 1), destination=elevation,
                  src_nodata=src.nodata if src.nodata is not None else np.nan,
                  dst_transform=transform, dst_crs="EPSG:4326", dst_nodata=np.nan,
                  resampling=Resampling.average)
    valid = np.isfinite(elevation)
    if not valid.any():
        raise CascadaInputError("the terrain model has no elevations", file=dem_path)
    # fill sea / nodata with the nearest land value so gradients at the coast stay finite
    nearest = ndimage.distance_transform_edt(~valid, return_distances=False,
                                             return_indices=True)
    filled = elevation[tuple(nearest)]
    lat = north - (np.arange(rows) + 0.5) * cell_deg
    dy = cell_deg * 110_574.0
    dx = cell_deg * 111_320.0 * np.cos(np.radians(lat))[:, None]
    gy, gx = np.gradient(filled)
    slope = np.hypot(gx / dx, gy / dy)
    return np.where(valid, slope, np.nan), transform


def vs30_at_assets(assets: gpd.GeoDataFrame, dem_path: str | Path, default_m_s: float
                   ) -> tuple[np.ndarray, np.ndarray]:
    """(Vs30 m/s per asset, bool per asset: from the slope proxy) — ``default_m_s``
    where the asset's representative point is off the terrain model."""
    slope, transform = slope_grid(dem_path)
    value = value_at_points(assets.geometry, slope, transform, "EPSG:4326")
    proxied = np.isfinite(value)
    vs30 = np.full(len(value), float(default_m_s))
    vs30[proxied] = vs30_from_slope_values(value[proxied])
    return vs30, proxied
