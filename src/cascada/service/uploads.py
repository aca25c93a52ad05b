"""Uploads: size limits, safe archive extraction, and region files read through Region.

Every check happens before a file reaches the project's folder: the upload
is streamed to a temporary file with a byte limit, archives are inspected
(path traversal, links, unpacked size, compression ratio) before anything is
extracted, and a region is accepted only once cascada's own readers have
validated it (geometries, ids, types, dependencies).
"""

from __future__ import annotations

import shutil
import stat
import zipfile
from pathlib import Path, PurePosixPath

from cascada.errors import CascadaInputError

CHUNK = 1024 * 1024
REGION_SUFFIXES = (".gpkg", ".geojson", ".json", ".zip", ".osm.pbf", ".pbf")


class UploadTooLarge(Exception):
    """The upload (or what an archive unpacks to) exceeds a limit."""


def region_suffix(filename: str) -> str:
    """The accepted suffix of an uploaded region file name, or a clear error."""
    lower = filename.lower()
    for suffix in REGION_SUFFIXES:
        if lower.endswith(suffix):
            return ".osm.pbf" if suffix == ".pbf" else suffix
    raise CascadaInputError(
        "unsupported region file", file=PurePosixPath(filename).name or "upload",
        hint="upload a .gpkg, .geojson, .zip of a GeoParquet region folder, or .osm.pbf")


def save_stream(source, destination: Path, limit_bytes: int) -> int:
    """Copy a binary file object to ``destination``, at most ``limit_bytes``; bytes written."""
    written = 0
    with open(destination, "wb") as out:
        while chunk := source.read(CHUNK):
            written += len(chunk)
            if written > limit_bytes:
                raise UploadTooLarge(f"upload larger than {limit_bytes // CHUNK} MiB")
            out.write(chunk)
    return written


def _member_path(name: str) -> PurePosixPath:
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or (path.parts and ":" in path.parts[0]):
        raise CascadaInputError("archive member outside the archive folder", field=name)
    return path


def safe_extract(archive: Path, destination: Path, *, max_unpacked_bytes: int,
                 max_ratio: float) -> Path:
    """Extract a zip archive after checking every member; returns ``destination``.

    Rejects absolute paths, ``..``, drive letters and links; a total unpacked
    size over ``max_unpacked_bytes``; and an unpacked/packed ratio over
    ``max_ratio`` (zip bombs). Sizes are counted while extracting too, since
    the sizes an archive declares can lie.
    """
    try:
        zf = zipfile.ZipFile(archive)
    except zipfile.BadZipFile as exc:
        raise CascadaInputError("not a valid zip archive") from exc
    with zf:
        members = zf.infolist()
        declared = sum(m.file_size for m in members)
        packed = max(archive.stat().st_size, 1)
        if declared > max_unpacked_bytes:
            raise UploadTooLarge("archive unpacks to more than the limit")
        if declared / packed > max_ratio:
            raise CascadaInputError(
                f"archive compression ratio {declared / packed:.0f} exceeds {max_ratio:.0f} "
                "(zip bomb?)")
        for member in members:
            _member_path(member.filename)
            if stat.S_ISLNK(member.external_attr >> 16):
                raise CascadaInputError("links are not allowed in archives",
                                        field=member.filename)
        destination.mkdir(parents=True, exist_ok=True)
        total = 0
        for member in members:
            target = destination.joinpath(*_member_path(member.filename).parts)
            if member.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(member) as source, open(target, "wb") as out:
                while chunk := source.read(CHUNK):
                    total += len(chunk)
                    if total > max_unpacked_bytes or total / packed > max_ratio:
                        raise UploadTooLarge("archive unpacks to more than the limit")
                    out.write(chunk)
    return destination


def _region_folder(root: Path) -> Path:
    """The folder holding ``assets.parquet`` inside an extracted archive."""
    found = sorted(root.rglob("assets.parquet"), key=lambda p: len(p.parts))
    if not found:
        raise CascadaInputError("no assets.parquet in the archive",
                                hint="zip a region folder written by cascada (GeoParquet)")
    return found[0].parent


def _region_from_geojson(path: Path, name: str):
    import geopandas as gpd

    from cascada.region.model import Region

    try:
        assets = gpd.read_file(path)
    except Exception as exc:
        raise CascadaInputError(f"not a readable GeoJSON file ({type(exc).__name__})") from exc
    if assets.crs is None:
        assets = assets.set_crs("EPSG:4326")
    return Region.from_tables(name, assets, source="assets.geojson")


def read_uploaded_region(path: Path, suffix: str, name: str, work: Path):
    """Read and validate an uploaded region file; ``work`` is a scratch folder.

    Returns a :class:`cascada.region.model.Region`; raises CascadaInputError.
    """
    from cascada.region.io import read_region

    if suffix == ".gpkg":
        return read_region(path)
    if suffix in (".geojson", ".json"):
        return _region_from_geojson(path, name)
    if suffix == ".osm.pbf":
        from cascada.region.osm import build_region_from_osm

        return build_region_from_osm(path, name=name)
    # .zip: extracted into ``work`` by safe_extract beforehand
    return read_region(_region_folder(work))


def region_stats(region) -> dict:
    """Counts, bounding box [w, s, e, n] and assets per sector of a region."""
    west, south, east, north = (float(v) for v in region.assets.total_bounds)
    sectors = region.assets["sector"].value_counts().sort_index()
    return {"n_assets": int(region.n_assets), "n_people": len(region.people),
            "n_dependencies": len(region.dependencies),
            "bbox": [west, south, east, north],
            "sectors": {str(k): int(v) for k, v in sectors.items()}}


def clean(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
