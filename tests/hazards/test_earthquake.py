"""Earthquake ground motion: pygmm agreement, monotonicity, correlation, seeds, bad input,
historical scenarios and the Gutenberg-Richter fit."""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pygmm
import pytest
from shapely.geometry import Point

from cascada.errors import CascadaInputError
from cascada.hazards import earthquake as eq
from cascada.hazards.registry import hazard_model

MODEL = hazard_model("earthquake")


def _line_of_assets(distances_km, lat=35.9, lon=14.45) -> gpd.GeoDataFrame:
    """Point assets due east of (lat, lon) at the given distances."""
    km_per_deg = 111.32 * np.cos(np.radians(lat))
    return gpd.GeoDataFrame(
        {"asset_id": [f"a{i}" for i in range(len(distances_km))]},
        geometry=[Point(lon + d / km_per_deg, lat) for d in distances_km], crs="EPSG:4326")


@pytest.mark.parametrize("gmm,magnitude,mechanism,vs30", [
    ("AkkarSandikkayaBommer2014", 6.0, "normal", 760.0),
    ("AkkarSandikkayaBommer2014", 7.3, "reverse", 400.0),
    ("BooreStewartSeyhanAtkinson2014", 5.5, "strike-slip", 760.0),
    ("ChiouYoungs2014", 7.1, "normal", 760.0),
])
def test_median_matches_pygmm(gmm, magnitude, mechanism, vs30):
    distances = np.array([0.0, 2.0, 9.0, 25.0, 60.0, 140.0, 190.0])
    mu, _, _ = eq.median_ln_pga(gmm, magnitude, distances, vs30, mechanism, "italy")
    code = {"strike-slip": "SS", "normal": "NS", "reverse": "RS"}[mechanism]
    for d, m in zip(distances, mu, strict=True):
        keys = dict(mag=magnitude, dist_jb=d, v_s30=vs30, mechanism=code, region="italy")
        if gmm == "ChiouYoungs2014":
            z = pygmm.ChiouYoungs2014.calc_depth_tor(magnitude, code)
            keys.update(depth_tor=z, dip=50.0, dist_x=-d, dist_rup=float(np.hypot(d, z)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            direct = getattr(pygmm, gmm)(pygmm.Scenario(**keys)).pga
        assert np.exp(m) == pytest.approx(direct, rel=0.01)


def test_point_source_event_matches_pygmm_median():
    assets = _line_of_assets([5.0, 20.0, 80.0])
    es = MODEL.event_set(assets, {"magnitude_mw": 6.5, "lat": 35.9, "lon": 14.45,
                                  "mechanism": "strike-slip", "median_only": True}, None)
    for d, value in zip([5.0, 20.0, 80.0], es.intensity.toarray()[0], strict=True):
        direct = pygmm.AkkarSandikkayaBommer2014(pygmm.Scenario(
            mag=6.5, dist_jb=d, v_s30=760.0, mechanism="SS")).pga
        assert value == pytest.approx(direct, rel=0.02)  # distances on the ellipsoid: ~0.5 %


def test_monotone_in_magnitude_with_fixed_draws(tiny_region):
    assets = tiny_region.assets
    previous = None
    for magnitude in (4.5, 5.0, 5.5, 6.0, 6.5, 7.0, 7.5):
        es = MODEL.event_set(assets, {**MODEL.example, "magnitude_mw": magnitude,
                                      "n_realisations": 8}, np.random.default_rng(11))
        values = es.intensity.toarray()
        if previous is not None:
            assert np.all(values >= previous - 1e-7)
        previous = values


def test_nearby_residuals_more_correlated_than_distant():
    # assets 0.3 km and 40 km apart; across realisations the common between-event term
    # gives every pair tau²/sigma² ≈ 0.24, the within-event field adds phi²·rho/sigma²
    assets = _line_of_assets([30.0, 30.3, 70.0])
    es = MODEL.event_set(assets, {"magnitude_mw": 6.0, "lat": 35.9, "lon": 14.45,
                                  "n_realisations": 600}, np.random.default_rng(5))
    ln = np.log(es.intensity.toarray())
    near = np.corrcoef(ln[:, 0], ln[:, 1])[0, 1]
    far = np.corrcoef(ln[:, 0], ln[:, 2])[0, 1]
    assert near > 0.8 and near > far + 0.4


def test_residual_field_unit_variance_and_correlation():
    rng = np.random.default_rng(0)
    xy = np.array([[0.0, 0.0], [500.0, 0.0], [3000.0, 0.0], [20_000.0, 200.0]])
    field = eq.ResidualField(xy, 8.5)
    draws = field.draw(rng, 4000)
    assert np.allclose(draws.std(axis=0), 1.0, atol=0.06)
    corr = np.corrcoef(draws.T)
    for j, expected in ((1, np.exp(-3 * 0.5 / 8.5)), (2, np.exp(-3 * 3 / 8.5))):
        assert corr[0, j] == pytest.approx(expected, abs=0.1)
    assert abs(corr[0, 3]) < 0.1


def test_same_seed_same_fields_and_different_seed_differs(tiny_region):
    values = {**MODEL.example}
    a = MODEL.event_set(tiny_region.assets, values, np.random.default_rng(1)).intensity
    b = MODEL.event_set(tiny_region.assets, values, np.random.default_rng(1)).intensity
    c = MODEL.event_set(tiny_region.assets, values, np.random.default_rng(2)).intensity
    assert (a != b).nnz == 0 and (a != c).nnz > 0


def test_scenario_rate_is_shared_by_realisations(tiny_region):
    es = MODEL.event_set(tiny_region.assets, {**MODEL.example, "annual_rate": 0.01,
                                              "n_realisations": 5}, np.random.default_rng(1))
    assert es.n_events == 5
    assert es.events["annual_rate"].sum() == pytest.approx(0.01)


@pytest.mark.parametrize("values,field", [
    ({"magnitude_mw": 8.6}, "magnitude_mw"),
    ({"magnitude_mw": 3.0}, "magnitude_mw"),
    ({"gmm": "BooreStewartSeyhanAtkinson2014", "magnitude_mw": 7.2, "mechanism": "normal"},
     "magnitude_mw"),
    ({"vs30_m_s": 90.0}, "vs30_m_s"),
    ({"mechanism": "oblique"}, "mechanism"),
    ({"lat": 95.0}, "lat"),
    ({"gmm": "NoSuchModel"}, "gmm"),
])
def test_bad_parameters_name_the_field(values, field):
    with pytest.raises(CascadaInputError) as err:
        MODEL.parameters({**MODEL.example, **values})
    assert err.value.field == field


def test_rupture_too_far_for_the_gmm(tiny_region):
    with pytest.raises(CascadaInputError, match="valid to 200 km") as err:
        MODEL.event_set(tiny_region.assets, {"magnitude_mw": 7.1, "lat": 38.146, "lon": 15.687},
                        np.random.default_rng(0))
    assert err.value.field == "lat/lon"


def test_finite_rupture_is_nearer_than_a_point():
    assets = _line_of_assets([30.0], lat=35.9, lon=14.45)
    point = dict(magnitude_mw=7.3, lat=35.9, lon=14.45, median_only=True)
    a = MODEL.event_set(assets, point, None).intensity.toarray()
    b = MODEL.event_set(assets, {**point, "strike_deg": 90.0}, None).intensity.toarray()
    assert eq.wells_coppersmith_length_km(7.3) == pytest.approx(73.6, rel=0.01)
    assert b[0, 0] > a[0, 0]


def test_historical_scenarios_load_and_cite():
    entries = eq.historical_scenarios()
    assert {"val-di-noto-1693", "messina-1908"} <= set(entries)
    assert all("CPTI15" in e["source"] for e in entries.values())
    p = eq.historical_scenario("val-di-noto-1693", n_realisations=2)
    assert p.magnitude_mw == pytest.approx(7.32) and p.n_realisations == 2
    with pytest.raises(CascadaInputError, match="no historical earthquake"):
        eq.historical_scenario("lisbon-1755")


def test_historical_scenarios_on_malta(malta_region):
    for name in ("val-di-noto-1693", "messina-1908"):
        es = MODEL.event_set(malta_region.assets, eq.historical_scenario(name, n_realisations=4),
                             np.random.default_rng(0))
        pga = es.intensity.toarray()
        assert es.n_events == 4 and np.all(np.isfinite(pga))
        assert 0.002 < np.median(pga) < 0.3


def test_weichert_recovers_a_synthetic_b_value():
    rng = np.random.default_rng(3)
    # 60 years complete above 4.5, b = 1.0, 3 events/year above 4.5
    n = rng.poisson(3.0 * 60)
    mags = 4.5 - np.log10(rng.uniform(size=n)) / 1.0
    cat = pd.DataFrame({"year": rng.uniform(1961, 2021, n), "magnitude_mw": mags})
    gr = eq.fit_gutenberg_richter(cat, [(4.5, 1961)], 2021.0, m_max=9.0)
    assert gr.b_value == pytest.approx(1.0, abs=0.15)
    assert gr.rate_above_min == pytest.approx(3.0, rel=0.2)


def test_stochastic_event_set_rates(tiny_region):
    es = eq.stochastic_event_set(tiny_region.assets, 60, np.random.default_rng(4))
    gr = es.metadata["gutenberg_richter"]
    assert es.n_events == 60 and es.intensity.shape == (60, len(tiny_region.assets))
    assert es.events["annual_rate"].sum() == pytest.approx(gr["rate_above_min"])
    assert 0.7 < gr["b_value"] < 1.5
    assert 0.05 < gr["rate_above_min"] < 2.0
    ruptures = es.metadata["ruptures"]
    assert ruptures["magnitude_mw"].min() >= 4.5 and ruptures["magnitude_mw"].max() <= 7.5
    again = eq.stochastic_event_set(tiny_region.assets, 60, np.random.default_rng(4))
    assert (again.intensity != es.intensity).nnz == 0
    with pytest.raises(CascadaInputError) as err:
        eq.stochastic_event_set(tiny_region.assets, 5, np.random.default_rng(4))
    assert err.value.field == "n_events"


@pytest.mark.parametrize("imt", ["PGV", "SA(0.3)", "SA(1.0)"])
def test_other_intensity_measures_match_pygmm(imt):
    assets = _line_of_assets([5.0, 20.0, 80.0])
    es = MODEL.event_set(assets, {"magnitude_mw": 6.5, "lat": 35.9, "lon": 14.45,
                                  "mechanism": "strike-slip", "median_only": True,
                                  "imt": imt}, None)
    assert es.metadata["imt"] == imt
    assert es.metadata["imt_unit"] == ("cm/s" if imt == "PGV" else "g")
    for d, value in zip([5.0, 20.0, 80.0], es.intensity.toarray()[0], strict=True):
        model = pygmm.AkkarSandikkayaBommer2014(pygmm.Scenario(
            mag=6.5, dist_jb=d, v_s30=760.0, mechanism="SS"))
        direct = (model.pgv if imt == "PGV"
                  else model.interp_spec_accels([eq.imt_period(imt)])[0])
        assert value == pytest.approx(direct, rel=0.02)


def test_intensity_measure_ranges_and_correlation():
    assert eq.imt_correlation_range_km("PGA") == pytest.approx(8.5)
    assert eq.imt_correlation_range_km("SA(0.5)") == pytest.approx(17.1)
    assert eq.imt_correlation_range_km("SA(2.0)") == pytest.approx(29.4)
    base = {"magnitude_mw": 6.5, "lat": 35.9, "lon": 14.45}
    for bad in ("SA(5.0)", "SA(x)", "PGD"):
        with pytest.raises(CascadaInputError) as err:
            MODEL.parameters({**base, "imt": bad})
        assert err.value.field == "imt"
    MODEL.parameters({**base, "imt": "SA(5.0)", "gmm": "BooreStewartSeyhanAtkinson2014"})


def test_damage_refuses_other_intensity_measures(tmp_path, tiny_region):
    from cascada.region.io import write_region
    from cascada.risk.config import read_scenario
    from cascada.risk.scenario import run_scenario

    write_region(tiny_region, tmp_path / "tiny.gpkg")
    path = tmp_path / "sa.toml"
    path.write_text("""
[scenario]
name = "sa"
region = "tiny.gpkg"
samples = 2
hours = 6

[[hazards]]
hazard = "earthquake"
parameters = { magnitude_mw = 6.0, lat = 35.85, lon = 14.55, imt = "SA(1.0)" }
""", encoding="utf-8")
    with pytest.raises(CascadaInputError, match="fragility curves use PGA"):
        run_scenario(read_scenario(path))
