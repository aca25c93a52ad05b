"""The FastAPI application: ``create_app(settings)``.

Routes live in ``cascada.service.routes``; they parse requests, check the
caller's role and call the library. Jobs run in worker subprocesses
(``cascada.service.jobs``).
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from fastapi import FastAPI, HTTPException
from fastapi.responses import FileResponse, HTMLResponse

from cascada.service.db import Database
from cascada.service.routes import accounts, projects, regions, results, runs, scenarios
from cascada.service.security import LoginLimiter
from cascada.service.settings import Settings

STATIC = Path(__file__).resolve().parent / "static"
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"SAMEORIGIN"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"geolocation=(), camera=(), microphone=()"),
]
#: the dashboard: its own scripts and styles, map tiles drawn in workers from blobs
CSP = (b"default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
       b"script-src 'self'; worker-src 'self' blob:; child-src blob:; connect-src 'self'; "
       b"font-src 'self' data:; frame-src 'self'; frame-ancestors 'self'; base-uri 'none'; "
       b"form-action 'self'; object-src 'none'")
NOT_BUILT = """<!doctype html><html lang="en"><meta charset="utf-8">
<title>cascada</title><body style="font-family:sans-serif;max-width:40em;margin:3em auto">
<h1>cascada</h1><p>The dashboard is not built. Build it with <code>make web</code>
(it writes <code>src/cascada/service/static/</code>), then reload.</p>
<p>The API is running: see <a href="/docs">/docs</a> (OpenAPI).</p></body></html>"""


def _version() -> str:
    try:
        return version("cascada")
    except PackageNotFoundError:  # pragma: no cover
        return "unknown"


class SecureHeaders:
    """Adds security headers to every HTTP response (CSP except on the API docs pages)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        docs = scope["path"] in ("/docs", "/redoc", "/docs/oauth2-redirect")

        async def send_with_headers(message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                for key, value in SECURITY_HEADERS:
                    if key not in present:
                        headers.append((key, value))
                if not docs and b"content-security-policy" not in present:
                    headers.append((b"content-security-policy", CSP))
                if scope["path"].startswith("/api/"):
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyTooLarge(Exception):
    """A request body beyond the upload limit (counted while it arrives)."""


class BodyLimit:
    """Refuses request bodies over the upload limit (+1 MiB for form fields) with 413.

    A declared Content-Length over the limit is refused before anything is
    read; a body without one is counted as it arrives and cut off.
    """

    def __init__(self, app, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.settings.max_upload_bytes + 1024 * 1024
        declared = dict(scope.get("headers", [])).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            await _reply_413(send)
            return
        received = 0
        started = False

        async def counting_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge
            return message

        async def tracking_send(message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await _reply_413(send)


async def _reply_413(send) -> None:
    body = b'{"detail":"request body too large"}'
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


def create_app(settings: Settings | None = None) -> FastAPI:
    """The service application; ``settings`` default to the environment (CASCADA_*)."""
    settings = settings or Settings.from_env()
    db = Database(settings.database_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if settings.start_jobs:
            from cascada.service.jobs import JobRunner

            app.state.jobs = JobRunner(settings, db)
            app.state.jobs.start()
        try:
            yield
        finally:
            if app.state.jobs is not None:
                app.state.jobs.stop()
                app.state.jobs = None

    app = FastAPI(
        title="cascada", version=_version(), lifespan=lifespan,
        description="All-hazards risk engine as a multi-user service: projects, regions, "
                    "scenarios, runs and their results. Authenticate with the session cookie "
                    "from POST /api/auth/login (and send X-CSRF-Token on unsafe requests) or "
                    "with `Authorization: Bearer <token>` from POST /api/auth/tokens.",
    )
    app.state.settings = settings
    app.state.db = db
    app.state.jobs = None
    app.state.login_limits = LoginLimiter(settings.login_attempts, settings.login_window_s)
    app.state.client_limits = LoginLimiter(settings.login_attempts * 10, settings.login_window_s)
    app.state.regions = regions.RegionCache()

    @app.get("/api/health", summary="Liveness and version (no login needed)")
    def health() -> dict:
        return {"status": "ok", "version": _version()}

    for module in (accounts, projects, regions, scenarios, runs, results):
        app.include_router(module.router)

    @app.get("/{path:path}", include_in_schema=False)
    def dashboard(path: str):
        if path == "api" or path.startswith("api/"):
            raise HTTPException(404, "not found")
        index = STATIC / "index.html"
        if not index.exists():
            return HTMLResponse(NOT_BUILT)
        for relative in (path, "assets/" + path.rpartition("assets/")[2] if "assets/" in path
                         else ""):
            candidate = (STATIC / relative).resolve()
            if relative and candidate.is_file() and candidate.is_relative_to(STATIC):
                return FileResponse(candidate)
        # client-side routes get the app; relative asset URLs under them resolve above
        return FileResponse(index, headers={"Cache-Control": "no-cache"})

    app.add_middleware(BodyLimit, settings=settings)
    app.add_middleware(SecureHeaders)
    return app
