"""Login, logout, the caller, API tokens, users (admin) and the audit log (admin)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from cascada.service import security
from cascada.service.deps import (
    ADMIN,
    CALLER,
    DB,
    SESSION_COOKIE,
    Caller,
    audit,
    iso,
)
from cascada.service.models import AuditEntry, LoginSession, Membership, Project, User

router = APIRouter(prefix="/api")
USERNAME = r"^[A-Za-z0-9_.@-]{1,64}$"


class LoginBody(BaseModel):
    username: Annotated[str, Field(min_length=1, max_length=64)]
    password: Annotated[str, Field(min_length=1, max_length=1024)]


class NewUser(BaseModel):
    username: Annotated[str, Field(pattern=USERNAME)]
    password: Annotated[str, Field(min_length=security.MIN_PASSWORD, max_length=1024)]
    is_admin: bool = False


def _projects(db: Session, user: User) -> list[dict]:
    if user.is_admin:
        members = {m.project_id: m.role for m in
                   db.scalars(select(Membership).where(Membership.user_id == user.id))}
        return [{"id": p.id, "name": p.name, "role": members.get(p.id, "owner")}
                for p in db.scalars(select(Project).order_by(Project.id))]
    rows = db.execute(select(Project, Membership.role).join(Membership)
                      .where(Membership.user_id == user.id).order_by(Project.id))
    return [{"id": p.id, "name": p.name, "role": role} for p, role in rows]


@router.post("/auth/login", summary="Log in: sets the session cookie, returns the CSRF token")
def login(body: LoginBody, request: Request, response: Response,
          db: Session = DB) -> dict:
    limits = request.app.state.login_limits
    client = request.client.host if request.client else "?"
    keys = (f"user:{body.username}|{client}",)
    wait = limits.blocked(*keys) or request.app.state.client_limits.blocked(client)
    if wait:
        raise HTTPException(429, "too many failed logins; try again later",
                            headers={"Retry-After": str(int(wait) + 1)})
    user = security.authenticate(db, body.username, body.password)
    if user is None:
        limits.failed(*keys)
        request.app.state.client_limits.failed(client)
        audit(db, body.username[:64], "login_failed", target=client)
        db.commit()
        raise HTTPException(401, "wrong username or password")
    limits.succeeded(*keys)
    settings = request.app.state.settings
    token, row = security.new_session(db, user, settings.session_hours)
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="strict",
                        secure=settings.secure_cookies, path="/",
                        max_age=int(settings.session_hours * 3600))
    audit(db, user.username, "login", target=client)
    return {"username": user.username, "is_admin": user.is_admin, "csrf_token": row.csrf_token}


@router.post("/auth/logout", status_code=204, summary="Log out (ends the cookie session)")
def logout(request: Request, response: Response, caller: Caller = CALLER,
           db: Session = DB) -> Response:
    cookie = request.cookies.get(SESSION_COOKIE)
    if caller.via == "session" and cookie:
        row = db.scalar(select(LoginSession).where(
            LoginSession.token_hash == security.token_hash(cookie)))
        if row is not None:
            db.delete(row)
    out = Response(status_code=204)
    out.delete_cookie(SESSION_COOKIE, path="/")
    return out


@router.get("/auth/me", summary="The caller, their CSRF token and projects")
def me(caller: Caller = CALLER, db: Session = DB) -> dict:
    user = caller.user
    return {"username": user.username, "is_admin": user.is_admin,
            "csrf_token": caller.csrf_token, "projects": _projects(db, user)}


@router.post("/auth/tokens", status_code=201,
             summary="A personal API token (shown once; send as Authorization: Bearer)")
def create_token(caller: Caller = CALLER,
                 db: Session = DB) -> dict:
    token = security.new_api_token(db, caller.user)
    audit(db, caller.user.username, "token_created")
    return {"token": token}


def user_json(db: Session, user: User) -> dict:
    memberships = db.scalars(select(Membership).where(Membership.user_id == user.id)
                             .order_by(Membership.project_id))
    return {"username": user.username, "is_admin": user.is_admin,
            "created_at": iso(user.created_at),
            "projects": [{"id": m.project_id, "role": m.role} for m in memberships]}


@router.get("/users", summary="All users (admin)")
def list_users(caller: Caller = ADMIN, db: Session = DB
               ) -> list[dict]:
    return [user_json(db, u) for u in db.scalars(select(User).order_by(User.username))]


@router.post("/users", status_code=201, summary="Create a user (admin)")
def create_user(body: NewUser, caller: Caller = ADMIN,
                db: Session = DB) -> dict:
    if db.scalar(select(User).where(User.username == body.username)) is not None:
        raise HTTPException(409, f"user {body.username} exists")
    user = User(username=body.username, password_hash=security.hash_password(body.password),
                is_admin=body.is_admin)
    db.add(user)
    db.flush()
    audit(db, caller.user.username, "user_created", target=body.username)
    return user_json(db, user)


@router.get("/audit", summary="Audit log, newest first (admin)")
def audit_log(caller: Caller = ADMIN, db: Session = DB,
              limit: Annotated[int, Query(ge=1, le=10_000)] = 500,
              project_id: str | None = None) -> list[dict]:
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if project_id is not None:
        query = query.where(AuditEntry.project_id == project_id)
    return [{"time": iso(e.time), "username": e.username, "action": e.action,
             "project_id": e.project_id, "target": e.target} for e in db.scalars(query)]
