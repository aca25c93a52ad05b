"""Dependency inference from rules: nearest suppliers, k-of-n groups, overrides."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from cascada.errors import CascadaInputError
from cascada.region.catalogue import load_asset_types
from cascada.region.inference import (
    infer_dependencies,
    load_dependency_rules,
    nearest_suppliers,
)
from cascada.region.model import Region, validate_dependencies

# TOY assets near Msida, Malta (positions invented; lon, lat).
TOY = [
    ("plant", "power.plant", 14.553, 35.836),
    ("link", "power.interconnector", None, None),
    ("gen", "power.generator", 14.5535, 35.8362),
    ("sub-a", "power.substation", 14.490, 35.895),
    ("sub-b", "power.substation", 14.480, 35.905),
    ("sub-far", "power.substation", 14.250, 36.050),
    ("desal", "water.desalination", 14.478, 35.930),
    ("res", "water.reservoir", 14.485, 35.900),
    ("mast-1", "telecom.mast", 14.495, 35.901),
    ("mast-2", "telecom.mast", 14.470, 35.910),
    ("hosp", "health.hospital", 14.480, 35.902),
    ("bank", "finance.bank", 14.491, 35.897),
    ("shop", "food.supermarket", 14.489, 35.894),
]


def toy_assets() -> gpd.GeoDataFrame:
    geoms = []
    for _, kind, lon, lat in TOY:
        if kind == "power.interconnector":
            geoms.append(shapely.LineString([(14.57, 36.78), (14.442, 35.940)]))
        else:
            geoms.append(shapely.Point(lon, lat))
    geoms += [shapely.LineString([(14.478, 35.9015), (14.482, 35.9025)]),
              shapely.LineString([(14.40, 35.80), (14.41, 35.81)])]
    ids = [t[0] for t in TOY] + ["road-near", "road-far"]
    types = [t[1] for t in TOY] + ["transport.road", "transport.road"]
    return gpd.GeoDataFrame({"asset_id": ids, "asset_type": types}, geometry=geoms,
                            crs="EPSG:4326")


@pytest.fixture(scope="module")
def toy_edges() -> pd.DataFrame:
    return infer_dependencies(toy_assets())


def edges_of(deps: pd.DataFrame, consumer: str, group: str) -> pd.DataFrame:
    return deps[(deps["consumer"] == consumer) & (deps["group"] == group)]


def test_rules_load_and_name_catalogue_types():
    rules = load_dependency_rules()
    types = set(load_asset_types().types)
    for rule in rules.rules:
        assert set(rule.suppliers) <= types
        assert rule.consumer_mask(pd.Series(sorted(types))).any(), rule
    for service in rules.services:
        assert set(service.assets) <= types
    assert {s.service for s in rules.services} == {"power", "water", "telecom", "health",
                                                   "finance", "food"}


def test_nearest_two_substations(toy_edges):
    power = edges_of(toy_edges, "hosp", "power")
    assert set(power["supplier"]) == {"sub-a", "sub-b"}  # not the far one
    assert (power["k"] == 1).all()
    # power backup is the consumer's own (catalogue) backup
    hours = load_asset_types().table.loc["health.hospital", "backup_hours"]
    assert (power["backup_hours"] == hours).all()


def test_generation_any_source(toy_edges):
    gen = edges_of(toy_edges, "sub-far", "generation")
    assert set(gen["supplier"]) == {"plant", "link"}
    assert (gen["k"] == 1).all()


def test_road_access_within_one_km(toy_edges):
    road = edges_of(toy_edges, "hosp", "road")
    assert list(road["supplier"]) == ["road-near"]  # the far road is > 1 km away
    assert (road["k"] == 1).all()


def test_water_and_telecom_for_the_hospital(toy_edges):
    assert set(edges_of(toy_edges, "hosp", "water")["supplier"]) == {"res"}
    assert set(edges_of(toy_edges, "hosp", "telecom")["supplier"]) == {"mast-1", "mast-2"}
    assert set(edges_of(toy_edges, "res", "water")["supplier"]) == {"desal"}


def test_edges_validate_against_the_model(toy_edges):
    assets = toy_assets()
    region = Region.from_tables("toy", assets, toy_edges)
    assert len(region.dependencies) == len(toy_edges)
    n = toy_edges.groupby(["consumer", "group"])["supplier"].transform("size")
    assert (toy_edges["k"] <= n).all()


def test_power_telecom_cycle(toy_edges):
    ids = pd.Index(toy_assets()["asset_id"])
    rows = ids.get_indexer(toy_edges["consumer"])
    cols = ids.get_indexer(toy_edges["supplier"])
    graph = csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(ids), len(ids)))
    _, labels = connected_components(graph, directed=True, connection="strong")
    plant, mast = labels[ids.get_loc("plant")], labels[ids.get_loc("mast-1")]
    assert plant == mast  # plant -> mast (SCADA) -> substation (power) -> plant


def test_explicit_overrides_inferred(tmp_path):
    explicit = pd.DataFrame({"consumer": ["hosp"], "supplier": ["sub-far"], "kind": ["power"]})
    path = tmp_path / "explicit.csv"
    explicit.to_csv(path, index=False)
    for source in (explicit, path):
        deps = infer_dependencies(toy_assets(), explicit=source)
        power = edges_of(deps, "hosp", "power")
        assert list(power["supplier"]) == ["sub-far"]
        hours = load_asset_types().table.loc["health.hospital", "backup_hours"]
        assert power["backup_hours"].iloc[0] == hours
        # other groups of the hospital are still inferred
        assert len(edges_of(deps, "hosp", "road")) == 1
        validate_dependencies(deps, Region.from_tables("toy", toy_assets()).assets)


def test_explicit_missing_columns_is_a_clear_error():
    with pytest.raises(CascadaInputError, match="supplier"):
        infer_dependencies(toy_assets(), explicit=pd.DataFrame({"consumer": ["hosp"]}))


def test_two_rules_in_one_group_is_an_error(tmp_path):
    rules = tmp_path / "rules.toml"
    rules.write_text(
        '[[dependency]]\nconsumers = ["health.hospital"]\nsuppliers = ["power.substation"]\n'
        'kind = "power"\n[[dependency]]\nconsumers = ["health.*"]\n'
        'suppliers = ["power.plant"]\nkind = "power"\n', encoding="utf-8")
    with pytest.raises(CascadaInputError, match="group"):
        infer_dependencies(toy_assets(), rules)


def test_nearest_suppliers_lines_count_once():
    consumers = np.array([shapely.Point(0, 0)], dtype=object)
    long_line = shapely.LineString([(10, 0), (10, 1000)])  # sampled many times
    suppliers = np.array([long_line, shapely.Point(50, 0), shapely.Point(500, 0)], dtype=object)
    c, s, d = nearest_suppliers(consumers, suppliers, 2)
    assert list(c) == [0, 0] and list(s) == [0, 1]
    assert d[0] == pytest.approx(10.0)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 5000), st.floats(0, 5000)), min_size=1, max_size=30),
       st.lists(st.tuples(st.floats(0, 5000), st.floats(0, 5000)), min_size=1, max_size=30),
       st.integers(1, 4))
def test_nearest_suppliers_matches_brute_force(cons, sups, n):
    consumers = shapely.points(np.array(cons))
    suppliers = shapely.points(np.array(sups))
    c, _, d = nearest_suppliers(consumers, suppliers, n)
    full = np.hypot(np.array(cons)[:, None, 0] - np.array(sups)[None, :, 0],
                    np.array(cons)[:, None, 1] - np.array(sups)[None, :, 1])
    want = min(n, len(sups))
    assert np.array_equal(np.bincount(c, minlength=len(cons)), np.full(len(cons), want))
    expected = np.sort(full, axis=1)[:, :want]
    got = d.reshape(len(cons), want)
    assert np.allclose(np.sort(got, axis=1), expected)
