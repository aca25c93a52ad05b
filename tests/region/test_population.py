"""Synthetic population placement and service links."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from cascada.errors import CascadaInputError
from cascada.region.population import (
    MALTA_POPULATION,
    link_services,
    place_population,
    population_served,
    read_buildings,
    residential_buildings,
)

MALTA = Path(__file__).resolve().parents[2] / "data" / "malta" / "malta-2018-08.osm.pbf"


def square(x: float, y: float, side: float) -> shapely.Polygon:
    """A square building (degrees) at lon x, lat y."""
    return shapely.box(x, y, x + side, y + side)


def toy_buildings() -> gpd.GeoDataFrame:
    # TOY footprints near Msida (invented): two homes, a church, an office block
    geoms = [square(14.480, 35.900, 0.0002), square(14.490, 35.900, 0.0001),
             square(14.4801, 35.9001, 0.0003), square(14.485, 35.895, 0.0004)]
    return gpd.GeoDataFrame(
        {"building": ["yes", "house", "church", "yes"],
         "nonresidential_use": [False, False, False, True]},
        geometry=geoms, crs="EPSG:4326")


def test_non_residential_buildings_are_excluded():
    homes = residential_buildings(toy_buildings())
    assert list(homes["building"]) == ["yes", "house"]


def test_population_by_footprint_area():
    people = place_population(toy_buildings(), total=1000, cell_m=250)
    assert people["population"].sum() == 1000
    assert len(people) == 2
    # footprint ratio 4 : 1 (side 0.0002 vs 0.0001)
    assert sorted(people["population"]) == pytest.approx([200, 800], abs=1)
    assert "synthetic placement" in people.attrs["method"]
    assert people.crs.to_epsg() == 4326
    assert people["people_id"].is_unique


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2_000_000), st.sampled_from([100.0, 250.0, 1000.0]))
def test_total_is_conserved_exactly(total, cell_m):
    people = place_population(toy_buildings(), total=total, cell_m=cell_m)
    assert people["population"].sum() == total
    assert (people["population"] == np.floor(people["population"])).all()


def test_no_homes_is_a_clear_error():
    churches = toy_buildings().iloc[[2]]
    with pytest.raises(CascadaInputError, match="residential"):
        place_population(churches, total=10)


def test_link_services_and_population_served():
    people = gpd.GeoDataFrame({"people_id": ["p1", "p2"], "population": [100.0, 50.0]},
                              geometry=shapely.points([(14.48, 35.90), (14.49, 35.90)]),
                              crs="EPSG:4326")
    assets = gpd.GeoDataFrame(
        {"asset_id": ["s1", "s2", "s3", "h1"],
         "asset_type": ["power.substation"] * 3 + ["health.hospital"]},
        geometry=shapely.points([(14.481, 35.90), (14.489, 35.90), (14.60, 35.80),
                                 (14.485, 35.90)]), crs="EPSG:4326")
    links = link_services(people, assets)
    power = links[links["service"] == "power"]
    assert set(power.loc[power["people_id"] == "p1", "asset_id"]) == {"s1", "s2"}
    # services without any asset in the region get no links
    assert set(links["service"]) == {"power", "health"}
    health = links[links["service"] == "health"]
    assert list(health["asset_id"]) == ["h1", "h1"]  # fewer assets than n: all of them
    served = population_served(people, links, assets)
    assert served == pytest.approx([75.0, 75.0, 0.0, 150.0])


@pytest.mark.skipif(not MALTA.is_file(), reason="Malta OSM extract not present")
def test_malta_people():
    pytest.importorskip("pyrosm")
    buildings = read_buildings(MALTA)
    assert len(buildings) > 10_000
    people = place_population(buildings)
    assert people["population"].sum() == MALTA_POPULATION
    assert 1_000 <= len(people) <= 10_000
    minx, miny, maxx, maxy = people.total_bounds
    assert 14.1 < minx and maxx < 14.6 and 35.7 < miny and maxy < 36.1
    assets = gpd.GeoDataFrame(
        {"asset_id": ["a", "b"], "asset_type": ["food.supermarket"] * 2},
        geometry=shapely.points([(14.5, 35.9), (14.25, 36.04)]), crs="EPSG:4326")
    links = link_services(people, assets)
    # every population point is linked (to both supermarkets: fewer than n = 3)
    counts = links.groupby("people_id").size()
    assert len(counts) == len(people) and (counts == 2).all()
    assert isinstance(links, pd.DataFrame)
