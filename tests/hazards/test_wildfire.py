"""Wildfire: Alexandridis (2008) probabilities by hand, monotonicity, FWI, Malta run."""

from __future__ import annotations

import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin
from shapely.geometry import Point

from cascada.errors import CascadaInputError
from cascada.hazards.registry import hazard_model
from cascada.hazards.wildfire import (
    FuelGrid,
    Wildfire,
    build_fuel_grid,
    burn_probability,
    fire_weather_index,
    malta_fuel_grid_path,
    spread_probabilities,
    synthetic_daily_weather,
)

N, NE, E, SE, S, SW, W, NW = range(8)


def uniform_grid(n: int = 41, elevation: np.ndarray | None = None) -> FuelGrid:
    """n × n cells of 100 m, all scrub (p_veg = p_den = 0), flat unless given."""
    z = np.zeros((n, n)) if elevation is None else elevation
    return FuelGrid(code=np.full((n, n), 4, np.uint8), p_veg=np.zeros((n, n)),
                    p_den=np.zeros((n, n)), elevation_m=z, has_dtm=np.ones((n, n), bool),
                    transform=from_origin(0, 0, 100, 100), crs="EPSG:32633", cell_m=100.0)


def test_link_probabilities_by_hand():
    grid = uniform_grid(5)
    calm = spread_probabilities(grid, 0.0, 270.0, fwi=21.3)
    assert calm[:, 2, 2] == pytest.approx([0.58] * 8)              # p_h alone
    assert calm[N, 0, 2] == 0 and calm[W, 2, 0] == 0                # off the grid
    windy = spread_probabilities(grid, 5.0, 270.0, fwi=21.3)        # westerly: blows east
    assert windy[E, 2, 2] == pytest.approx(0.58 * np.exp(0.045 * 5))
    assert windy[W, 2, 2] == pytest.approx(0.58 * np.exp(5 * (0.045 - 2 * 0.131)))
    assert windy[N, 2, 2] == pytest.approx(0.58 * np.exp(5 * (0.045 - 0.131)))
    # slope: the eastern neighbour 10 m higher → θs = atan(10/100) = 5.71°
    z = np.zeros((5, 5))
    z[:, 3:] = 10.0
    sloped = spread_probabilities(uniform_grid(5, z), 0.0, 0.0, fwi=21.3)
    assert sloped[E, 2, 2] == pytest.approx(0.58 * np.exp(0.078 * np.degrees(np.arctan(0.1))))
    assert sloped[W, 2, 3] == pytest.approx(0.58 * np.exp(-0.078 * np.degrees(np.arctan(0.1))))
    # fuel: pine (p_veg 0.4) at normal density and a cell without fuel
    grid.p_veg[2, 3] = 0.4
    grid.code[1, 2] = 0
    fuelled = spread_probabilities(grid, 0.0, 0.0, fwi=21.3)
    assert fuelled[E, 2, 2] == pytest.approx(0.58 * 1.4) and fuelled[N, 2, 2] == 0


def _run(grid, fwi, hours_steps, seed=5, runs=16, wind=6.0):
    links = spread_probabilities(grid, wind, 270.0, fwi)
    centre = (grid.code.shape[0] // 2) * grid.code.shape[1] + grid.code.shape[1] // 2
    return burn_probability(links, np.full((runs, 1), centre), hours_steps,
                            np.random.default_rng(seed))


def test_monotone_in_fwi_and_time_deterministic_and_downwind():
    grid = uniform_grid()
    previous = None
    for fwi in (0.0, 5.0, 15.0, 30.0, 60.0):
        p = _run(grid, fwi, 12)
        if previous is not None:
            assert np.all(p >= previous)
        previous = p
    assert _run(grid, 0.0, 12).sum() == 1.0                         # only the ignition cell
    assert np.all(_run(grid, 20.0, 20) >= _run(grid, 20.0, 8))
    assert np.array_equal(_run(grid, 20.0, 10), _run(grid, 20.0, 10))
    p = _run(grid, 30.0, 15)
    cols = np.arange(p.shape[1]) - p.shape[1] // 2
    assert (p.sum(axis=0) * cols).sum() / p.sum() > 2               # pushed east by the wind


def test_synthetic_weather_and_fwi():
    weather = synthetic_daily_weather(2001, np.random.default_rng(0))
    monthly_rain = weather["pr_mm"].groupby(weather.index.month).sum()
    assert monthly_rain.sum() == pytest.approx(553.3, rel=0.4)      # one synthetic year
    assert weather.loc["2001-07", "tas_c"].mean() == pytest.approx(30.7, abs=1.5)
    fwi = fire_weather_index(weather)
    assert fwi.notna().all() and (fwi >= 0).all()
    assert fwi.loc["2001-07"].mean() > 3 * fwi.loc["2001-01"].mean()


def test_bad_parameters_name_the_field():
    model = Wildfire()
    with pytest.raises(CascadaInputError, match="wind_speed_m_s"):
        model.parameters({"wind_speed_m_s": -1})
    with pytest.raises(CascadaInputError, match="weather_day"):
        model.parameters({"weather_day": "13-40"})
    with pytest.raises(CascadaInputError, match="fwi or weather_day"):
        model.parameters({"fwi": 10, "weather_day": "07-01"})
    with pytest.raises(CascadaInputError, match="ignition_lat"):
        model.event_set(None, model.parameters({"ignition_lat": 35.9, "ignition_lon": 14.7,
                                                "fwi": 10, "n_runs": 1}),
                        np.random.default_rng(0))


def test_malta_fire_from_synthetic_weather(malta_region):
    start = time.perf_counter()
    model = hazard_model("wildfire")
    params = {k: v for k, v in Wildfire.example.items() if k != "fwi"}
    es = model.event_set(malta_region.assets,
                         model.parameters({**params, "weather_day": "07-20",
                                           "ignition_lat": None, "ignition_lon": None,
                                           "n_ignitions": 5}),
                         np.random.default_rng(11))
    elapsed = time.perf_counter() - start
    burn = es.intensity.toarray()[0]
    assert es.metadata["synthetic_weather"] and es.metadata["fwi"] > 10
    assert 0 < (burn > 0).sum() and burn.max() <= 1
    assert 0 < es.metadata["flat_terrain_share_of_fuel"] < 0.5       # Gozo is flat
    assert elapsed < 10


@pytest.mark.slow
def test_packaged_fuel_grid_is_rebuilt_from_osm(tmp_path):
    pbf = Path(__file__).resolve().parents[2] / "data" / "malta" / "malta-2018-08.osm.pbf"
    rebuilt = build_fuel_grid(pbf, tmp_path / "fuels.tif")
    with rasterio.open(rebuilt) as a, rasterio.open(malta_fuel_grid_path()) as b:
        assert a.transform == b.transform and np.array_equal(a.read(1), b.read(1))


def test_drought_raises_fire_danger():
    """drought → wildfire: less rain before the day never lowers the FWI (same weather)."""
    model = Wildfire()
    values = []
    for deficit in (0.0, 30.0, 60.0, 90.0):
        p = model.parameters({"weather_day": "06-15", "deficit_percent": deficit,
                              "duration_months": 12})
        values.append(model.fwi_of(p, np.random.default_rng(3))[0])
    assert values == sorted(values)
    assert values[-1] > values[0] + 2.0


def test_wildland_urban_interface_by_distance():
    from cascada.hazards.wildfire import distance_to_wildland_m, wui_class

    code = np.zeros((10, 10), np.uint8)
    code[:, 0] = 4  # scrub in the first column
    code[:, 9] = 1  # farmland: not wildland
    shape = code.shape
    grid = FuelGrid(code, np.zeros(shape), np.zeros(shape), np.zeros(shape),
                    np.ones(shape, bool), from_origin(500_000, 4_000_000, 100, 100),
                    "EPSG:32633", 100.0)
    points = gpd.GeoSeries([Point(500_050, 3_999_550), Point(500_350, 3_999_550),
                            Point(500_950, 3_999_550), Point(400_000, 3_999_550)],
                           crs="EPSG:32633")
    distance = distance_to_wildland_m(points, grid)
    assert distance.tolist() == [0.0, 300.0, 900.0, np.inf]
    assert wui_class(distance, 300.0).tolist() == ["intermix", "interface", "", ""]
    assert wui_class(distance, 200.0).tolist() == ["intermix", "", "", ""]


def test_malta_people_in_the_wui(malta_region):
    model = hazard_model("wildfire")
    near = model.people_exposed(malta_region.people, malta_region.assets,
                                model.parameters({"wui_interface_m": 100.0}))
    far = model.people_exposed(malta_region.people, malta_region.assets,
                               model.parameters({"wui_interface_m": 400.0}))
    intermix, interface = list(near.values()), list(far.values())
    assert intermix[0] == interface[0] > 0
    assert interface[1] > intermix[1] > 0
    assert interface[0] + interface[1] < malta_region.people["population"].sum()


def test_stochastic_fire_season_on_malta(malta_region):
    from cascada.hazards.wildfire import stochastic_fire_season

    assets = malta_region.assets
    a = stochastic_fire_season(assets, 6, np.random.default_rng(11), fires_per_year=3.0,
                               n_weather_years=2)
    b = stochastic_fire_season(assets, 6, np.random.default_rng(11), fires_per_year=3.0,
                               n_weather_years=2)
    assert a.intensity.shape == (6, len(assets))
    assert a.events["annual_rate"].sum() == pytest.approx(3.0)
    assert (a.intensity != b.intensity).nnz == 0  # same seed, same fires
    assert a.intensity.data.min() >= 0 and a.intensity.data.max() <= 1
    assert all(months in (6, 7, 8, 9) for months in a.metadata["months"])
    lines = assets.geom_type.eq("LineString").to_numpy()
    length = assets[lines].to_crs(32633).length.to_numpy()
    assert np.all(a.exposed_length_m.toarray()[:, lines] <= length + 1.0)
    with pytest.raises(CascadaInputError):
        stochastic_fire_season(assets, 2, np.random.default_rng(0), months=(13,))
