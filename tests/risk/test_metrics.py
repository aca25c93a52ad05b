"""Risk metrics: EAI, exceedance curves, return-period values, bands, convergence."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cascada.risk.eventsets import return_period_rates
from cascada.risk.metrics import (
    bootstrap_return_periods,
    convergence,
    exceedance_curve,
    expected_annual_impact,
    return_period_values,
)


def test_eai_of_one_event_is_rate_times_mean():
    impact = np.array([[1.0, 2.0, 3.0, 6.0]])
    assert expected_annual_impact(np.array([0.1]), impact) == pytest.approx(0.3)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.floats(1e-4, 1.0), st.floats(0.0, 1e6)), min_size=1,
                max_size=40))
def test_exceedance_curve_is_monotone(pairs):
    rate = np.array([p[0] for p in pairs])
    impact = np.array([p[1] for p in pairs])
    curve = exceedance_curve(rate, impact)
    assert np.all(np.diff(curve["impact"]) < 0)  # distinct values, largest first
    assert np.all(np.diff(curve["exceedance_frequency"]) >= 0)
    assert np.all(np.diff(curve["exceedance_probability"]) >= 0)
    assert np.all((curve["exceedance_probability"] >= 0)
                  & (curve["exceedance_probability"] < 1))
    if len(curve):
        assert curve["exceedance_frequency"].iloc[-1] == pytest.approx(rate[impact > 0].sum())


def test_return_period_values_by_hand():
    # impacts 100 (rate 0.001), 50 (0.009), 10 (0.09): λ(100)=0.001, λ(50)=0.01, λ(10)=0.1
    rate = np.array([0.09, 0.001, 0.009])
    impact = np.array([10.0, 100.0, 50.0])
    values = return_period_values(rate, impact, (5, 10, 50, 100, 500, 1000, 2000))
    np.testing.assert_allclose(values, [0, 10, 10, 50, 50, 100, 100])


def test_return_period_rates_add_up():
    rates = return_period_rates([100, 10, 500])
    np.testing.assert_allclose(rates, [1 / 100 - 1 / 500, 1 / 10 - 1 / 100, 1 / 500])
    assert rates.sum() == pytest.approx(0.1)


def test_bootstrap_band_brackets_a_spread_and_is_seeded():
    # one event with rate 0.5: the 10- and 100-year values are its mean impact,
    # and the bootstrap of a mean brackets the mean
    rng = np.random.default_rng(0)
    impact = rng.gamma(2.0, 10.0, (1, 64))
    rate = np.array([0.5])
    a = bootstrap_return_periods(rate, impact, (10, 100), n_bootstrap=50, seed=1)
    b = bootstrap_return_periods(rate, impact, (10, 100), n_bootstrap=50, seed=1)
    np.testing.assert_array_equal(a, b)
    point = return_period_values(rate, impact.mean(axis=1), (10, 100))
    assert np.all(a[0] <= point + 1e-9) and np.all(point <= a[1] + 1e-9)
    assert np.all(a[1] > a[0])


def test_convergence_ends_at_the_full_estimate():
    rng = np.random.default_rng(1)
    impact = rng.random((30, 16))
    rate = rng.random(30)
    table = convergence(rate, impact, seed=3)
    full = expected_annual_impact(rate, impact)
    for kind in ("events", "samples"):
        last = table[table["kind"] == kind].iloc[-1]
        assert last["expected_annual_impact"] == pytest.approx(full)
