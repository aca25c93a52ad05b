"""`cascada measures compare` and `cascada criticality` end to end on the tiny region."""

from __future__ import annotations

import json

import pandas as pd
from typer.testing import CliRunner

from cascada.cli import app
from cascada.region.io import write_region

RISK = """
[risk]
name = "tiny-risk"
region = "tiny.gpkg"
seed = 5
samples = 8
hours = 48

[[event_sets]]
hazard = "earthquake"
generator = "model"
annual_rate = 0.02
parameters = { magnitude_mw = 6.5, lat = 35.85, lon = 14.55, depth_km = 10, n_realisations = 4 }
"""

MEASURES = """
[settings]
discount_rate = 0.03
horizon_years = 20

[[measures]]
id = "retrofit"
capital_eur = 2.0e5
lifetime_years = 30
effect = { kind = "fragility", asset_types = ["power.substation"], hazard = "earthquake", \
median_factor = 2.0 }

[[measures]]
id = "generators"
capital_eur = 1.0e5
yearly_eur = 5.0e3
lifetime_years = 20
effect = { kind = "backup", asset_ids = ["hosp", "mast"], dependency = "power", hours = 48 }
"""


def test_measures_compare_writes_a_folder(tmp_path, tiny_region):
    write_region(tiny_region, tmp_path / "tiny.gpkg")
    (tmp_path / "risk.toml").write_text(RISK, encoding="utf-8")
    (tmp_path / "m.toml").write_text(MEASURES, encoding="utf-8")
    out = tmp_path / "appraisal"
    result = CliRunner().invoke(app, ["measures", "compare", str(tmp_path / "risk.toml"),
                                      str(tmp_path / "m.toml"), "--budget", "2.5e5",
                                      "-o", str(out)])
    assert result.exit_code == 0, result.output
    table = pd.read_parquet(out / "combinations.parquet")
    assert len(table) == 4  # exact: none, each alone, both
    summary = json.loads((out / "summary.json").read_text())
    assert summary["chosen_row"]["capital_eur"] <= 2.5e5
    assert (out / "report.html").read_text().count("Each measure alone") == 1
    bad = CliRunner().invoke(app, ["measures", "compare", str(tmp_path / "risk.toml"),
                                   str(tmp_path / "m.toml"), "--budget", "10"])
    assert bad.exit_code != 0 and "smaller than every" in bad.output


def test_criticality_command(tmp_path, tiny_region):
    write_region(tiny_region, tmp_path / "tiny.gpkg")
    out = tmp_path / "crit"
    result = CliRunner().invoke(app, ["criticality", str(tmp_path / "tiny.gpkg"), "--k", "2",
                                      "--hours", "24", "-o", str(out)])
    assert result.exit_code == 0, result.output
    table = pd.read_parquet(out / "criticality.parquet")
    assert table["asset_id"].iloc[0] == "exch"  # the exchange runs the plant's SCADA
    assert len(pd.read_parquet(out / "n_k.parquet")) == 2
    assert "Greedy worst set of 2" in (out / "report.html").read_text()
