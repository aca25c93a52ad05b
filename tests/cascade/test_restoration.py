"""Restoration with repair crews: hand-checked schedules, monotonicity, bad input, CLI."""

from __future__ import annotations

import json
import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import typer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, Point, box
from tests.conftest import make_tiny_region
from typer.testing import CliRunner

from cascada.cascade.restoration import (
    CrewPlan,
    RoadNetwork,
    dispatch,
    parse_crews,
    priority_rank,
)
from cascada.cascade.restore_cli import restore_command, restore_run, time_to_service
from cascada.errors import CascadaInputError
from cascada.region.io import write_region
from cascada.risk.config import read_scenario
from cascada.risk.scenario import run_scenario
from cascada.store.runfolder import write_run

UTM = "EPSG:32633"  # Malta's zone: distances below are exact metres
X0, Y0 = 500_000.0, 3_970_000.0


def _toy(points, roads=()):
    """Assets in UTM: points (asset_id, asset_type, x, y, value_eur, population_served),
    roads (asset_id, [(x, y), ...])."""
    rows = [dict(asset_id=a, asset_type=t, sector=t.split(".")[0], value_eur=v,
                 population_served=p, geometry=Point(X0 + x, Y0 + y))
            for a, t, x, y, v, p in points]
    rows += [dict(asset_id=a, asset_type="transport.road", sector="transport", value_eur=1.0,
                  population_served=0.0,
                  geometry=LineString([(X0 + x, Y0 + y) for x, y in line]))
             for a, line in roads]
    return gpd.GeoDataFrame(rows, crs=UTM)


def _arrays(assets, damage):
    """damage: {asset_id: (state, onset, work)} for one sample → states, onset, repaired [1, M]."""
    m = len(assets)
    states = np.zeros((1, m), np.uint8)
    onset = np.zeros((1, m), np.float32)
    repaired = np.zeros((1, m), np.float32)
    index = pd.Index(assets["asset_id"])
    for asset_id, (state, start, work) in damage.items():
        i = index.get_loc(asset_id)
        states[0, i], onset[0, i], repaired[0, i] = state, start, start + work
    return states, onset, repaired


NO_DEPENDENCIES = pd.DataFrame({"consumer": [], "supplier": []})


@pytest.fixture
def line():
    """A 3 km road west → east; the depot (plant) at its west end; two substations."""
    return _toy(
        [("plant", "power.plant", 0, 0, 1e9, 0.0),
         ("sub-east", "power.substation", 3000, 0, 1e6, 2000.0),
         ("sub-west", "power.substation", 0, 300, 1e6, 1000.0)],
        roads=[("road", [(0, 0), (1500, 0), (3000, 0)])],
    )


def _schedule(assets, damage, plan, dependencies=NO_DEPENDENCIES):
    network = RoadNetwork.build(assets)
    rank, klass = priority_rank(assets, dependencies, plan)
    states, onset, repaired = _arrays(assets, damage)
    schedule = dispatch(network, assets, rank, onset, repaired, states, plan, klass)
    jobs = schedule.jobs.assign(asset_id=assets["asset_id"].to_numpy()[schedule.jobs["asset"]])
    return schedule, jobs.set_index("asset_id")


# --------------------------------------------------------------------------- by hand


def test_network_is_the_road_between_its_ends(line):
    network = RoadNetwork.build(line)
    assert network.n_nodes == 2  # the middle vertex is no junction
    assert network.edge_m == pytest.approx([3000.0, 3000.0])


def test_one_crew_two_jobs_by_hand(line):
    plan = CrewPlan(crews={"power": 1}, policy="power-first", speed_kmh=30.0)
    _, jobs = _schedule(line, {"sub-east": (2, 0.0, 10.0), "sub-west": (2, 0.0, 5.0)}, plan)
    # more people first: east (3 km = 0.1 h each way), then west (300 m off the depot's node)
    east, west = jobs.loc["sub-east"], jobs.loc["sub-west"]
    assert (east.start_hour, east.arrive_hour) == pytest.approx((0.0, 0.1))
    assert (east.finish_hour, east.back_hour) == pytest.approx((10.1, 10.2))
    assert west.start_hour == pytest.approx(10.2)
    assert west.arrive_hour == pytest.approx(10.21)
    assert west.finish_hour == pytest.approx(15.21)
    assert west.back_hour == pytest.approx(15.22)
    assert not jobs["detour"].any()


def test_two_crews_work_at_once(line):
    plan = CrewPlan(crews={"power": 2}, policy="power-first", speed_kmh=30.0)
    schedule, jobs = _schedule(line, {"sub-east": (2, 0.0, 10.0), "sub-west": (2, 0.0, 5.0)},
                               plan)
    assert jobs.loc["sub-west", "finish_hour"] == pytest.approx(5.01)
    assert sorted(jobs["crew"]) == [0, 1]
    assert schedule.finish_hour[0, 1] == pytest.approx(10.1)


def test_closed_road_waits_slowed_road_crawls_detour_bounds(line):
    plan = CrewPlan(crews={"power": 1}, speed_kmh=30.0, detour_speed_kmh=1.0)
    damage = {"sub-east": (2, 0.0, 10.0), "road": (2, 0.0, 4.0)}
    _, jobs = _schedule(line, damage, plan)
    # closed until hour 4 (no transport crews: repaired as in the run), then 0.1 h;
    # the detour would take 3 km × 1.5 at 1 km/h = 4.5 h
    assert jobs.loc["sub-east", "arrive_hour"] == pytest.approx(4.1)
    assert jobs.loc["road", "crew"] == -1
    damage["road"] = (1, 0.0, 4.0)  # slight damage: a quarter of the speed
    _, jobs = _schedule(line, damage, plan)
    assert jobs.loc["sub-east", "arrive_hour"] == pytest.approx(0.4)
    fast_detour = CrewPlan(crews={"power": 1}, speed_kmh=30.0, detour_speed_kmh=15.0)
    damage["road"] = (3, 0.0, 400.0)
    _, jobs = _schedule(line, damage, fast_detour)
    assert jobs.loc["sub-east", "arrive_hour"] == pytest.approx(0.3)  # 4.5 km at 15 km/h
    assert jobs.loc["sub-east", "detour"]


def test_transport_crews_reopen_the_road_first(line):
    plan = CrewPlan(crews={"power": 1, "transport": 1}, speed_kmh=30.0, detour_speed_kmh=1.0)
    _, jobs = _schedule(line, {"sub-east": (2, 0.0, 10.0), "road": (2, 0.0, 2.0)}, plan)
    # the road crew reaches the road's west end at once and works 2 h
    assert jobs.loc["road", "finish_hour"] == pytest.approx(2.0)
    assert jobs.loc["sub-east", "arrive_hour"] == pytest.approx(2.1)


def test_damage_onset_releases_the_job(line):
    plan = CrewPlan(crews={"power": 1}, speed_kmh=30.0)
    _, jobs = _schedule(line, {"sub-west": (2, 6.0, 5.0)}, plan)
    assert jobs.loc["sub-west", "start_hour"] == pytest.approx(6.0)
    assert jobs.loc["sub-west", "finish_hour"] == pytest.approx(11.01)


def test_hospitals_first_serves_the_hospital_feeder_first():
    assets = _toy(
        [("plant", "power.plant", 0, 0, 1e9, 0.0),
         ("sub-h", "power.substation", 100, 0, 1e6, 10.0),
         ("sub-big", "power.substation", 200, 0, 1e6, 50_000.0),
         ("hosp", "health.hospital", 120, 0, 1e6, 0.0)])
    deps = pd.DataFrame({"consumer": ["hosp"], "supplier": ["sub-h"]})
    damage = {"sub-h": (2, 0.0, 3.0), "sub-big": (2, 0.0, 3.0)}
    _, jobs = _schedule(assets, damage, CrewPlan(crews={"power": 1}), deps)
    assert jobs.loc["sub-h", "start_hour"] < jobs.loc["sub-big", "start_hour"]
    assert jobs.loc["sub-h", "priority_class"] == 0
    _, jobs = _schedule(assets, damage, CrewPlan(crews={"power": 1}, policy="power-first"), deps)
    assert jobs.loc["sub-big", "start_hour"] < jobs.loc["sub-h", "start_hour"]
    custom = CrewPlan(crews={"power": 1}, policy="custom", order=("health.hospital",))
    _, jobs = _schedule(assets, damage, custom, deps)
    assert jobs.loc["sub-h", "start_hour"] < jobs.loc["sub-big", "start_hour"]


# --------------------------------------------------------------------------- properties


def _grid():
    """A 3 × 3 grid of 1 km roads (12 road assets) and six point assets of two sectors."""
    roads = []
    for i in range(3):
        for j in range(2):
            roads.append((f"h{i}{j}", [(j * 1000, i * 1000), ((j + 1) * 1000, i * 1000)]))
            roads.append((f"v{j}{i}", [(i * 1000, j * 1000), (i * 1000, (j + 1) * 1000)]))
    points = [(f"p{k}", "power.substation" if k % 2 else "water.pumping_station",
               (k * 370) % 2000 + 30, (k * 610) % 2000 + 40, 1e6 + k, 100.0 * k)
              for k in range(6)]
    return _toy(points, roads)


GRID = _grid()
GRID_NETWORK = RoadNetwork.build(GRID)


@st.composite
def damage_cases(draw):
    m = len(GRID)
    n_samples = draw(st.integers(1, 3))
    states = np.array(draw(st.lists(st.sampled_from([0, 0, 1, 2, 3]), min_size=m * n_samples,
                                    max_size=m * n_samples)), np.uint8).reshape(n_samples, m)
    onset = np.array(draw(st.lists(st.sampled_from([0.0, 0.0, 2.0, 5.5]),
                                   min_size=m * n_samples, max_size=m * n_samples)),
                     np.float32).reshape(n_samples, m)
    work = np.array(draw(st.lists(st.floats(0.5, 40.0, width=32), min_size=m * n_samples,
                                  max_size=m * n_samples)), np.float32).reshape(n_samples, m)
    crews = {s: draw(st.integers(1, 3)) for s in ("power", "water", "transport")}
    more = dict(crews)
    for s in draw(st.sets(st.sampled_from(sorted(crews)), min_size=1)):
        more[s] += draw(st.integers(1, 3))
    speed = draw(st.sampled_from([5.0, 30.0, math.inf]))
    policy = draw(st.sampled_from(["hospitals-first", "water-first", "power-first"]))
    return states, onset, onset + work, crews, more, speed, policy


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damage_cases())
def test_more_crews_never_finish_any_repair_later(case):
    states, onset, repaired, crews, more, speed, policy = case
    rank, _ = priority_rank(GRID, NO_DEPENDENCIES, CrewPlan(crews=crews, policy=policy))
    few = dispatch(GRID_NETWORK, GRID, rank, onset, repaired, states,
                   CrewPlan(crews=crews, policy=policy, speed_kmh=speed))
    many = dispatch(GRID_NETWORK, GRID, rank, onset, repaired, states,
                    CrewPlan(crews=more, policy=policy, speed_kmh=speed))
    assert (many.finish_hour <= few.finish_hour + 1e-9).all()
    damaged = states > 0
    assert np.isfinite(few.finish_hour).all()
    # never earlier than with unlimited crews; every damaged asset is repaired once
    assert (few.finish_hour[damaged] >= repaired[damaged] - 1e-4).all()
    assert len(few.jobs) == damaged.sum()


@settings(max_examples=30, deadline=None)
@given(damage_cases())
def test_enough_crews_and_no_travel_is_the_unlimited_case(case):
    states, onset, repaired, *_ = case
    plan = CrewPlan(crews={"power": 99, "water": 99, "transport": 99}, speed_kmh=math.inf)
    rank, _ = priority_rank(GRID, NO_DEPENDENCIES, plan)
    schedule = dispatch(GRID_NETWORK, GRID, rank, onset, repaired, states, plan)
    expected = np.where(states > 0, repaired, 0.0)
    np.testing.assert_array_equal(schedule.finish_hour.astype(np.float32), expected)


def test_dispatch_terminates_with_every_road_closed():
    """All roads closed, crews far apart: every job is still placed once, in finite time."""
    m = len(GRID)
    states = np.full((2, m), 3, np.uint8)
    onset = np.zeros((2, m), np.float32)
    repaired = np.full((2, m), 50.0, np.float32)
    plan = CrewPlan(crews={"power": 1, "water": 1, "transport": 1})
    rank, _ = priority_rank(GRID, NO_DEPENDENCIES, plan)
    schedule = dispatch(GRID_NETWORK, GRID, rank, onset, repaired, states, plan)
    assert len(schedule.jobs) == 2 * m
    assert np.isfinite(schedule.finish_hour).all()
    # one crew per pool: its jobs never overlap, and each starts after the last one is back
    for _, jobs in schedule.jobs.groupby(["sample", "sector"]):
        jobs = jobs.sort_values("start_hour")
        assert (jobs["start_hour"].to_numpy()[1:] >= jobs["back_hour"].to_numpy()[:-1]).all()


def test_time_to_service():
    share = np.array([[1.0, 0.2, 0.95], [0.4, 0.6, 0.95], [0.95, 1.0, 0.95], [1.0, 1.0, 0.8]])
    np.testing.assert_array_equal(time_to_service(share, 0.5), [2, 1, 0])
    np.testing.assert_array_equal(time_to_service(share, 1.0), [3, 2, np.inf])


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("text", ["power", "power=x", "power=-1", "", "=3", "power=1,power=2",
                                  "power=1.5"])
def test_malformed_crews_name_the_option(text):
    with pytest.raises(CascadaInputError, match="--crews"):
        parse_crews(text)


def test_parse_crews():
    assert parse_crews(" power=4, water=2 ,telecom=0") == {"power": 4, "water": 2, "telecom": 0}


@pytest.mark.parametrize("kwargs, field", [
    ({"speed_kmh": -1.0}, "--speed-kmh"), ({"speed_kmh": 0.0}, "--speed-kmh"),
    ({"speed_kmh": float("nan")}, "--speed-kmh"), ({"policy": "fastest"}, "--priority"),
    ({"policy": "custom"}, "--order"), ({"crews": {"power": -2}}, "--crews"),
    ({"detour_speed_kmh": math.inf}, "detour_speed_kmh"),
])
def test_bad_plan_names_the_field(kwargs, field):
    with pytest.raises(CascadaInputError, match=field):
        CrewPlan(**kwargs)


def test_zero_crews_for_a_damaged_sector_is_an_error(line):
    with pytest.raises(CascadaInputError, match=r"--crews.*'power' has 0 crews but 1 damaged"):
        _schedule(line, {"sub-east": (2, 0.0, 1.0)}, CrewPlan(crews={"power": 0}))
    # zero crews for a sector with nothing to repair is fine
    _schedule(line, {"road": (2, 0.0, 1.0)}, CrewPlan(crews={"power": 0, "transport": 1}))


def test_unknown_sector_and_target(line):
    with pytest.raises(CascadaInputError, match=r"--crews.*unknown sector 'powr'"):
        _schedule(line, {"sub-east": (2, 0.0, 1.0)}, CrewPlan(crews={"powr": 1}))
    with pytest.raises(CascadaInputError, match=r"--order.*'sewage'"):
        _schedule(line, {}, CrewPlan(crews={"power": 1}, policy="custom", order=("sewage",)))


def test_sectors_without_crews_are_unlimited_and_said_so(line):
    schedule, jobs = _schedule(line, {"sub-east": (2, 0.0, 7.0), "road": (2, 1.0, 3.0)},
                               CrewPlan(crews={"power": 1}))
    assert any("'transport': no crew limit" in n for n in schedule.notes)
    assert jobs.loc["road", "finish_hour"] == pytest.approx(4.0)


# --------------------------------------------------------------------------- end to end


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """A scenario run folder on the tiny region: a flood over substation A, the road, the shop."""
    folder = tmp_path_factory.mktemp("restore")
    write_region(make_tiny_region(), folder / "tiny.gpkg")
    flood = gpd.GeoDataFrame({"depth_m": [3.0]}, geometry=[box(14.487, 35.893, 14.493, 35.896)],
                             crs="EPSG:4326")
    flood.to_file(folder / "flood.geojson")
    (folder / "tiny.toml").write_text(
        '[scenario]\nname = "tiny-flood"\nregion = "tiny.gpkg"\nseed = 3\nsamples = 24\n'
        'hours = 48\n\n[[hazards]]\nhazard = "flood"\nfootprint = "flood.geojson"\n'
        'intensity_column = "depth_m"\nsynthetic = true\nnote = "test footprint"\n')
    write_run(run_scenario(read_scenario(folder / "tiny.toml")), folder / "run")
    return folder


def _app():
    app = typer.Typer(add_completion=False)
    app.command("restore")(restore_command)
    app.command("other")(lambda: None)  # keep `restore` a sub-command
    return app


def test_restore_cli_end_to_end(tiny_run):
    runner = CliRunner()
    out = tiny_run / "restored"
    result = runner.invoke(_app(), [
        "restore", str(tiny_run / "run"), "--crews", "power=1,transport=1,food=1",
        "--region", str(tiny_run / "tiny.gpkg"), "--output", str(out), "--samples", "16"])
    assert result.exit_code == 0, result.output
    assert "T50" in result.output and "power" in result.output
    assert {p.name for p in out.iterdir()} == {"restoration.parquet", "crew_jobs.parquet",
                                               "summary.json", "report.html"}
    summary = json.loads((out / "summary.json").read_text())
    assert summary["samples"] == 16 and summary["plan"]["crews"]["power"] == 1
    power = summary["services"]["power"]
    assert power["crews"]["people_hours_lost_mean"] >= power["unlimited"]["people_hours_lost_mean"]
    curves = pd.read_parquet(out / "restoration.parquet")
    assert set(curves["hour"]) == set(range(48))
    assert curves["share_crews_mean"].between(0, 1).all()
    assert (curves["share_crews_mean"] <= curves["share_unlimited_mean"] + 1e-9).all()
    jobs = pd.read_parquet(out / "crew_jobs.parquet")
    assert {"sample", "sector", "crew", "asset_id", "start_hour", "arrive_hour",
            "finish_hour", "unlimited_finish_hour"} <= set(jobs.columns)
    assert (jobs["finish_hour"] >= jobs["unlimited_finish_hour"] - 1e-4).all()
    assert "<img" in (out / "report.html").read_text()
    # the same inputs give the same summary
    again = runner.invoke(_app(), [
        "restore", str(tiny_run / "run"), "--crews", "power=1,transport=1,food=1",
        "--region", str(tiny_run / "tiny.gpkg"), "--output", str(tiny_run / "again"),
        "--samples", "16"])
    assert again.exit_code == 0, again.output
    assert (tiny_run / "again" / "summary.json").read_text() == (out / "summary.json").read_text()


def test_restore_with_enough_crews_matches_no_limit(tiny_run):
    plan = CrewPlan(crews={"power": 50, "transport": 50, "food": 50}, speed_kmh=math.inf)
    result = restore_run(tiny_run / "run", plan, region_path=tiny_run / "tiny.gpkg")
    curves = result.curves
    np.testing.assert_allclose(curves["share_crews_mean"], curves["share_unlimited_mean"])
    # the unlimited curve is the run's own service time series
    ts = pd.read_parquet(tiny_run / "run" / "service_timeseries.parquet")
    merged = curves.merge(ts, on=["service", "hour"])
    np.testing.assert_allclose(
        merged["share_unlimited_mean"],
        1 - merged["people_without_mean"] / merged["population_total_y"], atol=1e-9)


def test_more_crews_never_lose_more_people_hours(tiny_run):
    few = restore_run(tiny_run / "run", CrewPlan(crews={"power": 1, "transport": 1}),
                      region_path=tiny_run / "tiny.gpkg", hours=96)
    many = restore_run(tiny_run / "run", CrewPlan(crews={"power": 3, "transport": 2}),
                       region_path=tiny_run / "tiny.gpkg", hours=96)
    for service, entry in few.summary["services"].items():
        more = many.summary["services"][service]["crews"]["people_hours_lost_mean"]
        assert more <= entry["crews"]["people_hours_lost_mean"] + 1e-6
        assert entry["crews"]["people_hours_lost_mean"] >= (
            entry["unlimited"]["people_hours_lost_mean"] - 1e-6)


@pytest.mark.parametrize("args, message", [
    (["--crews", "power=0"], "--crews"),
    (["--crews", "power"], "--crews"),
    (["--crews", "sewers=2"], "unknown sector"),
    (["--crews", "power=1", "--speed-kmh", "-5"], "--speed-kmh"),
    (["--crews", "power=1", "--samples", "999"], "--samples"),
    (["--crews", "power=1", "--priority", "power-first", "--order", "water"], "--priority"),
    (["--crews", "power=1", "--priority-file", "missing.toml"], "--priority-file"),
])
def test_restore_cli_bad_input(tiny_run, args, message):
    result = CliRunner().invoke(_app(), [
        "restore", str(tiny_run / "run"), "--region", str(tiny_run / "tiny.gpkg"),
        "--output", str(tiny_run / "bad"), *args])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert not (tiny_run / "bad").exists()


def test_restore_cli_wrong_region_and_priority_file(tiny_run, tmp_path, tiny_region):
    other = tiny_region.subset(tiny_region.assets["asset_id"].tolist()[:-1])
    write_region(other, tmp_path / "other.gpkg")
    result = CliRunner().invoke(_app(), [
        "restore", str(tiny_run / "run"), "--crews", "power=1", "--region",
        str(tmp_path / "other.gpkg"), "--output", str(tmp_path / "x")])
    assert result.exit_code == 2 and "--region" in result.output
    (tmp_path / "p.toml").write_text('order = ["hospitals", "power"]\n')
    result = CliRunner().invoke(_app(), [
        "restore", str(tiny_run / "run"), "--crews", "power=1,transport=1,food=1", "--region",
        str(tiny_run / "tiny.gpkg"), "--priority-file", str(tmp_path / "p.toml"),
        "--output", str(tmp_path / "y")])
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "y" / "summary.json").read_text())["plan"]["order"] == [
        "hospitals", "power"]
