"""Service fixtures: a temporary CASCADA_HOME, an app, five users and two projects.

Users: ada (admin), olivia (owner of alpha), anna (analyst of alpha), victor
(viewer of alpha), oscar (no project); beth owns beta. Both projects hold the
tiny toy region, a parameter-only scenario (an attack on substation A) and a
finished run whose folder was computed once per session, so most tests need
no worker subprocess.

The database is SQLite, and also PostgreSQL when CASCADA_TEST_POSTGRES_URL
is set (``postgresql+psycopg://user@host:port/db``; each test starts from an
empty schema there).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("sqlalchemy")

from conftest import make_tiny_region

PASSWORD = "correct horse battery"
USERS = {  # username: (is_admin, {project: role})
    "ada": (True, {}),
    "olivia": (False, {"alpha": "owner"}),
    "anna": (False, {"alpha": "analyst"}),
    "victor": (False, {"alpha": "viewer"}),
    "oscar": (False, {}),
    "beth": (False, {"beta": "owner"}),
    "extra": (False, {"alpha": "viewer", "beta": "viewer"}),
}
SCENARIO_TOML = """\
[scenario]
name = "tiny-attack"
description = "substation A lost (toy network)"
seed = 7
samples = 8
hours = 24

[[hazards]]
id = "attack"
hazard = "attack"
parameters = { asset_ids = ["sub-a"] }
"""
RISK_TOML = """\
[risk]
name = "tiny-risk"
seed = 3
samples = 8
hours = 24
bootstrap = 10

[[event_sets]]
hazard = "attack"
generator = "model"
annual_rate = 0.01
parameters = { asset_ids = ["sub-a"] }
"""

POSTGRES_URL = os.environ.get("CASCADA_TEST_POSTGRES_URL", "")


def _reset_postgres(url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'service.sqlite'}"
    if not POSTGRES_URL:
        pytest.skip("CASCADA_TEST_POSTGRES_URL not set")
    _reset_postgres(POSTGRES_URL)
    return POSTGRES_URL


@pytest.fixture(scope="session")
def run_folders(tmp_path_factory) -> dict[str, Path]:
    """A scenario run folder and a risk run folder of the tiny region, computed once."""
    from cascada.region.io import write_region
    from cascada.report import write_report
    from cascada.risk.config import read_scenario
    from cascada.risk.scenario import run_scenario
    from cascada.store.runfolder import write_run

    root = tmp_path_factory.mktemp("service-runs")
    write_region(make_tiny_region(), root / "tiny.gpkg")
    (root / "scenario.toml").write_text(SCENARIO_TOML.replace(
        'seed = 7', 'region = "tiny.gpkg"\nseed = 7'), encoding="utf-8")
    result = run_scenario(read_scenario(root / "scenario.toml"))
    write_run(result, root / "scenario-run", report=write_report)

    from cascada.service import scenarios
    from cascada.service.worker import _run_risk

    (root / "risk.toml").write_text(RISK_TOML, encoding="utf-8")
    _, model = scenarios.parse(RISK_TOML, root / "risk.toml", root / "tiny.gpkg")

    class _Run:
        seed = None
        samples = None

    class _Quiet:
        def set(self, *args, **kwargs):
            pass

    _run_risk(model, _Run(), root / "risk-run", _Quiet())
    return {"scenario": root / "scenario-run", "risk": root / "risk-run",
            "region": root / "tiny.gpkg"}


@dataclass
class World:
    """The app and the ids the tests use."""

    app: object
    client: object
    settings: object
    tokens: dict[str, str] = field(default_factory=dict)
    regions: dict[str, int] = field(default_factory=dict)
    scenarios: dict[str, int] = field(default_factory=dict)
    risk_scenarios: dict[str, int] = field(default_factory=dict)
    runs: dict[str, int] = field(default_factory=dict)
    risk_runs: dict[str, int] = field(default_factory=dict)

    def headers(self, username: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[username]}"} if username else {}

    def get(self, path: str, user: str | None = "ada", **kwargs):
        return self.client.get(path, headers=self.headers(user), **kwargs)

    def post(self, path: str, user: str | None = "ada", **kwargs):
        return self.client.post(path, headers=self.headers(user), **kwargs)


def finished_run(db, settings, project_id: str, scenario_id: int, region_id: int, kind: str,
                 folder: Path) -> int:
    from cascada.service.models import Run, utcnow

    with db.session() as session:
        run = Run(project_id=project_id, scenario_id=scenario_id, region_id=region_id,
                  kind=kind, status="succeeded", progress=1.0, step="done", message="",
                  attempts=1, cancel_requested=False, output="", created_by="ada",
                  started_at=utcnow(), finished_at=utcnow())
        session.add(run)
        session.flush()
        run.output = f"runs/{run.id}"
        run_id = run.id
    shutil.copytree(folder, settings.project_dir(project_id) / "runs" / str(run_id))
    return run_id


def build_world(tmp_path: Path, database_url: str, run_folders, **overrides) -> World:
    from fastapi.testclient import TestClient

    from cascada.region.io import read_region
    from cascada.service import security
    from cascada.service.app import create_app
    from cascada.service.models import Membership, Project, User
    from cascada.service.routes.regions import store_region
    from cascada.service.routes.scenarios import store_scenario
    from cascada.service.settings import Settings

    options = dict(home=tmp_path / "home", database_url=database_url, start_jobs=False,
                   poll_interval_s=0.05)
    options.update(overrides)
    settings = Settings(**options)
    app = create_app(settings)
    db = app.state.db
    world = World(app=app, client=None, settings=settings)
    region = read_region(run_folders["region"])
    password_hash = security.hash_password(PASSWORD)
    with db.session() as session:
        for pid in ("alpha", "beta"):
            session.add(Project(id=pid, name=pid.title()))
            settings.project_dir(pid).mkdir(parents=True, exist_ok=True)
        users = {}
        for name, (is_admin, _) in USERS.items():
            users[name] = User(username=name, password_hash=password_hash, is_admin=is_admin)
            session.add(users[name])
        session.flush()
        for name, (_, roles) in USERS.items():
            for pid, role in roles.items():
                session.add(Membership(project_id=pid, user_id=users[name].id, role=role))
            world.tokens[name] = security.new_api_token(session, users[name])
        for pid in ("alpha", "beta"):
            world.regions[pid] = store_region(session, settings, pid, region, "tiny", "ada").id
            world.scenarios[pid] = store_scenario(session, settings, pid, "tiny attack",
                                                  SCENARIO_TOML, "ada").id
            world.risk_scenarios[pid] = store_scenario(session, settings, pid, "tiny risk",
                                                       RISK_TOML, "ada").id
    for pid in ("alpha", "beta"):
        world.runs[pid] = finished_run(db, settings, pid, world.scenarios[pid],
                                       world.regions[pid], "scenario", run_folders["scenario"])
        world.risk_runs[pid] = finished_run(db, settings, pid, world.risk_scenarios[pid],
                                            world.regions[pid], "risk", run_folders["risk"])
    world.client = TestClient(app)
    return world


@pytest.fixture
def world(tmp_path, database_url, run_folders):
    w = build_world(tmp_path, database_url, run_folders)
    with w.client:
        yield w
    w.app.state.db.dispose()
