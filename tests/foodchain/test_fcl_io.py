"""FCL JSON and CSV: round trips of every example file, and clear errors on bad input."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cascada.errors import CascadaInputError
from cascada.foodchain.fcl_io import (
    fcl_to_network,
    network_to_fcl,
    read_csv_network,
    read_fcl_json,
    read_network,
    write_csv_network,
    write_fcl_json,
)
from cascada.foodchain.model import FoodNetwork, parse_partial_date

DATA = Path(__file__).resolve().parents[2] / "data" / "foodchain"
EXAMPLES = sorted(p for p in (DATA / "fcl").glob("*.json") if p.name != "schema-v1.json")
LEGACY_STATION = {"id": "ID", "name": "Name", "type": "type of business", "lat": "Latitude",
                  "lon": "Longitude"}
LEGACY_DELIVERY = {"id": "ID", "source": "from", "target": "to", "name": "Name",
                   "lot": "Lot ID", "date": "Date Delivery"}
DATES = {"Date Delivery", "Date Delivery Arrival"}


def _norm(key: str, value: object) -> object:
    if key in DATES:
        return parse_partial_date(value)
    return value


def semantics(document: dict) -> dict:
    """The content of an FCL document, independent of format version and layout."""
    if "data" in document:
        def rows(name: str) -> list[dict]:
            return [{c["id"]: c["value"] for c in row} for row in document["data"][name]["data"]]
        stations = rows("stations")
        deliveries = rows("deliveries")
        relations = {(r["from"], r["to"]) for r in rows("deliveryRelations")}
        tracing = document.get("tracing") or {}
    else:
        stations = [{LEGACY_STATION.get(k, k): v for k, v in s.items()}
                    for s in document["stations"]]
        deliveries = [{LEGACY_DELIVERY.get(k, k): v for k, v in d.items()}
                      for d in document["deliveries"]]
        relations = {(r["source"], r["target"]) for r in document["deliveriesRelations"]}
        tracing = {}

    def keyed(items: list[dict]) -> dict:
        return {str(x["ID"]): {k: _norm(k, v) for k, v in x.items()
                               if k != "ID" and v not in (None, "")} for x in items}

    def flags(entries: list[dict] | None) -> dict:
        return {e["id"]: (float(e.get("weight") or 0.0), bool(e.get("crossContamination")),
                          bool(e.get("killContamination")), bool(e.get("observed")))
                for e in entries or []
                if e.get("weight") or e.get("crossContamination") or e.get("killContamination")
                or e.get("observed")}

    return {"stations": keyed(stations), "deliveries": keyed(deliveries),
            "relations": relations, "station_flags": flags(tracing.get("nodes")),
            "delivery_flags": flags(tracing.get("deliveries"))}


def assert_same_network(a: FoodNetwork, b: FoodNetwork) -> None:
    pd.testing.assert_frame_equal(a.stations, b.stations)
    pd.testing.assert_frame_equal(a.deliveries, b.deliveries)
    pd.testing.assert_frame_equal(a.relations, b.relations)
    for left, right in ((a.station_properties, b.station_properties),
                        (a.delivery_properties, b.delivery_properties)):
        assert list(left.columns) == list(right.columns)
        assert left.where(left.notna(), None).values.tolist() == \
            right.where(right.notna(), None).values.tolist()


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_round_trip_of_every_example(path, tmp_path):
    original = json.loads(path.read_text(encoding="utf-8"))
    network = read_fcl_json(path)
    out = write_fcl_json(network, tmp_path / "out.json")
    exported = json.loads(out.read_text(encoding="utf-8"))
    assert exported["version"].startswith("1.")
    assert semantics(exported) == semantics(original)
    assert_same_network(network, read_fcl_json(out))
    if "settings" in original:
        assert exported["settings"] == original["settings"]


def test_examples_are_not_empty():
    assert len(EXAMPLES) == 6
    sizes = {p.name: read_network(p).n_deliveries for p in EXAMPLES}
    assert sizes["Scenario_2_LaSource.json"] == 110
    assert min(sizes.values()) >= 9


def test_amounts_and_dates_from_v1():
    network = read_network(DATA / "fcl" / "Scenario_1_Outbreak-Baby-Tea.json")
    first = network.deliveries.iloc[0]
    assert first["departure"] == "2019-01-22" and first["arrival"] == "2019-01-27"
    assert first["amount"] == pytest.approx(36.8) and first["unit"] == "kg"
    example = read_network(DATA / "fcl" / "ExampleData.json")
    row = example.deliveries.set_index("delivery_id").loc["D1"]
    assert row["arrival"] == "2020-06-10" and row["unit"] == "Piece"
    assert len(example.relations) == 31  # two duplicate relations dropped


def test_csv_round_trip(tmp_path):
    network = read_network(DATA / "fcl" / "bbk.json")
    write_csv_network(network, tmp_path)
    again = read_csv_network(tmp_path)
    pd.testing.assert_frame_equal(network.deliveries, again.deliveries)
    pd.testing.assert_frame_equal(network.relations, again.relations)
    pd.testing.assert_frame_equal(network.stations, again.stations)


def _v1(path: Path = DATA / "fcl" / "small_network.json") -> dict:
    return network_to_fcl(read_network(path))


def _set(document: dict, table: str, row_id: str, column: str, value: object) -> dict:
    document = copy.deepcopy(document)
    for row in document["data"][table]["data"]:
        cells = {c["id"]: c for c in row}
        if cells.get("ID", {}).get("value") == row_id:
            if column in cells:
                cells[column]["value"] = value
            else:
                row.append({"id": column, "value": value})
            return document
    raise AssertionError(row_id)


def test_unknown_station_names_the_delivery():
    doc = _set(_v1(), "deliveries", "10001", "from", "nowhere")
    with pytest.raises(CascadaInputError, match=r"delivery '10001'.*unknown station 'nowhere'"):
        fcl_to_network(doc)


def test_unknown_delivery_in_relation():
    doc = _v1()
    doc["data"]["deliveryRelations"]["data"].append(
        [{"id": "from", "value": "10001"}, {"id": "to", "value": "99999"}])
    with pytest.raises(CascadaInputError, match="unknown delivery '99999'"):
        fcl_to_network(doc)


def test_unknown_lot_in_recall():
    network = read_network(DATA / "fcl" / "bbk.json")
    with pytest.raises(CascadaInputError, match="unknown lot 'L17'"):
        network.resolve_lots(("L17",))


def test_dates_in_wrong_order():
    doc = _set(_v1(), "deliveries", "10001", "Date Delivery", "2020-05-02")
    doc = _set(doc, "deliveries", "10001", "Date Delivery Arrival", "2020-05-01")
    with pytest.raises(CascadaInputError, match=r"delivery '10001'.*arrives .* before it departs"):
        fcl_to_network(doc)


def test_unreadable_date():
    doc = _set(_v1(), "deliveries", "10001", "Date Delivery", "next tuesday")
    with pytest.raises(CascadaInputError, match=r"delivery '10001'.*Date|departure"):
        fcl_to_network(doc)


def test_negative_amount():
    doc = _set(_v1(), "deliveries", "10002", "Amount", -5)
    with pytest.raises(CascadaInputError, match=r"delivery '10002'.*negative amount -5"):
        fcl_to_network(doc)


def test_cyclic_lot_relations():
    deliveries = pd.DataFrame({"delivery_id": ["a", "b", "c"], "supplier": ["X", "Y", "Z"],
                               "recipient": ["Y", "Z", "X"]})
    relations = pd.DataFrame({"from_delivery": ["a", "b", "c"], "to_delivery": ["b", "c", "a"]})
    with pytest.raises(CascadaInputError, match="cyclic lot relations among deliveries"):
        FoodNetwork.from_tables(deliveries, relations=relations)


def test_relation_crossing_stations():
    deliveries = pd.DataFrame({"delivery_id": ["a", "b"], "supplier": ["X", "Z"],
                               "recipient": ["Y", "W"]})
    relations = pd.DataFrame({"from_delivery": ["a"], "to_delivery": ["b"]})
    with pytest.raises(CascadaInputError, match="arrives at 'Y' but 'b' leaves from 'Z'"):
        FoodNetwork.from_tables(deliveries, relations=relations)


@pytest.mark.parametrize("version", ["2.0.0", "0.9", "banana", None])
def test_unknown_schema_version(version):
    doc = _v1()
    doc["version"] = version
    doc["data"]["version"] = version
    with pytest.raises(CascadaInputError, match="unknown FCL schema version"):
        fcl_to_network(doc)


def test_duplicate_ids():
    doc = _v1()
    doc["data"]["stations"]["data"].append(copy.deepcopy(doc["data"]["stations"]["data"][0]))
    with pytest.raises(CascadaInputError, match="duplicate station id"):
        fcl_to_network(doc)


def test_not_json(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(CascadaInputError, match="not valid JSON"):
        read_network(path)


def test_tracing_flags_round_trip():
    doc = _v1(DATA / "fcl" / "Scenario_1_Outbreak-Baby-Tea.json")
    station = doc["tracing"]["nodes"][2]["id"]
    doc["tracing"]["nodes"][2].update(weight=3.0, crossContamination=True)
    doc["tracing"]["deliveries"][0].update(killContamination=True, weight=-1.0)
    network = fcl_to_network(doc)
    row = network.stations.set_index("station_id").loc[station]
    assert row["weight"] == 3.0 and bool(row["cross_contamination"])
    assert semantics(network_to_fcl(network)) == semantics(doc)


def test_partial_dates():
    assert parse_partial_date("2016-01 (day unknown)") == (2016, 1, 0)
    assert parse_partial_date("10.06.2020") == (2020, 6, 10)
    assert parse_partial_date("9/2018") == (2018, 9, 0)
    assert parse_partial_date(None) == (0, 0, 0)
    assert parse_partial_date(np.nan) == (0, 0, 0)
    with pytest.raises(ValueError):
        parse_partial_date("2020-13-01")


def test_delivery_naming_an_undeclared_lot(tmp_path):
    network = read_network(DATA / "fcl" / "bbk.json")
    write_csv_network(network, tmp_path)
    lots = network.lots()[["supplier", "lot"]].rename(columns={"supplier": "station_id"})
    lots.to_csv(tmp_path / "lots.csv", index=False)
    assert read_csv_network(tmp_path).n_deliveries == 29
    lots[lots["lot"] != "Mehl_122"].to_csv(tmp_path / "lots.csv", index=False)
    with pytest.raises(CascadaInputError, match=r"delivery 'D2'.*unknown lot 'Mehl_122'"):
        read_csv_network(tmp_path)
