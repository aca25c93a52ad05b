"""NetCDF footprints (GDAL's netCDF driver through rasterio): variables, slices, CRS."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
import xarray as xr
from rasterio.transform import from_origin

from cascada.errors import CascadaInputError
from cascada.hazards.footprint import footprint_eventset, footprint_polygons, sample_raster

LAT = np.arange(35.8805, 35.9105, 0.001)  # cell centres, 0.001° cells
LON = np.arange(14.4605, 14.5005, 0.001)


def depth_grid() -> np.ndarray:
    """[return period, lat, lon]: a depth that grows with the return period and eastwards."""
    east = np.linspace(0.0, 1.0, len(LON))[None, :]
    return np.stack([np.broadcast_to(f * east, (len(LAT), len(LON))) for f in (0.5, 1.0, 2.0)]
                    ).astype(np.float32)


def write_netcdf(path, *, cf_axes: bool = True, second_variable: bool = False):
    ds = xr.Dataset({"depth": (("return_period", "lat", "lon"), depth_grid())},
                    coords={"return_period": [10, 100, 1000], "lat": LAT, "lon": LON})
    if second_variable:
        ds["velocity"] = (("lat", "lon"), np.ones((len(LAT), len(LON)), np.float32))
    if cf_axes:
        ds["lat"].attrs.update(units="degrees_north", standard_name="latitude")
        ds["lon"].attrs.update(units="degrees_east", standard_name="longitude")
    ds.to_netcdf(path, engine="scipy")  # NetCDF-3, written without netCDF4
    return path


def write_geotiff(path, band: int):
    data = depth_grid()[band - 1][::-1]  # north-up
    transform = from_origin(LON[0] - 0.0005, LAT[-1] + 0.0005, 0.001, 0.001)
    with rasterio.open(path, "w", driver="GTiff", width=len(LON), height=len(LAT), count=1,
                       dtype="float32", crs="EPSG:4326", transform=transform) as dst:
        dst.write(data, 1)
    return path


@pytest.mark.parametrize("band", [1, 2, 3])
def test_netcdf_slice_samples_like_the_same_geotiff(tmp_path, tiny_region, band):
    nc = write_netcdf(tmp_path / "depth.nc")
    tif = write_geotiff(tmp_path / f"depth{band}.tif", band)
    from_nc = sample_raster(tiny_region.assets, nc, band=band)
    from_tif = sample_raster(tiny_region.assets, tif)
    assert np.allclose(from_nc[0], from_tif[0]) and np.allclose(from_nc[1], from_tif[1])
    assert from_nc[0].max() > 0


def test_deeper_return_periods_are_deeper(tmp_path, tiny_region):
    nc = write_netcdf(tmp_path / "depth.nc", second_variable=True)
    depths = [footprint_eventset(tiny_region.assets, nc, "flood", band=b, variable="depth")
              .intensity.toarray().ravel() for b in (1, 2, 3)]
    assert np.all(depths[0] <= depths[1]) and np.all(depths[1] <= depths[2])
    assert np.allclose(depths[2], 4 * depths[0], atol=1e-5)
    polygons = footprint_polygons(nc, band=3, variable="depth")
    assert len(polygons) and polygons.crs.to_epsg() == 4326


def test_several_variables_need_a_name(tmp_path, tiny_region):
    nc = write_netcdf(tmp_path / "two.nc", second_variable=True)
    with pytest.raises(CascadaInputError) as err:
        sample_raster(tiny_region.assets, nc)
    assert err.value.field == "variable" and "depth" in err.value.hint
    with pytest.raises(CascadaInputError, match="cannot read"):
        sample_raster(tiny_region.assets, nc, variable="nope")


def test_netcdf_without_crs_or_band(tmp_path, tiny_region):
    nc = write_netcdf(tmp_path / "bare.nc", cf_axes=False)
    with pytest.raises(CascadaInputError) as err:
        sample_raster(tiny_region.assets, nc)
    assert err.value.field == "crs"
    good = write_netcdf(tmp_path / "good.nc")
    with pytest.raises(CascadaInputError) as err:
        sample_raster(tiny_region.assets, good, band=4)
    assert err.value.field == "band"
