"""A small run folder for the report tests.

SYNTHETIC TEST FIXTURE: a dozen invented assets around Valletta, two services
and 24 hours of made-up outage numbers. The schema follows the run folder
the pipeline writes; the numbers describe no real event.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, Point, Polygon

HOURS = 24
SERVICES = ("power", "water")

HEADLINE = {
    "direct_loss_eur_mean": 12_345_678.0,
    "direct_loss_eur_p05": 8_100_000.0,
    "direct_loss_eur_p95": 17_900_000.0,
    "assets_damaged_mean": 4.2,
    "hospitals_total": 2,
    "hospitals_affected_mean": 1.0,
    "hospitals_on_backup_mean": 1.0,
    "people_hours_lost": {"power": 512_000.0, "water": 130_500.0},
    "peak_people_without": {"power": 48_210.0, "water": 9_870.0},
}


def _summary() -> dict:
    return {
        "scenario": "test-flash-flood",
        "description": "Synthetic test fixture: an invented flash flood in a made-up valley.",
        "region": "test-valletta",
        "seed": 42,
        "samples": 64,
        "hours": HOURS,
        "hazards": [{
            "hazard": "flood",
            "unit": "depth_m",
            "source": "scenarios/test-flood.geojson",
            "synthetic": True,
            "note": "illustrative footprint drawn for the test suite",
        }],
        "headline": HEADLINE,
        "region_info": {
            "assets": 12,
            "dependencies": 15,
            "population": 60_000.0,
            "licence": "© OpenStreetMap contributors, ODbL 1.0",
            "population_method": "synthetic test points",
        },
        "inputs": {"region": "a" * 64, "scenario": "b" * 64},
        "versions": {
            "cascada": "0.1.0", "asset_catalogue": "test", "fragility_catalogue": "test",
            "python": "3.11", "numpy": "2.0",
        },
    }


def _assets() -> gpd.GeoDataFrame:
    rows = [
        # asset_id, sector, asset_type, name, geometry, worst_state, p_damaged, p_down, served
        ("sub-1", "power", "power.substation", "Marsa substation", Point(14.495, 35.880),
         "damaged", 0.9, 0.95, 30_000),
        ("sub-2", "power", "power.substation", "Floriana substation", Point(14.505, 35.893),
         "working", 0.0, 0.0, 20_000),
        ("line-1", "power", "power.line", "", LineString([(14.495, 35.880), (14.505, 35.893)]),
         "lost supply", 0.0, 0.6, 0),
        ("pump-1", "water", "water.pumping_station", "Hamrun pumps", Point(14.484, 35.886),
         "lost supply", 0.1, 0.7, 9_000),
        ("pump-2", "water", "water.pumping_station", "Pieta pumps", Point(14.494, 35.893),
         "working", 0.0, 0.0, 5_000),
        ("hosp-1", "health", "health.hospital", "Test General Hospital", Point(14.478, 35.902),
         "on backup", 0.0, 0.2, 40_000),
        ("clinic-1", "health", "health.clinic", "Test Clinic", Point(14.512, 35.898),
         "working", 0.0, 0.0, 8_000),
        ("tower-1", "telecom", "telecom.tower", "Mast A", Point(14.500, 35.875),
         "damaged", 0.5, 0.5, 0),
        ("bank-1", "finance", "finance.bank", "Test Bank", Point(14.513, 35.899),
         "working", 0.0, 0.0, 0),
        ("shop-1", "food", "food.supermarket", "Test Market", Point(14.490, 35.878),
         "damaged", 0.8, 0.8, 3_000),
        ("road-1", "transport", "transport.road", "Triq il-Test",
         LineString([(14.470, 35.870), (14.490, 35.885), (14.515, 35.900)]),
         "working", 0.0, 0.0, 0),
        ("road-2", "transport", "transport.road", "Triq l-Ieħor",
         LineString([(14.480, 35.905), (14.500, 35.880)]), "damaged", 0.3, 0.3, 0),
    ]
    frame = pd.DataFrame(rows, columns=[
        "asset_id", "sector", "asset_type", "name", "geometry", "worst_state", "p_damaged",
        "p_down", "population_served",
    ])
    frame["value_eur"] = 1_000_000.0
    frame["hazard"] = np.where(frame["p_damaged"] > 0, "flood", "")
    frame["intensity"] = frame["p_damaged"] * 1.5
    frame["mean_damage_state"] = frame["p_damaged"] * 2
    frame["expected_loss_eur"] = frame["p_damaged"] * 400_000.0
    frame["mean_down_hours"] = frame["p_down"] * 18.0
    frame["p_on_backup"] = np.where(frame["worst_state"] == "on backup", 0.8, 0.0)
    frame["population_served"] = frame["population_served"].astype(float)
    return gpd.GeoDataFrame(frame, geometry="geometry", crs="EPSG:4326")


def _timeseries() -> pd.DataFrame:
    hours = np.arange(HOURS)
    frames = []
    for service, peak, population in (("power", 48_210.0, 50_000.0),
                                      ("water", 9_870.0, 14_000.0)):
        mean = peak * np.exp(-hours / 8.0)
        frames.append(pd.DataFrame({
            "service": service, "hour": hours, "people_without_mean": mean,
            "people_without_p05": mean * 0.6, "people_without_p95": mean * 1.3,
            "population_total": population,
        }))
    return pd.concat(frames, ignore_index=True)


def _services() -> pd.DataFrame:
    return pd.DataFrame({
        "service": list(SERVICES),
        "population_total": [50_000.0, 14_000.0],
        "people_hours_lost_mean": [512_000.0, 130_500.0],
        "people_hours_lost_p05": [300_000.0, 80_000.0],
        "people_hours_lost_p95": [700_000.0, 190_000.0],
        "peak_people_without_mean": [48_210.0, 9_870.0],
        "peak_hour": [0, 0],
        "restored_90pct_hour": [18.0, np.nan],
    })


def _facilities() -> pd.DataFrame:
    return pd.DataFrame({
        "asset_id": ["hosp-1", "clinic-1"],
        "name": ["Test General Hospital", "Test Clinic"],
        "asset_type": ["health.hospital", "health.clinic"],
        "p_down": [0.2, 0.0],
        "mean_down_hours": [3.6, 0.0],
        "mean_on_backup_hours": [11.5, 0.0],
        "p_without_power": [0.8, 0.0],
        "p_without_water": [0.1, 0.0],
    })


def _people() -> gpd.GeoDataFrame:
    rng = np.random.default_rng(7)
    count = 200
    lon = rng.uniform(14.47, 14.52, count)
    lat = rng.uniform(35.87, 35.905, count)
    population = rng.uniform(50, 600, count).round()
    near_substation = np.hypot(lon - 14.495, lat - 35.880) < 0.015
    return gpd.GeoDataFrame({
        "people_id": np.arange(count),
        "population": population,
        "hours_without_power": np.where(near_substation, 14.0, 0.0),
        "hours_without_water": np.where(lon < 14.49, 6.0, 0.0),
    }, geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")


def _footprint() -> gpd.GeoDataFrame:
    outer = Polygon([(14.478, 35.872), (14.505, 35.872), (14.505, 35.890), (14.478, 35.890)])
    inner = Polygon([(14.486, 35.877), (14.499, 35.877), (14.499, 35.885), (14.486, 35.885)])
    return gpd.GeoDataFrame({"intensity": [0.4, 1.6]}, geometry=[outer, inner],
                            crs="EPSG:4326")


def make_run_folder(path: Path, *, footprint: bool = True) -> Path:
    """Write the synthetic run folder into ``path`` and return it."""
    path.mkdir(parents=True, exist_ok=True)
    (path / "summary.json").write_text(json.dumps(_summary(), indent=2), encoding="utf-8")
    _assets().to_parquet(path / "assets.parquet")
    _timeseries().to_parquet(path / "service_timeseries.parquet")
    _services().to_parquet(path / "services.parquet")
    _facilities().to_parquet(path / "facilities.parquet")
    _people().to_parquet(path / "people.parquet")
    if footprint:
        _footprint().to_parquet(path / "hazard_footprint.parquet")
    return path


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    """A complete synthetic run folder, hazard footprint included."""
    return make_run_folder(tmp_path / "run")


@pytest.fixture
def run_dir_without_footprint(tmp_path: Path) -> Path:
    """The same run folder without ``hazard_footprint.parquet``."""
    return make_run_folder(tmp_path / "run-no-footprint", footprint=False)


@pytest.fixture(scope="module")
def shared_run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One run folder per test module, for checks that only read the report."""
    return make_run_folder(tmp_path_factory.mktemp("report") / "run")
