"""`cascada users`, `cascada projects` and the first administrator of `cascada serve`."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from cascada.cli import app

from .conftest import SCENARIO_TOML

runner = CliRunner()


@pytest.fixture
def home(tmp_path, database_url, monkeypatch):
    monkeypatch.setenv("CASCADA_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("CASCADA_DATABASE_URL", database_url)
    return tmp_path / "home"


def test_projects_and_users(home, run_folders, tmp_path):
    folder = tmp_path / "scenarios"
    (folder / "hazards").mkdir(parents=True)
    (folder / "hazards" / "footprint.geojson").write_text("{}", encoding="utf-8")
    (folder / "tiny.toml").write_text(SCENARIO_TOML, encoding="utf-8")
    (folder / "with-file.toml").write_text(SCENARIO_TOML.replace(
        'parameters = { asset_ids = ["sub-a"] }', 'footprint = "hazards/footprint.geojson"'),
        encoding="utf-8")
    result = runner.invoke(app, ["projects", "add", "malta", "--name", "Malta",
                                 "--region", str(run_folders["region"]),
                                 "--scenario", str(folder / "tiny.toml"),
                                 "--scenario", str(folder / "with-file.toml")])
    assert result.exit_code == 0, result.output
    copied = list((home / "projects" / "malta" / "scenarios").rglob("footprint.geojson"))
    assert len(copied) == 1
    result = runner.invoke(app, ["users", "add", "alice", "--role", "analyst", "--project",
                                 "malta", "--password-stdin"], input="alice's password\n")
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["users", "add", "alice", "--role", "owner", "--project",
                                 "malta"])
    assert result.exit_code == 0 and "updated" in result.output
    listed = runner.invoke(app, ["users", "list"])
    assert "alice" in listed.output and "malta (owner)" in listed.output
    assert "Malta" in runner.invoke(app, ["projects", "list"]).output
    bad = runner.invoke(app, ["users", "add", "bob", "--role", "boss", "--project", "malta",
                              "--password-stdin"], input="bob's password\n")
    assert bad.exit_code == 2 and "unknown role" in bad.output
    missing = runner.invoke(app, ["users", "add", "bob", "--role", "viewer", "--project",
                                  "nowhere", "--password-stdin"], input="bob's password\n")
    assert missing.exit_code == 2 and "no project" in missing.output
    short = runner.invoke(app, ["users", "add", "bob", "--password-stdin"], input="short\n")
    assert short.exit_code == 2


def test_projects_add_refuses_files_outside_the_scenario_folder(home, tmp_path):
    (tmp_path / "s.toml").write_text(SCENARIO_TOML.replace(
        'parameters = { asset_ids = ["sub-a"] }', 'footprint = "../elsewhere.tif"'),
        encoding="utf-8")
    result = runner.invoke(app, ["projects", "add", "p1", "--scenario",
                                 str(tmp_path / "s.toml")])
    assert result.exit_code == 2 and "beside the scenario" in result.output


def test_first_admin(home):
    from cascada.service.cli import ensure_admin
    from cascada.service.db import Database
    from cascada.service.settings import Settings

    db = Database(Settings.from_env().database_url)
    with pytest.raises(Exception, match="CASCADA_ADMIN_USER"):
        ensure_admin(db, environ={}, interactive=False)
    with pytest.raises(Exception, match="at least"):
        ensure_admin(db, environ={"CASCADA_ADMIN_USER": "root",
                                  "CASCADA_ADMIN_PASSWORD": "short"}, interactive=False)
    env = {"CASCADA_ADMIN_USER": "root", "CASCADA_ADMIN_PASSWORD": "long enough password"}
    assert ensure_admin(db, environ=env, interactive=False) == "root"
    assert ensure_admin(db, environ=env, interactive=False) is None  # only the first time
    assert ensure_admin(db, environ={}, interactive=False) is None  # users exist: nothing asked
    db.dispose()
    secret = home / "secret_key"
    assert secret.exists() and (secret.stat().st_mode & 0o777) == 0o600


def test_serve_help():
    result = runner.invoke(app, ["serve", "--help"])
    assert result.exit_code == 0 and "--port" in result.output


def test_migrations_match_the_models(database_url, tmp_path):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from cascada.service.db import Database, upgrade
    from cascada.service.models import Base
    from cascada.service.settings import Settings

    Settings(home=tmp_path / "h", database_url=database_url)
    db = Database(database_url)
    upgrade(db.engine)  # a second upgrade is a no-op
    with db.engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
    db.dispose()
