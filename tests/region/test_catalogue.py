"""The shipped asset-type catalogue: every type, sane defaults, a source for each."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cascada.errors import CascadaInputError
from cascada.region.catalogue import REQUIRED_COLUMNS, load_asset_types

EXPECTED_TYPES = {
    "power.plant",
    "power.interconnector",
    "power.generator",
    "power.substation",
    "power.transformer",
    "power.line",
    "water.desalination",
    "water.pumping_station",
    "water.reservoir",
    "water.tower",
    "water.well",
    "water.wastewater_plant",
    "telecom.exchange",
    "telecom.mast",
    "transport.road",
    "transport.bridge",
    "transport.airport",
    "transport.port",
    "health.hospital",
    "health.clinic",
    "health.pharmacy",
    "finance.bank",
    "finance.atm",
    "emergency.fire_station",
    "emergency.police",
    "food.supermarket",
    "fuel.station",
    "fuel.storage",
    "shelter.school",
}
DS = range(1, 5)


def test_version_and_types():
    catalogue = load_asset_types()
    assert catalogue.version == "2026.11-1"
    assert set(catalogue.types) == EXPECTED_TYPES
    assert set(REQUIRED_COLUMNS) - {"asset_type"} <= set(catalogue.table.columns)


def test_lines_and_per_km_values():
    table = load_asset_types().table
    per_km = set(table.index[table["value_basis"] == "km"])
    assert {"power.line", "transport.road"} <= per_km
    lines = set(table.index[table["geometry"] == "line"])
    assert {"power.line", "transport.road", "transport.bridge"} <= lines
    assert per_km <= lines


def test_repair_times_and_damage_ratios_grow_with_damage():
    table = load_asset_types().table
    repair = table[[f"repair_hours_ds{i}" for i in DS]].to_numpy()
    ratio = table[[f"damage_ratio_ds{i}" for i in DS]].to_numpy()
    sd = table[[f"repair_sd_hours_ds{i}" for i in DS]].to_numpy()
    assert np.all(np.diff(repair, axis=1) >= 0)
    assert np.all(np.diff(ratio, axis=1) >= 0)
    assert np.all(repair >= 1) and np.all(sd > 0)
    assert np.all((ratio > 0) & (ratio <= 1)) and np.all(ratio[:, -1] == 1)
    assert np.all(table["value_eur"] > 0)


def test_backup_hours_are_power_backup():
    table = load_asset_types().table
    assert table.loc["health.hospital", "backup_hours"] == 72
    assert table.loc["telecom.mast", "backup_hours"] == 4
    assert 8 <= table.loc["telecom.exchange", "backup_hours"] <= 24
    assert table.loc["water.reservoir", "backup_hours"] == 0
    assert table.loc["water.tower", "backup_hours"] == 0


def test_every_default_has_a_source():
    table = load_asset_types().table
    for column in ("source_value", "source_backup", "source_repair", "source_damage_ratio"):
        assert table[column].notna().all(), column
        assert (table[column].str.len() > 10).all(), column


def test_catalogue_doc_matches_the_csv():
    doc = Path(__file__).parents[2] / "docs" / "catalogue.md"
    text = doc.read_text(encoding="utf-8")
    rows: dict[str, str] = {}
    for line in text.splitlines():  # the first table with a row per type is the defaults
        if line.startswith("| `"):
            rows.setdefault(line.split("|")[1].strip(), line)
    table = load_asset_types().table
    for asset_type in EXPECTED_TYPES:
        row = rows[f"`{asset_type}`"]
        assert f"| {table.loc[asset_type, 'value_eur']:,.0f} |" in row, asset_type
        assert f"| {table.loc[asset_type, 'backup_hours']:g} |" in row, asset_type
    assert "2026.11-1" in text


def test_bad_value_names_the_file_line(tmp_path):
    from cascada.region.catalogue import load_asset_types, read_asset_types

    source = Path(load_asset_types().path).read_text(encoding="utf-8").splitlines()
    header = next(i for i, line in enumerate(source) if line.startswith("asset_type,"))
    target = header + 2  # the second data row, as a 0-based index into the lines
    fields = source[target].split(",")
    fields[4] = "-5"  # value_eur
    source[target] = ",".join(fields)
    path = tmp_path / "types.csv"
    path.write_text("\n".join(source) + "\n", encoding="utf-8")
    with pytest.raises(CascadaInputError, match=rf"row {target + 1}, field 'value_eur'"):
        read_asset_types(path)
