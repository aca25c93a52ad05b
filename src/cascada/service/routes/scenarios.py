"""Scenarios of a project: TOML text validated with cascada's scenario models."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from cascada.errors import CascadaInputError
from cascada.service import scenarios
from cascada.service.deps import (
    ANALYST,
    DB,
    VIEWER,
    Access,
    RowId,
    audit,
    iso,
)
from cascada.service.models import ScenarioRecord

router = APIRouter(prefix="/api/projects/{pid}")
MAX_TOML = 1024 * 1024


class NewScenario(BaseModel):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    toml: Annotated[str, Field(min_length=1, max_length=MAX_TOML,
                               description="scenario or risk TOML ([scenario] or [risk])")]


def scenario_json(s: ScenarioRecord, toml: str | None = None) -> dict:
    out = {"id": s.id, "name": s.name, "kind": s.kind, "hazards": s.hazards,
           "created_by": s.created_by, "created_at": iso(s.created_at)}
    if toml is not None:
        out["toml"] = toml
    return out


def store_scenario(db: Session, settings, project_id: str, name: str, text: str,
                   username: str, folder: Path | None = None) -> ScenarioRecord:
    """Validate TOML text, store it under the project's folder and record it.

    folder: where the TOML goes (default a new ``scenarios/<id>/``); file
    references resolve from there and must stay inside the project's folder.
    """
    project_dir = settings.project_dir(project_id)
    folder = folder or project_dir / "scenarios" / uuid.uuid4().hex
    path = folder / "scenario.toml"
    kind, model = scenarios.parse(text, path)
    scenarios.check_files(kind, model, project_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    record = ScenarioRecord(project_id=project_id, name=name, kind=kind,
                            hazards=scenarios.hazards_of(kind, model),
                            path=str(path.relative_to(project_dir)), created_by=username)
    db.add(record)
    db.flush()
    return record


@router.get("/scenarios", summary="Scenarios of the project")
def list_scenarios(access: Access = VIEWER, db: Session = DB) -> list[dict]:
    rows = db.scalars(select(ScenarioRecord)
                      .where(ScenarioRecord.project_id == access.project.id)
                      .order_by(ScenarioRecord.id))
    return [scenario_json(s) for s in rows]


@router.post("/scenarios", status_code=201,
             summary="Add a scenario from TOML text (the project's region is used)")
def create_scenario(body: NewScenario, request: Request, access: Access = ANALYST,
                    db: Session = DB) -> dict:
    try:
        record = store_scenario(db, request.app.state.settings, access.project.id, body.name,
                                body.toml, access.user.username)
    except CascadaInputError as exc:
        raise HTTPException(422, str(exc)) from exc
    audit(db, access.user.username, "scenario_created", access.project.id,
          f"scenario {record.id} ({body.name})")
    return scenario_json(record)


def get_record(db: Session, access: Access, sid: RowId) -> ScenarioRecord:
    record = db.get(ScenarioRecord, sid)
    if record is None or record.project_id != access.project.id:
        raise HTTPException(404, "scenario not found")
    return record


@router.get("/scenarios/{sid}", summary="One scenario with its TOML text")
def get_scenario(sid: RowId, request: Request, access: Access = VIEWER,
                 db: Session = DB) -> dict:
    record = get_record(db, access, sid)
    path = request.app.state.settings.project_dir(access.project.id) / record.path
    return scenario_json(record, path.read_text(encoding="utf-8"))
