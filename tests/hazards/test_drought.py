"""Drought: synthetic record calibrated to the normals, SPI against a hand fit, capacity."""

from __future__ import annotations

import time

import numpy as np
import pytest
from scipy import stats

from cascada.errors import CascadaInputError
from cascada.hazards.drought import (
    Drought,
    capacity_factor,
    malta_climate,
    standardized_index,
    synthetic_monthly_precipitation,
    yield_reduction,
)
from cascada.hazards.eventset import read_eventset, write_eventset
from cascada.hazards.registry import hazard_model


def test_synthetic_record_matches_the_normals():
    p = synthetic_monthly_precipitation(2000, np.random.default_rng(0))
    ratio = p.groupby(p.index.month).mean().to_numpy() / malta_climate()["precipitation_mm"]
    assert np.allclose(ratio, 1.0, atol=0.08)
    annual = p.resample("YS").sum()
    assert annual.mean() == pytest.approx(553.3, rel=0.03)   # WMO 1961-1990 Luqa: 553.3 mm
    assert 0.2 < annual.std() / annual.mean() < 0.4


def test_spi_matches_a_gamma_fit_by_hand():
    # SPI-1 for a wet month is Φ⁻¹(G(x)) with G a gamma fitted by maximum likelihood.
    p = synthetic_monthly_precipitation(60, np.random.default_rng(3))
    spi = standardized_index(p, 1, "spi")
    january = p[p.index.month == 1].to_numpy()
    shape, _, scale = stats.gamma.fit(january, floc=0)
    expected = stats.norm.ppf(stats.gamma.cdf(january, shape, scale=scale))
    diff = np.abs(spi[p.index.month == 1].to_numpy() - expected)
    assert diff[np.abs(expected) < 1.5].max() < 0.05 and diff.max() < 0.3  # fits differ in tails
    wet = spi[np.isin(spi.index.month, [1, 2, 3, 10, 11, 12])]
    assert abs(np.nanmean(wet)) < 0.1 and np.nanstd(wet) == pytest.approx(1.0, abs=0.1)


def test_severity_monotone_in_deficit_and_deterministic(tiny_region):
    model = Drought()
    severities = []
    for deficit in (0.0, 45.0, 90.0):
        p = model.parameters({**Drought.example, "index": "spi", "deficit_percent": deficit,
                              "n_years": 20})
        es = model.event_set(tiny_region.assets, p, np.random.default_rng(7))
        severities.append(es.metadata["severity"])
        row = dict(zip(es.asset_ids, es.intensity.toarray()[0], strict=True))
        assert row["hosp"] == 0 and row["res"] == pytest.approx(es.metadata["severity"])
        assert es.metadata["synthetic"] is True
    assert severities == sorted(severities) and severities[-1] > 2
    again = model.event_set(tiny_region.assets, p, np.random.default_rng(7))
    assert again.metadata["index_value"] == es.metadata["index_value"]


def test_capacity_factor_curves():
    s = np.array([0.0, 1.0, 1.5, 2.0, 3.0, 9.0])
    wells = 1 - yield_reduction(s, np.array(["water.well"] * 6))
    reservoirs = 1 - yield_reduction(s, np.array(["water.reservoir"] * 6))
    assert wells.tolist() == pytest.approx([1.0, 0.9, 0.8, 0.65, 0.4, 0.4])
    assert np.all(reservoirs <= wells) and np.all(np.diff(reservoirs) <= 0)


def test_bad_parameters_name_the_field():
    model = Drought()
    with pytest.raises(CascadaInputError, match="deficit_percent"):
        model.parameters({"deficit_percent": 120})
    with pytest.raises(CascadaInputError, match="index"):
        model.parameters({"index": "pdsi"})


def test_malta_spei_drought(malta_region, tmp_path):
    start = time.perf_counter()
    model = hazard_model("drought")
    es = model.event_set(malta_region.assets, model.parameters(Drought.example),
                         np.random.default_rng(2025))
    elapsed = time.perf_counter() - start
    factor = capacity_factor(es)
    types = malta_region.assets["asset_type"].to_numpy()
    rain_fed = np.isin(types, ["water.well", "water.reservoir"])
    assert es.metadata["index_value"] < -1                # a 45 % deficit over 12 months
    assert np.all(factor[~rain_fed] == 1) and np.all(factor[rain_fed] < 1)
    assert np.all(factor[types == "water.reservoir"] <= factor[rain_fed].max())
    assert elapsed < 10
    # the capacity survives a round trip through the event-set file
    again = read_eventset(write_eventset(es, tmp_path / "drought.parquet"))
    assert np.array_equal(capacity_factor(again), factor)
