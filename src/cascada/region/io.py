"""Save and load a Region: one GeoPackage, or a folder of GeoParquet files.

Both are readable by QGIS. A GeoPackage holds the layers ``assets`` (points and
lines, one layer of mixed geometry), ``people`` (points), ``dependencies`` and
``service_links`` (attribute tables) and ``region_metadata`` (one JSON row). A
folder holds ``assets.parquet``, ``people.parquet`` (GeoParquet),
``dependencies.parquet``, ``service_links.parquet`` and ``region.json``.
Writes go to a temporary name beside the target and are renamed when complete.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from cascada.datafile import atomic_file
from cascada.errors import CascadaInputError
from cascada.region.model import Region

_TABLE_LAYERS = ("dependencies", "service_links")


def write_region(region: Region, path: str | Path) -> Path:
    """Write a region to ``path`` (``.gpkg`` → GeoPackage, otherwise a folder)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".gpkg":
        with atomic_file(path) as tmp:
            _write_gpkg(region, tmp)
        return path
    tmp_dir = Path(tempfile.mkdtemp(prefix=f".{path.name}-", dir=path.parent))
    try:
        _write_folder(region, tmp_dir)
        if path.exists():
            shutil.rmtree(path)
        os.replace(tmp_dir, path)
    finally:
        if tmp_dir.exists():
            shutil.rmtree(tmp_dir)
    return path


def _metadata_json(region: Region) -> str:
    return json.dumps({"name": region.name, **region.metadata}, sort_keys=True, default=str)


def _write_gpkg(region: Region, path: Path) -> None:
    assets = region.assets
    pyogrio.write_dataframe(assets, path, layer="assets", driver="GPKG", geometry_type="Unknown")
    if len(region.people):
        pyogrio.write_dataframe(region.people, path, layer="people", driver="GPKG")
    for layer in _TABLE_LAYERS:
        table = getattr(region, layer)
        pyogrio.write_dataframe(pd.DataFrame(table), path, layer=layer, driver="GPKG")
    meta = pd.DataFrame({"metadata_json": [_metadata_json(region)]})
    pyogrio.write_dataframe(meta, path, layer="region_metadata", driver="GPKG")


def _write_folder(region: Region, folder: Path) -> None:
    region.assets.to_parquet(folder / "assets.parquet")
    region.people.to_parquet(folder / "people.parquet")
    for layer in _TABLE_LAYERS:
        getattr(region, layer).to_parquet(folder / f"{layer}.parquet", index=False)
    (folder / "region.json").write_text(_metadata_json(region) + "\n", encoding="utf-8")


def read_region(path: str | Path) -> Region:
    """Read and validate a region written by :func:`write_region` (or by hand / QGIS)."""
    path = Path(path)
    if not path.exists():
        raise CascadaInputError(
            "region not found", file=path,
            hint="build one with `cascada region from-osm FILE.osm.pbf --output regions/x.gpkg`",
        )
    if path.is_dir():
        return _read_folder(path)
    if path.suffix.lower() != ".gpkg":
        raise CascadaInputError("a region is a .gpkg file or a folder of GeoParquet files",
                                file=path)
    return _read_gpkg(path)


def _read_gpkg(path: Path) -> Region:
    try:
        layers = {name for name, _ in pyogrio.list_layers(path)}
    except Exception as exc:  # pyogrio raises DataSourceError subclasses
        raise CascadaInputError(f"cannot open as GeoPackage: {exc}", file=path) from exc
    if "assets" not in layers:
        raise CascadaInputError("no 'assets' layer", file=path,
                                hint=f"layers found: {', '.join(sorted(layers)) or 'none'}")
    assets = gpd.read_file(path, layer="assets", engine="pyogrio")
    people = (
        gpd.read_file(path, layer="people", engine="pyogrio") if "people" in layers else None
    )
    tables = {
        layer: pyogrio.read_dataframe(path, layer=layer, read_geometry=False)
        if layer in layers else None
        for layer in _TABLE_LAYERS
    }
    metadata = {}
    if "region_metadata" in layers:
        meta = pyogrio.read_dataframe(path, layer="region_metadata", read_geometry=False)
        metadata = json.loads(meta["metadata_json"].iloc[0])
    return _build(path, assets, people, tables, metadata)


def _read_folder(path: Path) -> Region:
    if not (path / "assets.parquet").exists():
        raise CascadaInputError("no assets.parquet in the region folder", file=path)
    assets = gpd.read_parquet(path / "assets.parquet")
    people = gpd.read_parquet(path / "people.parquet") if (path / "people.parquet").exists() \
        else None
    tables = {
        layer: pd.read_parquet(path / f"{layer}.parquet")
        if (path / f"{layer}.parquet").exists() else None
        for layer in _TABLE_LAYERS
    }
    meta_path = path / "region.json"
    metadata = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.exists() else {}
    return _build(path, assets, people, tables, metadata)


def _build(path: Path, assets, people, tables: dict, metadata: dict) -> Region:
    name = metadata.pop("name", path.stem)
    return Region.from_tables(
        name,
        assets,
        tables["dependencies"],
        people,
        tables["service_links"],
        source=path,
        metadata=metadata,
    )
