"""Drought reaches the cascade as capacity: a scenario on Malta shifts load onto
desalination (and power), and rations water when desalination is also lost."""

from __future__ import annotations

import pytest

from cascada.region.io import write_region
from cascada.risk.config import read_scenario
from cascada.risk.scenario import run_scenario

DROUGHT = """
[scenario]
name = "dry"
region = "malta.gpkg"
seed = 7
samples = 4
hours = 72

[[hazards]]
id = "drought"
hazard = "drought"
parameters = {{ deficit_percent = {deficit}, duration_months = 18 }}
{extra}
[water]
storage_hours = 12.0
"""

DESAL_LOST = """
[[hazards]]
hazard = "attack"
parameters = {{ asset_ids = {ids}, damage_state = 4 }}
"""


@pytest.fixture(scope="module")
def malta_file(malta_region, tmp_path_factory):
    folder = tmp_path_factory.mktemp("water")
    write_region(malta_region, folder / "malta.gpkg")
    return folder


def run(folder, malta_region, deficit: float, extra: str = ""):
    path = folder / f"dry-{deficit}-{len(extra)}.toml"
    path.write_text(DROUGHT.format(deficit=deficit, extra=extra), encoding="utf-8")
    return run_scenario(read_scenario(path), region=malta_region)


def test_drought_moves_load_onto_desalination(malta_file, malta_region):
    wet = run(malta_file, malta_region, 0.0).summary["water_balance"]
    dry = run(malta_file, malta_region, 60.0).summary["water_balance"]
    assert wet["rain_dependent_capacity_lost_m3_day"] == pytest.approx(0.0, abs=1e-6)
    assert dry["rain_dependent_capacity_lost_m3_day"] > 0.2 * dry["rain_dependent_capacity_m3_day"]
    assert dry["desalination_extra_power_mw_mean"] > 0
    assert dry["desalination_extra_m3_day_mean"] > wet["desalination_extra_m3_day_mean"]


def test_drought_and_lost_desalination_ration_water(malta_file, malta_region):
    desal = malta_region.assets.loc[malta_region.assets["asset_type"] == "water.desalination",
                                    "asset_id"].tolist()
    ids = "[" + ", ".join(f'"{a}"' for a in desal) + "]"
    alone = run(malta_file, malta_region, 60.0)
    both = run(malta_file, malta_region, 60.0, DESAL_LOST.format(ids=ids))
    assert alone.summary["water_balance"]["rationed_people_hours_mean"] == 0
    rationed = both.summary["water_balance"]["rationed_people_hours_mean"]
    assert rationed > 0
    water = both.services.set_index("service").loc["water", "people_hours_lost_mean"]
    assert water >= rationed * 0.99  # rationing shows in people without water
    assert both.water_balance["rationed_share_mean"].iloc[-1] > 0
