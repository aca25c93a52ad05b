"""Vs30 from topographic slope (Wald & Allen 2007) and its effect on ground motion."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin
from shapely.geometry import Point

from cascada.errors import CascadaInputError
from cascada.hazards.earthquake import historical_scenario, scenario_event_set
from cascada.hazards.site import vs30_at_assets, vs30_from_slope_values


def test_class_bounds_and_interpolation():
    bounds = [1.0e-4, 2.2e-3, 6.3e-3, 1.8e-2, 5.0e-2, 1.0e-1, 1.38e-1]
    assert vs30_from_slope_values(np.array(bounds)).tolist() == pytest.approx(
        [180, 240, 300, 360, 490, 620, 760])
    assert vs30_from_slope_values(np.array([0.0, 1e-6, 0.5])).tolist() == [180, 180, 760]
    mid = np.sqrt(1.8e-2 * 5.0e-2)  # halfway in log10 slope
    assert vs30_from_slope_values(np.array([mid]))[0] == pytest.approx(425.0)
    s = np.logspace(-5, 0, 200)
    assert np.all(np.diff(vs30_from_slope_values(s)) >= 0)


def plane_dem(path, slope: float):
    """A UTM plane rising eastwards with the given slope (m/m), 40 m cells, 20 × 20 km."""
    n, cell = 500, 40.0
    x = np.arange(n) * cell
    z = np.broadcast_to(slope * x, (n, n)).astype("float32")
    with rasterio.open(path, "w", driver="GTiff", width=n, height=n, count=1, dtype="float32",
                       crs="EPSG:32633", transform=from_origin(440_000, 3_980_000, cell, cell),
                       nodata=-9999.0) as dst:
        dst.write(z, 1)
    return path


@pytest.mark.parametrize(("slope", "expected"), [(0.03, 425.0), (0.004, 274.1)])
def test_plane_gives_its_class(tmp_path, slope, expected):
    dem = plane_dem(tmp_path / "plane.tif", slope)
    assets = gpd.GeoDataFrame(geometry=[Point(14.40, 35.90), Point(14.45, 35.88),
                                        Point(15.50, 36.50)], crs="EPSG:4326")
    vs30, proxied = vs30_at_assets(assets, dem, 760.0)
    assert proxied.tolist() == [True, True, False]
    assert vs30[:2] == pytest.approx([expected, expected], rel=0.03)
    assert vs30[2] == 760.0


def test_missing_terrain_model_names_the_field(tmp_path):
    assets = gpd.GeoDataFrame(geometry=[Point(14.4, 35.9)], crs="EPSG:4326")
    with pytest.raises(CascadaInputError) as err:
        vs30_at_assets(assets, tmp_path / "none.tif", 760.0)
    assert err.value.field == "dem_path"


def test_softer_sites_shake_harder_on_malta(malta_region):
    assets = malta_region.assets
    rock = historical_scenario("val-di-noto-1693-offshore", median_only=True)
    slope = historical_scenario("val-di-noto-1693-offshore", median_only=True, site="slope")
    a = scenario_event_set(assets, rock, np.random.default_rng(0))
    b = scenario_event_set(assets, slope, np.random.default_rng(0))
    pga_rock, pga_slope = (es.intensity.toarray().ravel() for es in (a, b))
    assert b.metadata["vs30_from_slope_assets"] > 0.5 * len(assets)  # Malta island has a DTM
    assert np.all(pga_slope >= pga_rock - 1e-6)
    assert np.median(pga_slope[pga_slope > 0]) > 1.1 * np.median(pga_rock[pga_rock > 0])
