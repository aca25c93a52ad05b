"""N-1 / greedy N-k criticality on the compiled graph (64 contingencies per word)."""

from __future__ import annotations

import numpy as np
import pytest

from cascada.errors import CascadaInputError
from cascada.impact.criticality import CriticalityModel, greedy_n_k, most_critical, n_minus_1


def test_losing_the_plant_cuts_everyone_off_power(tiny_region):
    table = n_minus_1(tiny_region, hours=24)
    by_id = table.set_index("asset_id")
    assert by_id.loc["plant", "people_without_power"] == pytest.approx(4000.0)
    assert by_id.loc["sub-a", "people_without_power"] == pytest.approx(1000.0)  # p3 has sub-b
    assert by_id.loc["sub-a", "people_single_supply"] == pytest.approx(500.0)  # p3 on sub-b
    assert by_id.loc["res", "people_without_water"] == pytest.approx(4000.0)
    assert by_id.loc["res", "people_without_health"] == pytest.approx(4000.0)  # hospital water
    assert by_id.loc["road", "people_affected"] == pytest.approx(2500.0)  # shop access: food
    assert by_id.loc["exch", "people_affected"] > by_id.loc["plant", "people_affected"]
    assert table["rank"].tolist() == list(range(1, len(table) + 1))
    assert table["people_affected"].is_monotonic_decreasing


def test_bit_parallel_contingencies_equal_one_at_a_time(tiny_region):
    model = CriticalityModel.compile(tiny_region, hours=24)
    sets = [np.array([i]) for i in range(tiny_region.n_assets)] + [np.array([1, 2])]
    together = model.consequences(sets)
    for j, single in enumerate(sets):
        alone = model.consequences([single])
        for a, b in zip(together, alone, strict=True):
            assert np.allclose(a[j], b[0])


def test_greedy_set_grows_the_loss(tiny_region):
    table = greedy_n_k(tiny_region, 3, hours=24)
    assert len(table) == 3 and table["asset_id"].is_unique
    assert np.all(np.diff(table["people_affected"].to_numpy()) >= 0)
    assert table["added_people_affected"].sum() == pytest.approx(
        table["people_affected"].iloc[-1])
    assert most_critical(tiny_region, 3, hours=24) == table["asset_id"].tolist()
    with pytest.raises(CascadaInputError):
        greedy_n_k(tiny_region, 0)
    with pytest.raises(CascadaInputError):
        greedy_n_k(tiny_region, tiny_region.n_assets + 1)


def test_n_minus_1_over_malta_names_a_critical_pair(malta_region):
    table = n_minus_1(malta_region, hours=24)
    assert len(table) == malta_region.n_assets
    assert (table["people_single_supply"] > 0).sum() > 10
