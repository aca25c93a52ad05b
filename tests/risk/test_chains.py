"""Chains in a scenario: a triggered hazard starts later, inherits its parent's parameters,
and the cascade sees both in one timeline."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pydantic import Field
from scipy import sparse

from cascada.errors import CascadaInputError
from cascada.hazards import registry
from cascada.hazards.eventset import EventSet
from cascada.region.io import write_region
from cascada.risk.config import read_scenario
from cascada.risk.scenario import run_scenario


class LossParameters(registry.HazardParameters):
    asset_ids: list[str] = Field(description="assets lost")
    damage_state: int = Field(4, ge=1, le=4, description="damage state of the lost assets")


class ExplicitLoss(registry.HazardModel):
    """Test double: the listed assets reach the given damage state."""

    name = "attack"
    unit = "damage_state"
    description = "test double"
    Parameters = LossParameters

    def event_set(self, assets, parameters, rng):
        hit = assets["asset_id"].isin(parameters.asset_ids).to_numpy()
        row = np.where(hit, float(parameters.damage_state), 0.0)
        return EventSet(sparse.csr_matrix(row[None, :]), assets["asset_id"].to_numpy(),
                        pd.DataFrame({"hazard": ["attack"]}))


@pytest.fixture
def double(monkeypatch):
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))
    registry.register(ExplicitLoss)


CHAIN = """
[scenario]
name = "chain"
region = "tiny.gpkg"
samples = 4
hours = 120

[[hazards]]
id = "first"
hazard = "attack"
parameters = {{ asset_ids = ["sub-a"], damage_state = 4 }}

[[hazards]]
id = "second"
hazard = "attack"
trigger = "{trigger}"
time_offset_hours = 10
parameters = {{ asset_ids = ["sub-b"] }}
"""


def test_triggered_hazard_starts_later(tmp_path, tiny_region, double):
    write_region(tiny_region, tmp_path / "tiny.gpkg")
    path = tmp_path / "chain.toml"
    path.write_text(CHAIN.format(trigger="first"))
    scenario = read_scenario(path)
    assert scenario.onset_hours() == [0.0, 10.0]
    result = run_scenario(scenario)
    outages = result.outages
    sub_b = outages[outages["asset_id"] == "sub-b"]
    assert (sub_b["damage_onset_hour"] == 10).all() and (sub_b["first_down_hour"] == 10).all()
    # The RO plant needs either substation: it works until the second one goes at
    # hour 10; then the reservoir and the hospital's water go with it.
    for asset in ("desal", "res", "hosp"):
        down = outages[outages["asset_id"] == asset]
        assert len(down) == 4 and (down["first_down_hour"] == 10).all(), asset
    # The telephone exchange hangs on substation A alone: 24 h of battery from hour 0.
    exch = outages[outages["asset_id"] == "exch"]
    assert (exch["first_down_hour"] == 24).all()
    hazards = result.summary["hazards"]
    assert [h["onset_hours"] for h in hazards] == [0.0, 10.0]
    assert hazards[1]["parameters"]["damage_state"] == 4  # inherited from "first"


def test_chain_with_missing_parent(tmp_path, double):
    path = tmp_path / "chain.toml"
    path.write_text(CHAIN.format(trigger="earthquake"))
    with pytest.raises(CascadaInputError, match=r"trigger 'earthquake' names no earlier hazard"):
        read_scenario(path)


def test_bad_model_parameter_names_the_hazard(tmp_path, tiny_region, double):
    write_region(tiny_region, tmp_path / "tiny.gpkg")
    path = tmp_path / "chain.toml"
    path.write_text(CHAIN.format(trigger="first").replace("damage_state = 4", "damage_stat = 4"))
    with pytest.raises(CascadaInputError, match=r"hazards.0.parameters.*unknown parameter"):
        run_scenario(read_scenario(path))


NATECH = """
[scenario]
name = "natech"
region = "tiny.gpkg"
samples = 8
hours = 48

[[hazards]]
id = "first"
hazard = "attack"
parameters = {{ asset_ids = ["plant"], damage_state = 3 }}

[[hazards]]
id = "second"
hazard = "attack"
trigger = "first"
if_damaged = "{tank}"
min_damage_state = 2
parameters = {{ asset_ids = ["sub-b"] }}
"""


@pytest.mark.parametrize(("tank", "probability"), [("plant", 1.0), ("bank", 0.0)])
def test_conditional_hazard_happens_where_its_trigger_damages(tmp_path, tiny_region, double,
                                                              tank, probability):
    write_region(tiny_region, tmp_path / "tiny.gpkg")
    path = tmp_path / "natech.toml"
    path.write_text(NATECH.format(tank=tank))
    result = run_scenario(read_scenario(path))
    second = result.summary["hazards"][1]
    assert second["probability"] == probability
    damaged_b = (result.damage_states[:, tiny_region.asset_index().get_loc("sub-b")] > 0)
    assert damaged_b.all() if probability == 1.0 else not damaged_b.any()


def test_condition_on_unknown_asset(tmp_path, tiny_region, double):
    write_region(tiny_region, tmp_path / "tiny.gpkg")
    path = tmp_path / "natech.toml"
    path.write_text(NATECH.format(tank="ghost"))
    with pytest.raises(CascadaInputError, match=r"if_damaged names asset 'ghost'"):
        run_scenario(read_scenario(path))
