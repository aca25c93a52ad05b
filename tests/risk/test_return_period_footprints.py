"""Flood risk from depth rasters per return period (here one NetCDF, a slice per period)."""

from __future__ import annotations

import numpy as np
import pytest
from tests.hazards.test_footprint_netcdf import write_netcdf

from cascada.errors import CascadaInputError
from cascada.region.io import write_region
from cascada.risk.eventsets import build_eventset, read_risk_scenario

RISK = """
[risk]
name = "rp"
region = "tiny.gpkg"
samples = 4
hours = 48

[[event_sets]]
hazard = "flood"
generator = "return_periods"
return_periods = [
  {{ return_period_years = 10, footprint = "depth.nc", variable = "depth", band = 1 }},
  {{ return_period_years = 100, footprint = "depth.nc", variable = "depth", band = 2 }},
  {{ return_period_years = 1000, footprint = "depth.nc", variable = "depth", band = 3 {extra}}},
]
"""


def setup(tmp_path, tiny_region, extra: str = ""):
    write_region(tiny_region, tmp_path / "tiny.gpkg")
    write_netcdf(tmp_path / "depth.nc")
    path = tmp_path / "rp.toml"
    path.write_text(RISK.format(extra=extra), encoding="utf-8")
    return read_risk_scenario(path)


def test_return_period_rasters_become_rated_events(tmp_path, tiny_region):
    es = build_eventset(setup(tmp_path, tiny_region), tiny_region)
    assert es.events["event_id"].tolist() == ["flood-1-rp10", "flood-1-rp100", "flood-1-rp1000"]
    assert es.events["annual_rate"].tolist() == pytest.approx([0.09, 0.009, 0.001])
    depth = es.intensity.toarray()
    assert np.all(np.diff(depth, axis=0) >= 0) and depth[2].max() > 0


def test_parameters_and_footprint_exclude_each_other(tmp_path, tiny_region):
    with pytest.raises(CascadaInputError, match="not both"):
        setup(tmp_path, tiny_region, extra=', parameters = { rainfall_mm = 90 } ')


def test_stochastic_catalogues_name_bad_parameters(tmp_path, tiny_region):
    write_region(tiny_region, tmp_path / "tiny.gpkg")
    path = tmp_path / "fire.toml"
    path.write_text("""
[risk]
name = "fire"
region = "tiny.gpkg"

[[event_sets]]
hazard = "wildfire"
generator = "stochastic"
n_events = 3
parameters = { fires_per_yaer = 2.0 }
""", encoding="utf-8")
    with pytest.raises(CascadaInputError) as err:
        build_eventset(read_risk_scenario(path), tiny_region)
    assert err.value.field == "parameters.fires_per_yaer" and "fires_per_year" in err.value.hint
    path.write_text(path.read_text().replace('"wildfire"', '"flood"'), encoding="utf-8")
    with pytest.raises(CascadaInputError, match="stochastic catalogues exist"):
        read_risk_scenario(path)
