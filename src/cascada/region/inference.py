"""Infer dependency edges between assets from documented rules.

The rules are data (``data/dependency_rules.toml``, documented there and in
``docs/region.md``): e.g. "every water, telecom, health... asset depends on
power from 1 of its 2 nearest substations within 10 km". Nearest-neighbour
queries run in the region's UTM zone with a k-d tree over supplier vertices
(lines sampled every 50 m), vectorised over all consumers of a rule.

Explicit edges (a CSV/Parquet file or a DataFrame) override the inferred
ones for the same (consumer, group).
"""

from __future__ import annotations

import fnmatch
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from cascada.errors import CascadaInputError
from cascada.region.catalogue import AssetTypeCatalogue, load_asset_types
from cascada.region.model import DEPENDENCY_COLUMNS

LINE_SAMPLE_M = 50.0  # spacing of the points a line supplier is sampled at, metres


@dataclass(frozen=True)
class DependencyRule:
    """Consumers of some types depend on k of their n nearest suppliers of other types."""

    consumers: list[str]
    suppliers: list[str]
    kind: str
    group: str
    n: int | None  # None: all suppliers (in reach)
    k: int
    max_km: float | None
    backup_hours: float | str  # hours, or "consumer"
    note: str = ""

    def consumer_mask(self, asset_types: pd.Series) -> np.ndarray:
        """Which assets the rule applies to (types matched by exact name or pattern)."""
        return _type_mask(asset_types, self.consumers)

    def supplier_mask(self, asset_types: pd.Series) -> np.ndarray:
        return _type_mask(asset_types, self.suppliers)


@dataclass(frozen=True)
class ServiceRule:
    """People are served by their n nearest assets of these types."""

    service: str
    assets: list[str]
    n: int
    note: str = ""


@dataclass(frozen=True)
class DependencyRules:
    """The dependency rules and service rules of a dependency_rules.toml."""

    rules: list[DependencyRule]
    services: list[ServiceRule] = field(default_factory=list)
    version: str = "unversioned"
    path: str = "<memory>"


def _type_mask(asset_types: pd.Series, patterns: list[str]) -> np.ndarray:
    types = pd.Series(asset_types).astype(str)
    mask = np.zeros(len(types), bool)
    for pattern in patterns:
        if any(ch in pattern for ch in "*?["):
            mask |= types.map(lambda t, p=pattern: fnmatch.fnmatchcase(t, p)).to_numpy(bool)
        else:
            mask |= (types == pattern).to_numpy()
    return mask


def _positive_int(value: Any, where: str, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise CascadaInputError(f"{name} must be a whole number >= 1, got {value!r}",
                                file=where, field=name)
    return value


def load_dependency_rules(path: str | Path | None = None) -> DependencyRules:
    """Read dependency and service rules (default: the shipped ``dependency_rules.toml``)."""
    if path is None:
        path = Path(str(resources.files("cascada.region") / "data" / "dependency_rules.toml"))
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CascadaInputError(f"cannot read the dependency rules: {exc}", file=path) from exc
    rules = []
    for i, raw in enumerate(data.get("dependency", [])):
        where = f"{path} [[dependency]] #{i + 1}"
        missing = [c for c in ("consumers", "suppliers", "kind") if c not in raw]
        if missing:
            raise CascadaInputError(f"missing {', '.join(missing)}", file=where,
                                    field=missing[0])
        n = raw.get("n", 1)
        n = None if n == "all" else _positive_int(n, where, "n")
        backup = raw.get("backup_hours", 0.0)
        if backup != "consumer":
            if not isinstance(backup, int | float) or backup < 0:
                raise CascadaInputError(
                    f"backup_hours must be a number >= 0 or 'consumer', got {backup!r}",
                    file=where, field="backup_hours")
            backup = float(backup)
        max_km = raw.get("max_km")
        rules.append(DependencyRule(
            consumers=list(raw["consumers"]), suppliers=list(raw["suppliers"]),
            kind=str(raw["kind"]), group=str(raw.get("group", raw["kind"])), n=n,
            k=_positive_int(raw.get("k", 1), where, "k"),
            max_km=None if max_km is None else float(max_km),
            backup_hours=backup, note=raw.get("note", ""),
        ))
    services = []
    for name, raw in data.get("services", {}).items():
        where = f"{path} [services.{name}]"
        if "assets" not in raw:
            raise CascadaInputError("missing assets", file=where, field="assets")
        services.append(ServiceRule(name, list(raw["assets"]),
                                    _positive_int(raw.get("n", 1), where, "n"),
                                    raw.get("note", "")))
    return DependencyRules(rules, services, str(data.get("version", "unversioned")), str(path))


# ------------------------------------------------------------------ nearest suppliers


def _locations(geoms: np.ndarray) -> np.ndarray:
    """x, y (m) of each consumer: the point itself, or a point on the line/area."""
    points = shapely.point_on_surface(geoms)
    return shapely.get_coordinates(points)


def _supplier_vertices(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Points sampling each supplier (every 50 m on lines) and the supplier they belong to."""
    sampled = shapely.segmentize(geoms, LINE_SAMPLE_M)
    return shapely.get_coordinates(sampled, return_index=True)


def nearest_suppliers(
    consumer_geoms: np.ndarray,
    supplier_geoms: np.ndarray,
    n: int | None,
    max_m: float | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The n nearest distinct suppliers of each consumer (projected geometries, metres).

    n: suppliers per consumer, or None for all suppliers (within max_m).
    Returns: (consumer position, supplier position, distance_m) arrays of the
    pairs found, ordered by consumer then distance; consumers with no
    supplier in reach have no pair.
    """
    empty = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
    if len(consumer_geoms) == 0 or len(supplier_geoms) == 0:
        return empty
    xy = _locations(consumer_geoms)
    vertices, owner = _supplier_vertices(supplier_geoms)
    limit = np.inf if max_m is None else float(max_m)
    tree = cKDTree(vertices)
    n_sup = len(supplier_geoms)
    want = n_sup if n is None else min(n, n_sup)
    per_supplier = int(np.bincount(owner).max())
    kq = min(len(vertices), want if per_supplier == 1 else max(8 * want, 32) + per_supplier)
    if n is None:
        kq = len(vertices)
    dist, idx = tree.query(xy, k=kq, distance_upper_bound=limit)
    dist, idx = dist.reshape(len(xy), -1), idx.reshape(len(xy), -1)
    valid = np.isfinite(dist)
    sup = np.where(valid, owner[np.minimum(idx, len(owner) - 1)], -1)
    # first occurrence of each supplier along a row (rows are sorted by distance)
    order = np.argsort(sup, axis=1, kind="stable")
    sorted_sup = np.take_along_axis(sup, order, axis=1)
    first_sorted = np.ones_like(sorted_sup, bool)
    first_sorted[:, 1:] = sorted_sup[:, 1:] != sorted_sup[:, :-1]
    first = np.zeros_like(first_sorted)
    np.put_along_axis(first, order, first_sorted, axis=1)
    keep = first & valid
    keep &= np.cumsum(keep, axis=1) <= want
    rows, cols = np.nonzero(keep)
    return rows.astype(np.int64), sup[rows, cols].astype(np.int64), dist[rows, cols]


# ------------------------------------------------------------------------- inference


def _backup_per_asset(assets: pd.DataFrame, catalogue: AssetTypeCatalogue | None) -> np.ndarray:
    if "backup_hours" in assets.columns:
        return pd.to_numeric(assets["backup_hours"], errors="coerce").fillna(0.0).to_numpy()
    catalogue = catalogue or load_asset_types()
    table = catalogue.table["backup_hours"]
    unknown = sorted(set(assets["asset_type"]) - set(table.index))
    if unknown:
        raise CascadaInputError(f"asset type {unknown[0]!r} is not in the catalogue",
                                file=catalogue.path, field="asset_type")
    return assets["asset_type"].map(table).to_numpy(dtype=float)


def read_explicit_dependencies(source: pd.DataFrame | str | Path) -> pd.DataFrame:
    """Explicit dependency rows from a DataFrame or a CSV/Parquet file.

    Needs consumer, supplier, kind; group defaults to kind, k to 1,
    backup_hours stays missing (filled like an inferred edge of that kind).
    """
    if isinstance(source, pd.DataFrame):
        table, where = source.copy(), "<explicit dependencies>"
    else:
        path = Path(source)
        where = str(path)
        try:
            if path.suffix.lower() in (".parquet", ".pq", ".geoparquet"):
                table = pd.read_parquet(path)
            else:
                table = pd.read_csv(path, comment="#")
        except (OSError, ValueError) as exc:
            raise CascadaInputError(f"cannot read explicit dependencies: {exc}",
                                    file=path) from exc
    missing = [c for c in ("consumer", "supplier", "kind") if c not in table.columns]
    if missing:
        raise CascadaInputError(f"missing column(s) {', '.join(missing)}", file=where,
                                field=missing[0])
    if "group" not in table.columns:
        table["group"] = table["kind"]
    table["group"] = table["group"].fillna(table["kind"])
    if "k" not in table.columns:
        table["k"] = 1
    if "backup_hours" not in table.columns:
        table["backup_hours"] = np.nan
    table.attrs["source"] = where
    return table[DEPENDENCY_COLUMNS]


def infer_dependencies(
    assets: gpd.GeoDataFrame,
    rules: DependencyRules | str | Path | None = None,
    *,
    explicit: pd.DataFrame | str | Path | None = None,
    catalogue: AssetTypeCatalogue | None = None,
) -> pd.DataFrame:
    """Dependency edges of the assets, inferred from rules (plus explicit overrides).

    assets: asset_id, asset_type, geometry (any CRS; distances are computed in
    its UTM zone); backup_hours if present, else from the catalogue.
    rules: :class:`DependencyRules` or a TOML path (default: the shipped rules).
    explicit: edges that replace the inferred ones of the same (consumer, group).
    Returns: DataFrame with consumer, supplier, kind, group, k, backup_hours
    (hours) — k is capped at the number of suppliers found; a consumer with
    no supplier in reach gets no edge for that rule (``attrs["unserved"]``
    counts them per rule group).
    """
    if not isinstance(rules, DependencyRules):
        rules = load_dependency_rules(rules)
    assets = assets.reset_index(drop=True)
    types = assets["asset_type"].astype(str)
    ids = assets["asset_id"].astype(str).to_numpy()
    metric = assets.to_crs(assets.estimate_utm_crs()) if len(assets) else assets
    geoms = np.asarray(metric.geometry.values, dtype=object)
    backup = _backup_per_asset(assets, catalogue)

    frames = []
    unserved: dict[str, int] = {}
    seen_groups: dict[tuple[str, str], int] = {}
    for r, rule in enumerate(rules.rules):
        consumers = np.flatnonzero(rule.consumer_mask(types))
        suppliers = np.flatnonzero(rule.supplier_mask(types))
        for t in set(types.iloc[consumers]):
            if seen_groups.setdefault((t, rule.group), r) != r:
                raise CascadaInputError(
                    f"two rules give {t!r} the group {rule.group!r}",
                    file=rules.path, field="group",
                    hint="give one of them another `group` name")
        if len(consumers) == 0:
            continue
        max_m = None if rule.max_km is None else rule.max_km * 1000.0
        c_pos, s_pos, _ = nearest_suppliers(geoms[consumers], geoms[suppliers], rule.n, max_m)
        consumer, supplier = consumers[c_pos], suppliers[s_pos]
        not_self = consumer != supplier
        consumer, supplier = consumer[not_self], supplier[not_self]
        unserved[f"{rule.kind}:{rule.group}"] = unserved.get(f"{rule.kind}:{rule.group}", 0) + int(
            len(consumers) - len(np.unique(consumer)))
        if len(consumer) == 0:
            continue
        found = np.bincount(consumer, minlength=len(assets))[consumer]
        hours = backup[consumer] if rule.backup_hours == "consumer" else np.full(
            len(consumer), float(rule.backup_hours))
        frames.append(pd.DataFrame({
            "consumer": ids[consumer], "supplier": ids[supplier], "kind": rule.kind,
            "group": rule.group, "k": np.minimum(rule.k, found).astype("int64"),
            "backup_hours": hours.astype(float),
        }))
    inferred = (pd.concat(frames, ignore_index=True) if frames
                else pd.DataFrame({c: pd.Series(dtype=object) for c in DEPENDENCY_COLUMNS}))

    if explicit is not None:
        given = read_explicit_dependencies(explicit)
        kind_power = given["kind"].astype(str) == "power"
        own = pd.Series(backup, index=ids).reindex(given["consumer"].astype(str)).to_numpy()
        default = np.where(kind_power, own, 0.0)
        given = given.assign(backup_hours=given["backup_hours"].astype(float).fillna(
            pd.Series(default, index=given.index)))
        replaced = pd.MultiIndex.from_frame(given[["consumer", "group"]].astype(str))
        mine = pd.MultiIndex.from_frame(inferred[["consumer", "group"]].astype(str))
        inferred = pd.concat([inferred[~mine.isin(replaced)], given], ignore_index=True)
    out = inferred[DEPENDENCY_COLUMNS].reset_index(drop=True)
    out["k"] = out["k"].astype("int64")
    out["backup_hours"] = out["backup_hours"].astype(float)
    out.attrs["unserved"] = unserved
    return out


__all__ = [
    "DependencyRule",
    "DependencyRules",
    "ServiceRule",
    "infer_dependencies",
    "load_dependency_rules",
    "nearest_suppliers",
    "read_explicit_dependencies",
]
