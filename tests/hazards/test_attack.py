"""Deliberate attack: targeted loss, stand-off grading, crowded places from OSM."""

from __future__ import annotations

import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Point

from cascada.errors import CascadaInputError
from cascada.hazards.attack import (
    Attack,
    crowded_places,
    damage_state_at_distance,
    people_exposed,
    standoff_distances,
    standoff_table,
)
from cascada.hazards.registry import hazard_model
from cascada.vulnerability.damage import sample_damage_states

MALTA_PBF = Path(__file__).resolve().parents[2] / "data" / "malta" / "malta-2018-08.osm.pbf"


def test_targeted_loss(tiny_region):
    model = hazard_model("attack")
    p = model.parameters({"asset_ids": ["sub-a", "desal"]})
    es = model.event_set(tiny_region.assets, p, np.random.default_rng(0))
    state = dict(zip(es.asset_ids, es.intensity.toarray()[0], strict=True))
    assert state["sub-a"] == 4 and state["desal"] == 4 and state["hosp"] == 0
    p = model.parameters({"asset_ids": ["res"], "damage_state": 2})
    es = model.event_set(tiny_region.assets, p, np.random.default_rng(0))
    states = sample_damage_states(es, 0, tiny_region.assets["asset_type"], None, 3,
                                  np.random.default_rng(0))
    assert states.shape == (3, len(tiny_region.assets))
    assert (states[:, list(es.asset_ids).index("res")] == 2).all() and states.sum() == 6


def test_published_chart_rows_are_reproduced():
    table = standoff_table()
    assert table.loc["car", ["evacuation_ft", "shelter_ft"]].tolist() == [320, 1900]
    for device, row in table.iterrows():
        evac, shelter = standoff_distances(row["tnt_equivalent_kg"])
        assert evac == pytest.approx(row["evacuation_m"], rel=1e-9), device
        assert shelter == pytest.approx(row["shelter_m"], rel=1e-9), device
        assert row["evacuation_m"] == pytest.approx(row["evacuation_ft"] * 0.3048, abs=1)


@settings(max_examples=50, deadline=None)
@given(w=st.floats(0.1, 1e5), factor=st.floats(1.0, 100.0))
def test_radii_monotone_in_charge(w, factor):
    e1, s1 = standoff_distances(w)
    e2, s2 = standoff_distances(w * factor)
    assert e2 >= e1 * (1 - 1e-12) and s2 >= s1 * (1 - 1e-12) and s1 > e1


def test_damage_grading_by_distance():
    r = np.array([0, 40, 60, 100, 150, 300, 600])
    assert damage_state_at_distance(r, 100.0, 500.0).tolist() == [4, 4, 3, 3, 2, 1, 0]


def test_incident_event_set_and_people(tiny_region):
    model = Attack()
    params = {"target_lat": 35.895, "target_lon": 14.490, "device": "suv_van"}
    es = model.event_set(tiny_region.assets, model.parameters(params), np.random.default_rng(0))
    state = dict(zip(es.asset_ids, es.intensity.toarray()[0], strict=True))
    assert state["sub-a"] == 4                      # ~0 m from the incident
    assert state["plant"] == 0                      # ~8 km away
    assert es.metadata["evacuation_m"] == pytest.approx(122)
    people = people_exposed(tiny_region.people, params)
    assert people["shelter_zone"] >= 1000 and people["evacuation_zone"] == 0  # p1 is ~140 m off


def test_bad_parameters_name_the_field():
    model = Attack()
    with pytest.raises(CascadaInputError, match="asset_ids"):
        model.parameters({"target_lat": 35.9})
    with pytest.raises(CascadaInputError, match="device"):
        model.parameters({"target_lat": 35.9, "target_lon": 14.5, "device": "rocket"})
    with pytest.raises(CascadaInputError, match="tnt_equivalent_kg"):
        model.parameters({"target_lat": 35.9, "target_lon": 14.5, "tnt_equivalent_kg": -1})
    with pytest.raises(CascadaInputError, match="damage_state"):
        model.parameters({"asset_ids": ["a"], "damage_state": 5})
    assets = gpd.GeoDataFrame({"asset_id": ["a"]}, geometry=[Point(0, 0)], crs="EPSG:4326")
    with pytest.raises(CascadaInputError, match="nope"):
        model.event_set(assets, model.parameters({"asset_ids": ["nope"]}),
                        np.random.default_rng(0))


def test_malta_crowded_place_incident(malta_region):
    start = time.perf_counter()
    places = crowded_places(MALTA_PBF)
    assert {"stadium", "bus_station", "place_of_worship"} <= set(places["kind"])
    valletta = places[(places["kind"] == "bus_station") & (places["name"] == "Valletta")]
    assert len(valletta) == 1
    point = valletta.geometry.iloc[0]
    model = hazard_model("attack")
    params = model.parameters({"target_lat": point.y, "target_lon": point.x,
                               "place_name": "Valletta", "device": "car"})
    es = model.event_set(malta_region.assets, params, np.random.default_rng(0))
    people = people_exposed(malta_region.people, params)
    elapsed = time.perf_counter() - start
    state = es.intensity.toarray()[0]
    assert state.max() >= 3 and 0 < (state > 0).sum() < 0.1 * len(state)
    assert people["shelter_zone"] > 0
    assert elapsed < 10
