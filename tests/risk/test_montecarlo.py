"""Event-set Monte Carlo: consistency, determinism and an analytic outage probability."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from scipy import sparse
from shapely.geometry import Point

from cascada.hazards.eventset import EventSet
from cascada.region.model import Region
from cascada.risk.metrics import eai_table, risk_tables
from cascada.risk.montecarlo import run_risk
from cascada.vulnerability import load_fragility
from cascada.vulnerability.damage import exceedance_probabilities


def _eventset(region: Region, intensity: np.ndarray, rates, hazard: str = "earthquake"):
    n = intensity.shape[0]
    return EventSet(sparse.csr_matrix(intensity), region.assets["asset_id"].to_numpy(),
                    pd.DataFrame({"hazard": [hazard] * n, "annual_rate": rates}))


def _random_set(region: Region, n_events: int, seed: int = 0) -> EventSet:
    rng = np.random.default_rng(seed)
    intensity = rng.uniform(0.0, 0.6, (n_events, region.n_assets))
    intensity[rng.random(intensity.shape) < 0.5] = 0.0
    return _eventset(region, intensity, rng.uniform(0.001, 0.05, n_events))


def test_one_event_eai_is_rate_times_mean_impact(tiny_region):
    es = _eventset(tiny_region, np.full((1, tiny_region.n_assets), 0.4), [0.02])
    result = run_risk(tiny_region, es, n_samples=64, hours=48, seed=3)
    eai = eai_table(result.events, result.impacts())
    total = eai[eai["hazard"] == "all"].set_index("impact")["expected_annual_impact"]
    assert total["direct_loss_eur"] == pytest.approx(0.02 * result.loss_eur.mean())
    assert total["people_hours_power"] == pytest.approx(
        0.02 * result.people_hours["power"].mean())
    assert result.loss_eur.mean() > 0
    # per-asset contributions add up to the total
    assert result.asset_loss_eur.sum() == pytest.approx(total["direct_loss_eur"], rel=1e-9)


def test_same_seed_same_numbers_and_seed_matters(tiny_region):
    es = _random_set(tiny_region, 7)
    a = run_risk(tiny_region, es, 64, 24, seed=11, events_per_block=3)
    b = run_risk(tiny_region, es, 64, 24, seed=11, events_per_block=3)
    c = run_risk(tiny_region, es, 64, 24, seed=12, events_per_block=3)
    np.testing.assert_array_equal(a.loss_eur, b.loss_eur)
    np.testing.assert_array_equal(a.people_hours["water"], b.people_hours["water"])
    assert not np.array_equal(a.loss_eur, c.loss_eur)


def test_no_intensity_no_impact_and_more_than_64_samples(tiny_region):
    es = _eventset(tiny_region, np.zeros((2, tiny_region.n_assets)), [0.1, 0.2])
    result = run_risk(tiny_region, es, n_samples=100, hours=24, seed=1)
    assert result.loss_eur.shape == (2, 100)
    assert not result.loss_eur.any()
    assert all(not v.any() for v in result.people_hours.values())


def test_region_mismatch_is_a_clear_error(tiny_region):
    es = _eventset(tiny_region, np.zeros((1, tiny_region.n_assets)), [0.1])
    es.asset_ids = es.asset_ids[::-1].copy()
    with pytest.raises(ValueError, match="not the region's"):
        run_risk(tiny_region, es, 8, 4)


def _substation_hospital() -> Region:
    assets = gpd.GeoDataFrame(
        {"asset_id": ["sub", "hosp"], "asset_type": ["power.substation", "health.hospital"],
         "backup_hours": [0.0, 0.0], "population_served": [0.0, 1000.0]},
        geometry=[Point(14.49, 35.89), Point(14.50, 35.90)], crs="EPSG:4326")
    deps = pd.DataFrame([("hosp", "sub", "power", "power", 1, 0.0)],
                        columns=["consumer", "supplier", "kind", "group", "k", "backup_hours"])
    people = gpd.GeoDataFrame({"people_id": ["p"], "population": [1000.0]},
                              geometry=[Point(14.5, 35.9)], crs="EPSG:4326")
    links = pd.DataFrame([("p", "health", "hosp")],
                         columns=["people_id", "service", "asset_id"])
    return Region.from_tables("analytic", assets, deps, people, links)


def test_analytic_outage_probability_of_a_hospital_fed_by_one_substation():
    """P(hospital down) = P(substation damaged): the hospital itself is not exposed."""
    region = _substation_hospital()
    pga, rate, n = 0.25, 0.01, 2048
    es = _eventset(region, np.array([[pga, 0.0]]), [rate])
    result = run_risk(region, es, n_samples=n, hours=6, seed=5)
    medians, betas = load_fragility().curves(np.array(["power.substation"]), "earthquake")
    p = float(exceedance_probabilities([pga], medians, betas)[0, 0])
    assert 0.05 < p < 0.95
    sub, hosp = result.asset_outage_probability.sum(axis=0)
    assert hosp == sub  # the same samples, exactly
    sigma = np.sqrt(p * (1 - p) / n) * rate
    assert abs(hosp - rate * p) < 4 * sigma
    # people without health: 1000 people for every hour the substation is down (<= 6 h)
    down = result.people_hours["health"][0] > 0
    assert down.mean() == pytest.approx(hosp / rate)


def test_risk_tables_shapes(tiny_region):
    es = _random_set(tiny_region, 5)
    result = run_risk(tiny_region, es, 32, 24, seed=2, events_per_block=2)
    tables = risk_tables(result, tiny_region.assets, n_bootstrap=10)
    assert set(tables) >= {"event_impacts", "outage", "eai", "ep_curve", "asset_eai",
                           "return_periods", "convergence", "sector_eai"}
    assert len(tables["event_impacts"]) == 5
    assert len(tables["outage"]) == 5 * len(result.services)
    assert tables["asset_eai"].crs is not None
    assert tables["asset_eai"]["expected_annual_loss_eur"].sum() == pytest.approx(
        float(es.events["annual_rate"] @ result.loss_eur.mean(axis=1)), rel=1e-9)
