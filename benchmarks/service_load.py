"""Service load: concurrent users browsing while runs execute, on loopback (locust).

A throwaway data folder gets one project with a region (regions/malta.gpkg
when built, else the tests' toy region) and a scenario, ``--users`` viewers
and one analyst. The server (``uvicorn``, one process, ``--jobs`` runs at
once) starts on 127.0.0.1; the analyst queues ``--runs`` runs; locust then
sends ``--users`` simulated users who log in and browse (project, regions,
assets GeoJSON, runs, a run's summary and timeline) for ``--duration``
seconds or until every run has finished, whichever is later (bounded by
``--max-duration``). Run::

    python benchmarks/service_load.py [--users 20 --runs 4 --duration 60]

Figures are printed last, one per line (``name: value unit``). Errors are
HTTP failures (any status >= 400 or a connection error) seen by the users.
It never asserts on time.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = """\
[scenario]
name = "bench-attack"
seed = 5
samples = {samples}
hours = 72

[[hazards]]
hazard = "attack"
parameters = {{ target_lat = 35.89478, target_lon = 14.50865, tnt_equivalent_kg = 227.0 }}
"""
PASSWORD = "benchmark password"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _region():
    from cascada.region.io import read_region

    malta = ROOT / "regions" / "malta.gpkg"
    if malta.exists():
        return read_region(malta)
    sys.path.insert(0, str(ROOT / "tests"))
    from conftest import make_tiny_region

    return make_tiny_region()


def seed(home: Path, region, users: int, samples: int) -> None:
    """Project "bench": a region, a scenario, viewers u0..u(n-1) and analyst "analyst"."""
    from cascada.service import security
    from cascada.service.db import Database
    from cascada.service.models import Membership, User
    from cascada.service.routes.projects import create_project_record
    from cascada.service.routes.regions import store_region
    from cascada.service.routes.scenarios import store_scenario
    from cascada.service.settings import Settings

    settings = Settings(home=home)
    db = Database(settings.database_url)
    password_hash = security.hash_password(PASSWORD)
    with db.session() as session:
        create_project_record(session, settings, "bench", "Benchmark")
        store_region(session, settings, "bench", region, "region", "bench")
        store_scenario(session, settings, "bench", "attack", SCENARIO.format(samples=samples),
                       "bench")
        names = [f"u{i}" for i in range(users)] + ["analyst"]
        for name in names:
            user = User(username=name, password_hash=password_hash, is_admin=False)
            session.add(user)
            session.flush()
            session.add(Membership(project_id="bench", user_id=user.id,
                                   role="analyst" if name == "analyst" else "viewer"))
    db.dispose()


def _request(base: str, path: str, token: str, body: dict | None = None) -> dict | list:
    request = urllib.request.Request(
        base + path, data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST" if body is not None else "GET")
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def _login_token(base: str, username: str) -> str:
    request = urllib.request.Request(
        base + "/api/auth/login", method="POST",
        data=json.dumps({"username": username, "password": PASSWORD}).encode(),
        headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        csrf = json.loads(response.read())["csrf_token"]
        cookie = response.headers["set-cookie"].split(";")[0]
    request = urllib.request.Request(base + "/api/auth/tokens", method="POST",
                                     headers={"Cookie": cookie, "X-CSRF-Token": csrf})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())["token"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=20, help="simulated browsing users")
    parser.add_argument("--runs", type=int, default=4, help="runs queued at the start")
    parser.add_argument("--jobs", type=int, default=2, help="runs executing at once")
    parser.add_argument("--samples", type=int, default=64, help="Monte-Carlo samples per run")
    parser.add_argument("--duration", type=float, default=60.0, help="browsing time at least, s")
    parser.add_argument("--max-duration", type=float, default=600.0, help="hard bound, s")
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="cascada-bench-"))
    region = _region()
    seed(home, region, args.users, args.samples)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "CASCADA_HOME": str(home), "CASCADA_MAX_JOBS": str(args.jobs)}
    env.pop("CASCADA_DATABASE_URL", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "cascada.service.app:create_app",
         "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        env=env, stdout=subprocess.DEVNULL, stderr=open(home / "server.log", "wb"))
    try:
        for _ in range(600):
            try:
                urllib.request.urlopen(base + "/api/health", timeout=1).read()
                break
            except OSError:
                time.sleep(0.1)
        analyst = _login_token(base, "analyst")
        scenario_id = _request(base, "/api/projects/bench/scenarios", analyst)[0]["id"]
        region_id = _request(base, "/api/projects/bench/regions", analyst)[0]["id"]
        started = time.perf_counter()
        run_ids = [_request(base, "/api/projects/bench/runs", analyst,
                            {"scenario_id": scenario_id})["id"] for _ in range(args.runs)]
        stats, runs, browse_s = _browse(base, args, region_id, run_ids, analyst, started)
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(home, ignore_errors=True)
    statuses = [r["status"] for r in runs]
    finished = [r for r in runs if r["finished_at"]]
    total = stats.total
    print(f"users: {args.users} browsing, {args.runs} runs ({args.jobs} at once), "
          f"{os.cpu_count()} cores, region {region.n_assets} assets", file=sys.stderr)
    print(f"requests: {total.num_requests} count")
    print(f"errors: {total.num_failures} count")
    print(f"request_rate: {total.num_requests / max(browse_s, 1e-9):.1f} requests/s")
    print(f"latency_median: {total.median_response_time:.0f} ms")
    print(f"latency_p95: {total.get_response_time_percentile(0.95):.0f} ms")
    print(f"runs_succeeded: {statuses.count('succeeded')} of {len(runs)}")
    print(f"runs_wall: {max((r['_done_s'] for r in finished), default=float('nan')):.1f} s")


def _browse(base: str, args, region_id: int, run_ids: list[int], analyst: str,
            started: float):
    import gevent
    from locust import HttpUser, between, task
    from locust.env import Environment

    names = iter(range(args.users))

    class Viewer(HttpUser):
        host = base
        wait_time = between(0.5, 2.0)

        def on_start(self) -> None:
            name = f"u{next(names)}"
            response = self.client.post("/api/auth/login",
                                        json={"username": name, "password": PASSWORD})
            self.csrf = response.json().get("csrf_token", "")

        @task(3)
        def runs(self) -> None:
            listed = self.client.get("/api/projects/bench/runs").json()
            done = [r["id"] for r in listed if r["status"] == "succeeded"]
            if done:
                self.client.get(f"/api/projects/bench/runs/{done[0]}/summary",
                                name="/runs/[id]/summary")
                self.client.get(f"/api/projects/bench/runs/{done[0]}/timeline",
                                name="/runs/[id]/timeline")

        @task(2)
        def project(self) -> None:
            self.client.get("/api/auth/me")
            self.client.get("/api/projects/bench")
            self.client.get("/api/projects/bench/scenarios")

        @task(1)
        def assets(self) -> None:
            self.client.get("/api/projects/bench/regions")
            self.client.get(f"/api/projects/bench/regions/{region_id}/assets.geojson",
                            name="/regions/[id]/assets.geojson")

    env = Environment(user_classes=[Viewer])
    runner = env.create_local_runner()
    runner.start(args.users, spawn_rate=args.users)
    browse_start = time.perf_counter()
    done_at: dict[int, float] = {}
    runs: list[dict] = []
    while True:
        gevent.sleep(1.0)
        runs = [_request(base, f"/api/projects/bench/runs/{i}", analyst) for i in run_ids]
        for r in runs:
            if r["finished_at"] and r["id"] not in done_at:
                done_at[r["id"]] = time.perf_counter() - started
        elapsed = time.perf_counter() - browse_start
        if elapsed > args.max_duration:
            break
        if elapsed >= args.duration and len(done_at) == len(run_ids):
            break
    runner.quit()
    browse_s = time.perf_counter() - browse_start
    for r in runs:
        r["_done_s"] = done_at.get(r["id"], float("nan"))
    return env.stats, runs, browse_s


if __name__ == "__main__":
    main()
