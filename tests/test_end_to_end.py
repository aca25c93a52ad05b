"""End to end on a real subset of Malta: the Msida valley, the demo's flood raster."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from shapely.geometry import box

from cascada.region.io import write_region
from cascada.risk.config import read_scenario
from cascada.risk.scenario import run_scenario
from cascada.store.runfolder import write_run

ROOT = Path(__file__).resolve().parents[1]
FLOOD = ROOT / "scenarios" / "hazards" / "malta-flash-flood-depth.tif"
MSIDA = box(14.455, 35.870, 14.505, 35.910)


@pytest.fixture(scope="module")
def msida(malta_region):
    inside = malta_region.assets.intersects(MSIDA)
    keep = set(malta_region.assets.loc[inside, "asset_id"])
    # Keep the suppliers the valley depends on (plant, interconnector, RO plants, ...).
    deps = malta_region.dependencies
    for _ in range(4):
        keep |= set(deps.loc[deps["consumer"].isin(keep), "supplier"])
    return malta_region.subset(keep)


def test_msida_flood_end_to_end(tmp_path, msida):
    write_region(msida, tmp_path / "msida.gpkg")
    scenario = tmp_path / "msida.toml"
    scenario.write_text(
        '[scenario]\nname = "msida-flood"\nregion = "msida.gpkg"\nseed = 11\nsamples = 32\n'
        f'hours = 72\n\n[[hazards]]\nhazard = "flood"\nfootprint = "{FLOOD}"\n'
        "synthetic = true\n"
    )
    from cascada.report import write_report

    result = run_scenario(read_scenario(scenario))
    out = write_run(result, tmp_path / "run", report=write_report)
    assets = result.assets
    flooded = assets[assets["intensity"] > 0]
    assert len(flooded) > 10, "the valley floor floods"
    assert (flooded["intensity"] <= 1.2 + 1e-6).all()  # the footprint's water level
    assert (assets.loc[assets["intensity"] == 0, "p_damaged"] == 0).all()
    # Cascading: some assets lose service without being damaged themselves.
    assert (assets["worst_state"] == "lost supply").any() or \
        (assets["p_down"] > assets["p_damaged"] + 1e-9).any()
    services = result.services.set_index("service")
    assert services["people_hours_lost_mean"].sum() > 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["region_info"]["licence"].startswith("©")
    assert summary["hazards"][0]["synthetic"] is True
    html = (out / "report.html").read_text()
    assert "msida-flood" in html and "OpenStreetMap" in html
    # No people can lose more hours than the horizon.
    for column in [c for c in result.people.columns if c.startswith("hours_without_")]:
        assert np.all(result.people[column] <= 72)


def test_malta_earthquake_tsunami_release_chain(malta_region):
    """The shipped chain scenario on the real region: three hazards, one timeline."""
    scenario = read_scenario(ROOT / "scenarios" / "malta-1693-earthquake-tsunami.toml")
    scenario = scenario.model_copy(update={
        "scenario": scenario.scenario.model_copy(update={"samples": 16, "hours": 48})})
    result = run_scenario(scenario, region=malta_region)
    hazards = {h["id"]: h for h in result.summary["hazards"]}
    assert hazards["tsunami"]["onset_hours"] == pytest.approx(0.34)
    assert hazards["release"]["onset_hours"] == pytest.approx(1.0)
    assert hazards["eq1693"]["events"] == 16
    assert hazards["tsunami"]["parameters"]["magnitude_mw"] == pytest.approx(7.32)
    assert hazards["eq1693"]["assets_exposed"] == len(malta_region.assets)  # shaking everywhere
    tsunami_hit = result.outages[np.isclose(result.outages["damage_onset_hour"], 0.34)]
    # Assets damaged only by the tsunami (20 minutes after the shaking) go down in hour 1.
    assert len(tsunami_hit) > 0
    assert (tsunami_hit["first_down_hour"] == 1).all()
    assert np.isfinite(result.summary["headline"]["direct_loss_eur_mean"])
    # The release harms people directly: counted per AEGL level, nested; it happens
    # only where the shaking damages its tank (natech), which a 1693 repeat rarely does.
    release = hazards["release"]
    exposed = release["people_exposed"]
    assert exposed["AEGL-1"] >= exposed["AEGL-2"] >= exposed["AEGL-3"] >= 0
    assert exposed["AEGL-1"] > 0
    assert release["condition"]["asset_id"] == "osm-w46777379"
    assert 0 <= release["probability"] < 0.5
    assert hazards["eq1693"]["people_exposed"] == {} and hazards["eq1693"]["probability"] == 1
