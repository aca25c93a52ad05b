"""`cascada serve`, `cascada users ...`, `cascada projects ...`: parse arguments, call the service.

Only typer and rich at module level: `cascada --help` stays fast and works
without the ``service`` extra; the service itself is imported when a command
runs.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from cascada.cli_support import clear_errors, console
from cascada.errors import CascadaInputError

users_app = typer.Typer(help="Users of the web service (cascada serve).", no_args_is_help=True)
projects_app = typer.Typer(help="Projects of the web service (cascada serve).",
                           no_args_is_help=True)

HomeOption = Annotated[Path | None, typer.Option(
    "--home", help="data folder (default $CASCADA_HOME or ./cascada-data)")]
DatabaseOption = Annotated[str | None, typer.Option(
    "--database-url", help="SQLAlchemy URL (default $CASCADA_DATABASE_URL or SQLite in the "
                           "data folder)")]


def _settings(home: Path | None, database_url: str | None, **overrides):
    from cascada.errors import require

    require("fastapi", "service")
    from cascada.service.settings import Settings

    return Settings.from_env(home=home, database_url=database_url, **overrides)


def _database(settings):
    from cascada.service.db import Database

    return Database(settings.database_url)


def _read_password(from_stdin: bool, prompt: str = "password") -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\n")
    elif sys.stdin.isatty():
        password = typer.prompt(prompt, hide_input=True, confirmation_prompt=True)
    else:
        raise CascadaInputError("no password given",
                                hint="pipe it with --password-stdin, or run in a terminal")
    from cascada.service.security import MIN_PASSWORD

    if len(password) < MIN_PASSWORD:
        raise CascadaInputError(f"the password needs at least {MIN_PASSWORD} characters")
    return password


def ensure_admin(db, environ: dict[str, str] | None = None, interactive: bool | None = None
                 ) -> str | None:
    """Create the first administrator; returns its name, or None when nothing was created.

    CASCADA_ADMIN_USER / CASCADA_ADMIN_PASSWORD create that administrator if
    no user has that name yet. Without them, and with no users at all, ask
    when stdin is a terminal; otherwise a clear error.
    """
    from sqlalchemy import func, select

    from cascada.service.models import User
    from cascada.service.security import hash_password

    environ = os.environ if environ is None else environ
    username = environ.get("CASCADA_ADMIN_USER", "")
    password = environ.get("CASCADA_ADMIN_PASSWORD", "")
    with db.session() as session:
        if username and password:
            if session.scalar(select(User).where(User.username == username)) is not None:
                return None
        elif session.scalar(select(func.count()).select_from(User)):
            return None
    interactive = sys.stdin.isatty() if interactive is None else interactive
    if not (username and password):
        if not interactive:
            raise CascadaInputError(
                "no users yet: set CASCADA_ADMIN_USER and CASCADA_ADMIN_PASSWORD for the first "
                "administrator, or start `cascada serve` in a terminal to be asked")
        username = username or typer.prompt("first administrator's user name", default="admin")
        password = _read_password(False, f"password for {username}")
    try:
        password_hash = hash_password(password)
    except ValueError as exc:
        raise CascadaInputError(str(exc), field="CASCADA_ADMIN_PASSWORD") from exc
    with db.session() as session:
        session.add(User(username=username, password_hash=password_hash, is_admin=True))
    return username


@clear_errors
def serve_command(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port")] = 8000,
    workers: Annotated[int, typer.Option(help="HTTP worker processes (uvicorn)")] = 1,
    jobs: Annotated[int, typer.Option(help="runs executing at once")] = 2,
    home: HomeOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Start the web service and dashboard (http://127.0.0.1:8000 by default)."""
    settings = _settings(home, database_url, max_jobs=jobs)
    admin = ensure_admin(_database(settings))
    import uvicorn

    if admin:
        console.print(f"created the first administrator: [bold]{admin}[/]")
    console.print(f"cascada service: http://{host}:{port}  (data: {settings.home})",
                  highlight=False)
    if workers > 1:
        # each uvicorn worker builds its own app from the environment
        os.environ.update({"CASCADA_HOME": str(settings.home),
                           "CASCADA_DATABASE_URL": settings.database_url,
                           "CASCADA_MAX_JOBS": str(jobs)})
        uvicorn.run("cascada.service.app:create_app", factory=True, host=host, port=port,
                    workers=workers, log_level="info", proxy_headers=False)
        return
    from cascada.service.app import create_app

    uvicorn.run(create_app(settings), host=host, port=port, log_level="info",
                proxy_headers=False)


@users_app.command("add")
@clear_errors
def users_add(
    username: Annotated[str, typer.Argument(help="user name")],
    role: Annotated[str | None, typer.Option(help="viewer, analyst or owner (with --project)")
                    ] = None,
    project: Annotated[str | None, typer.Option(help="project id")] = None,
    admin: Annotated[bool, typer.Option("--admin", help="make an administrator")] = False,
    password_stdin: Annotated[bool, typer.Option("--password-stdin",
                                                 help="read the password from stdin")] = False,
    home: HomeOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Add a user (or give an existing user a role in a project)."""
    from sqlalchemy import select

    from cascada.service.models import ROLES, Membership, Project, User
    from cascada.service.security import hash_password

    if (role is None) != (project is None):
        raise CascadaInputError("give --role and --project together")
    if role is not None and role not in ROLES:
        raise CascadaInputError(f"unknown role {role!r}", hint=f"one of {', '.join(ROLES)}")
    db = _database(_settings(home, database_url))
    with db.session() as session:
        user = session.scalar(select(User).where(User.username == username))
        if project is not None and session.get(Project, project) is None:
            raise CascadaInputError(f"no project {project!r}",
                                    hint="create it with `cascada projects add`")
        if user is None:
            user = User(username=username, is_admin=admin,
                        password_hash=hash_password(_read_password(password_stdin)))
            session.add(user)
            session.flush()
            action = "added"
        else:
            user.is_admin = user.is_admin or admin
            action = "updated"
        if project is not None:
            membership = session.get(Membership, (project, user.id))
            if membership is None:
                session.add(Membership(project_id=project, user_id=user.id, role=role))
            else:
                membership.role = role
    where = f" ({role} of {project})" if project else ""
    console.print(f"user {username} {action}{where}{' (admin)' if admin else ''}",
                  highlight=False)


@users_app.command("list")
@clear_errors
def users_list(home: HomeOption = None, database_url: DatabaseOption = None) -> None:
    """List users, whether they are administrators, and their projects."""
    from sqlalchemy import select

    from cascada.service.models import Membership, User

    db = _database(_settings(home, database_url))
    table = Table(title="users")
    for column in ("user", "admin", "projects"):
        table.add_column(column)
    with db.session() as session:
        for user in session.scalars(select(User).order_by(User.username)):
            roles = session.scalars(select(Membership).where(Membership.user_id == user.id)
                                    .order_by(Membership.project_id))
            table.add_row(user.username, "yes" if user.is_admin else "",
                          ", ".join(f"{m.project_id} ({m.role})" for m in roles))
    console.print(table)


def _copy_scenario(source: Path, folder: Path) -> str:
    """Copy a scenario file and the files it refers to into ``folder``; returns its text.

    References must be relative and stay beside the file (``hazards/x.tif``);
    the ``region`` is not copied (the project's region is used).
    """
    import shutil

    from cascada.service import scenarios

    text = source.read_text(encoding="utf-8")
    kind, model = scenarios.parse(text, source)
    for field, reference in scenarios.file_references(kind, model):
        if reference.is_absolute() or ".." in reference.parts:
            raise CascadaInputError("only files beside the scenario can be copied",
                                    file=source, field=field)
        target = folder / reference
        target.parent.mkdir(parents=True, exist_ok=True)
        if not (source.parent / reference).exists():
            raise CascadaInputError("file not found", file=source.parent / reference,
                                    field=field)
        shutil.copy2(source.parent / reference, target)
    return text


@projects_app.command("add")
@clear_errors
def projects_add(
    project_id: Annotated[str, typer.Argument(help="project id (a-z, 0-9, _ and -)")],
    name: Annotated[str, typer.Option(help="display name (default: the id)")] = "",
    region: Annotated[Path | None, typer.Option(
        help="region file (.gpkg, .geojson, GeoParquet folder, .osm.pbf)")] = None,
    scenario: Annotated[list[Path] | None, typer.Option(
        help="scenario TOML to add (repeat); referenced files are copied")] = None,
    home: HomeOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Create a project, optionally with a region and scenarios."""
    import re
    import uuid

    from cascada.service import uploads
    from cascada.service.models import Project
    from cascada.service.routes.projects import PROJECT_ID, create_project_record
    from cascada.service.routes.regions import store_region
    from cascada.service.routes.scenarios import store_scenario

    if not re.match(PROJECT_ID, project_id):
        raise CascadaInputError("a project id has 1-64 characters a-z, 0-9, _ and -",
                                field=project_id)
    settings = _settings(home, database_url)
    db = _database(settings)
    loaded = None
    if region is not None:
        if not region.exists():
            raise CascadaInputError("region not found", file=region)
        suffix = ".folder" if region.is_dir() else uploads.region_suffix(region.name)
        if suffix == ".zip":
            raise CascadaInputError("give the region folder, not a zip", file=region)
        loaded = uploads.read_uploaded_region(region, suffix, region.name.split(".")[0], region)
    with db.session() as session:
        if session.get(Project, project_id) is None:
            create_project_record(session, settings, project_id, name or project_id)
        if loaded is not None:
            store_region(session, settings, project_id, loaded, loaded.name, "cli")
        for path in scenario or []:
            folder = settings.project_dir(project_id) / "scenarios" / uuid.uuid4().hex
            text = _copy_scenario(path, folder)
            store_scenario(session, settings, project_id, path.stem, text, "cli", folder)
    console.print(f"project {project_id}: "
                  f"{'1 region' if loaded is not None else 'no new region'}, "
                  f"{len(scenario or [])} scenario(s) → {settings.project_dir(project_id)}",
                  highlight=False)


@projects_app.command("list")
@clear_errors
def projects_list(home: HomeOption = None, database_url: DatabaseOption = None) -> None:
    """List projects with their members."""
    from sqlalchemy import select

    from cascada.service.models import Membership, Project, User

    db = _database(_settings(home, database_url))
    table = Table(title="projects")
    for column in ("project", "name", "members"):
        table.add_column(column)
    with db.session() as session:
        for project in session.scalars(select(Project).order_by(Project.id)):
            members = session.execute(select(User.username, Membership.role).join(Membership)
                                      .where(Membership.project_id == project.id))
            table.add_row(project.id, project.name,
                          ", ".join(f"{u} ({r})" for u, r in members))
    console.print(table)
