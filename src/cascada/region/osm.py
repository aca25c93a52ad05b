"""Read a region's assets from an OpenStreetMap extract (.osm.pbf).

The OSM tag -> asset type mapping is data: ``data/osm_tags.toml`` (documented
there and in ``docs/region.md``). :func:`read_osm_assets` reads the file once
with pyrosm (the ``cascada[osm]`` extra) and returns one row per asset;
:func:`build_region_from_osm` adds inferred dependencies, people and service
links and returns a validated :class:`~cascada.region.model.Region`.

Data read this way is © OpenStreetMap contributors, ODbL 1.0.
"""

from __future__ import annotations

import json
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from cascada.datafile import sha256_file
from cascada.errors import CascadaInputError, require
from cascada.region import inference, population
from cascada.region.model import Region

OSM_LICENCE = "© OpenStreetMap contributors, ODbL 1.0"
ASSET_OUTPUT_COLUMNS = ["asset_id", "asset_type", "name", "osm_id", "osm_tags", "geometry"]

# pyrosm's bookkeeping columns: everything else in its output is an OSM tag.
_META_COLUMNS = {
    "id", "lon", "lat", "tags", "visible", "version", "timestamp", "changeset",
    "geometry", "osm_type",
}
_OSM_TYPE_LETTER = {"node": "n", "way": "w", "relation": "r"}
_DEDUP_DISTANCE_M = 25.0


# ------------------------------------------------------------------------- tag rules


@dataclass(frozen=True)
class TagRule:
    """One OSM tag filter -> asset type rule (see ``data/osm_tags.toml``)."""

    asset_type: str
    match: dict[str, list[str] | None]  # None: any value
    exclude: dict[str, list[str] | None] = field(default_factory=dict)
    name_regex: str | None = None
    not_name_regex: str | None = None
    geometry: str = "point"
    merge: bool = False
    point_near: tuple[float, float] | None = None
    note: str = ""


@dataclass(frozen=True)
class TagMapping:
    """The rules, in priority order, and the manual assets of an osm_tags.toml."""

    rules: list[TagRule]
    manual_assets: list[dict[str, Any]]
    version: str
    path: str

    @property
    def asset_types(self) -> list[str]:
        """Asset types the mapping can produce (rules and manual assets), sorted."""
        types = {r.asset_type for r in self.rules}
        types |= {m["asset_type"] for m in self.manual_assets}
        return sorted(types)

    def pyrosm_filter(self) -> dict[str, Any]:
        """One pyrosm ``custom_filter`` covering every rule's first key (OR across keys)."""
        out: dict[str, Any] = {}
        for rule in self.rules:
            key, values = next(iter(rule.match.items()))
            if values is None or out.get(key) is True:
                out[key] = True
            else:
                out[key] = sorted(set(out.get(key, [])) | set(values))
        return out


def _values(value: Any, where: str) -> list[str] | None:
    if value == "*":
        return None
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    raise CascadaInputError(f"expected a string, a list of strings or '*', got {value!r}",
                            file=where)


def load_tag_mapping(path: str | Path | None = None) -> TagMapping:
    """Read an OSM tag mapping TOML (default: the one shipped in ``region/data``)."""
    if path is None:
        path = Path(str(resources.files("cascada.region") / "data" / "osm_tags.toml"))
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CascadaInputError(f"cannot read the OSM tag mapping: {exc}", file=path) from exc
    rules = []
    for i, raw in enumerate(data.get("asset", [])):
        where = f"{path} [[asset]] #{i + 1}"
        if "asset_type" not in raw or not raw.get("match"):
            raise CascadaInputError("each [[asset]] needs asset_type and match", file=where)
        geometry = raw.get("geometry", "point")
        if geometry not in ("point", "line"):
            raise CascadaInputError(f"geometry must be 'point' or 'line', got {geometry!r}",
                                    file=where, field="geometry")
        near = raw.get("point_near")
        rules.append(TagRule(
            asset_type=raw["asset_type"],
            match={k: _values(v, where) for k, v in raw["match"].items()},
            exclude={k: _values(v, where) for k, v in raw.get("exclude", {}).items()},
            name_regex=raw.get("name_regex"),
            not_name_regex=raw.get("not_name_regex"),
            geometry=geometry,
            merge=bool(raw.get("merge", False)),
            point_near=(float(near[0]), float(near[1])) if near else None,
            note=raw.get("note", ""),
        ))
    manual = list(data.get("manual_asset", []))
    for i, m in enumerate(manual):
        missing = [k for k in ("asset_id", "asset_type", "source") if k not in m]
        if "coordinates" not in m and not ("lon" in m and "lat" in m):
            missing.append("lon/lat or coordinates")
        if missing:
            raise CascadaInputError(f"missing {', '.join(missing)}",
                                    file=f"{path} [[manual_asset]] #{i + 1}", field=missing[0])
    return TagMapping(rules, manual, str(data.get("version", "unversioned")), str(path))


# ----------------------------------------------------------------------- reading OSM


def open_osm(pbf_path: str | Path) -> Any:
    """A pyrosm ``OSM`` reader for ``pbf_path`` (needs the ``cascada[osm]`` extra)."""
    pbf_path = Path(pbf_path)
    if not pbf_path.is_file():
        raise CascadaInputError("no such OSM file", file=pbf_path,
                                hint="give the path of an .osm.pbf extract")
    pyrosm = require("pyrosm", "osm")
    try:
        return pyrosm.OSM(str(pbf_path))
    except Exception as exc:  # pyrosm raises InvalidOSMFileError, ValueError, ...
        raise CascadaInputError(
            f"not a readable OSM PBF file ({type(exc).__name__})", file=pbf_path,
            hint="give an .osm.pbf extract, e.g. from Geofabrik",
        ) from exc


class _Tags:
    """OSM tag values of pyrosm features, as object arrays cached per key.

    pyrosm puts some tags in their own columns and the rest in a JSON
    ``tags`` column; this merges both views.
    """

    def __init__(self, features: pd.DataFrame) -> None:
        self.features = features
        raw = features["tags"].to_numpy(object) if "tags" in features else \
            np.full(len(features), None, dtype=object)
        self.parsed = [_parse_tags(v) for v in raw]
        self._cache: dict[str, np.ndarray] = {}

    def __call__(self, key: str) -> np.ndarray:
        """Value of tag ``key`` per feature (None where absent), object array."""
        if key not in self._cache:
            values = np.array([d.get(key) for d in self.parsed], dtype=object)
            if key in self.features.columns and key not in _META_COLUMNS:
                column = self.features[key].astype(object).to_numpy()
                have = pd.notna(column)
                values[have] = column[have]
            self._cache[key] = values
        return self._cache[key]

    def has_prefix(self, prefix: str) -> np.ndarray:
        """True where the feature has any tag starting with ``prefix``."""
        present = np.array([any(k.startswith(prefix) for k in d) for d in self.parsed], bool)
        for column in self.features.columns:
            if column.startswith(prefix):
                present |= self.features[column].notna().to_numpy()
        return present

    def condition(self, key: str, values: list[str] | None) -> np.ndarray:
        """True where tag ``key`` has one of ``values`` (any non-empty value for None)."""
        if key.endswith(":*"):
            return self.has_prefix(key[:-1])
        tag = self(key)
        if values is None:
            return pd.notna(tag) & (tag != "")
        return np.isin(tag.astype(str), values) & pd.notna(tag)

    def text(self, rows: np.ndarray, keys: list[str]) -> list[str]:
        """A short ``key=value;...`` string of the tags a rule looked at, per row."""
        columns = [(key, self(key)[rows]) for key in keys if not key.endswith(":*")]
        return [";".join(f"{key}={col[i]}" for key, col in columns if col[i] is not None)
                for i in range(len(rows))]


def _parse_tags(value: Any) -> dict:
    if isinstance(value, dict):
        return value
    if isinstance(value, str) and value:
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return {}
    return {}


def _to_points(geoms: np.ndarray) -> np.ndarray:
    """Points stay; areas and lines become their representative point."""
    is_point = shapely.get_type_id(geoms) == 0
    return np.where(is_point, geoms, shapely.point_on_surface(geoms))


def _matched_features(features: gpd.GeoDataFrame, mapping: TagMapping) -> pd.DataFrame:
    """The features some rule maps: id, osm_type, name, osm_tags, rule, geometry.

    Each feature gets the first rule (file order) that matches it.
    """
    tags = _Tags(features)
    name = tags("name")
    name = np.where(pd.notna(name), name, tags("name:en"))
    name = pd.Series(np.where(pd.notna(name), name, ""), dtype=object).astype(str)
    geom_type = features.geometry.geom_type.to_numpy()
    is_way_line = (features["osm_type"].to_numpy() == "way") & np.isin(
        geom_type, ["LineString", "MultiLineString"])
    rule_of = np.full(len(features), -1)
    tag_text = np.full(len(features), "", dtype=object)
    for i, rule in enumerate(mapping.rules):
        mask = rule_of == -1
        for key, values in rule.match.items():
            mask &= tags.condition(key, values)
        for key, values in rule.exclude.items():
            mask &= ~tags.condition(key, values)
        if rule.name_regex:
            mask &= name.str.contains(rule.name_regex, case=False, regex=True).to_numpy()
        if rule.not_name_regex:
            mask &= ~name.str.contains(rule.not_name_regex, case=False, regex=True).to_numpy()
        if rule.geometry == "line":
            mask &= is_way_line
        if mask.any():
            rows = np.flatnonzero(mask)
            rule_of[rows] = i
            tag_text[rows] = tags.text(rows, list(rule.match))
    keep = rule_of >= 0
    return pd.DataFrame({
        "id": features["id"].to_numpy()[keep],
        "osm_type": features["osm_type"].to_numpy()[keep],
        "name": name.to_numpy()[keep],
        "osm_tags": tag_text[keep],
        "rule": rule_of[keep],
        "geometry": np.asarray(features.geometry.values, dtype=object)[keep],
    })


def _assets_for_rule(matched: pd.DataFrame, rule: TagRule) -> gpd.GeoDataFrame:
    letters = matched["osm_type"].map(_OSM_TYPE_LETTER).fillna("x")
    ids = "osm-" + letters + matched["id"].astype("int64").astype(str)
    geoms = np.asarray(matched["geometry"].to_numpy(), dtype=object)
    footprints = geoms
    if rule.merge and len(matched):
        merged = shapely.line_merge(shapely.union_all(geoms))
        if rule.geometry == "point":
            ends = shapely.get_coordinates(shapely.boundary(merged))
            if rule.point_near is not None and len(ends):
                d = np.hypot(ends[:, 0] - rule.point_near[0], ends[:, 1] - rule.point_near[1])
                merged = shapely.Point(ends[np.argmin(d)])
            else:
                merged = shapely.point_on_surface(merged)
        names = [n for n in matched["name"] if n]
        return gpd.GeoDataFrame(
            {"asset_id": [ids.iloc[0]], "asset_type": [rule.asset_type],
             "name": [names[0] if names else ""], "osm_id": [int(matched["id"].iloc[0])],
             "osm_tags": [matched["osm_tags"].iloc[0]]},
            geometry=[merged], crs="EPSG:4326",
        )
    if rule.geometry == "point":
        geoms = _to_points(geoms)
    return gpd.GeoDataFrame(
        {"asset_id": ids.to_numpy(), "asset_type": rule.asset_type,
         "name": matched["name"].to_numpy(), "osm_id": matched["id"].astype("int64").to_numpy(),
         "osm_tags": matched["osm_tags"].to_numpy(), "_footprint": footprints},
        geometry=geoms, crs="EPSG:4326",
    )


def _deduplicate(assets: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Keep one asset of a facility mapped twice (as a node and as an area, or nested areas).

    Per asset type: a node within 25 m of an area of the same type is
    dropped, and so is an area lying inside a larger area of the same type;
    the survivor takes the dropped one's name if it has none. Separate nodes
    close together (two ATMs, a cluster of antennas) are all kept.
    """
    points = assets[assets.geometry.geom_type == "Point"]
    if points.empty:
        return assets.drop(columns=["_area", "_footprint"], errors="ignore")
    crs = points.estimate_utm_crs()
    foot = gpd.GeoSeries(points["_footprint"].fillna(points.geometry), crs="EPSG:4326")
    foot_m = gpd.GeoDataFrame({"i": np.arange(len(points)),
                               "asset_type": points["asset_type"].to_numpy()},
                              geometry=foot.to_crs(crs).values, crs=crs)
    foot_m["_area"] = foot_m.geometry.area.to_numpy()
    is_area = foot_m["_area"].to_numpy() > 0
    nodes, areas = foot_m[~is_area], foot_m[is_area]
    pairs = [
        gpd.sjoin(nodes, areas, predicate="dwithin", distance=_DEDUP_DISTANCE_M),
        gpd.sjoin(areas, areas, predicate="covered_by"),
    ]
    pairs = pd.concat(pairs, ignore_index=True)
    pairs = pairs[(pairs["i_left"] != pairs["i_right"])
                  & (pairs["asset_type_left"] == pairs["asset_type_right"])
                  & ((pairs["_area_right"] > pairs["_area_left"])
                     | ((pairs["_area_right"] == pairs["_area_left"])
                        & (pairs["i_right"] < pairs["i_left"])))]
    pairs = pairs.sort_values("_area_right", ascending=False).drop_duplicates("i_left")
    drop = np.zeros(len(points), bool)
    names = points["name"].to_numpy().copy()
    for left, right in zip(pairs["i_left"].to_numpy(), pairs["i_right"].to_numpy(),
                           strict=True):
        drop[left] = True
        if not names[right] and names[left]:
            names[right] = names[left]
    out = assets.copy()
    out.loc[points.index, "name"] = names
    dropped = set(points["asset_id"].to_numpy()[drop])
    out = out[~out["asset_id"].isin(dropped)]
    return out.drop(columns=["_area", "_footprint"], errors="ignore")


def read_osm_assets(
    pbf_path: str | Path,
    *,
    mapping: TagMapping | str | Path | None = None,
    osm: Any = None,
) -> gpd.GeoDataFrame:
    """Assets of an OSM extract, typed by the tag mapping (``data/osm_tags.toml``).

    pbf_path: an .osm.pbf file. mapping: a :class:`TagMapping` or the path of
    a TOML (default: the shipped one). osm: an already open pyrosm ``OSM`` of
    the same file, to avoid reading it twice.
    Returns: GeoDataFrame (EPSG:4326) with asset_id ("osm-n123", "osm-w456",
    "osm-r7"), asset_type, name, osm_id (int), osm_tags (the matched tags,
    "key=value;..."), geometry (Point, or LineString for lines and roads).
    Manual assets of the mapping (``only_if_missing``) are added where OSM
    has none of their type.
    """
    if not isinstance(mapping, TagMapping):
        mapping = load_tag_mapping(mapping)
    osm = osm if osm is not None else open_osm(pbf_path)
    features = osm.get_data_by_custom_criteria(
        custom_filter=mapping.pyrosm_filter(),
        keep_nodes=True, keep_ways=True, keep_relations=True,
    )
    parts = []
    if features is not None and len(features):
        features.attrs = {}  # pyrosm keeps large metadata here; pandas deep-copies it on each op
        features = features[features.geometry.notna() & ~features.geometry.is_empty]
        features = features.reset_index(drop=True)
        matched = _matched_features(features, mapping)
        for i, rule in enumerate(mapping.rules):
            sel = matched[matched["rule"] == i]
            if len(sel):
                parts.append(_assets_for_rule(sel, rule))
    columns = [*ASSET_OUTPUT_COLUMNS[:-1], "_area", "_footprint"]
    if parts:
        assets = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs="EPSG:4326")
    else:
        assets = gpd.GeoDataFrame({c: [] for c in columns}, geometry=[], crs="EPSG:4326")
    if "_footprint" not in assets:
        assets["_footprint"] = None
    assets = _deduplicate(assets)
    assets = assets.drop_duplicates("asset_id")  # a feature kept by two merged rules
    present = set(assets["asset_type"])
    manual = [m for m in mapping.manual_assets
              if not (m.get("only_if_missing", True) and m["asset_type"] in present)]
    if manual:
        extra = gpd.GeoDataFrame(
            {"asset_id": [m["asset_id"] for m in manual],
             "asset_type": [m["asset_type"] for m in manual],
             "name": [m.get("name", "") for m in manual],
             "osm_id": [-1] * len(manual),
             "osm_tags": ["manual: " + m["source"] for m in manual]},
            geometry=[shapely.LineString(m["coordinates"]) if "coordinates" in m
                      else shapely.Point(m["lon"], m["lat"]) for m in manual],
            crs="EPSG:4326",
        )
        assets = pd.concat([assets, extra], ignore_index=True)
    assets = gpd.GeoDataFrame(assets, geometry="geometry", crs="EPSG:4326")
    assets["osm_id"] = assets["osm_id"].astype("int64")
    assets["name"] = assets["name"].fillna("").astype(str)
    return assets[ASSET_OUTPUT_COLUMNS].reset_index(drop=True)


# ------------------------------------------------------------------ the whole region


def build_region_from_osm(
    pbf_path: str | Path,
    name: str = "malta",
    progress: Callable[[str], None] | None = None,
    *,
    population_total: float | None = None,
    explicit_dependencies: pd.DataFrame | str | Path | None = None,
) -> Region:
    """Build a validated region from an OSM extract: assets, dependencies, people.

    Steps (each reported to ``progress(step_name)`` when given): read assets
    (``osm_tags.toml``), infer dependencies (``dependency_rules.toml``), place
    people (census total over residential building footprints, 250 m grid),
    link people to their service assets, validate. population_total: residents
    (people); default Malta's 519,562 (Census 2021, NSO Malta).
    ``region.metadata`` records the source file and its SHA-256, the OSM
    licence, the population method and the counts.
    """
    def step(label: str) -> None:
        if progress is not None:
            progress(label)

    started = time.perf_counter()
    pbf_path = Path(pbf_path)
    step("reading OpenStreetMap")
    osm = open_osm(pbf_path)
    assets = read_osm_assets(pbf_path, osm=osm)
    step("inferring dependencies")
    rules = inference.load_dependency_rules()
    dependencies = inference.infer_dependencies(assets, rules,
                                                explicit=explicit_dependencies)
    unserved = {k: v for k, v in dependencies.attrs.get("unserved", {}).items() if v}
    step("placing people")
    total = population.MALTA_POPULATION if population_total is None else population_total
    buildings = population.read_buildings(pbf_path, osm=osm)
    people = population.place_population(buildings, total=total)
    step("linking services")
    links = population.link_services(people, assets, rules)
    assets = assets.assign(population_served=population.population_served(people, links,
                                                                         assets))
    step("validating")
    metadata = {
        "source_file": pbf_path.name,
        "source_sha256": sha256_file(pbf_path),
        "licence": OSM_LICENCE,
        "tag_mapping_version": load_tag_mapping().version,
        "dependency_rules_version": rules.version,
        "population_method": people.attrs.get("method", population.METHOD),
        "population_total": float(people["population"].sum()),
        "counts": {
            "assets": len(assets),
            "assets_by_type": {k: int(v) for k, v in
                               assets["asset_type"].value_counts().sort_index().items()},
            "dependencies": len(dependencies),
            "dependencies_by_kind": {k: int(v) for k, v in
                                     dependencies["kind"].value_counts().sort_index().items()},
            "people_points": len(people),
            "service_links": len(links),
            "consumers_without_supplier_in_reach": unserved,
        },
    }
    region = Region.from_tables(name, assets, dependencies, people, links,
                                source=pbf_path, metadata=metadata)
    region.metadata["build_seconds"] = round(time.perf_counter() - started, 2)
    return region


__all__ = [
    "OSM_LICENCE",
    "TagMapping",
    "TagRule",
    "build_region_from_osm",
    "load_tag_mapping",
    "open_osm",
    "read_osm_assets",
]
