"""Tsunami: Abe/Green's law chain, inland decay on the terrain model, offshore check,
raster input, travel time and the earthquake trigger."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin
from shapely.geometry import Point

from cascada.errors import CascadaInputError
from cascada.hazards import earthquake as eq
from cascada.hazards import tsunami as ts
from cascada.hazards.registry import hazard_model

MODEL = hazard_model("tsunami")


def _points(lonlats) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"asset_id": [f"p{i}" for i in range(len(lonlats))]},
                            geometry=[Point(x, y) for x, y in lonlats], crs="EPSG:4326")


def test_abe_green_chain_reproduces_abe_1989():
    p = ts.TsunamiParameters(magnitude_mw=7.3, lat=37.1, lon=15.45)
    r = np.array([80.0, 150.0, 300.0])
    expected = 10.0 ** (7.3 - np.log10(r) - 5.55)  # Abe (1989) mean coastal height
    assert ts.coastal_height_m(p, r) == pytest.approx(expected, rel=1e-3)
    # near field capped at Abe's (1989) Hr = 10^(0.5 Mw - 3.30)
    assert ts.coastal_height_m(p, np.array([1.0]))[0] == pytest.approx(10 ** (0.5 * 7.3 - 3.3))
    assert ts.greens_law(1.0, 100.0, 1.0) == pytest.approx(100 ** 0.25)


def test_hills_mader_inundation_limit():
    # X = 0.06 H^(4/3) / n²: 3 m run-up, n = 0.03 -> 0.06 * 4.327 / 0.0009 = 288 m
    assert ts.inundation_limit_m(3.0, 0.03) == pytest.approx(288.5, rel=1e-3)


def test_depth_decays_inland_and_with_elevation():
    # Marsaxlokk: ~1 m a.s.l. ~90 m inland; at sea in the bay; inland Rabat (~190 m a.s.l.);
    # Marsaxlokk ~6 m a.s.l. 150 m inland
    assets = _points([(14.54878, 35.84085), (14.5465, 35.8390), (14.4030, 35.8820),
                      (14.5440, 35.8418)])
    p = ts.TsunamiParameters(magnitude_mw=7.5, lat=35.70, lon=14.75, runup_factor=2.0)
    depth, proxy = ts.inundation_depth_m(assets, p)
    runup = depth[1]  # at sea: the shoreline run-up
    assert runup > 2.0
    x_max = ts.inundation_limit_m(runup, p.manning_n)
    assert 0 < depth[0] < runup - 0.5  # decayed over ~90 m and raised ground
    assert depth[0] == pytest.approx(runup * (1 - 93.1 / x_max) - 0.99, abs=0.3)
    assert depth[2] == 0.0 and depth[3] == 0.0
    assert not proxy.any()


def test_monotone_in_magnitude(tiny_region):
    prev = None
    for m in (6.5, 7.0, 7.5, 8.0, 8.5):
        d = MODEL.event_set(tiny_region.assets, {**MODEL.example, "magnitude_mw": m},
                            None).intensity.toarray()
        if prev is not None:
            assert np.all(d >= prev)
        prev = d
    assert prev.max() > 0  # the harbour-side assets flood at Mw 8.5


def test_rupture_on_land_is_an_error(tiny_region):
    with pytest.raises(CascadaInputError, match="offshore rupture") as err:
        MODEL.event_set(tiny_region.assets, {"magnitude_mw": 7.3, "lat": 37.14, "lon": 15.013},
                        None)
    assert err.value.field == "lat/lon"
    with pytest.raises(CascadaInputError, match="offshore rupture"):  # on Malta itself
        MODEL.event_set(tiny_region.assets, {"magnitude_mw": 7.0, "lat": 35.88, "lon": 14.45},
                        None)
    assert not ts.is_on_land(35.6, 14.9) and ts.is_on_land(35.9, 14.45)


@pytest.mark.parametrize("values,field", [({"magnitude_mw": -1}, "magnitude_mw"),
                                          ({"depth_km": 150}, "depth_km"),
                                          ({"manning_n": 0}, "manning_n")])
def test_bad_parameters_name_the_field(values, field):
    with pytest.raises(CascadaInputError) as err:
        MODEL.parameters({**MODEL.example, **values})
    assert err.value.field == field


def test_from_inundation_raster(tmp_path, tiny_region):
    path = tmp_path / "geoclaw-depth.tif"
    data = np.full((20, 20), 1.25, np.float32)
    with rasterio.open(path, "w", driver="GTiff", height=20, width=20, count=1,
                       dtype="float32", crs="EPSG:4326",
                       transform=from_origin(14.47, 35.91, 0.001, 0.001)) as dst:
        dst.write(data, 1)
    es = ts.from_inundation_raster(tiny_region.assets, path, event_id="geoclaw")
    by_id = dict(zip(es.asset_ids, es.intensity.toarray()[0], strict=True))
    assert es.events["hazard"].iloc[0] == "tsunami" and es.events["event_id"].iloc[0] == "geoclaw"
    assert by_id["hosp"] == pytest.approx(1.25) and by_id["plant"] == 0


def test_triggered_by_the_1693_earthquake(malta_region):
    quake = eq.historical_scenario("val-di-noto-1693-offshore")
    es = ts.tsunami_from_earthquake(malta_region.assets, quake, np.random.default_rng(0))
    hours = es.events["time_offset_hours"].iloc[0]
    expected = ts.long_wave_travel_time_hours(malta_region.assets, quake.lat, quake.lon, 500.0)
    assert hours == pytest.approx(expected) and 0.05 < hours < 3
    depth = es.intensity.toarray()[0]
    assert np.all(np.isfinite(depth)) and 0 < (depth > 0).sum() < len(depth) * 0.05
    fixed = ts.tsunami_from_earthquake(malta_region.assets, quake, np.random.default_rng(0),
                                       travel_time_hours=1.5)
    assert fixed.events["time_offset_hours"].iloc[0] == 1.5
    assert fixed.events["event_id"].iloc[0] == "val-di-noto-1693-offshore-tsunami"
