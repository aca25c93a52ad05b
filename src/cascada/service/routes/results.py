"""Results of a finished run: summary, timeline, risk figures, files and downloads.

Every file answer is audited (who downloaded what) and served only from the
run's own folder, by a name listed in it.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, Response
from sqlalchemy.orm import Session

from cascada.service.deps import DB, VIEWER, Access, RowId, audit
from cascada.service.models import Run
from cascada.service.routes.runs import get_run

router = APIRouter(prefix="/api/projects/{pid}/runs/{run_id}")
#: report.html comes from user data (asset names): give it an opaque origin
SANDBOX = {"Content-Security-Policy": "sandbox allow-scripts"}
MEDIA = {".html": "text/html", ".json": "application/json",
         ".parquet": "application/vnd.apache.parquet", ".csv": "text/csv"}


def run_folder(request: Request, access: Access, db: Session, run_id: int) -> tuple[Run, Path]:
    run = get_run(db, access, run_id)
    if run.status != "succeeded" or not run.output:
        raise HTTPException(409, f"the run has no results (status {run.status})")
    folder = request.app.state.settings.project_dir(access.project.id) / run.output
    if not folder.is_dir():
        raise HTTPException(404, "the run's folder is missing")
    return run, folder


def _read_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _finite(values) -> list:
    return [None if (isinstance(v, float) and not np.isfinite(v)) else v for v in values]


@router.get("/summary", summary="The run's summary.json")
def run_summary(run_id: RowId, request: Request, access: Access = VIEWER,
                db: Session = DB) -> dict:
    _, folder = run_folder(request, access, db, run_id)
    return _read_json(folder / "summary.json")


def timeline(folder: Path) -> dict:
    """Share of samples each affected asset is down at each hour, and people without service.

    Arrays run over hours 0..H-1 (H = the run's horizon).
    """
    summary = _read_json(folder / "summary.json")
    hours = int(summary["hours"])
    samples = int(summary["samples"])
    outages = pd.read_parquet(folder / "outages.parquet",
                              columns=["asset_id", "first_down_hour", "restored_hour"])
    first = outages["first_down_hour"].fillna(-1).to_numpy(dtype=np.int64)
    restored = outages["restored_hour"].fillna(-1).to_numpy(dtype=np.int64)
    start = first.clip(0, hours)
    end = np.where(restored < 0, hours, restored).clip(0, hours)  # -1: not restored in time
    keep = (first >= 0) & (end > start)
    codes, asset_ids = pd.factorize(outages["asset_id"][keep])
    counts = np.zeros((len(asset_ids), hours + 1), dtype=np.int64)
    np.add.at(counts, (codes, start[keep]), 1)
    np.add.at(counts, (codes, end[keep]), -1)
    p_down = np.cumsum(counts, axis=1)[:, :hours] / max(samples, 1)
    series = pd.read_parquet(folder / "service_timeseries.parquet")
    services = {}
    for service, group in series.groupby("service", sort=False):
        values = group.sort_values("hour")["people_without_mean"].to_numpy(dtype=float)
        services[str(service)] = {"people_without_mean": _finite(values.round(3).tolist())}
    total = float(series["population_total"].max()) if len(series) else 0.0
    return {"hours": hours, "samples": samples, "asset_ids": [str(a) for a in asset_ids],
            "p_down": np.round(p_down, 4).tolist(), "services": services,
            "population_total": total}


@router.get("/timeline", summary="Outage timeline of the affected assets and people "
                                 "without each service, hour by hour")
def run_timeline(run_id: RowId, request: Request, access: Access = VIEWER,
                 db: Session = DB) -> dict:
    run, folder = run_folder(request, access, db, run_id)
    if run.kind != "scenario" or not (folder / "outages.parquet").exists():
        raise HTTPException(409, "only scenario runs have a timeline")
    return timeline(folder)


def risk_figures(folder: Path, top: int = 500) -> dict:
    eai = pd.read_parquet(folder / "eai.parquet")
    rp = pd.read_parquet(folder / "return_periods.parquet")
    assets = pd.read_parquet(folder / "asset_eai.parquet",
                             columns=["asset_id", "expected_annual_loss_eur"])
    assets = assets.sort_values("expected_annual_loss_eur", ascending=False).head(top)
    return {
        "eai": [{"hazard": r.hazard, "metric": r.impact, "service": r.service, "unit": r.unit,
                 "eai": float(r.expected_annual_impact), "se": float(r.standard_error)}
                for r in eai.itertuples()],
        "ep": [{"metric": r.impact, "unit": r.unit, "return_period": float(r.return_period_years),
                "value": float(r.value), "lo": float(r.value_p05), "hi": float(r.value_p95)}
               for r in rp.itertuples()],
        "assets": [{"asset_id": str(a), "eai_eur": float(v)} for a, v in
                   zip(assets["asset_id"], assets["expected_annual_loss_eur"], strict=True)],
    }


@router.get("/risk", summary="Risk runs: expected annual impact, exceedance curves, top assets")
def run_risk_figures(run_id: RowId, request: Request, access: Access = VIEWER,
                     db: Session = DB) -> dict:
    run, folder = run_folder(request, access, db, run_id)
    if run.kind != "risk":
        raise HTTPException(409, "not a risk run")
    return json.loads(json.dumps(risk_figures(folder)).replace("NaN", "null"))


def _listing(folder: Path) -> dict[str, Path]:
    return {p.name: p for p in sorted(folder.iterdir()) if p.is_file()
            and not p.name.startswith(".")}


@router.get("/files", summary="Files of the run folder")
def run_files(run_id: RowId, request: Request, access: Access = VIEWER,
              db: Session = DB) -> list[dict]:
    _, folder = run_folder(request, access, db, run_id)
    return [{"name": name, "size": path.stat().st_size, "spatial": _is_spatial(path)}
            for name, path in _listing(folder).items()]


def _is_spatial(path: Path) -> bool:
    """True for GeoParquet (a parquet file with 'geo' metadata): GeoJSON can be asked for."""
    if path.suffix != ".parquet":
        return False
    import pyarrow.parquet as pq

    try:
        return b"geo" in (pq.read_schema(path).metadata or {})
    except (OSError, ValueError):
        return False


@router.get("/files/{name}", summary="One file of the run folder (report.html, *.parquet, "
                                     "summary.json)", response_class=FileResponse)
def run_file(run_id: RowId, name: str, request: Request, access: Access = VIEWER,
             db: Session = DB) -> FileResponse:
    _, folder = run_folder(request, access, db, run_id)
    path = _listing(folder).get(name)
    if path is None:
        raise HTTPException(404, "no such file in the run")
    audit(db, access.user.username, "file_downloaded", access.project.id,
          f"run {run_id}/{name}")
    media = MEDIA.get(os.path.splitext(name)[1], "application/octet-stream")
    disposition = "inline" if name.endswith((".html", ".json")) else "attachment"
    return FileResponse(path, media_type=media, headers=SANDBOX,
                        content_disposition_type=disposition, filename=name)


@router.get("/download/{table}.{fmt}",
            summary="A result table as GeoJSON, CSV or (Geo)Parquet")
def run_download(run_id: RowId, table: str, fmt: Literal["geojson", "csv", "parquet"],
                 request: Request, access: Access = VIEWER, db: Session = DB
                 ) -> Response:
    _, folder = run_folder(request, access, db, run_id)
    path = _listing(folder).get(f"{table}.parquet")
    if path is None:
        raise HTTPException(404, "no such table in the run")
    audit(db, access.user.username, "table_downloaded", access.project.id,
          f"run {run_id}/{table}.{fmt}")
    headers = {**SANDBOX,
               "Content-Disposition": f'attachment; filename="{table}.{fmt}"'}
    if fmt == "parquet":
        return FileResponse(path, media_type=MEDIA[".parquet"], headers=headers)
    import geopandas as gpd
    import pyarrow.parquet as pq

    spatial = b"geo" in (pq.read_schema(path).metadata or {})
    if fmt == "geojson":
        if not spatial:
            raise HTTPException(409, f"{table} has no geometries: download csv or parquet")
        frame = gpd.read_parquet(path).to_crs("EPSG:4326")
        return Response(frame.to_json(drop_id=True), media_type="application/geo+json",
                        headers=headers)
    frame = gpd.read_parquet(path) if spatial else pd.read_parquet(path)
    if spatial:
        wkt = frame.geometry.to_wkt()
        frame = pd.DataFrame(frame.drop(columns=frame.geometry.name)).assign(geometry=wkt)
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    return Response(buffer.getvalue(), media_type="text/csv", headers=headers)
