"""FoodChain-Lab's own expected trace sets and scores (data/foodchain/fixture), exactly."""

from __future__ import annotations

from pathlib import Path

import pytest

from cascada.foodchain.fcl_io import read_network
from cascada.foodchain.scores import fcl_scores
from cascada.foodchain.trace import TraceOptions, Tracer

FIXTURE = Path(__file__).resolve().parents[2] / "data" / "foodchain" / "fixture"


@pytest.fixture(scope="module")
def network():
    return read_network(FIXTURE / "deliveries.csv")


@pytest.fixture(scope="module")
def tracer(network):
    return Tracer(network, TraceOptions(enforce_temporal_order=True))


def test_fixture_reads_partial_dates(network):
    row = network.deliveries.set_index("delivery_id").loc["T1M2_1"]
    assert row["departure"] == "2016-01"
    assert network.n_deliveries == 13 and network.n_stations == 9


@pytest.mark.parametrize("station, expected", [
    ("farm1", {"producer1", "trader1", "market1", "market2"}),
    ("farm2", {"producer1", "producer2", "trader1", "market1", "market2"}),
    ("farm3", {"producer2", "trader1", "market2", "market3"}),
    ("market1", set()), ("market2", set()), ("market3", set()),
])
def test_forward_stations(tracer, station, expected):
    assert tracer.forward_stations_of_station(station) == expected


@pytest.mark.parametrize("station, expected", [
    ("market1", {"trader1", "producer1", "farm1", "farm2"}),
    ("market2", {"trader1", "producer1", "producer2", "farm1", "farm2", "farm3"}),
    ("market3", {"trader1", "producer2", "farm3"}),
    ("farm1", set()), ("farm2", set()), ("farm3", set()),
])
def test_backward_stations(tracer, station, expected):
    assert tracer.backward_stations_of_station(station) == expected


@pytest.mark.parametrize("delivery, forward, backward", [
    ("F1P1_1", {"P1T1_1", "T1M1_1"}, set()),
    ("F1P1_2", {"P1T1_2", "T1M2_1"}, set()),
    ("F2P1_1", {"P1T1_1", "T1M1_1"}, set()),
    ("F2P2_1", {"P2T1_1", "T1M2_2"}, set()),
    ("F3P2_1", {"P2T1_1", "P2T1_2", "T1M2_2", "T1M3_1"}, set()),
    ("T1M1_1", set(), {"P1T1_1", "F1P1_1", "F2P1_1"}),
    ("T1M2_1", set(), {"P1T1_2", "F1P1_2"}),
    ("T1M2_2", set(), {"P2T1_1", "F2P2_1", "F3P2_1"}),
    ("T1M3_1", set(), {"P2T1_2", "F3P2_1"}),
])
def test_delivery_to_delivery(tracer, delivery, forward, backward):
    assert tracer.forward_deliveries_of_delivery(delivery) == forward
    assert tracer.backward_deliveries_of_delivery(delivery) == backward


def test_station_scores_exact(network):
    scores = fcl_scores(network, {"market2": 1.0, "market3": 2.0},
                        options=TraceOptions(enforce_temporal_order=True))
    expected = {"farm1": 1.0 / 3.0, "farm2": 1.0 / 3.0, "farm3": 1.0, "producer1": 1.0 / 3.0,
                "producer2": 1.0, "trader1": 1.0, "market1": 0.0, "market2": 1.0 / 3.0,
                "market3": 2.0 / 3.0}
    for station, value in expected.items():
        assert scores.station_score(station) == value, station
    positive = scores.stations.set_index("station_id")["positive_score"]
    assert positive.to_dict() == expected
    assert (scores.stations["negative_score"] == 0.0).all()


def test_delivery_scores_exact(network):
    scores = fcl_scores(network, None, {"T1M2_2": 1.0, "T1M3_1": 2.0},
                        options=TraceOptions(enforce_temporal_order=True))
    expected = {"F1P1_1": 0.0, "F1P1_2": 0.0, "F2P1_1": 0.0, "F2P2_1": 1.0 / 3.0,
                "F3P2_1": 1.0}
    for delivery, value in expected.items():
        assert scores.delivery_score(delivery) == value, delivery


def test_station_cross_contamination_respects_temporal_order(network):
    on = Tracer(network, TraceOptions(enforce_temporal_order=True,
                                      cross_contamination_stations=("producer1",)))
    assert "P1T1_2" in on.forward_deliveries_of_delivery("F1P1_1")
    assert "P1T1_1" not in on.forward_deliveries_of_delivery("F1P1_2")
    assert "F1P1_1" in on.backward_deliveries_of_delivery("P1T1_2")
    assert "F1P1_2" not in on.backward_deliveries_of_delivery("P1T1_1")
    off = Tracer(network, TraceOptions(enforce_temporal_order=False,
                                       cross_contamination_stations=("producer1",)))
    assert "P1T1_1" in off.forward_deliveries_of_delivery("F1P1_2")


def test_delivery_cross_contamination(network):
    cc = ("P1T1_1", "P2T1_2")
    on = Tracer(network, TraceOptions(True, cross_contamination_deliveries=cc))
    assert "T1M3_1" in on.forward_deliveries_of_delivery("P1T1_1")
    assert "T1M1_1" not in on.forward_deliveries_of_delivery("P2T1_2")
    assert "P1T1_1" in on.backward_deliveries_of_delivery("T1M3_1")
    assert "P2T1_2" not in on.backward_deliveries_of_delivery("T1M1_1")
    off = Tracer(network, TraceOptions(False, cross_contamination_deliveries=cc))
    assert "T1M1_1" in off.forward_deliveries_of_delivery("P2T1_2")


def test_delivery_kill_contamination(network):
    tracer = Tracer(network, TraceOptions(True, kill_contamination_deliveries=("P2T1_2",)))
    assert tracer.forward_deliveries_of_delivery("P2T1_2") == set()
    assert tracer.backward_deliveries_of_delivery("P2T1_2") == {"F3P2_1"}
    assert "P2T1_2" in tracer.forward_deliveries_of_station("producer2")
    assert "P2T1_2" not in tracer.backward_deliveries_of_station("trader1")


def test_station_kill_contamination(network):
    tracer = Tracer(network, TraceOptions(True, kill_contamination_stations=("producer2",)))
    assert tracer.forward_deliveries_of_delivery("F2P2_1") == set()
    assert tracer.forward_deliveries_of_delivery("F3P2_1") == set()
    assert tracer.backward_deliveries_of_delivery("P2T1_1") == set()
    assert tracer.backward_deliveries_of_delivery("P2T1_2") == set()
    assert tracer.forward_deliveries_of_station("producer2") == set()
    assert tracer.backward_deliveries_of_station("producer2") == {"F2P2_1", "F3P2_1"}
