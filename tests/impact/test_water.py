"""Water supply–demand balance: drought as capacity, desalination needs power."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cascada.impact.water import (
    WaterSettings,
    WaterSystem,
    balance_summary,
    ration_people,
    water_balance,
)

ALL = np.uint64(0xFFFFFFFFFFFFFFFF)
TYPES = ["water.well", "water.reservoir", "water.desalination", "water.desalination",
         "power.substation"]


def system(**overrides) -> WaterSystem:
    assets = pd.DataFrame({"asset_type": TYPES})
    built = WaterSystem.compile(assets, people_served=24_000.0,
                                settings=WaterSettings(**overrides))
    assert built is not None
    return built


def words(hours: int, down: dict[int, tuple[int, int]] | None = None) -> np.ndarray:
    """[hours, assets] all working, except asset -> (from hour, to hour) down in every sample."""
    w = np.full((hours, len(TYPES)), ALL, dtype=np.uint64)
    for asset, (lo, hi) in (down or {}).items():
        w[lo:hi, asset] = 0
    return w


def test_compile_splits_demand_by_share():
    s = system(per_capita_m3_day=0.24, rain_dependent_share=0.5, desal_utilisation=0.8)
    assert s.demand_m3_h == pytest.approx(24_000 * 0.24 / 24)  # 240 m³/h
    assert s.rain_m3_h.tolist() == pytest.approx([60.0, 60.0])
    assert s.desal_capacity_m3_h.tolist() == pytest.approx([75.0, 75.0])  # 120 / 0.8 / 2
    assert s.storage_m3 == pytest.approx(240 * 24)


def test_no_sources_or_switched_off_gives_none():
    assets = pd.DataFrame({"asset_type": ["power.substation"]})
    assert WaterSystem.compile(assets, 1000.0) is None
    assert WaterSystem.compile(pd.DataFrame({"asset_type": TYPES}), 1000.0,
                               WaterSettings(balance=False)) is None


def test_normal_day_is_balanced():
    s = system()
    b = water_balance(s, words(48), 64)
    assert np.all(b.rationed_share == 0)
    assert np.allclose(b.storage_m3, s.storage_m3)
    assert np.allclose(b.extra_power_mw, 0.0)


def test_drought_shifts_load_onto_desalination_and_power():
    s = system(per_capita_m3_day=0.24, rain_dependent_share=0.5, desal_utilisation=0.8)
    cf = np.array([0.8, 0.8, 1, 1, 1])  # 24 m³/h lost; spare desalination is 30 m³/h
    b = water_balance(s, words(24), 8, cf)
    assert np.allclose(b.desal_m3_h, 120 + 24)
    assert np.allclose(b.extra_power_mw, 24 * 3.5 / 1000)
    assert np.all(b.rationed_share == 0)
    summary = balance_summary(s, b, cf, 24_000)
    assert summary["rain_dependent_capacity_lost_m3_day"] == pytest.approx(24 * 24)
    assert summary["deficit_with_all_desalination_m3_day"] == 0
    assert summary["storage_lasts_hours"] is None


def test_storage_buffers_then_rations():
    # no spare desalination, 60 m³/h lost to drought, 2 h of storage (480 m³)
    s = system(per_capita_m3_day=0.24, rain_dependent_share=0.5, desal_utilisation=1.0,
               storage_hours=2.0)
    cf = np.array([0.5, 0.5, 1, 1, 1])
    b = water_balance(s, words(12), 1, cf)
    level = b.storage_m3[:, 0]
    assert level[:8].tolist() == pytest.approx([480 - 60 * (h + 1) for h in range(8)])
    assert np.all(b.rationed_share[:8] == 0)
    assert b.rationed_share[8:, 0] == pytest.approx(np.full(4, 60 / 240))
    summary = balance_summary(s, b, cf, 24_000)
    assert summary["storage_lasts_hours"] == pytest.approx(8.0)


def test_desalination_without_power_delivers_nothing():
    s = system(per_capita_m3_day=0.24, rain_dependent_share=0.5, desal_utilisation=0.8,
               storage_hours=0.0)
    b = water_balance(s, words(10, {2: (0, 10), 3: (0, 10)}), 4)
    assert np.allclose(b.desal_m3_h, 0.0)
    assert np.allclose(b.rationed_share, 0.5)
    assert np.all(b.extra_power_mw < 0)  # the plants draw less than normal


def test_ration_people_never_exceeds_population():
    without = np.array([[0.0, 100.0, 1000.0]])
    share = np.array([[0.5, 0.5, 0.5]])
    out = ration_people(without, share, 1000.0)
    assert out.tolist() == [[500.0, 550.0, 1000.0]]


@settings(max_examples=40, deadline=None)
@given(cf_low=st.floats(0, 1), cf_extra=st.floats(0, 1), storage=st.floats(0, 48),
       outage=st.integers(0, 24))
def test_less_yield_or_longer_outage_never_rations_less(cf_low, cf_extra, storage, outage):
    s = system(storage_hours=storage)
    high = np.array([cf_low + (1 - cf_low) * cf_extra] * 2 + [1, 1, 1])
    low = np.array([cf_low] * 2 + [1, 1, 1])
    short = words(30, {2: (0, outage)})
    long = words(30, {2: (0, outage + 3)})
    assert np.all(water_balance(s, short, 2, low).rationed_share
                  >= water_balance(s, short, 2, high).rationed_share - 1e-12)
    assert np.all(water_balance(s, long, 2, low).rationed_share
                  >= water_balance(s, short, 2, low).rationed_share - 1e-12)


@settings(max_examples=30, deadline=None)
@given(cf=st.floats(0, 1), storage=st.floats(0, 48), outage=st.integers(0, 30))
def test_water_is_conserved(cf, storage, outage):
    s = system(storage_hours=storage)
    b = water_balance(s, words(30, {3: (0, outage)}), 1, np.array([cf, cf, 1, 1, 1]))
    supplied = b.rain_m3_h[:, 0] + b.desal_m3_h[:, 0]
    served = s.demand_m3_h * (1 - b.rationed_share[:, 0])
    start = np.concatenate([[s.storage_m3], b.storage_m3[:-1, 0]])
    spilled = start + supplied - served - b.storage_m3[:, 0]
    assert np.all(spilled >= -1e-6)  # nothing made from nothing; excess rain spills
