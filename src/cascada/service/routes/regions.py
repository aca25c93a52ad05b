"""Regions of a project: upload (validated), list, assets as GeoJSON, one asset."""

from __future__ import annotations

import json
import tempfile
import threading
import uuid
from collections import OrderedDict
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Form, HTTPException, Request, Response, UploadFile
from sqlalchemy import select
from sqlalchemy.orm import Session

from cascada.errors import CascadaInputError
from cascada.service import uploads
from cascada.service.deps import (
    ANALYST,
    DB,
    VIEWER,
    Access,
    RowId,
    audit,
    iso,
)
from cascada.service.models import RegionRecord

router = APIRouter(prefix="/api/projects/{pid}")


class RegionCache:
    """The last few regions read, and their assets as GeoJSON bytes, by file path."""

    def __init__(self, size: int = 4) -> None:
        self.size = size
        self._items: OrderedDict[tuple[str, str], object] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str], make):
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = make()
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value


def region_json(r: RegionRecord) -> dict:
    return {"id": r.id, "name": r.name, "n_assets": r.n_assets, "n_people": r.n_people,
            "n_dependencies": r.n_dependencies, "bbox": r.bbox, "sectors": r.sectors,
            "created_by": r.created_by, "created_at": iso(r.created_at)}


def store_region(db: Session, settings, project_id: str, region, name: str, username: str
                 ) -> RegionRecord:
    """Write a validated region into the project's folder and record it."""
    from cascada.region.io import write_region

    relative = Path("regions") / f"{uuid.uuid4().hex}.gpkg"
    write_region(region, settings.project_dir(project_id) / relative)
    record = RegionRecord(project_id=project_id, name=name, path=str(relative),
                          created_by=username, **uploads.region_stats(region))
    db.add(record)
    db.flush()
    return record


def _record(db: Session, access: Access, rid: int) -> RegionRecord:
    record = db.get(RegionRecord, rid)
    if record is None or record.project_id != access.project.id:
        raise HTTPException(404, "region not found")
    return record


def load_region(request: Request, access: Access, record: RegionRecord):
    from cascada.region.io import read_region

    path = request.app.state.settings.project_dir(access.project.id) / record.path
    return request.app.state.regions.get(("region", str(path)), lambda: read_region(path))


@router.get("/regions", summary="Regions of the project")
def list_regions(access: Access = VIEWER, db: Session = DB) -> list[dict]:
    rows = db.scalars(select(RegionRecord).where(RegionRecord.project_id == access.project.id)
                      .order_by(RegionRecord.id))
    return [region_json(r) for r in rows]


@router.post("/regions", status_code=201,
             summary="Upload a region (.gpkg, .geojson, .zip of a GeoParquet folder, .osm.pbf)")
def upload_region(request: Request, file: Annotated[UploadFile, File()],
                  name: Annotated[str, Form(max_length=200)] = "",
                  access: Access = ANALYST, db: Session = DB) -> dict:
    settings = request.app.state.settings
    filename = file.filename or "upload"
    label = Path(filename.replace("\\", "/")).name
    name = name or label.split(".")[0] or "region"
    with tempfile.TemporaryDirectory(dir=settings.home, prefix=".upload-") as scratch:
        work = Path(scratch)
        try:
            suffix = uploads.region_suffix(filename)
            path = work / f"upload{suffix}"
            uploads.save_stream(file.file, path, settings.max_upload_bytes)
            if suffix == ".zip":
                uploads.safe_extract(path, work / "unpacked",
                                     max_unpacked_bytes=settings.max_unpacked_bytes,
                                     max_ratio=settings.max_zip_ratio)
            region = uploads.read_uploaded_region(path, suffix, name, work / "unpacked")
        except uploads.UploadTooLarge as exc:
            raise HTTPException(413, str(exc)) from exc
        except CascadaInputError as exc:
            # name the uploaded file, never the server's scratch path
            raise HTTPException(422, str(exc).replace(str(work), label)) from exc
        except Exception as exc:
            raise HTTPException(422, f"{label}: could not read the region "
                                     f"({type(exc).__name__})") from exc
        record = store_region(db, settings, access.project.id, region, name,
                              access.user.username)
    audit(db, access.user.username, "region_uploaded", access.project.id,
          f"region {record.id} ({label})")
    return region_json(record)


def _population_served(region) -> dict[str, float]:
    links = region.service_links
    if not len(links):
        return {}
    population = region.people.set_index("people_id")["population"]
    served = links.assign(population=links["people_id"].map(population).fillna(0.0))
    return served.groupby("asset_id")["population"].sum().to_dict()


def _assets_geojson(region) -> bytes:
    assets = region.assets
    served = _population_served(region)
    frame = assets[["asset_id", "sector", "asset_type", "name", "value_eur", "geometry"]].copy()
    frame["name"] = frame["name"].fillna("").astype(str)
    frame["population_served"] = frame["asset_id"].map(served).fillna(0.0).astype(float)
    frame = frame.to_crs("EPSG:4326")
    return frame.to_json(drop_id=True).encode("utf-8")


@router.get("/regions/{rid}/assets.geojson",
            summary="The region's assets as a GeoJSON FeatureCollection (EPSG:4326)")
def region_assets(rid: RowId, request: Request, access: Access = VIEWER,
                  db: Session = DB) -> Response:
    record = _record(db, access, rid)
    path = request.app.state.settings.project_dir(access.project.id) / record.path
    body = request.app.state.regions.get(
        ("geojson", str(path)), lambda: _assets_geojson(load_region(request, access, record)))
    return Response(body, media_type="application/geo+json")


@router.get("/regions/{rid}/assets/{asset_id}",
            summary="One asset with its suppliers and consumers")
def region_asset(rid: RowId, asset_id: str, request: Request, access: Access = VIEWER,
                 db: Session = DB) -> dict:
    region = load_region(request, access, _record(db, access, rid))
    assets = region.assets.set_index("asset_id", drop=False)
    if asset_id not in assets.index:
        raise HTTPException(404, "asset not found")
    row = assets.loc[asset_id]
    deps = region.dependencies
    types = assets["asset_type"]

    def linked(frame, column: str) -> list[dict]:
        return [{"asset_id": str(a), "asset_type": str(types.get(a, "")), "kind": str(k)}
                for a, k in zip(frame[column], frame["kind"], strict=True)]

    def number(value) -> float | None:
        value = float(value)
        return None if value != value else value

    return json.loads(json.dumps({
        "asset_id": asset_id, "sector": str(row["sector"]), "asset_type": str(row["asset_type"]),
        "name": "" if row["name"] != row["name"] else str(row["name"]),
        "value_eur": number(row["value_eur"]),
        "population_served": float(_population_served(region).get(asset_id, 0.0)),
        "backup_hours": number(row["backup_hours"]) if "backup_hours" in row else None,
        "suppliers": linked(deps[deps["consumer"] == asset_id], "supplier"),
        "consumers": linked(deps[deps["supplier"] == asset_id], "consumer"),
    }))
