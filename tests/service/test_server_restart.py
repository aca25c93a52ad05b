"""A real `cascada serve` killed mid-run and started again (slow: two servers, two workers)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from .conftest import SCENARIO_TOML

pytestmark = pytest.mark.slow
WAIT_S = 300


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _call(base: str, path: str, token: str = "", body: dict | None = None,
          files: bytes | None = None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if files is not None:
        boundary = "cascadaboundary"
        data = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
                f"filename=\"tiny.gpkg\"\r\nContent-Type: application/octet-stream\r\n\r\n"
                ).encode() + files + f"\r\n--{boundary}--\r\n".encode()
        headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
    request = urllib.request.Request(base + path, data=data, headers=headers,
                                     method="POST" if data is not None else "GET")
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def _serve(home, port, database_url):
    env = {**os.environ, "CASCADA_HOME": str(home), "CASCADA_DATABASE_URL": database_url,
           "CASCADA_ADMIN_USER": "admin", "CASCADA_ADMIN_PASSWORD": "admin password"}
    server = subprocess.Popen([sys.executable, "-m", "cascada.cli", "serve", "--port",
                               str(port), "--jobs", "1"], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            urllib.request.urlopen(base + "/api/health", timeout=1).read()
            return server, base
        time.sleep(0.2)
    server.kill()
    pytest.fail("the server did not start")


def _token(base: str) -> str:
    request = urllib.request.Request(
        base + "/api/auth/login", method="POST",
        data=json.dumps({"username": "admin", "password": "admin password"}).encode(),
        headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        csrf = json.loads(response.read())["csrf_token"]
        cookie = response.headers["set-cookie"].split(";")[0]
    request = urllib.request.Request(base + "/api/auth/tokens", method="POST",
                                     headers={"Cookie": cookie, "X-CSRF-Token": csrf})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())["token"]


def _wait(base, token, path, statuses):
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        run = _call(base, path, token)
        if run["status"] in statuses:
            return run
        time.sleep(0.1)
    pytest.fail(f"{path} stayed {run['status']}")


def test_kill_server_and_worker_mid_run(tmp_path, database_url, run_folders):
    home = tmp_path / "home"
    server, base = _serve(home, _port(), database_url)
    try:
        token = _token(base)
        _call(base, "/api/projects", token, {"id": "p", "name": "P"})
        _call(base, "/api/projects/p/regions", token, files=run_folders["region"].read_bytes())
        sid = _call(base, "/api/projects/p/scenarios", token,
                    {"name": "s", "toml": SCENARIO_TOML})["id"]
        first = _call(base, "/api/projects/p/runs", token, {"scenario_id": sid})["id"]
        _wait(base, token, f"/api/projects/p/runs/{first}", ("succeeded",))
        summary = _call(base, f"/api/projects/p/runs/{first}/summary", token)
        run = _call(base, "/api/projects/p/runs", token, {"scenario_id": sid})["id"]
        _wait(base, token, f"/api/projects/p/runs/{run}", ("running",))
        worker = (home / "projects" / "p" / "runs" / f"{run}.log").exists()
        assert worker
    finally:
        os.killpg(server.pid, signal.SIGKILL)  # the server dies
        server.wait()
    # and the worker with it (it runs in its own process group)
    from cascada.service.db import Database
    from cascada.service.jobs import worker_alive
    from cascada.service.models import Run

    db = Database(database_url, migrate=False)
    with db.session() as session:
        pid = session.get(Run, run).worker_pid
    db.dispose()
    if worker_alive(pid):
        os.killpg(pid, signal.SIGKILL)
    server, base = _serve(home, _port(), database_url)
    try:
        done = _wait(base, token, f"/api/projects/p/runs/{run}",
                     ("succeeded", "failed", "interrupted"))
        assert done["status"] == "succeeded" and done["attempts"] == 2
        assert _call(base, f"/api/projects/p/runs/{first}/summary", token) == summary
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait()
