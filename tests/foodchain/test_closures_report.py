"""Closures of contaminated food facilities, recall lists and the HTML report."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cascada.errors import CascadaInputError
from cascada.foodchain.closures import closure_eventset, closure_list, match_stations_to_assets
from cascada.foodchain.fcl_io import read_network
from cascada.foodchain.model import FoodNetwork
from cascada.foodchain.recall import recall
from cascada.foodchain.report import render_report, station_depths, write_report
from cascada.vulnerability.damage import sample_damage_states

DATA = Path(__file__).resolve().parents[2] / "data" / "foodchain"


def shop_network() -> FoodNetwork:
    """A farm supplies a wholesaler that supplies the tiny region's supermarket
    (matched by position) and a shop outside the region."""
    stations = pd.DataFrame({
        "station_id": ["farm", "whole", "super", "far"],
        "name": ["Farm 3", "Wholesaler", "Msida supermarket", "Far shop"],
        "latitude": [35.80, 35.85, 35.8942, 36.5],
        "longitude": [14.40, 14.45, 14.4891, 14.0],
    })
    deliveries = pd.DataFrame({
        "delivery_id": ["d1", "d2", "d3"], "supplier": ["farm", "whole", "whole"],
        "recipient": ["whole", "super", "far"], "lot": ["L17", "W1", "W1"],
        "departure": ["2024-03-01", "2024-03-02", "2024-03-02"], "amount": [100, 60, 40],
        "unit": ["kg", "kg", "kg"],
    })
    relations = pd.DataFrame({"from_delivery": ["d1", "d1"], "to_delivery": ["d2", "d3"]})
    return FoodNetwork.from_tables(deliveries, stations, relations)


def test_match_and_closure_event(tiny_region):
    network = shop_network()
    matches = match_stations_to_assets(network, tiny_region)
    assert matches[["station_id", "asset_id"]].values.tolist() == [["super", "shop"]]
    assert matches["distance_m"].iloc[0] < 50
    closures = closure_list(["super", "far"], matches, tiny_region, closure_hours=96)
    assert closures["asset_id"].tolist() == ["shop"]
    assert closures["closure_hours"].tolist() == [96.0]
    events = closure_eventset(tiny_region, closures["asset_id"])
    assert events.events["hazard"].tolist() == ["attack"]
    column = list(tiny_region.assets["asset_id"]).index("shop")
    assert events.intensity[0, column] == 4.0 and events.intensity.nnz == 1
    states = sample_damage_states(events, 0, tiny_region.assets["asset_type"], None, 2,
                                  np.random.default_rng(0))
    assert states[:, column].tolist() == [4, 4] and states.sum() == 8


def test_explicit_asset_ids_and_errors(tiny_region):
    network = shop_network()
    network.station_properties = pd.DataFrame({"asset_id": [None, None, "bank", None]})
    matches = match_stations_to_assets(network, tiny_region)
    assert ("super", "bank") in set(map(tuple, matches[["station_id", "asset_id"]].values))
    network.station_properties = pd.DataFrame({"asset_id": [None, "nope", None, None]})
    with pytest.raises(CascadaInputError, match=r"station 'whole'.*unknown asset 'nope'"):
        match_stations_to_assets(network, tiny_region)
    with pytest.raises(CascadaInputError, match="unknown asset"):
        closure_eventset(tiny_region, ["nope"])
    with pytest.raises(CascadaInputError, match="closure hours"):
        closure_list([], matches, tiny_region, closure_hours=0)


def test_recall_counts_people_served(tiny_region):
    network = shop_network()
    result = recall(network, stations=("Farm 3",), lots=("L17",), region=tiny_region)
    assert set(result.deliveries["delivery_id"]) == {"d1", "d2", "d3"}
    stations = result.stations.set_index("station_id")
    assert set(stations.index) == {"whole", "super", "far"}
    assert stations.loc["super", "asset_id"] == "shop"
    served = tiny_region.assets.set_index("asset_id").loc["shop", "population_served"]
    assert result.population_served == pytest.approx(served)
    assert stations.loc["whole", "amount_received"] == 100


def test_report_is_self_contained_and_deterministic(tmp_path):
    network = read_network(DATA / "fixture" / "deliveries.csv")
    from cascada.foodchain.trace import Tracer

    trace = Tracer(network).forward(stations=("farm1",))
    html = render_report(network, trace=trace, title="t")
    assert html == render_report(network, trace=trace, title="t")
    assert "data:image/png;base64," in html and "<script" not in html and "http" not in html
    path = write_report(tmp_path / "r.html", network, trace=trace)
    assert path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert not list(tmp_path.glob(".*tmp"))
    depth = dict(zip(network.stations["station_id"], station_depths(network), strict=True))
    assert depth["farm1"] == 0 and depth["trader1"] == 2 and depth["market3"] == 3
