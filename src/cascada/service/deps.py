"""Request dependencies: the database session, the caller, and their role in a project."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from cascada.service import security
from cascada.service.models import ROLES, AuditEntry, Membership, Project, User

SESSION_COOKIE = "cascada_session"
MAX_ID = 2**31 - 1
#: a numeric id in a path (regions, scenarios, runs): 1 .. 2^31-1 fits every database
RowId = Annotated[int, Path(ge=1, le=MAX_ID)]
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
PROJECT_NOT_FOUND = "project not found"


def get_db(request: Request) -> Iterator[Session]:
    """A session per request, committed when the handler returns (before the response)."""
    with request.app.state.db.session() as session:
        yield session


#: the one Depends object for the session, so that every use in a request shares it
DB = Depends(get_db, scope="function")


@dataclass
class Caller:
    user: User
    via: str  # "session" or "token"
    csrf_token: str = ""


def current_caller(request: Request, db: Session = DB) -> Caller:
    """The authenticated caller: a Bearer token, or a session cookie plus CSRF header."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        user = security.token_user(db, header[7:].strip())
        if user is None:
            raise HTTPException(401, "invalid token")
        return Caller(user, "token")
    cookie = request.cookies.get(SESSION_COOKIE)
    found = security.session_user(db, cookie) if cookie else None
    if found is None:
        raise HTTPException(401, "not logged in")
    user, session_row = found
    if request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not sent or not security.same(sent, session_row.csrf_token):
            raise HTTPException(403, "missing or wrong X-CSRF-Token header")
    return Caller(user, "session", session_row.csrf_token)


CALLER = Depends(current_caller)


def admin_caller(caller: Caller = CALLER) -> Caller:
    if not caller.user.is_admin:
        raise HTTPException(403, "administrators only")
    return caller


@dataclass
class Access:
    """The caller in one project: their role (admins count as owners)."""

    caller: Caller
    project: Project
    role: str

    @property
    def user(self) -> User:
        return self.caller.user


def role_of(db: Session, user: User, project_id: str) -> str | None:
    membership = db.scalar(select(Membership).where(Membership.project_id == project_id,
                                                    Membership.user_id == user.id))
    if membership is not None:
        return membership.role
    return "owner" if user.is_admin else None


def project_access(minimum: str) -> Callable[..., Access]:
    """A dependency: the project ``pid`` if the caller holds at least ``minimum`` in it.

    Not a member (and not an admin): 404, so projects of others stay invisible.
    A member with a lower role: 403.
    """
    rank = ROLES.index(minimum)

    def dependency(pid: Annotated[str, Path(max_length=64)], caller: Caller = CALLER,
                   db: Session = DB) -> Access:
        project = db.get(Project, pid)
        role = role_of(db, caller.user, pid) if project is not None else None
        if project is None or role is None:
            raise HTTPException(404, PROJECT_NOT_FOUND)
        if ROLES.index(role) < rank:
            raise HTTPException(403, f"needs the {minimum} role in project {pid}")
        return Access(caller, project, role)

    return dependency


viewer = project_access("viewer")
analyst = project_access("analyst")
owner = project_access("owner")


def audit(db: Session, username: str, action: str, project_id: str | None = None,
          target: str = "") -> None:
    db.add(AuditEntry(username=username, action=action, project_id=project_id,
                      target=target[:500]))


def iso(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a Z (SQLite hands back naive datetimes; they are UTC)."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(timespec="seconds") + "Z"


#: module-level Depends objects for the handlers' signatures
ADMIN = Depends(admin_caller)
VIEWER = Depends(viewer)
ANALYST = Depends(analyst)
OWNER = Depends(owner)
