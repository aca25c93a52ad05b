"""A scenario end to end on the tiny region: hazard → damage → cascade → impact → run folder."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from cascada.errors import CascadaInputError
from cascada.region.io import write_region
from cascada.risk.config import read_scenario
from cascada.risk.scenario import run_scenario
from cascada.store.runfolder import write_run


@pytest.fixture
def scenario_file(tmp_path, tiny_region):
    write_region(tiny_region, tmp_path / "tiny.gpkg")
    # A deep flood over substation A (14.490, 35.895) and the east end of the road.
    flood = gpd.GeoDataFrame({"depth_m": [3.0]}, geometry=[box(14.487, 35.893, 14.493, 35.896)],
                             crs="EPSG:4326")
    flood.to_file(tmp_path / "flood.geojson")
    path = tmp_path / "tiny.toml"
    path.write_text(
        '[scenario]\nname = "tiny-flood"\nregion = "tiny.gpkg"\nseed = 3\nsamples = 80\n'
        'hours = 48\n\n[[hazards]]\nhazard = "flood"\nfootprint = "flood.geojson"\n'
        'intensity_column = "depth_m"\nsynthetic = true\nnote = "test footprint"\n'
    )
    return path


def test_tiny_flood_cascades(scenario_file):
    result = run_scenario(read_scenario(scenario_file))
    assets = result.assets.set_index("asset_id")
    assert assets.loc["sub-a", "intensity"] == pytest.approx(3.0)
    assert assets.loc["sub-a", "p_damaged"] > 0.5
    # Substation A feeds the bank and the mast; people p1 rely on it for power only.
    assert assets.loc["bank", "p_down"] >= assets.loc["sub-a", "p_damaged"] - 1e-9
    assert assets.loc["plant", "p_damaged"] == 0
    services = result.services.set_index("service")
    assert services.loc["power", "people_hours_lost_mean"] > 0
    assert services.loc["power", "population_total"] == pytest.approx(4000)
    # The hospital has two substations: losing A alone never cuts its grid power.
    assert result.summary["headline"]["hospitals_total"] == 1
    assert len(result.damage_states) == 80
    ts = result.service_timeseries
    assert set(ts["hour"]) == set(range(48))
    assert (ts["people_without_mean"] <= ts["population_total"] + 1e-9).all()


def test_same_seed_same_numbers(scenario_file):
    a = run_scenario(read_scenario(scenario_file))
    b = run_scenario(read_scenario(scenario_file))
    np.testing.assert_array_equal(a.damage_states, b.damage_states)
    pd.testing.assert_frame_equal(a.services, b.services)
    assert json.dumps(a.summary, sort_keys=True) == json.dumps(b.summary, sort_keys=True)


def test_run_folder_is_complete_and_atomic(tmp_path, scenario_file):
    result = run_scenario(read_scenario(scenario_file))
    out = write_run(result, tmp_path / "runs" / "r1")
    names = {p.name for p in out.iterdir()}
    assert {"assets.parquet", "services.parquet", "service_timeseries.parquet",
            "facilities.parquet", "people.parquet", "outages.parquet", "summary.json"} <= names
    summary = json.loads((out / "summary.json").read_text())
    assert summary["seed"] == 3 and summary["inputs"]["region"]
    assert gpd.read_parquet(out / "assets.parquet").crs.to_epsg() == 4326

    def broken_report(folder):
        raise RuntimeError("report failed")

    with pytest.raises(RuntimeError):
        write_run(result, tmp_path / "runs" / "r2", report=broken_report)
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["r1"]


def test_bad_footprint_names_the_file(tmp_path, scenario_file):
    text = scenario_file.read_text().replace('"depth_m"', '"depth"')
    scenario_file.write_text(text)
    with pytest.raises(CascadaInputError, match=r"flood.geojson.*no intensity column"):
        run_scenario(read_scenario(scenario_file))
