"""Runs of a project: create, list, follow (SSE), cancel."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from cascada.service.deps import (
    ANALYST,
    DB,
    MAX_ID,
    VIEWER,
    Access,
    RowId,
    audit,
    iso,
)
from cascada.service.models import FINISHED, RegionRecord, Run, ScenarioRecord
from cascada.service.routes.scenarios import get_record

router = APIRouter(prefix="/api/projects/{pid}")


class NewRun(BaseModel):
    scenario_id: Annotated[int, Field(ge=1, le=MAX_ID)]
    region_id: Annotated[int, Field(ge=1, le=MAX_ID)] | None = Field(
        None, description="default: the project's newest region")
    samples: Annotated[int, Field(ge=1, le=100_000)] | None = None
    seed: Annotated[int, Field(ge=0, le=2**31 - 1)] | None = None


def run_json(r: Run) -> dict:
    return {"id": r.id, "project_id": r.project_id, "scenario_id": r.scenario_id,
            "region_id": r.region_id, "kind": r.kind, "status": r.status,
            "progress": r.progress, "step": r.step, "message": r.message,
            "samples": r.samples, "seed": r.seed, "attempts": r.attempts,
            "created_by": r.created_by, "created_at": iso(r.created_at),
            "started_at": iso(r.started_at), "finished_at": iso(r.finished_at)}


def get_run(db: Session, access: Access, run_id: RowId) -> Run:
    run = db.get(Run, run_id)
    if run is None or run.project_id != access.project.id:
        raise HTTPException(404, "run not found")
    return run


def create_run_record(db: Session, project_id: str, scenario: ScenarioRecord,
                      region_id: int | None, username: str, samples: int | None = None,
                      seed: int | None = None) -> Run:
    if region_id is None:
        region = db.scalars(select(RegionRecord).where(RegionRecord.project_id == project_id)
                            .order_by(RegionRecord.id.desc()).limit(1)).first()
        if region is None:
            raise HTTPException(409, "the project has no region yet: upload one first")
    else:
        region = db.get(RegionRecord, region_id)
        if region is None or region.project_id != project_id:
            raise HTTPException(404, "region not found")
    run = Run(project_id=project_id, scenario_id=scenario.id, region_id=region.id,
              kind=scenario.kind, status="queued", progress=0.0, step="", message="",
              samples=samples, seed=seed, attempts=0, cancel_requested=False, output="",
              created_by=username)
    db.add(run)
    db.flush()
    return run


@router.get("/runs", summary="Runs of the project, newest first")
def list_runs(access: Access = VIEWER, db: Session = DB) -> list[dict]:
    rows = db.scalars(select(Run).where(Run.project_id == access.project.id)
                      .order_by(Run.id.desc()))
    return [run_json(r) for r in rows]


@router.post("/runs", status_code=201, summary="Queue a run of a scenario")
def create_run(body: NewRun, request: Request, access: Access = ANALYST,
               db: Session = DB) -> dict:
    scenario = get_record(db, access, body.scenario_id)
    run = create_run_record(db, access.project.id, scenario, body.region_id,
                            access.user.username, body.samples, body.seed)
    audit(db, access.user.username, "run_created", access.project.id,
          f"run {run.id} of scenario {scenario.id}")
    db.commit()
    jobs = request.app.state.jobs
    if jobs is not None:
        jobs.wake()
    return run_json(run)


@router.get("/runs/{run_id}", summary="One run: status and progress")
def read_run(run_id: RowId, access: Access = VIEWER, db: Session = DB) -> dict:
    return run_json(get_run(db, access, run_id))


@router.post("/runs/{run_id}/cancel", summary="Cancel a queued or running run")
def cancel_run(run_id: RowId, request: Request, access: Access = ANALYST,
               db: Session = DB) -> dict:
    run = get_run(db, access, run_id)
    if run.status in FINISHED:
        raise HTTPException(409, f"the run is already {run.status}")
    jobs = request.app.state.jobs
    if jobs is not None:
        jobs.cancel(run.id)
    else:
        from cascada.service.jobs import JobRunner

        JobRunner(request.app.state.settings, request.app.state.db).cancel(run.id)
    audit(db, access.user.username, "run_cancelled", access.project.id, f"run {run.id}")
    db.expire_all()
    return run_json(get_run(db, access, run_id))


@router.get("/runs/{run_id}/events", summary="Server-sent events: the run's JSON on every "
                                             "change, until it finishes",
            response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {}}}})
def run_events(run_id: RowId, request: Request, access: Access = VIEWER,
               db: Session = DB) -> StreamingResponse:
    get_run(db, access, run_id)
    database = request.app.state.db
    interval = request.app.state.settings.poll_interval_s

    def snapshot() -> dict | None:
        with database.session() as session:
            run = session.get(Run, run_id)
            return run_json(run) if run is not None else None

    async def stream():
        last = None
        while True:
            current = await asyncio.to_thread(snapshot)
            if current is None:
                return
            if current != last:
                yield f"data: {json.dumps(current)}\n\n"
                last = current
            if current["status"] in FINISHED or await request.is_disconnected():
                return
            await asyncio.sleep(interval)

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
