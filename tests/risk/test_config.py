"""Scenario files: typos and bad values are clear errors naming the file and key."""

from __future__ import annotations

import pytest

from cascada.errors import CascadaInputError
from cascada.risk.config import read_scenario

GOOD = """
[scenario]
name = "demo"
region = "region.gpkg"
seed = 7

[[hazards]]
hazard = "flood"
footprint = "flood.tif"
"""


def test_good_scenario(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(GOOD)
    sc = read_scenario(path)
    assert sc.scenario.samples == 64 and sc.scenario.hours == 168
    assert sc.resolve(sc.scenario.region) == tmp_path / "region.gpkg"


def test_typo_key_suggests_the_right_one(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(GOOD.replace("seed = 7", "seeed = 7"))
    with pytest.raises(CascadaInputError, match=r"s.toml.*scenario.seeed.*did you mean 'seed'"):
        read_scenario(path)


def test_typo_in_hazard_table(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(GOOD.replace("footprint =", "footprnt ="))
    with pytest.raises(CascadaInputError, match=r"hazards.0.footprnt.*did you mean 'footprint'"):
        read_scenario(path)


def test_unknown_hazard(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(GOOD.replace('"flood"', '"meteor"'))
    with pytest.raises(CascadaInputError, match="unknown hazard 'meteor'"):
        read_scenario(path)


def test_bad_value(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(GOOD.replace("seed = 7", "seed = 7\nsamples = 0"))
    with pytest.raises(CascadaInputError, match=r"scenario.samples"):
        read_scenario(path)


def test_not_toml(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text("[scenario\nname=")
    with pytest.raises(CascadaInputError, match="not valid TOML"):
        read_scenario(path)
