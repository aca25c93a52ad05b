"""Reading Malta's assets from OpenStreetMap and building the whole region."""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("pyrosm")

from cascada.errors import CascadaInputError
from cascada.region.catalogue import load_asset_types
from cascada.region.osm import (
    ASSET_OUTPUT_COLUMNS,
    OSM_LICENCE,
    build_region_from_osm,
    load_tag_mapping,
    read_osm_assets,
)

MALTA = Path(__file__).resolve().parents[2] / "data" / "malta" / "malta-2018-08.osm.pbf"
pytestmark = pytest.mark.skipif(not MALTA.is_file(), reason="Malta OSM extract not present")


@pytest.fixture(scope="module")
def built():
    """The Malta region, built once for the module, with its build time (s)."""
    steps: list[str] = []
    started = time.perf_counter()
    region = build_region_from_osm(MALTA, progress=steps.append)
    return region, steps, time.perf_counter() - started


@pytest.fixture(scope="module")
def assets(built):
    return built[0].assets


def test_mapping_types_are_in_the_catalogue():
    mapping = load_tag_mapping()
    catalogue = load_asset_types()
    assert set(mapping.asset_types) <= set(catalogue.types)
    for rule in mapping.rules:
        assert rule.geometry == catalogue.table.loc[rule.asset_type, "geometry"], rule


def test_every_catalogue_type_is_mapped():
    assert set(load_tag_mapping().asset_types) == set(load_asset_types().types)


def test_pyrosm_filter_covers_every_rule():
    mapping = load_tag_mapping()
    keys = mapping.pyrosm_filter()
    assert "substation" in keys["power"]
    assert "supermarket" in keys["shop"]
    assert all(next(iter(rule.match)) in keys for rule in mapping.rules)


def test_malta_counts(assets):
    counts = assets["asset_type"].value_counts()
    assert counts["health.hospital"] >= 15
    assert counts["power.substation"] >= 100
    assert counts["power.plant"] >= 1
    assert counts["power.interconnector"] == 1
    assert counts["water.desalination"] >= 3
    assert counts["finance.bank"] >= 60
    assert counts["food.supermarket"] >= 100
    assert counts["transport.airport"] >= 1
    assert counts["transport.port"] >= 1
    assert counts["telecom.mast"] >= 5
    assert 2_000 <= counts["transport.road"] <= 6_000
    assert len(assets) < 10_000


def test_geometry_kinds(assets):
    lines = assets["asset_type"].isin(["transport.road", "transport.bridge", "power.line",
                                       "power.interconnector"])
    assert set(assets.geometry[lines].geom_type) <= {"LineString", "MultiLineString"}
    assert set(assets.geometry[~lines].geom_type) == {"Point"}
    assert assets.crs.to_epsg() == 4326


def test_ids_and_columns(assets):
    assert set(ASSET_OUTPUT_COLUMNS) <= set(assets.columns)
    assert assets["asset_id"].is_unique
    assert assets["asset_id"].str.match(r"^(osm-[nwr]\d+|manual-.+)$").all()
    roads = assets[assets["asset_type"] == "transport.road"]
    assert roads["osm_tags"].str.startswith("highway=").all()


def test_named_landmarks(assets):
    names = assets.set_index("asset_id")
    assert "Delimara" in names.loc["osm-w15683546", "name"]
    desal = " ".join(assets.loc[assets["asset_type"] == "water.desalination", "name"])
    assert "Pembroke" in desal and "Lapsi" in desal and "irkewwa" in desal
    link = assets[assets["asset_type"] == "power.interconnector"].iloc[0]
    assert "interconnector" in link["name"].lower()
    assert link.geometry.bounds[3] > 36.5  # reaches towards Sicily


def test_node_inside_area_is_kept_once(assets):
    hospitals = assets[assets["asset_type"] == "health.hospital"].to_crs(32633)
    # no two hospitals closer than 20 m (a node inside its own area was dropped)
    distances = hospitals.geometry.apply(lambda g: hospitals.distance(g).nsmallest(2).iloc[-1])
    assert (distances > 20).all()


def test_manual_asset_only_if_missing(tmp_path):
    mapping = load_tag_mapping()
    only_manual = tmp_path / "tags.toml"
    text = Path(mapping.path).read_text(encoding="utf-8")
    # drop every [[asset]] rule but the supermarket one: the manual interconnector appears
    manual = text[text.index("[[manual_asset]]"):]
    only_manual.write_text(
        'version = "test"\n[[asset]]\nasset_type = "food.supermarket"\n'
        'match = { shop = ["supermarket"] }\ngeometry = "point"\n' + manual,
        encoding="utf-8")
    assets = read_osm_assets(MALTA, mapping=only_manual)
    assert set(assets["asset_type"]) == {"food.supermarket", "power.interconnector"}
    manual_row = assets[assets["asset_type"] == "power.interconnector"].iloc[0]
    assert manual_row["asset_id"].startswith("manual-")
    assert manual_row["osm_tags"].startswith("manual: ")


def test_bad_mapping_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[[asset]]\nasset_type = "power.plant"\nmatch = { power = ["plant"] }\n'
                   'geometry = "polygon"\n', encoding="utf-8")
    with pytest.raises(CascadaInputError, match="geometry"):
        load_tag_mapping(bad)
    with pytest.raises(CascadaInputError, match="no such OSM file"):
        read_osm_assets(tmp_path / "missing.osm.pbf")


def test_build_region(built):
    region, steps, seconds = built
    assert steps[0] == "reading OpenStreetMap" and len(steps) >= 4
    meta = region.metadata
    assert meta["licence"] == OSM_LICENCE
    assert len(meta["source_sha256"]) == 64
    assert meta["source_file"] == MALTA.name
    assert "synthetic placement" in meta["population_method"]
    assert meta["counts"]["assets"] == len(region.assets)
    assert region.people["population"].sum() == 519_562
    assert set(region.service_links["service"]) == {"power", "water", "telecom", "health",
                                                    "finance", "food"}
    assert region.assets["population_served"].sum() > 0
    assert region.n_assets == meta["counts"]["assets"]
    # the whole build budget is 25 s on 2 cores; leave room for slow CI machines
    assert seconds < 60


def test_population_served_splits_people(built):
    region = built[0]
    served = region.assets.groupby("asset_type")["population_served"].sum()
    # each service's people are divided over the linked assets: they add up to the total
    assert served["power.substation"] == pytest.approx(519_562)
    assert served["food.supermarket"] == pytest.approx(519_562)
    assert served[["health.hospital", "health.clinic"]].sum() == pytest.approx(519_562)
    assert pd.api.types.is_float_dtype(region.assets["population_served"])
