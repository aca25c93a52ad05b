"""Generated flash flood: calibration, HAND on a synthetic valley, Malta with the Gozo proxy."""

from __future__ import annotations

import time

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin
from shapely.geometry import Point

from cascada.errors import CascadaInputError
from cascada.hazards.flashflood import FlashFlood, depth_raster, terrain, valley_depth_m
from cascada.hazards.registry import hazard_model


def test_calibration_and_scaling():
    # calibrated: 100 mm in 24 h gives about 1 m in a 20 km² valley
    assert float(valley_depth_m(np.array(20.0), 100.0, 24.0)) == pytest.approx(1.0, abs=0.02)
    # h ∝ Q^0.3: doubling the rainfall (or the area) multiplies the depth by 2^0.3
    ratio = valley_depth_m(np.array(20.0), 200.0, 24.0) / valley_depth_m(np.array(20.0), 100, 24)
    assert float(ratio) == pytest.approx(2 ** 0.3, rel=1e-9)


@pytest.fixture
def valley_dem(tmp_path):
    """A V-shaped valley 61 × 200 cells of 40 m, sloping south 1 %, sides 5 % (UTM 33N)."""
    rows, cols = np.mgrid[0:200, 0:61]
    z = 100.0 - rows * 0.4 + np.abs(cols - 30) * 2.0
    path = tmp_path / "valley.tif"
    with rasterio.open(path, "w", driver="GTiff", height=200, width=61, count=1,
                       dtype="float32", crs="EPSG:32633",
                       transform=from_origin(450_000, 3_980_000, 40, 40)) as dst:
        dst.write(z.astype("float32"), 1)
    return path


def test_depth_is_level_minus_hand_on_a_synthetic_valley(valley_dem):
    p = FlashFlood().parameters({"rainfall_mm": 150.0, "dem_path": str(valley_dem),
                                 "drainage_km2": 1.0, "waterways_pbf": None})
    depth, t = depth_raster(p)
    drain = t.upstream_km2 >= 1.0
    level = valley_depth_m(t.upstream_km2, 150.0, 24.0)
    assert drain[-1, 30] and not drain[-1, 29]
    assert depth[-1, 30] == pytest.approx(level[-1, 30], rel=1e-5)
    # one cell up the side (2 m higher): depth = level − 2 m, or dry
    side = level[-1, 30] - 2.0
    assert depth[-1, 31] == pytest.approx(side if side >= 0.05 else 0.0, abs=1e-4)
    assert np.all(depth >= 0) and np.all(depth <= level.max() + 1e-4)


def test_monotone_in_rainfall(valley_dem):
    model = FlashFlood()
    previous = None
    for rainfall in (20.0, 60.0, 200.0, 600.0):
        p = model.parameters({"rainfall_mm": rainfall, "dem_path": str(valley_dem),
                              "waterways_pbf": None})
        depth, _ = depth_raster(p)
        if previous is not None:
            assert np.all(depth >= previous)
        previous = depth


def test_bad_parameters_name_the_field(tmp_path):
    model = FlashFlood()
    with pytest.raises(CascadaInputError, match="rainfall_mm"):
        model.parameters({"rainfall_mm": -5})
    with pytest.raises(CascadaInputError, match="duration_h"):
        model.parameters({"rainfall_mm": 50, "duration_h": 0})
    with pytest.raises(CascadaInputError, match="dem_path"):
        terrain(tmp_path / "missing.tif")


def test_malta_flash_flood_with_gozo_proxy(malta_region):
    start = time.perf_counter()
    model = hazard_model("flood")
    assets = malta_region.assets
    es = model.event_set(assets, model.parameters(FlashFlood.example), np.random.default_rng(0))
    elapsed = time.perf_counter() - start
    depth = es.intensity.toarray()[0]
    assert es.events["hazard"].tolist() == ["flood"]
    assert 0.8 < es.metadata["max_depth_m"] < 2.0           # ~1 m in the main valleys
    assert 0 < (depth > 0).sum() < 0.2 * len(depth)
    gozo = assets.geometry.representative_point().y.to_numpy() > 36.005
    assert es.metadata["assets_by_proxy"] == pytest.approx(gozo.sum(), abs=5)
    assert (depth[gozo] > 0).any()                           # proxy along Gozo's valleys
    assert elapsed < 10
    wetter = model.event_set(assets, model.parameters({**FlashFlood.example,
                                                       "rainfall_mm": 150.0}),
                             np.random.default_rng(0))
    assert np.all(wetter.intensity.toarray()[0] >= depth)


def test_asset_on_sea_cell_is_dry(valley_dem):
    assets = gpd.GeoDataFrame({"asset_id": ["far"], "asset_type": ["x"]},
                              geometry=[Point(0.0, 0.0)], crs="EPSG:4326")
    model = FlashFlood()
    es = model.event_set(assets, model.parameters({"rainfall_mm": 100.0,
                                                   "dem_path": str(valley_dem),
                                                   "waterways_pbf": None}),
                         np.random.default_rng(0))
    assert es.intensity.toarray()[0, 0] == 0 and es.metadata["assets_by_proxy"] == 1
