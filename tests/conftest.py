"""Shared fixtures: a tiny hand-checkable region around Msida, Malta.

TOY NETWORK for hand-checked tests (positions near real places, assets and
links invented): one plant, two substations, a desalination plant, a
reservoir, a telecom exchange and mast, a hospital, a bank, a supermarket, a
road; three population points.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import LineString, Point

from cascada.region.model import Region

TINY_ASSETS = [
    # asset_id, asset_type, name, lon, lat
    ("plant", "power.plant", "Plant", 14.553, 35.836),
    ("sub-a", "power.substation", "Substation A", 14.490, 35.895),
    ("sub-b", "power.substation", "Substation B", 14.480, 35.905),
    ("desal", "water.desalination", "RO plant", 14.478, 35.930),
    ("res", "water.reservoir", "Reservoir", 14.485, 35.900),
    ("exch", "telecom.exchange", "Exchange", 14.488, 35.898),
    ("mast", "telecom.mast", "Mast", 14.495, 35.901),
    ("hosp", "health.hospital", "Hospital", 14.480, 35.902),
    ("bank", "finance.bank", "Bank", 14.491, 35.897),
    ("shop", "food.supermarket", "Supermarket", 14.489, 35.894),
]
TINY_DEPENDENCIES = [
    # consumer, supplier, kind, group, k
    ("sub-a", "plant", "power", "supply", 1),
    ("sub-b", "plant", "power", "supply", 1),
    ("desal", "sub-a", "power", "power", 1),
    ("desal", "sub-b", "power", "power", 1),
    ("res", "desal", "water", "water", 1),
    ("exch", "sub-a", "power", "power", 1),
    ("mast", "sub-a", "power", "power", 1),
    ("mast", "exch", "telecom", "backhaul", 1),
    ("plant", "exch", "telecom", "scada", 1),
    ("hosp", "sub-a", "power", "power", 1),
    ("hosp", "sub-b", "power", "power", 1),
    ("hosp", "res", "water", "water", 1),
    ("bank", "sub-a", "power", "power", 1),
    ("bank", "mast", "telecom", "telecom", 1),
    ("shop", "sub-b", "power", "power", 1),
    ("shop", "road", "road", "road", 1),
]


def make_tiny_region() -> Region:
    rows = [dict(asset_id=a, asset_type=t, name=n, geometry=Point(x, y))
            for a, t, n, x, y in TINY_ASSETS]
    rows.append(dict(asset_id="road", asset_type="transport.road", name="Valley road",
                     geometry=LineString([(14.470, 35.895), (14.495, 35.899)])))
    assets = gpd.GeoDataFrame(rows, crs="EPSG:4326")
    deps = pd.DataFrame(TINY_DEPENDENCIES, columns=["consumer", "supplier", "kind", "group", "k"])
    people = gpd.GeoDataFrame(
        {"people_id": ["p1", "p2", "p3"], "population": [1000.0, 2500.0, 500.0]},
        geometry=[Point(14.489, 35.896), Point(14.482, 35.903), Point(14.476, 35.899)],
        crs="EPSG:4326",
    )
    links = pd.DataFrame(
        [("p1", "power", "sub-a"), ("p2", "power", "sub-b"), ("p3", "power", "sub-a"),
         ("p3", "power", "sub-b"), ("p1", "water", "res"), ("p2", "water", "res"),
         ("p3", "water", "res"), ("p1", "health", "hosp"), ("p2", "health", "hosp"),
         ("p3", "health", "hosp"), ("p1", "telecom", "mast"), ("p2", "telecom", "exch"),
         ("p1", "finance", "bank"), ("p2", "food", "shop")],
        columns=["people_id", "service", "asset_id"],
    )
    return Region.from_tables("tiny", assets, deps, people, links)


@pytest.fixture
def tiny_region() -> Region:
    return make_tiny_region()


MALTA_PBF = Path(__file__).resolve().parents[1] / "data" / "malta" / "malta-2018-08.osm.pbf"


@pytest.fixture(scope="session")
def malta_region() -> Region:
    """The real Malta region built from the repository's OSM extract (once per session)."""
    from cascada.region.osm import build_region_from_osm

    return build_region_from_osm(MALTA_PBF, name="malta")
