"""A live cascada service for the dashboard's browser tests and benchmark.

``start_service(home, region)`` creates an admin, a project "malta" holding
``region`` and a small scenario that runs in seconds, then serves the real app
(uvicorn, job runner on) on a free loopback port. Plain functions, not pytest
fixtures, so ``benchmarks/dashboard_render.py`` can use them too.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ADMIN = "ada"
PASSWORD = "correct horse battery"
PROJECT = "malta"
STATIC = Path(__file__).resolve().parents[2] / "src" / "cascada" / "service" / "static"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

# Moderate damage to three large substations, a desalination plant and a mast:
# repairs finish within the horizon, so assets go down and come back.
SCENARIO_TOML = """\
[scenario]
name = "substations-attack"
description = "Three substations, a desalination plant and a mast damaged (illustrative)."
seed = 11
samples = 16
hours = 48

[[hazards]]
id = "attack"
hazard = "attack"
parameters = { asset_ids = [{ids}], damage_state = {damage_state} }
"""


def scenario_toml(region, damage_state: int = 2) -> str:
    """The test scenario for ``region``: the assets serving the most people per key type."""
    assets = region.assets
    picks: list[str] = []
    for asset_type, n in (("power.substation", 3), ("water.desalination", 1), ("telecom.mast", 1)):
        chosen = assets[assets["asset_type"] == asset_type]
        if "population_served" in chosen:
            chosen = chosen.sort_values("population_served", ascending=False)
        picks += [str(a) for a in chosen["asset_id"].head(n)]
    if not picks:
        picks = [str(assets["asset_id"].iloc[0])]
    ids = ", ".join(f'"{a}"' for a in picks)
    return SCENARIO_TOML.replace("{ids}", ids).replace("{damage_state}", str(damage_state))


def static_built() -> bool:
    return (STATIC / "index.html").is_file()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Service:
    url: str
    home: Path
    server: object
    thread: threading.Thread
    app: object

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
        self.app.state.db.dispose()


def seed_service(settings, region, toml: str) -> None:
    """Admin user, project "malta", its region and one scenario, written through the backend."""
    from cascada.service import security
    from cascada.service.db import Database
    from cascada.service.models import User
    from cascada.service.routes.projects import create_project_record
    from cascada.service.routes.regions import store_region
    from cascada.service.routes.scenarios import store_scenario

    db = Database(settings.database_url)
    try:
        with db.session() as session:
            create_project_record(session, settings, PROJECT, "Malta")
            session.add(User(username=ADMIN, password_hash=security.hash_password(PASSWORD),
                             is_admin=True))
            session.flush()
            store_region(session, settings, PROJECT, region, "Malta", ADMIN)
            store_scenario(session, settings, PROJECT, "Substations attack", toml, ADMIN)
    finally:
        db.dispose()


def start_service(home: Path, region, toml: str | None = None) -> Service:
    """Serve the real app for ``region`` from ``home`` on a free loopback port."""
    import uvicorn

    from cascada.service.app import create_app
    from cascada.service.settings import Settings

    home = Path(home)
    settings = Settings(home=home, max_jobs=1, poll_interval_s=0.2)
    seed_service(settings, region, toml or scenario_toml(region))
    app = create_app(settings)
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                            lifespan="on", timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="cascada-service", daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the cascada service did not start")
        time.sleep(0.05)
    return Service(url=f"http://127.0.0.1:{port}/", home=home, server=server, thread=thread,
                   app=app)


def launch_browser(playwright, profile: Path, **options):
    """Debian's Chromium, headless, with a throw-away profile (never a downloaded browser)."""
    profile = Path(profile)
    profile.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "XDG_CONFIG_HOME": str(profile / "config"),
           "XDG_CACHE_HOME": str(profile / "cache"), "HOME": str(profile)}
    return playwright.chromium.launch_persistent_context(
        str(profile / "user-data"), executable_path=str(CHROMIUM), headless=True,
        args=CHROMIUM_ARGS, env=env, viewport={"width": 1400, "height": 1000}, **options)


def remove(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def wait_until(page, expression: str, timeout_s: float = 30.0, interval_s: float = 0.1):
    """Poll ``expression`` with page.evaluate until it is truthy (page.wait_for_function
    evaluates strings with eval, which the service's Content-Security-Policy forbids)."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = page.evaluate(expression)
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for: {expression}")
        page.wait_for_timeout(interval_s * 1000)
