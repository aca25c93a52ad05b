"""Hazard footprints sampled at assets: points, lines, rasters in other CRSs, bad values."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin
from shapely.geometry import Point, box

from cascada.errors import CascadaInputError
from cascada.hazards.footprint import footprint_eventset, sample_raster, sample_vector


def _flood_polygons(tiny_region):
    """1.5 m around the hospital, 0.4 m over the west half of the road."""
    hosp = tiny_region.assets.set_index("asset_id").geometry["hosp"]
    return gpd.GeoDataFrame(
        {"depth_m": [1.5, 0.4]},
        geometry=[hosp.buffer(0.001), box(14.469, 35.890, 14.4825, 35.900)],
        crs="EPSG:4326",
    )


def test_vector_points_and_lines(tiny_region):
    f = _flood_polygons(tiny_region).rename(columns={"depth_m": "intensity"})
    intensity, exposed = sample_vector(tiny_region.assets, f)
    by_id = dict(zip(tiny_region.assets.asset_id, intensity, strict=True))
    assert by_id["hosp"] == pytest.approx(1.5)
    assert by_id["road"] == pytest.approx(0.4)
    assert by_id["plant"] == 0
    road = tiny_region.assets.asset_id.tolist().index("road")
    length = tiny_region.assets.to_crs(32633).geometry.length.iloc[road]
    assert 0.3 * length < exposed[road] < 0.7 * length  # about half the road is in the box
    assert exposed[tiny_region.assets.asset_id.tolist().index("hosp")] == 0


def test_vector_file_eventset(tmp_path, tiny_region):
    path = tmp_path / "flood.geojson"
    _flood_polygons(tiny_region).to_file(path)
    es = footprint_eventset(tiny_region.assets, path, "flood", intensity_column="depth_m")
    assert es.intensity.shape == (1, tiny_region.n_assets)
    assert es.events["hazard"].tolist() == ["flood"]
    assert es.unit(0) == "depth_m"
    assert set(tiny_region.assets.asset_id.to_numpy()[es.exposed_assets(0)]) >= {"hosp", "road"}


def test_nan_intensity_names_row(tmp_path, tiny_region):
    f = _flood_polygons(tiny_region)
    f.loc[1, "depth_m"] = np.nan
    path = tmp_path / "bad.geojson"
    f.to_file(path)
    with pytest.raises(CascadaInputError, match=r"bad.geojson.*row 1.*depth_m"):
        footprint_eventset(tiny_region.assets, path, "flood", intensity_column="depth_m")


def test_missing_intensity_column(tmp_path, tiny_region):
    path = tmp_path / "f.geojson"
    _flood_polygons(tiny_region).to_file(path)
    with pytest.raises(CascadaInputError, match="no intensity column 'depth'"):
        footprint_eventset(tiny_region.assets, path, "flood", intensity_column="depth")


def _write_raster(path, tiny_region, crs, value=2.0):
    """A 20 m raster in `crs` with `value` in a 200 m square around the hospital."""
    hosp = tiny_region.assets.set_index("asset_id").to_crs(crs).geometry["hosp"]
    x0, y0 = hosp.x - 1000, hosp.y + 1000
    data = np.zeros((100, 100), np.float32)
    data[45:55, 45:55] = value
    data[0, 0] = np.nan
    with rasterio.open(path, "w", driver="GTiff", width=100, height=100, count=1,
                       dtype="float32", crs=crs, transform=from_origin(x0, y0, 20, 20)) as dst:
        dst.write(data, 1)


@pytest.mark.parametrize("crs", ["EPSG:32633", "EPSG:3035", "EPSG:23033"])
def test_raster_in_another_crs_is_handled(tmp_path, tiny_region, crs):
    path = tmp_path / "depth.tif"
    _write_raster(path, tiny_region, crs)
    intensity, _ = sample_raster(tiny_region.assets, path)
    by_id = dict(zip(tiny_region.assets.asset_id, intensity, strict=True))
    assert by_id["hosp"] == pytest.approx(2.0)
    assert by_id["plant"] == 0  # outside the raster
    assert by_id["bank"] == 0


def test_raster_without_crs(tmp_path, tiny_region):
    path = tmp_path / "nocrs.tif"
    with rasterio.open(path, "w", driver="GTiff", width=2, height=2, count=1,
                       dtype="float32", transform=from_origin(0, 0, 1, 1)) as dst:
        dst.write(np.ones((2, 2), np.float32), 1)
    with pytest.raises(CascadaInputError, match="no CRS"):
        sample_raster(tiny_region.assets, path)


def test_unsupported_format(tmp_path, tiny_region):
    path = tmp_path / "flood.xyz"
    path.write_text("nothing")
    with pytest.raises(CascadaInputError, match="unsupported footprint format"):
        footprint_eventset(tiny_region.assets, path, "flood")


def test_point_outside_everything(tiny_region):
    f = gpd.GeoDataFrame({"intensity": [1.0]}, geometry=[Point(0, 0).buffer(0.01)],
                         crs="EPSG:4326")
    intensity, exposed = sample_vector(tiny_region.assets, f)
    assert not intensity.any() and not exposed.any()


def test_raster_footprint_polygons(tmp_path, tiny_region):
    from cascada.hazards.footprint import footprint_polygons

    path = tmp_path / "depth.tif"
    _write_raster(path, tiny_region, "EPSG:32633", value=0.6)
    polygons = footprint_polygons(path, step=0.25)
    assert polygons.crs.to_epsg() == 4326
    assert polygons["intensity"].tolist() == [0.75]  # 0.6 m rounded up to the 0.25 m class
    area = polygons.to_crs(32633).area.sum()
    assert area == pytest.approx(200 * 200, rel=1e-6)  # 10 × 10 cells of 20 m


def test_in_memory_grid_samples_like_the_file(tmp_path, tiny_region):
    from cascada.hazards.footprint import sample_array

    path = tmp_path / "depth.tif"
    _write_raster(path, tiny_region, "EPSG:32633", value=0.8)
    with rasterio.open(path) as src:
        data, transform, crs = src.read(1), src.transform, src.crs
    from_file = sample_raster(tiny_region.assets, path)
    in_memory = sample_array(tiny_region.assets, data, transform, crs)
    for a, b in zip(from_file, in_memory, strict=True):
        np.testing.assert_array_equal(a, b)


def test_data_path_honours_the_environment(monkeypatch, tmp_path):
    from cascada.datafile import data_path

    assert data_path("malta", "malta-dtm-40m.tif").exists()  # the repository's data/
    monkeypatch.setenv("CASCADA_DATA_DIR", str(tmp_path))
    assert data_path("malta", "x.tif") == tmp_path / "malta" / "x.tif"
