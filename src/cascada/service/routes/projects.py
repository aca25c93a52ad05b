"""Projects and their members."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from cascada.service.deps import (
    ADMIN,
    CALLER,
    DB,
    OWNER,
    VIEWER,
    Access,
    Caller,
    audit,
)
from cascada.service.models import Membership, Project, User
from cascada.service.routes.accounts import USERNAME, _projects

router = APIRouter(prefix="/api")
PROJECT_ID = r"^[a-z0-9][a-z0-9_-]{0,63}$"


class NewProject(BaseModel):
    id: Annotated[str, Field(pattern=PROJECT_ID, description="short id: a-z, 0-9, _ and -")]
    name: Annotated[str, Field(min_length=1, max_length=200)]


class RoleBody(BaseModel):
    role: Literal["viewer", "analyst", "owner"]


@router.get("/projects", summary="Projects the caller can see, with their role")
def list_projects(caller: Caller = CALLER, db: Session = DB) -> list[dict]:
    return _projects(db, caller.user)


def create_project_record(db: Session, settings, project_id: str, name: str) -> Project:
    """A project row and its folder (used by the API and `cascada projects add`)."""
    project = Project(id=project_id, name=name)
    db.add(project)
    db.flush()
    settings.project_dir(project_id).mkdir(parents=True, exist_ok=True)
    return project


@router.post("/projects", status_code=201, summary="Create a project (admin)")
def create_project(body: NewProject, request: Request, caller: Caller = ADMIN,
                   db: Session = DB) -> dict:
    if db.get(Project, body.id) is not None:
        raise HTTPException(409, f"project {body.id} exists")
    create_project_record(db, request.app.state.settings, body.id, body.name)
    audit(db, caller.user.username, "project_created", body.id)
    return {"id": body.id, "name": body.name, "role": "owner"}


def _members(db: Session, project_id: str) -> list[dict]:
    rows = db.execute(select(User.username, Membership.role).join(Membership)
                      .where(Membership.project_id == project_id).order_by(User.username))
    return [{"username": u, "role": r} for u, r in rows]


@router.get("/projects/{pid}", summary="A project with its members and the caller's role")
def get_project(access: Access = VIEWER, db: Session = DB) -> dict:
    p = access.project
    return {"id": p.id, "name": p.name, "role": access.role, "members": _members(db, p.id)}


def _keep_an_owner(db: Session, membership: Membership | None, new_role: str | None) -> None:
    """Refuse to demote or remove a project's last owner (409)."""
    if membership is None or membership.role != "owner" or new_role == "owner":
        return
    owners = db.scalars(select(Membership).where(Membership.project_id == membership.project_id,
                                                 Membership.role == "owner")).all()
    if len(owners) <= 1:
        raise HTTPException(409, "a project keeps at least one owner")


def _user(db: Session, username: str) -> User:
    user = db.scalar(select(User).where(User.username == username))
    if user is None:
        raise HTTPException(404, f"user {username} not found")
    return user


@router.put("/projects/{pid}/members/{username}", summary="Add a member or change a role (owner)")
def set_member(body: RoleBody, username: Annotated[str, Path(pattern=USERNAME)],
               access: Access = OWNER, db: Session = DB) -> dict:
    user = _user(db, username)
    membership = db.get(Membership, (access.project.id, user.id))
    _keep_an_owner(db, membership, body.role)
    if membership is None:
        db.add(Membership(project_id=access.project.id, user_id=user.id, role=body.role))
    else:
        membership.role = body.role
    audit(db, access.user.username, "member_set", access.project.id,
          f"{username}={body.role}")
    return {"username": username, "role": body.role}


@router.delete("/projects/{pid}/members/{username}", status_code=204,
               summary="Remove a member (owner)")
def remove_member(username: str, access: Access = OWNER, db: Session = DB
                  ) -> Response:
    user = _user(db, username)
    membership = db.get(Membership, (access.project.id, user.id))
    if membership is None:
        raise HTTPException(404, f"{username} is not a member")
    _keep_an_owner(db, membership, None)
    db.delete(membership)
    audit(db, access.user.username, "member_removed", access.project.id, username)
    return Response(status_code=204)
