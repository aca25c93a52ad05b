"""Reading and writing FoodChain-Lab (FCL) JSON and plain CSV supply networks.

FCL JSON v1 (``schema-v1.json``): ``data.stations``, ``data.deliveries`` and
``data.deliveryRelations`` are tables of ``columnProperties`` and rows of
``{id, value}`` cells; ``tracing`` holds weights and cross-/kill-contamination
flags; ``settings`` and ``samples`` are kept as they are. The older FCL
exchange format (plain ``stations`` / ``deliveries`` / ``deliveriesRelations``
lists) is read too. Writing always produces v1.

CSV: a folder with ``deliveries.csv`` (delivery_id, supplier, recipient,
product, lot, departure, arrival, amount, unit, optionally next_deliveries
separated by ``;``), optional ``stations.csv`` (station_id, name,
station_type, latitude, longitude), optional ``relations.csv``
(from_delivery, to_delivery) and optional ``lots.csv`` (lot, station_id:
the declared lots; deliveries must then name declared lots).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd

from cascada.datafile import atomic_write_text
from cascada.errors import CascadaInputError
from cascada.foodchain.model import (
    DELIVERY_COLUMNS,
    RELATION_COLUMNS,
    STATION_COLUMNS,
    TRACING_COLUMNS,
    FoodNetwork,
)

FCL_VERSION = "1.0.0"
# FCL v1 column name -> cascada column, for the columns cascada interprets.
V1_STATION_COLUMNS = {"ID": "station_id", "Name": "name", "type of business": "station_type",
                      "Latitude": "latitude", "Longitude": "longitude"}
V1_DELIVERY_COLUMNS = {"ID": "delivery_id", "from": "supplier", "to": "recipient",
                       "Name": "product", "Lot ID": "lot", "Date Delivery": "departure",
                       "Date Delivery Arrival": "arrival"}
LEGACY_STATION_KEYS = {"id": "station_id", "name": "name", "type": "station_type",
                       "lat": "latitude", "lon": "longitude"}
LEGACY_DELIVERY_KEYS = {"id": "delivery_id", "source": "supplier", "target": "recipient",
                        "name": "product", "lot": "lot", "date": "departure"}
_FLAG_KEYS = {"weight": "weight", "crossContamination": "cross_contamination",
              "killContamination": "kill_contamination", "observed": "observed"}
_AMOUNT = re.compile(r"^\s*([0-9]+(?:[.,][0-9]+)?)\s*([^\d\s].*)?$")


# ---------------------------------------------------------------------- reading
def read_network(path: str | Path) -> FoodNetwork:
    """Read an FCL JSON file (v1 or the older format), a CSV folder or a deliveries CSV."""
    path = Path(path)
    if not path.exists():
        raise CascadaInputError("file not found", file=path)
    if path.is_dir() or path.suffix.lower() == ".csv":
        return read_csv_network(path)
    return read_fcl_json(path)


def read_fcl_json(path: str | Path) -> FoodNetwork:
    """Read FoodChain-Lab JSON; raises CascadaInputError on an unknown schema version."""
    path = Path(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise CascadaInputError(f"cannot read file: {exc}", file=path) from None
    except json.JSONDecodeError as exc:
        raise CascadaInputError(f"not valid JSON: {exc.msg}", file=path,
                                row=f"line {exc.lineno}") from None
    return fcl_to_network(document, file=str(path))


def fcl_to_network(document: dict, *, file: str | None = None) -> FoodNetwork:
    """Build a FoodNetwork from a parsed FCL JSON document."""
    if not isinstance(document, dict):
        raise CascadaInputError("FCL JSON must be an object", file=file)
    if "data" in document:
        version = str(document.get("version") or (document["data"] or {}).get("version") or "")
        if not re.match(r"^1(\.\d+)*$", version):
            raise CascadaInputError(
                f"unknown FCL schema version {version or 'missing'!r}", file=file,
                field="version", hint="cascada reads FCL JSON schema version 1.x",
            )
        return _read_v1(document, version, file)
    if "stations" in document and "deliveries" in document:
        return _read_legacy(document, file)
    raise CascadaInputError("not an FCL JSON document (no 'data' or 'stations')", file=file,
                            hint="expected FCL JSON schema version 1.x")


def _v1_rows(table: dict, name: str, file: str | None) -> tuple[list[dict], list[dict]]:
    if not isinstance(table, dict) or "data" not in table:
        raise CascadaInputError("missing table", file=file, field=f"data.{name}")
    columns = [dict(c) for c in table.get("columnProperties") or []]
    rows = []
    for i, row in enumerate(table["data"]):
        try:
            rows.append({cell["id"]: cell["value"] for cell in row})
        except (TypeError, KeyError):
            raise CascadaInputError("a row must be a list of {id, value} cells", file=file,
                                    row=i, field=f"data.{name}") from None
    return rows, columns


def _split(rows: list[dict], columns: list[dict], mapping: dict[str, str]
           ) -> tuple[pd.DataFrame, pd.DataFrame, list[dict]]:
    """Core table (mapped columns) and properties table (all other columns, in order)."""
    names = [c["id"] for c in columns]
    for row in rows:
        for key in row:
            if key not in names:
                names.append(key)
                columns.append({"id": key, "type": "string"})
    core = pd.DataFrame({target: [row.get(source) for row in rows]
                         for source, target in mapping.items()})
    extra = [c for c in columns if c["id"] not in mapping]
    props = pd.DataFrame({c["id"]: pd.Series([row.get(c["id"]) for row in rows], dtype=object)
                          for c in extra}, index=range(len(rows)))
    return core, props, extra


def _derive_amounts(core: pd.DataFrame, props: pd.DataFrame) -> None:
    """Fill amount (float) and unit (str) from the FCL amount columns, where readable."""
    amount = np.full(len(core), np.nan)
    unit = np.array([""] * len(core), dtype=object)
    for source_amount, source_unit in (("Amount", "Unit"),
                                       ("_Lieferungen.Delivery_Amount",
                                        "_Lieferungen.Delivery_Unit")):
        if source_amount not in props.columns:
            continue
        for i, (value, u) in enumerate(zip(props[source_amount],
                                           props.get(source_unit, [None] * len(core)),
                                           strict=True)):
            if value is None or value == "":
                continue
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                number, parsed_unit = float(value), None
            else:
                match = _AMOUNT.match(str(value))
                if not match:
                    continue
                number = float(match.group(1).replace(",", "."))
                parsed_unit = (match.group(2) or "").strip() or None
            amount[i] = number
            unit[i] = str(u) if u not in (None, "") else (parsed_unit or "")
    core["amount"] = amount
    core["unit"] = unit


def _apply_tracing(core: pd.DataFrame, entries: list[dict] | None, id_column: str) -> None:
    for column in TRACING_COLUMNS:
        core[column] = 0.0 if column == "weight" else False
    if not entries:
        return
    position = {key: i for i, key in enumerate(core[id_column].astype(str))}
    for entry in entries:
        i = position.get(str(entry.get("id")))
        if i is None:
            continue
        for key, column in _FLAG_KEYS.items():
            value = entry.get(key)
            if value is not None:
                core.loc[i, column] = float(value) if column == "weight" else bool(value)


def _read_v1(document: dict, version: str, file: str | None) -> FoodNetwork:
    data = document["data"] or {}
    for name in ("stations", "deliveries", "deliveryRelations"):
        if name not in data:
            raise CascadaInputError("missing table", file=file, field=f"data.{name}")
    station_rows, station_cols = _v1_rows(data["stations"], "stations", file)
    delivery_rows, delivery_cols = _v1_rows(data["deliveries"], "deliveries", file)
    relation_rows, _ = _v1_rows(data["deliveryRelations"], "deliveryRelations", file)
    stations, station_props, station_extra = _split(station_rows, station_cols,
                                                    V1_STATION_COLUMNS)
    deliveries, delivery_props, delivery_extra = _split(delivery_rows, delivery_cols,
                                                        V1_DELIVERY_COLUMNS)
    present_station = [c for c in V1_STATION_COLUMNS
                       if any(c in row for row in station_rows)]
    present_delivery = [c for c in V1_DELIVERY_COLUMNS
                        if any(c in row for row in delivery_rows)]
    _derive_amounts(deliveries, delivery_props)
    tracing = document.get("tracing") or {}
    _apply_tracing(stations, tracing.get("nodes"), "station_id")
    _apply_tracing(deliveries, tracing.get("deliveries"), "delivery_id")
    relations = pd.DataFrame({
        "from_delivery": [r.get("from") for r in relation_rows],
        "to_delivery": [r.get("to") for r in relation_rows],
    }, columns=RELATION_COLUMNS)
    metadata = {
        "format": "fcl-json-v1",
        "fcl_version": version,
        "fcl_station_columns": station_extra,
        "fcl_delivery_columns": delivery_extra,
        "fcl_station_core": present_station,
        "fcl_delivery_core": present_delivery,
        "enforce_temporal_order": bool(tracing.get("enforceTemporalOrder", True)),
        "fcl_settings": document.get("settings"),
        "fcl_samples": document.get("samples"),
        "fcl_has_tracing": "tracing" in document,
    }
    return FoodNetwork.from_tables(deliveries, stations, relations,
                                   station_properties=station_props,
                                   delivery_properties=delivery_props,
                                   metadata=metadata, file=file)


def _read_legacy(document: dict, file: str | None) -> FoodNetwork:
    def table(items: list[dict], mapping: dict[str, str]
              ) -> tuple[pd.DataFrame, pd.DataFrame, list[dict]]:
        columns: list[dict] = []
        return _split([dict(x) for x in items], columns, mapping)

    stations, station_props, station_extra = table(document["stations"], LEGACY_STATION_KEYS)
    deliveries, delivery_props, delivery_extra = table(document["deliveries"],
                                                       LEGACY_DELIVERY_KEYS)
    _derive_amounts(deliveries, delivery_props)
    _apply_tracing(stations, None, "station_id")
    _apply_tracing(deliveries, None, "delivery_id")
    rels = document.get("deliveriesRelations") or document.get("deliveryRelations") or []
    relations = pd.DataFrame({"from_delivery": [r.get("source") for r in rels],
                              "to_delivery": [r.get("target") for r in rels]},
                             columns=RELATION_COLUMNS)
    metadata = {
        "format": "fcl-json-legacy",
        "fcl_version": None,
        "title": document.get("title"),
        "investigator": document.get("investigator"),
        "fcl_station_columns": station_extra,
        "fcl_delivery_columns": delivery_extra,
        "enforce_temporal_order": True,
    }
    return FoodNetwork.from_tables(deliveries, stations, relations,
                                   station_properties=station_props,
                                   delivery_properties=delivery_props,
                                   metadata=metadata, file=file)


# ---------------------------------------------------------------------- writing
def _cell(value: object) -> object:
    if value is None:
        return None
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def network_to_fcl(network: FoodNetwork) -> dict:
    """FCL JSON v1 document of a network (core columns, properties, tracing, settings)."""
    meta = network.metadata
    station_core = meta.get("fcl_station_core") or list(V1_STATION_COLUMNS)
    delivery_core = meta.get("fcl_delivery_core") or list(V1_DELIVERY_COLUMNS)
    if "ID" not in station_core:
        station_core = ["ID", *station_core]
    core_types = {"latitude": "double", "longitude": "double"}

    def table(core: pd.DataFrame, core_map: dict[str, str], present: list[str],
              props: pd.DataFrame, extra: list[dict]) -> dict:
        present = [c for c in core_map if c in present or c in ("ID", "from", "to")]
        columns = [{"id": c, "type": core_types.get(core_map[c], "string")} for c in present]
        known = {c["id"] for c in extra}
        extra = list(extra) + [{"id": c, "type": "string"} for c in props.columns
                               if c not in known]
        columns += [{"id": c["id"], "type": c["type"]} for c in extra]
        rows = []
        core_values = {c: core[core_map[c]].to_numpy() for c in present}
        prop_values = {c["id"]: props[c["id"]].to_numpy() if c["id"] in props.columns
                       else [None] * len(core) for c in extra}
        for i in range(len(core)):
            row = []
            for c in present:
                value = _cell(core_values[c][i])
                if value in (None, "") and c not in ("ID", "from", "to"):
                    continue
                row.append({"id": c, "value": value})
            for c in extra:
                value = _cell(prop_values[c["id"]][i])
                if value is not None:
                    row.append({"id": c["id"], "value": value})
            rows.append(row)
        return {"columnProperties": columns, "data": rows}

    delivery_props = network.delivery_properties.copy()
    amount_sources = {"Amount", "_Lieferungen.Delivery_Amount"} & set(delivery_props.columns)
    delivery_extra = list(meta.get("fcl_delivery_columns") or [])
    if not amount_sources and network.deliveries["amount"].notna().any():
        delivery_props["Amount"] = [None if np.isnan(a) else float(a)
                                    for a in network.deliveries["amount"]]
        delivery_props["Unit"] = [u or None for u in network.deliveries["unit"]]
        delivery_extra += [{"id": "Amount", "type": "double"}, {"id": "Unit", "type": "string"}]
    version = meta.get("fcl_version") or FCL_VERSION
    data = {
        "version": version,
        "stations": table(network.stations, V1_STATION_COLUMNS, station_core,
                          network.station_properties, meta.get("fcl_station_columns") or []),
        "deliveries": table(network.deliveries, V1_DELIVERY_COLUMNS, delivery_core,
                            delivery_props, delivery_extra),
        "deliveryRelations": {
            "columnProperties": [{"id": "from", "type": "string"},
                                 {"id": "to", "type": "string"}],
            "data": [[{"id": "from", "value": a}, {"id": "to", "value": b}]
                     for a, b in zip(network.relations["from_delivery"],
                                     network.relations["to_delivery"], strict=True)],
        },
    }

    def tracing_entries(tab: pd.DataFrame, id_column: str) -> list[dict]:
        return [{"id": str(r[id_column]), "weight": float(r["weight"]),
                 "crossContamination": bool(r["cross_contamination"]),
                 "killContamination": bool(r["kill_contamination"]),
                 "observed": bool(r["observed"])}
                for r in tab.to_dict("records")]

    document: dict = {"version": version, "data": data}
    document["tracing"] = {
        "version": version,
        "enforceTemporalOrder": bool(meta.get("enforce_temporal_order", True)),
        "nodes": tracing_entries(network.stations, "station_id"),
        "deliveries": tracing_entries(network.deliveries, "delivery_id"),
    }
    if meta.get("fcl_settings") is not None:
        document["settings"] = meta["fcl_settings"]
    if meta.get("fcl_samples") is not None:
        document["samples"] = meta["fcl_samples"]
    return document


def write_fcl_json(network: FoodNetwork, path: str | Path) -> Path:
    """Write FCL JSON v1 atomically; returns the path."""
    path = Path(path)
    atomic_write_text(path, json.dumps(network_to_fcl(network), indent=2,
                                        ensure_ascii=False) + "\n")
    return path


# ---------------------------------------------------------------------- CSV
_CSV_ALIASES = {"id": "delivery_id", "from": "supplier", "source": "supplier",
                "to": "recipient", "target": "recipient", "name": "product",
                "date": "departure", "lot_id": "lot"}


def read_csv_network(path: str | Path) -> FoodNetwork:
    """Read deliveries.csv (+ stations.csv, relations.csv) from a folder or a deliveries file."""
    path = Path(path)
    folder = path if path.is_dir() else path.parent
    deliveries_file = folder / "deliveries.csv" if path.is_dir() else path
    if not deliveries_file.exists():
        raise CascadaInputError("deliveries.csv not found", file=deliveries_file)
    deliveries = _read_csv(deliveries_file).rename(columns=_CSV_ALIASES)
    stations = None
    if (folder / "stations.csv").exists():
        stations = _read_csv(folder / "stations.csv").rename(
            columns={"id": "station_id", "type": "station_type"})
    relation_parts = []
    if (folder / "relations.csv").exists():
        relation_parts.append(_read_csv(folder / "relations.csv")
                              .rename(columns={"from": "from_delivery", "to": "to_delivery"}))
    if "next_deliveries" in deliveries.columns:
        pairs = [(d, n.strip()) for d, nexts in zip(deliveries["delivery_id"],
                                                   deliveries["next_deliveries"], strict=True)
                 if isinstance(nexts, str) for n in nexts.split(";") if n.strip()]
        relation_parts.append(pd.DataFrame(pairs, columns=RELATION_COLUMNS))
        deliveries = deliveries.drop(columns="next_deliveries")
    lots = _read_csv(folder / "lots.csv") if (folder / "lots.csv").exists() else None
    relations = (pd.concat(relation_parts, ignore_index=True) if relation_parts
                 else pd.DataFrame(columns=RELATION_COLUMNS))
    core = [c for c in DELIVERY_COLUMNS + TRACING_COLUMNS if c in deliveries.columns]
    delivery_props = deliveries.drop(columns=core).astype(object)
    delivery_props = delivery_props.where(delivery_props.notna(), None)
    station_props = None
    if stations is not None:
        core_s = [c for c in STATION_COLUMNS + TRACING_COLUMNS if c in stations.columns]
        station_props = stations.drop(columns=core_s).astype(object)
        station_props = station_props.where(station_props.notna(), None)
        stations = stations[core_s]
    metadata = {"format": "csv", "enforce_temporal_order": True}
    return FoodNetwork.from_tables(deliveries[core], stations, relations,
                                   station_properties=station_props,
                                   delivery_properties=delivery_props,
                                   metadata=metadata, lots=lots, file=str(deliveries_file))


def _read_csv(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise CascadaInputError(f"unreadable CSV: {exc}", file=path) from None


def write_csv_network(network: FoodNetwork, folder: str | Path) -> Path:
    """Write stations.csv, deliveries.csv and relations.csv into an existing folder."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    stations = pd.concat([network.stations, network.station_properties.drop(
        columns=[c for c in network.station_properties.columns
                 if c in network.stations.columns])], axis=1)
    deliveries = pd.concat([network.deliveries, network.delivery_properties.drop(
        columns=[c for c in network.delivery_properties.columns
                 if c in network.deliveries.columns])], axis=1)
    stations.to_csv(folder / "stations.csv", index=False)
    deliveries.to_csv(folder / "deliveries.csv", index=False)
    network.relations.to_csv(folder / "relations.csv", index=False)
    return folder
