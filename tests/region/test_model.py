"""Region validation at the boundary: each bad input names its row and field."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point, Polygon

from cascada.errors import CascadaInputError
from cascada.region.io import read_region, write_region
from cascada.region.model import Region
from conftest import make_tiny_region


def _tables():
    r = make_tiny_region()
    return r.assets.copy(), r.dependencies.copy(), r.people.copy(), r.service_links.copy()


def _build(assets, deps, people=None, links=None):
    return Region.from_tables("t", assets, deps, people, links)


def test_defaults_come_from_the_catalogue(tiny_region):
    assets = tiny_region.assets.set_index("asset_id")
    assert assets.loc["hosp", "sector"] == "health"
    assert assets.loc["hosp", "backup_hours"] > 0
    assert assets.loc["road", "value_eur"] > 0  # per-km value times length
    deps = tiny_region.dependencies
    hosp_power = deps[(deps.consumer == "hosp") & (deps.kind == "power")]
    assert (hosp_power["backup_hours"] == assets.loc["hosp", "backup_hours"]).all()
    assert (deps[deps.kind != "power"]["backup_hours"] == 0).all()


def test_unknown_asset_type_names_row_and_field():
    assets, deps, *_ = _tables()
    assets.loc[3, "asset_type"] = "water.desalinator"
    with pytest.raises(CascadaInputError, match=r"row 3.*asset_type.*water.desalinator"):
        _build(assets, deps)


def test_missing_crs():
    assets, deps, *_ = _tables()
    with pytest.raises(CascadaInputError, match="coordinate reference system"):
        _build(gpd.GeoDataFrame(assets.drop(columns="geometry"), geometry=list(assets.geometry)),
               deps)


def test_other_crs_is_reprojected():
    assets, deps, *_ = _tables()
    r = _build(assets.to_crs(32633), deps)
    assert r.assets.crs.to_epsg() == 4326
    assert abs(r.assets.geometry.iloc[0].x - 14.553) < 1e-6


def test_invalid_geometry():
    assets, deps, *_ = _tables()
    assets.loc[2, "geometry"] = Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])
    with pytest.raises(CascadaInputError, match=r"row 2.*geometry"):
        _build(assets, deps)


def test_empty_geometry():
    assets, deps, *_ = _tables()
    assets.loc[1, "geometry"] = Point(float("nan"), float("nan")).buffer(0)
    with pytest.raises(CascadaInputError, match=r"row 1.*geometry"):
        _build(assets, deps)


def test_dependency_naming_missing_asset():
    assets, deps, *_ = _tables()
    deps.loc[4, "supplier"] = "nowhere"
    with pytest.raises(CascadaInputError, match=r"row 4.*supplier.*nowhere"):
        _build(assets, deps)


def test_k_larger_than_group():
    assets, deps, *_ = _tables()
    deps.loc[deps.consumer == "hosp", "k"] = 3
    with pytest.raises(CascadaInputError, match=r"field 'k'.*only 2 supplier"):
        _build(assets, deps)


def test_negative_backup_hours():
    assets, deps, *_ = _tables()
    assets["backup_hours"] = 0.0
    assets.loc[5, "backup_hours"] = -4
    with pytest.raises(CascadaInputError, match=r"row 5.*backup_hours"):
        _build(assets, deps)


def test_duplicate_asset_id():
    assets, deps, *_ = _tables()
    assets.loc[4, "asset_id"] = "plant"
    with pytest.raises(CascadaInputError, match=r"row 4.*duplicate asset_id"):
        _build(assets, deps)


def test_service_link_to_unknown_asset():
    assets, deps, people, links = _tables()
    links.loc[2, "asset_id"] = "ghost"
    with pytest.raises(CascadaInputError, match=r"row 2.*asset_id.*ghost"):
        _build(assets, deps, people, links)


@pytest.mark.parametrize("name", ["region.gpkg", "region-folder"])
def test_roundtrip(tmp_path, tiny_region, name):
    tiny_region.metadata["licence"] = "test"
    path = write_region(tiny_region, tmp_path / name)
    back = read_region(path)
    assert back.name == "tiny"
    assert back.metadata["licence"] == "test"
    pd.testing.assert_frame_equal(
        back.assets.drop(columns="geometry").reset_index(drop=True),
        tiny_region.assets.drop(columns="geometry"), check_dtype=False)
    assert back.assets.geometry.geom_equals_exact(tiny_region.assets.geometry, 1e-9).all()
    pd.testing.assert_frame_equal(back.dependencies, tiny_region.dependencies,
                                  check_dtype=False)
    assert back.people["population"].sum() == pytest.approx(4000)
    assert len(back.service_links) == len(tiny_region.service_links)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_read_missing_region(tmp_path):
    with pytest.raises(CascadaInputError, match="region not found"):
        read_region(tmp_path / "none.gpkg")


def test_subset_caps_k(tiny_region):
    deps = tiny_region.dependencies.copy()
    deps.loc[deps.consumer == "hosp", "k"] = 1
    sub = tiny_region.subset(["hosp", "sub-a", "res"])
    assert set(sub.assets.asset_id) == {"hosp", "sub-a", "res"}
    assert (sub.dependencies.groupby(["consumer", "group"]).size() >= 1).all()
