"""The command line: every command has help; bad input exits non-zero with one clear line."""

from __future__ import annotations

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from cascada.cli import app

runner = CliRunner()


def _commands(group, prefix=()):
    for name, cmd in getattr(group, "commands", {}).items():
        yield (*prefix, name), cmd
        yield from _commands(cmd, (*prefix, name))


ALL = list(_commands(get_command(app)))


def test_there_are_commands():
    names = {" ".join(p) for p, _ in ALL}
    assert {"run", "report", "region from-osm", "region info", "region types",
            "hazards list"} <= names


@pytest.mark.parametrize("path", [p for p, _ in ALL], ids=[" ".join(p) for p, _ in ALL])
def test_every_command_has_help(path):
    result = runner.invoke(app, [*path, "--help"])
    assert result.exit_code == 0
    cmd = dict(ALL)[path]
    assert (cmd.help or "").strip(), f"{' '.join(path)} has no help text"


def test_missing_scenario_is_a_clear_error(tmp_path):
    result = runner.invoke(app, ["run", str(tmp_path / "nope.toml")])
    assert result.exit_code == 2
    assert "scenario file not found" in result.output


def test_typo_in_scenario_exits_2_and_writes_nothing(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[scenario]\nname = "x"\nregion = "r.gpkg"\nsamlpes = 3\n\n'
                   '[[hazards]]\nhazard = "flood"\nfootprint = "f.tif"\n')
    out = tmp_path / "run"
    result = runner.invoke(app, ["run", str(bad), "--output", str(out)])
    assert result.exit_code == 2
    assert "did you mean 'samples'" in result.output
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [bad]


def test_run_and_report_on_the_tiny_region(tmp_path, tiny_region):
    import geopandas as gpd
    from shapely.geometry import box

    from cascada.region.io import write_region

    write_region(tiny_region, tmp_path / "tiny.gpkg")
    gpd.GeoDataFrame({"depth_m": [3.0]}, geometry=[box(14.487, 35.893, 14.493, 35.896)],
                     crs="EPSG:4326").to_file(tmp_path / "flood.geojson")
    sc = tmp_path / "s.toml"
    sc.write_text('[scenario]\nname = "t"\nregion = "tiny.gpkg"\nsamples = 8\nhours = 24\n\n'
                  '[[hazards]]\nhazard = "flood"\nfootprint = "flood.geojson"\n'
                  'intensity_column = "depth_m"\n')
    out = tmp_path / "run"
    result = runner.invoke(app, ["run", str(sc), "--output", str(out), "--seed", "9"])
    assert result.exit_code == 0, result.output
    assert (out / "report.html").exists()
    assert "report:" in result.output and "people-hours" in result.output
    again = runner.invoke(app, ["run", str(sc), "--output", str(out)])
    assert again.exit_code == 2 and "already exists" in again.output
    rep = runner.invoke(app, ["report", str(out), "--output", str(tmp_path / "r.html")])
    assert rep.exit_code == 0 and (tmp_path / "r.html").exists()
    info = runner.invoke(app, ["region", "info", str(tmp_path / "tiny.gpkg")])
    assert info.exit_code == 0 and "power.substation" in info.output


def test_not_a_pbf_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.osm.pbf"
    bad.write_text("not a pbf")
    out = tmp_path / "r.gpkg"
    result = runner.invoke(app, ["region", "from-osm", str(bad), "--output", str(out)])
    assert result.exit_code == 2
    assert "not a readable OSM PBF file" in result.output
    assert not out.exists()


def test_region_with_unknown_asset_type_exits_2(tmp_path, tiny_region):
    from cascada.region.io import write_region

    path = write_region(tiny_region, tmp_path / "r")
    import geopandas as gpd

    assets = gpd.read_parquet(path / "assets.parquet")
    assets.loc[2, "asset_type"] = "power.substaton"
    assets.to_parquet(path / "assets.parquet")
    result = runner.invoke(app, ["region", "info", str(path)])
    assert result.exit_code == 2
    assert "row 2" in result.output and "power.substaton" in result.output


def test_hazard_command_with_a_test_double(tmp_path, tiny_region, monkeypatch):
    """`cascada hazard NAME --param value` builds Parameters and writes an event set."""
    import numpy as np
    import pandas as pd
    from pydantic import Field
    from scipy import sparse

    from cascada.hazards import registry
    from cascada.hazards.eventset import EventSet, read_eventset
    from cascada.region.io import write_region

    class LossParameters(registry.HazardParameters):
        asset_ids: str = Field(description="comma-separated asset ids")
        damage_state: int = Field(4, ge=1, le=4)

    class ExplicitLoss(registry.HazardModel):
        name = "attack"
        unit = "damage_state"
        description = "test double: explicit loss of assets"
        Parameters = LossParameters

        def event_set(self, assets, parameters, rng):
            hit = assets["asset_id"].isin(parameters.asset_ids.split(",")).to_numpy()
            row = np.where(hit, float(parameters.damage_state), 0.0)
            return EventSet(sparse.csr_matrix(row[None, :]), assets["asset_id"].to_numpy(),
                            pd.DataFrame({"hazard": ["attack"]}))

    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))
    registry.register(ExplicitLoss)
    region = write_region(tiny_region, tmp_path / "tiny.gpkg")
    out = tmp_path / "attack.parquet"
    result = runner.invoke(app, ["hazard", "attack", "--region", str(region), "-o", str(out),
                                 "--asset", "sub-a,plant", "--damage-state=3"])
    assert result.exit_code == 0, result.output
    es = read_eventset(out)
    hit = set(es.asset_ids[es.exposed_assets(0)])
    assert hit == {"sub-a", "plant"} and es.intensity.max() == 3
    bad = runner.invoke(app, ["hazard", "attack", "--region", str(region), "-o", str(out),
                              "--asset", "x", "--damage-state", "9"])
    assert bad.exit_code == 2 and "damage_state" in bad.output
    unknown = runner.invoke(app, ["hazard", "attack", "--region", str(region), "-o", str(out),
                                  "--colour", "red"])
    assert unknown.exit_code == 2 and "unknown parameter --colour" in unknown.output


def test_hazards_show_lists_parameters():
    result = runner.invoke(app, ["hazards", "show", "chemical"])
    assert result.exit_code == 0, result.output
    assert "release_rate_kg_s" in result.output and "example: cascada hazard chemical" in (
        " ".join(result.output.split()))
    unknown = runner.invoke(app, ["hazards", "show", "meteor"])
    assert unknown.exit_code == 2 and "no hazard model 'meteor'" in unknown.output
