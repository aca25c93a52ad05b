"""The region: assets, the dependencies between them, and the people they serve.

Four tables, validated here at the boundary and nowhere else:

``assets`` (GeoDataFrame, EPSG:4326), one row per asset
    asset_id (str, unique), sector (str), asset_type (str, in the catalogue),
    name (str), value_eur (float, >= 0), backup_hours (float, >= 0; hours the
    asset rides through a loss of power on its own generator or battery),
    population_served (float, >= 0, people), geometry (Point or
    (Multi)LineString).

``dependencies`` (DataFrame), one row per (consumer, supplier) edge
    consumer, supplier (asset_id), kind (str: power, water, telecom, road, ...),
    group (str), k (int), backup_hours (float). The consumer works while, for
    every one of its groups, at least ``k`` of the group's suppliers work, or
    the group's backup (``backup_hours`` of loss it can ride through) is not
    yet used up. ``k`` and ``backup_hours`` are constant within a
    (consumer, group). Plain AND is k = n, plain OR is k = 1. Cycles are legal.

``people`` (GeoDataFrame, EPSG:4326), one row per population point
    people_id (str, unique), population (float, >= 0, people), geometry (Point).

``service_links`` (DataFrame)
    people_id, service (str: power, water, telecom, health, finance, food, ...),
    asset_id. People have a service while at least one of their linked assets
    for that service works.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from cascada.errors import CascadaInputError
from cascada.region.catalogue import AssetTypeCatalogue, load_asset_types

ASSET_COLUMNS = [
    "asset_id",
    "sector",
    "asset_type",
    "name",
    "value_eur",
    "backup_hours",
    "population_served",
]
DEPENDENCY_COLUMNS = ["consumer", "supplier", "kind", "group", "k", "backup_hours"]
PEOPLE_COLUMNS = ["people_id", "population"]
SERVICE_LINK_COLUMNS = ["people_id", "service", "asset_id"]

LAYERS = ("assets", "dependencies", "people", "service_links")
_POINT_TYPES = {"Point"}
_LINE_TYPES = {"LineString", "MultiLineString"}


@dataclass
class Region:
    """A place: its assets, their dependencies and the people they serve.

    Build one with :func:`Region.from_tables` (validates) or read one with
    :func:`read_region`. Tables are in EPSG:4326; use :meth:`projected` for
    distances in metres.
    """

    name: str
    assets: gpd.GeoDataFrame
    dependencies: pd.DataFrame
    people: gpd.GeoDataFrame
    service_links: pd.DataFrame
    metadata: dict = field(default_factory=dict)

    @classmethod
    def from_tables(
        cls,
        name: str,
        assets: gpd.GeoDataFrame,
        dependencies: pd.DataFrame | None = None,
        people: gpd.GeoDataFrame | None = None,
        service_links: pd.DataFrame | None = None,
        *,
        catalogue: AssetTypeCatalogue | None = None,
        source: str | Path = "<memory>",
        metadata: dict | None = None,
    ) -> Region:
        """Validate the tables, fill defaults from the catalogue, and build a Region."""
        catalogue = catalogue or load_asset_types()
        assets = validate_assets(assets, catalogue, source=f"{source} [assets]")
        ids = pd.Index(assets["asset_id"])
        dependencies = validate_dependencies(
            dependencies if dependencies is not None else _empty(DEPENDENCY_COLUMNS),
            assets,
            source=f"{source} [dependencies]",
        )
        people = validate_people(
            people if people is not None else _empty_people(), source=f"{source} [people]"
        )
        service_links = validate_service_links(
            service_links if service_links is not None else _empty(SERVICE_LINK_COLUMNS),
            ids,
            pd.Index(people["people_id"]),
            source=f"{source} [service_links]",
        )
        return cls(name, assets, dependencies, people, service_links, dict(metadata or {}))

    @property
    def n_assets(self) -> int:
        return len(self.assets)

    def asset_index(self) -> pd.Index:
        """Position of each asset_id in the asset table (the column order of EventSets)."""
        return pd.Index(self.assets["asset_id"])

    def projected(self) -> gpd.GeoDataFrame:
        """Assets in a local metric CRS (UTM zone of the region's centroid)."""
        return self.assets.to_crs(self.assets.estimate_utm_crs())

    def summary(self) -> pd.DataFrame:
        """Assets per sector and type, with total value (EUR)."""
        return (
            self.assets.groupby(["sector", "asset_type"])
            .agg(assets=("asset_id", "size"), value_eur=("value_eur", "sum"))
            .reset_index()
        )

    def subset(self, asset_ids: Iterable[str]) -> Region:
        """The region restricted to some assets (dependencies and links among them)."""
        keep = set(asset_ids)
        assets = self.assets[self.assets["asset_id"].isin(keep)].reset_index(drop=True)
        deps = self.dependencies[
            self.dependencies["consumer"].isin(keep) & self.dependencies["supplier"].isin(keep)
        ]
        # A group that lost suppliers may now have k > n: cap k at what is left.
        if len(deps):
            n = deps.groupby(["consumer", "group"])["supplier"].transform("size")
            deps = deps.assign(k=np.minimum(deps["k"].to_numpy(), n.to_numpy()))
        links = self.service_links[self.service_links["asset_id"].isin(keep)]
        people = self.people[self.people["people_id"].isin(set(links["people_id"]))]
        return Region(
            self.name,
            assets,
            deps.reset_index(drop=True),
            people.reset_index(drop=True),
            links.reset_index(drop=True),
            dict(self.metadata),
        )


# --------------------------------------------------------------------------- validation


def _empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})


def _empty_people() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"people_id": pd.Series(dtype="object"), "population": pd.Series(dtype="float64")},
        geometry=gpd.GeoSeries([], crs="EPSG:4326"),
    )


def _require_columns(df: pd.DataFrame, columns: Iterable[str], source: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise CascadaInputError(
            f"missing column(s) {', '.join(missing)}",
            file=source,
            field=missing[0],
            hint=f"the table needs the columns {', '.join(columns)}",
        )


def _first_bad(mask: np.ndarray | pd.Series) -> int | None:
    mask = np.asarray(mask, dtype=bool)
    return int(np.flatnonzero(mask)[0]) if mask.any() else None


def _check_nonnegative(df: pd.DataFrame, column: str, source: str) -> pd.Series:
    values = pd.to_numeric(df[column], errors="coerce")
    bad = _first_bad(values.isna() | (values < 0))
    if bad is not None:
        raise CascadaInputError(
            f"must be a number >= 0, got {df[column].iloc[bad]!r}",
            file=source,
            row=bad,
            field=column,
        )
    return values.astype("float64")


def _check_ids(values: pd.Series, column: str, source: str) -> pd.Series:
    ids = values.astype("string")
    bad = _first_bad(ids.isna() | (ids.str.strip() == ""))
    if bad is not None:
        raise CascadaInputError("empty identifier", file=source, row=bad, field=column)
    dup = _first_bad(ids.duplicated())
    if dup is not None:
        raise CascadaInputError(
            f"duplicate {column} {ids.iloc[dup]!r}", file=source, row=dup, field=column
        )
    return ids.astype(object)


def _check_crs(gdf: gpd.GeoDataFrame, source: str) -> gpd.GeoDataFrame:
    if gdf.crs is None:
        raise CascadaInputError(
            "the layer has no coordinate reference system (CRS)",
            file=source,
            field="geometry",
            hint="set one, e.g. GeoDataFrame.set_crs('EPSG:4326') or assign it in QGIS",
        )
    return gdf if gdf.crs.to_epsg() == 4326 else gdf.to_crs("EPSG:4326")


def validate_assets(
    assets: gpd.GeoDataFrame, catalogue: AssetTypeCatalogue, *, source: str = "<assets>"
) -> gpd.GeoDataFrame:
    """Check the asset table and fill missing defaults from the catalogue.

    Missing optional columns (name, sector, value_eur, backup_hours,
    population_served) are filled: sector from the asset type, value_eur and
    backup_hours from the catalogue (value per km for lines), 0 people served.
    """
    if not isinstance(assets, gpd.GeoDataFrame):
        raise CascadaInputError("assets must be a GeoDataFrame with geometries", file=source)
    _require_columns(assets, ["asset_id", "asset_type"], source)
    assets = _check_crs(assets.reset_index(drop=True), source)
    out = gpd.GeoDataFrame(
        {"asset_id": _check_ids(assets["asset_id"], "asset_id", source)},
        geometry=assets.geometry.values,
        crs="EPSG:4326",
    )
    types = assets["asset_type"].astype("string")
    unknown = _first_bad(~types.isin(catalogue.types))
    if unknown is not None:
        raise CascadaInputError(
            f"unknown asset type {types.iloc[unknown]!r}",
            file=source,
            row=unknown,
            field="asset_type",
            hint=f"`cascada region types` lists the known ones ({len(catalogue.types)})",
        )
    out["asset_type"] = types.astype(object)
    expected_sector = out["asset_type"].map(catalogue.table["sector"])
    if "sector" in assets.columns:
        sector = assets["sector"].astype("string").fillna(pd.Series(expected_sector))
        bad = _first_bad(sector.to_numpy() != expected_sector.to_numpy())
        if bad is not None:
            raise CascadaInputError(
                f"sector {sector.iloc[bad]!r} does not match asset type "
                f"{out['asset_type'].iloc[bad]!r} (sector {expected_sector.iloc[bad]!r})",
                file=source,
                row=bad,
                field="sector",
            )
    out["sector"] = expected_sector.astype(object)
    out["name"] = (
        assets["name"].astype("string").fillna("").astype(object)
        if "name" in assets.columns
        else ""
    )

    geoms = out.geometry.values
    bad = _first_bad(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if bad is not None:
        raise CascadaInputError("missing or empty geometry", file=source, row=bad, field="geometry")
    gtype = out.geometry.geom_type.to_numpy()
    bad = _first_bad(~np.isin(gtype, list(_POINT_TYPES | _LINE_TYPES)))
    if bad is not None:
        raise CascadaInputError(
            f"geometry type {gtype[bad]} is not supported",
            file=source,
            row=bad,
            field="geometry",
            hint="use points for facilities and lines for lines, roads and cables",
        )
    bad = _first_bad(~shapely.is_valid(geoms))
    if bad is not None:
        raise CascadaInputError(
            f"invalid geometry ({shapely.is_valid_reason(geoms[bad])})",
            file=source,
            row=bad,
            field="geometry",
        )

    cat = catalogue.table.loc[out["asset_type"]]
    if "value_eur" in assets.columns:
        out["value_eur"] = _check_nonnegative(assets, "value_eur", source).to_numpy()
    else:
        per_km = (cat["value_basis"] == "km").to_numpy()
        length_km = np.zeros(len(out))
        if per_km.any():
            metric = out.to_crs(out.estimate_utm_crs())
            length_km = metric.geometry.length.to_numpy() / 1000.0
        out["value_eur"] = np.where(per_km, cat["value_eur"].to_numpy() * length_km,
                                    cat["value_eur"].to_numpy())
    if "backup_hours" in assets.columns:
        out["backup_hours"] = _check_nonnegative(assets, "backup_hours", source).to_numpy()
    else:
        out["backup_hours"] = cat["backup_hours"].to_numpy(dtype="float64")
    if "population_served" in assets.columns:
        out["population_served"] = _check_nonnegative(
            assets, "population_served", source
        ).to_numpy()
    else:
        out["population_served"] = 0.0
    extra = [c for c in assets.columns if c not in out.columns and c != assets.geometry.name]
    for c in extra:
        out[c] = assets[c].to_numpy()
    return out[[*ASSET_COLUMNS, *extra, "geometry"]]


def validate_dependencies(
    deps: pd.DataFrame, assets: gpd.GeoDataFrame, *, source: str = "<dependencies>"
) -> pd.DataFrame:
    """Check the dependency edges against the assets; fill ``group``, ``k`` and backup.

    Missing ``group`` defaults to ``kind``; missing ``k`` to 1 (any supplier of
    the group will do); missing ``backup_hours`` to the consumer's
    ``backup_hours`` for power edges and 0 otherwise.
    """
    _require_columns(deps, ["consumer", "supplier", "kind"], source)
    deps = deps.reset_index(drop=True)
    ids = set(assets["asset_id"])
    out = pd.DataFrame(
        {
            "consumer": deps["consumer"].astype("string").astype(object),
            "supplier": deps["supplier"].astype("string").astype(object),
            "kind": deps["kind"].astype("string").astype(object),
        }
    )
    for column in ("consumer", "supplier"):
        bad = _first_bad(~out[column].isin(ids))
        if bad is not None:
            raise CascadaInputError(
                f"names asset {out[column].iloc[bad]!r}, which is not in the asset table",
                file=source,
                row=bad,
                field=column,
            )
    bad = _first_bad(out["consumer"] == out["supplier"])
    if bad is not None:
        raise CascadaInputError(
            "an asset cannot supply itself", file=source, row=bad, field="supplier"
        )
    out["group"] = (
        deps["group"].astype("string").fillna(out["kind"]).astype(object)
        if "group" in deps.columns
        else out["kind"]
    )
    if "k" in deps.columns:
        k = pd.to_numeric(deps["k"], errors="coerce")
        bad = _first_bad(k.isna() | (k < 1) | (k != np.floor(k)))
        if bad is not None:
            raise CascadaInputError(
                f"k must be a whole number >= 1, got {deps['k'].iloc[bad]!r}",
                file=source,
                row=bad,
                field="k",
            )
        out["k"] = k.astype("int64")
    else:
        out["k"] = 1
    if "backup_hours" in deps.columns and deps["backup_hours"].notna().any():
        filled = deps["backup_hours"].copy()
        out["backup_hours"] = _check_nonnegative(
            deps.assign(backup_hours=filled.fillna(0.0)), "backup_hours", source
        ).to_numpy()
    else:
        own = out["consumer"].map(assets.set_index("asset_id")["backup_hours"])
        out["backup_hours"] = np.where(out["kind"] == "power", own.to_numpy(dtype=float), 0.0)

    dup = _first_bad(out.duplicated(["consumer", "group", "supplier"]))
    if dup is not None:
        raise CascadaInputError(
            f"supplier {out['supplier'].iloc[dup]!r} appears twice in group "
            f"{out['group'].iloc[dup]!r} of {out['consumer'].iloc[dup]!r}",
            file=source,
            row=dup,
            field="supplier",
        )
    grouped = out.groupby(["consumer", "group"], sort=False)
    n = grouped["supplier"].transform("size")
    bad = _first_bad(out["k"] > n)
    if bad is not None:
        raise CascadaInputError(
            f"k = {out['k'].iloc[bad]} but group {out['group'].iloc[bad]!r} of "
            f"{out['consumer'].iloc[bad]!r} has only {n.iloc[bad]} supplier(s)",
            file=source,
            row=bad,
            field="k",
            hint="k must be at most the number of suppliers in the group",
        )
    for column in ("k", "backup_hours"):
        varies = grouped[column].transform("nunique") > 1
        bad = _first_bad(varies)
        if bad is not None:
            raise CascadaInputError(
                f"{column} differs between rows of group {out['group'].iloc[bad]!r} "
                f"of {out['consumer'].iloc[bad]!r}",
                file=source,
                row=bad,
                field=column,
                hint=f"give every row of a (consumer, group) the same {column}",
            )
    return out[DEPENDENCY_COLUMNS]


def validate_people(people: gpd.GeoDataFrame, *, source: str = "<people>") -> gpd.GeoDataFrame:
    """Check the population points (people_id, population >= 0, Point geometry)."""
    if not isinstance(people, gpd.GeoDataFrame):
        raise CascadaInputError("people must be a GeoDataFrame with point geometries", file=source)
    _require_columns(people, PEOPLE_COLUMNS, source)
    people = people.reset_index(drop=True)
    if len(people):
        people = _check_crs(people, source)
    out = gpd.GeoDataFrame(
        {
            "people_id": _check_ids(people["people_id"], "people_id", source),
            "population": _check_nonnegative(people, "population", source).to_numpy(),
        },
        geometry=people.geometry.values,
        crs="EPSG:4326",
    )
    bad = _first_bad(out.geometry.geom_type.to_numpy() != "Point")
    if bad is not None:
        raise CascadaInputError(
            "population points must be Point geometries", file=source, row=bad, field="geometry"
        )
    return out


def validate_service_links(
    links: pd.DataFrame, asset_ids: pd.Index, people_ids: pd.Index, *, source: str = "<links>"
) -> pd.DataFrame:
    """Check that every link names known people and a known asset."""
    _require_columns(links, SERVICE_LINK_COLUMNS, source)
    links = links.reset_index(drop=True)
    out = pd.DataFrame({c: links[c].astype("string").astype(object) for c in SERVICE_LINK_COLUMNS})
    for column, known in (("people_id", people_ids), ("asset_id", asset_ids)):
        bad = _first_bad(~out[column].isin(known))
        if bad is not None:
            raise CascadaInputError(
                f"unknown {column} {out[column].iloc[bad]!r}", file=source, row=bad, field=column
            )
    return out
