"""Crowded places on Malta, the road-network response time, the report and the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import geopandas as gpd
import pytest
from shapely.geometry import LineString, Point
from typer.testing import CliRunner

from cascada.protection.cli import protect_app
from cascada.protection.crowded import (
    ACCESS_SPEED_KMH,
    DETOUR_FACTOR,
    DISPATCH_S,
    crowded_place_site,
    evaluate_crowded_places,
    police_response_times,
    read_crowded_places,
)
from cascada.protection.paths import evaluate_site
from cascada.protection.report import write_report
from cascada.protection.site import load_site

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "protection"
MALTA_PBF = ROOT / "data" / "malta" / "malta-2018-08.osm.pbf"


def test_response_time_by_hand():
    """A 4 km primary road (50 km/h) from the police station to the place."""
    # Two points 4 km apart along a meridian-ish line near Malta (EPSG:32633 metres).
    line = gpd.GeoSeries([LineString([(450000, 3970000), (450000, 3974000)])],
                         crs="EPSG:32633").to_crs("EPSG:4326")
    ends = gpd.GeoSeries([Point(450100, 3970000), Point(450000, 3974200)],
                         crs="EPSG:32633").to_crs("EPSG:4326")
    assets = gpd.GeoDataFrame({
        "asset_id": ["road", "police"], "asset_type": ["transport.road", "emergency.police"],
        "name": ["", "Station"], "osm_tags": ["highway=primary", ""],
    }, geometry=[line.iloc[0], ends.iloc[0]], crs="EPSG:4326")
    region = SimpleNamespace(assets=assets)
    places = gpd.GeoDataFrame({"place_id": ["p"], "kind": ["stadium"], "name": ["S"]},
                              geometry=[ends.iloc[1]], crs="EPSG:4326")
    times = police_response_times(region, places)
    access = (100 + 200) * DETOUR_FACTOR / (ACCESS_SPEED_KMH / 3.6)
    expected = DISPATCH_S + access + 4000 / (50 / 3.6)
    assert times["response_mean_s"].iloc[0] == pytest.approx(expected, rel=1e-3)
    assert times["police_name"].iloc[0] == "Station"


def test_malta_crowded_places(malta_region):
    places = read_crowded_places(MALTA_PBF, ["stadium"])
    assert len(places) >= 5
    assert "National Stadium" in set(places["name"])
    table = evaluate_crowded_places(malta_region, places)
    assert set(table["entrance"]) == {"main-gate", "side-gate", "service-gate"}
    assert table["p_interruption"].between(0, 1).all()
    national = table[table["name"] == "National Stadium"]
    assert 180 < national["response_mean_s"].iloc[0] < 1800
    # Police minutes away, adversary seconds from the crowd: P_I is small.
    assert national["p_interruption"].min() < 0.05


def test_crowded_template_monotone_in_response():
    fast = evaluate_site(crowded_place_site("stadium", 60, 18)).overall.p_interruption
    slow = evaluate_site(crowded_place_site("stadium", 400, 120)).overall.p_interruption
    assert fast > slow


def test_report_is_self_contained(tmp_path):
    site = load_site(EXAMPLES / "chemical_store.toml")
    path = write_report(site, tmp_path / "report.html")
    text = path.read_text()
    assert "data:image/png;base64," in text
    assert "http://" not in text and "https://" not in text and "<script" not in text
    assert "0.414" in text  # worst-path P_I (insider)
    assert text.startswith("<!DOCTYPE html>")


runner = CliRunner()


@pytest.mark.parametrize("command", ["evaluate", "upgrades", "report", "crowded"])
def test_every_command_has_help(command):
    result = runner.invoke(protect_app, [command, "--help"])
    assert result.exit_code == 0
    assert len(result.output) > 100


def test_cli_evaluate_upgrades_report(tmp_path):
    site = str(EXAMPLES / "chemical_store.toml")
    options = str(EXAMPLES / "options.toml")
    result = runner.invoke(protect_app, ["evaluate", site, "-o", str(tmp_path / "ev")])
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "ev" / "summary.json").read_text())
    assert summary["worst_p_interruption"] == pytest.approx(0.41425338, abs=1e-6)
    result = runner.invoke(protect_app, ["upgrades", site, options, "--budget", "200000",
                                         "-o", str(tmp_path / "up")])
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "up" / "summary.json").read_text())
    assert summary["portfolio"]["cost_eur"] <= 200000
    result = runner.invoke(protect_app, ["report", site, "--options", options, "--budget",
                                         "100000", "--samples", "200", "-o",
                                         str(tmp_path / "rep")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "rep" / "report.html").is_file()


def test_cli_bad_input_exits_2(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text((EXAMPLES / "chemical_store.toml").read_text().replace(
        'p_detection = 0.9\nlocation = "end"', 'p_detection = 1.9\nlocation = "end"'))
    result = runner.invoke(protect_app, ["evaluate", str(bad)])
    assert result.exit_code == 2
    assert "store-wall" in result.output and "p_detection" in result.output
