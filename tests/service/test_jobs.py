"""Runs through the worker subprocess: progress, results, cancel, and server restarts.

These start real workers (``python -m cascada.service.worker``) on the tiny
region; each takes a few seconds, mostly imports.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time

import pytest

from .conftest import build_world

WAIT_S = 300  # generous: a guard against hanging, not a timing check


def wait_for(world, pid: str, run_id: int, statuses: tuple[str, ...], client=None) -> dict:
    client = client or world.client
    deadline = time.monotonic() + WAIT_S
    while True:
        run = client.get(f"/api/projects/{pid}/runs/{run_id}", headers=world.headers("ada")
                         ).json()
        if run["status"] in statuses:
            return run
        if time.monotonic() > deadline:
            pytest.fail(f"run {run_id} stayed {run['status']} ({run['step']})")
        time.sleep(0.1)


def worker_pid(world, run_id: int) -> int | None:
    from cascada.service.models import Run

    with world.app.state.db.session() as session:
        return session.get(Run, run_id).worker_pid


@pytest.fixture
def live(tmp_path, database_url, run_folders):
    """A world whose job runner runs (one job at a time); stray workers are killed after."""
    world = build_world(tmp_path, database_url, run_folders, start_jobs=True, max_jobs=1)
    yield world
    from sqlalchemy import select

    from cascada.service.models import Run

    with world.app.state.db.session() as session:
        pids = [r.worker_pid for r in session.scalars(select(Run)) if r.worker_pid]
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
    world.app.state.db.dispose()


def test_run_through_worker(live):
    with live.client:
        run = live.post("/api/projects/alpha/runs", "anna",
                        json={"scenario_id": live.scenarios["alpha"], "samples": 4}).json()
        with live.client.stream("GET", f"/api/projects/alpha/runs/{run['id']}/events",
                                headers=live.headers("victor")) as response:
            events = [json.loads(line[6:]) for line in response.iter_lines()
                      if line.startswith("data: ")]
        done = wait_for(live, "alpha", run["id"], ("succeeded", "failed"))
        assert done["status"] == "succeeded", done["message"]
        assert done["progress"] == 1.0 and done["attempts"] == 1
        assert events[-1]["status"] == "succeeded"
        assert any(e["status"] == "running" for e in events)
        summary = live.get(f"/api/projects/alpha/runs/{run['id']}/summary").json()
        assert summary["samples"] == 4 and summary["scenario"] == "tiny-attack"
        files = {f["name"] for f in live.get(f"/api/projects/alpha/runs/{run['id']}/files").json()}
        assert "report.html" in files


@pytest.mark.slow
def test_risk_run_through_worker(live):
    with live.client:
        run = live.post("/api/projects/alpha/runs", json={
            "scenario_id": live.risk_scenarios["alpha"]}).json()
        assert run["kind"] == "risk"
        done = wait_for(live, "alpha", run["id"], ("succeeded", "failed"))
        assert done["status"] == "succeeded", done["message"]
        risk = live.get(f"/api/projects/alpha/runs/{run['id']}/risk").json()
        assert risk["eai"]


@pytest.mark.slow
def test_failed_run_reports_a_clear_message(live):
    toml = """[scenario]\nname = "bad"\n[[hazards]]\nhazard = "attack"\n
parameters = { asset_ids = ["no-such-asset"] }\n"""
    with live.client:
        sid = live.post("/api/projects/alpha/scenarios", json={"name": "bad", "toml": toml}
                        ).json()["id"]
        run = live.post("/api/projects/alpha/runs", json={"scenario_id": sid}).json()
        done = wait_for(live, "alpha", run["id"], ("succeeded", "failed"))
    assert done["status"] == "failed"
    assert done["message"] and str(live.settings.home) not in done["message"]


def test_cancel_running_run(live):
    with live.client:
        run = live.post("/api/projects/alpha/runs", json={
            "scenario_id": live.scenarios["alpha"]}).json()
        wait_for(live, "alpha", run["id"], ("running",))
        while worker_pid(live, run["id"]) is None:
            time.sleep(0.05)
        pid = worker_pid(live, run["id"])
        cancelled = live.post(f"/api/projects/alpha/runs/{run['id']}/cancel", "anna").json()
        assert cancelled["status"] == "cancelled"
        from cascada.service.jobs import worker_alive

        assert not worker_alive(pid)
        time.sleep(0.5)  # the runner's next ticks must not resurrect it
        assert live.get(f"/api/projects/alpha/runs/{run['id']}").json()["status"] == "cancelled"


def _second_server(world):
    """A new app on the same data folder and database: a server restart."""
    from cascada.service.app import create_app

    return create_app(world.settings)


def test_restart_after_crash_requeues_and_keeps_finished_results(live):
    finished = live.get(f"/api/projects/alpha/runs/{live.runs['alpha']}").json()
    with live.client:
        run = live.post("/api/projects/alpha/runs", json={
            "scenario_id": live.scenarios["alpha"]}).json()
        wait_for(live, "alpha", run["id"], ("running",))
        while worker_pid(live, run["id"]) is None:
            time.sleep(0.05)
        pid = worker_pid(live, run["id"])
        live.app.state.jobs.stop()  # the server dies ...
        os.killpg(pid, signal.SIGKILL)  # ... and its worker with it
        os.waitpid(pid, 0)
    assert live.get(f"/api/projects/alpha/runs/{run['id']}").json()["status"] == "running"
    from fastapi.testclient import TestClient

    app = _second_server(live)
    with TestClient(app) as client:
        done = wait_for(live, "alpha", run["id"], ("succeeded", "failed", "interrupted"),
                        client)
        assert done["status"] == "succeeded", done["message"]
        assert done["attempts"] == 2
        again = client.get(f"/api/projects/alpha/runs/{live.runs['alpha']}",
                           headers=live.headers("ada")).json()
        assert again == finished
        assert client.get(f"/api/projects/alpha/runs/{live.runs['alpha']}/summary",
                          headers=live.headers("ada")).status_code == 200
    app.state.db.dispose()


@pytest.mark.slow
def test_restart_adopts_a_worker_that_outlived_the_server(live):
    with live.client:
        run = live.post("/api/projects/alpha/runs", json={
            "scenario_id": live.scenarios["alpha"]}).json()
        wait_for(live, "alpha", run["id"], ("running",))
        while worker_pid(live, run["id"]) is None:
            time.sleep(0.05)
    # the first server stopped; its worker goes on
    from fastapi.testclient import TestClient

    app = _second_server(live)
    with TestClient(app) as client:
        assert run["id"] in app.state.jobs.orphans or client.get(
            f"/api/projects/alpha/runs/{run['id']}", headers=live.headers("ada")
        ).json()["status"] == "succeeded"
        done = wait_for(live, "alpha", run["id"], ("succeeded", "failed", "interrupted"),
                        client)
        assert done["status"] == "succeeded" and done["attempts"] == 1
    app.state.db.dispose()


def test_run_interrupted_after_its_second_attempt(world):
    from cascada.service.db import Database
    from cascada.service.jobs import JobRunner
    from cascada.service.models import Run
    from cascada.service.runstate import set_run

    run = world.post("/api/projects/alpha/runs", json={
        "scenario_id": world.scenarios["alpha"]}).json()
    db: Database = world.app.state.db
    set_run(db, run["id"], None, status="running", attempts=2, worker_pid=None)
    runner = JobRunner(world.settings, db)
    runner.recover()
    with db.session() as session:
        row = session.get(Run, run["id"])
        assert row.status == "interrupted" and "server stopped" in row.message
    set_run(db, run["id"], None, status="running", attempts=1, worker_pid=None)
    runner.recover()
    assert world.get(f"/api/projects/alpha/runs/{run['id']}").json()["status"] == "queued"
