"""Raster intensity sampling at assets: vectorised vs a per-point rasterio read.

Samples the Malta flash-flood depth raster (scenarios/hazards/malta-flash-flood-depth.tif,
EPSG:23033, 40 m) at N random points inside it:

- vectorised: cascada.hazards.tsunami.sample_raster_points — affine inverse on
  arrays and one windowed read (points already in the raster's CRS, as a region's
  assets are once projected); also with 10 rasters on one grid (cell indices computed
  once: the same file read 10 times stands in for 10 return-period grids), and with
  the WGS84 → raster projection included;
- cascada.hazards.footprint.sample_raster on a GeoDataFrame (the general path:
  lines, any CRS, exposed length) for reference;
- peer: one rasterio windowed read per point (as pyincore's raster sampling does per
  asset), and rasterio's ``DatasetReader.sample`` generator, on a subset, scaled.

Run: .venv/bin/python benchmarks/hazard_sampling.py [n_points]
Prints `name: value unit` lines, last `ratio: N` (vectorised / per-point read).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyproj
import rasterio
from rasterio.windows import Window

from cascada.hazards.footprint import sample_raster
from cascada.hazards.tsunami import raster_cell_index, sample_raster_points

RASTER = Path(__file__).resolve().parents[1] / "scenarios" / "hazards" / \
    "malta-flash-flood-depth.tif"


def best_of(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main(n_points: int = 1_000_000, n_peer: int = 2_000, n_footprint: int = 100_000) -> None:
    rng = np.random.default_rng(0)
    with rasterio.open(RASTER) as src:
        b = src.bounds
        crs = src.crs.to_wkt()
    x = rng.uniform(b.left, b.right, n_points)
    y = rng.uniform(b.bottom, b.top, n_points)
    lon, lat = pyproj.Transformer.from_crs(crs, "EPSG:4326", always_xy=True).transform(x, y)

    n_rasters = 10
    t_vec = best_of(lambda: sample_raster_points(RASTER, x, y))

    def many_rasters():  # e.g. 10 return-period depth grids on one grid: index once
        cells = raster_cell_index(RASTER, x, y)
        return [sample_raster_points(RASTER, cells=cells) for _ in range(n_rasters)]

    t_many = best_of(many_rasters)
    t_vec_proj = best_of(lambda: sample_raster_points(RASTER, lon, lat, crs="EPSG:4326"))
    values = sample_raster_points(RASTER, x, y)

    assets = gpd.GeoDataFrame({"asset_id": np.arange(n_footprint).astype(str)},
                              geometry=gpd.points_from_xy(lon[:n_footprint], lat[:n_footprint]),
                              crs="EPSG:4326")
    t_footprint = best_of(lambda: sample_raster(assets, RASTER), repeat=1)

    def per_point_window():
        out = np.empty(n_peer)
        with rasterio.open(RASTER) as src:
            for i in range(n_peer):
                row, col = src.index(x[i], y[i])
                out[i] = src.read(1, window=Window(col, row, 1, 1))[0, 0]
        return out

    def per_point_sample():
        with rasterio.open(RASTER) as src:
            return np.array([v[0] for v in src.sample(zip(x[:n_peer], y[:n_peer], strict=True))])

    t_window = best_of(per_point_window, repeat=1)
    t_sample = best_of(per_point_sample, repeat=1)
    peer = per_point_window()
    same = np.allclose(np.nan_to_num(values[:n_peer]), np.nan_to_num(peer))

    rate_vec = n_points / t_vec
    rate_window = n_peer / t_window
    print(f"raster {RASTER.name} ({RASTER.stat().st_size / 1e6:.1f} MB), {n_points} points; "
          f"vectorised values equal the per-point read: {same}")
    print(f"({n_rasters} rasters on one grid; footprint.sample_raster on {n_footprint} points; "
          f"per-point peers on {n_peer} points; ratio = vectorised / per-point windowed read)")
    assert same, "vectorised and per-point reads disagree"
    print(f"vectorised_sampling_rate: {rate_vec:.3g} asset-samples/s")
    print(f"vectorised_sampling_rate_{n_rasters}_rasters: "
          f"{n_rasters * n_points / t_many:.3g} asset-samples/s")
    print(f"vectorised_sampling_rate_with_wgs84_projection: {n_points / t_vec_proj:.3g} "
          "asset-samples/s")
    print(f"footprint_sample_raster_rate: {n_footprint / t_footprint:.3g} asset-samples/s")
    print(f"per_point_windowed_read_rate: {rate_window:.3g} asset-samples/s")
    print(f"per_point_dataset_sample_rate: {n_peer / t_sample:.3g} asset-samples/s")
    print(f"ratio: {rate_vec / rate_window:.0f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
