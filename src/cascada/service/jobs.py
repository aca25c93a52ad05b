"""The job runner: runs execute in worker subprocesses, a bounded number at a time.

State lives in the database, never only in memory: a run is ``queued`` until
the runner claims it (one conditional UPDATE) and starts
``python -m cascada.service.worker RUN_ID``; the worker reports progress and
the final status itself. When the server starts, a run left ``running``
whose worker is gone is re-queued once, then marked ``interrupted``; a worker
that outlived the server keeps running and finishes its run. Finished runs
and their folders are never touched.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from sqlalchemy import select

from cascada.service.db import Database
from cascada.service.models import Run, utcnow
from cascada.service.runstate import finish, requeue_or_interrupt, set_run
from cascada.service.settings import Settings

WORKER_MODULE = "cascada.service.worker"


def worker_alive(pid: int | None) -> bool:
    """Whether ``pid`` is a live cascada worker process (Linux: checked by its command line)."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    cmdline = Path(f"/proc/{pid}/cmdline")
    if cmdline.exists():
        try:
            text = cmdline.read_bytes().replace(b"\0", b" ")
        except OSError:
            return False
        # a zombie (exited, not yet reaped) has an empty command line
        return WORKER_MODULE.encode() in text
    return True


def _kill(pid: int, grace_s: float = 5.0) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline and worker_alive(pid):
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


class JobRunner:
    """Starts queued runs as worker subprocesses, at most ``settings.max_jobs`` at once."""

    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings = settings
        self.db = db
        self.active: dict[int, subprocess.Popen] = {}
        self.orphans: dict[int, int] = {}  # run id → pid of a worker from an earlier server
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle

    def recover(self) -> None:
        """Runs left ``running`` by an earlier server: adopt live workers, re-queue the rest."""
        with self.db.session() as session:
            running = list(session.scalars(select(Run).where(Run.status == "running")))
        for run in running:
            if run.id in self.active:
                continue
            if worker_alive(run.worker_pid):
                self.orphans[run.id] = int(run.worker_pid)
            else:
                requeue_or_interrupt(self.db, run, "the server stopped while it ran")

    def start(self) -> None:
        self.recover()
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="cascada-jobs", daemon=True)
        self._thread.start()

    def stop(self, *, kill_workers: bool = False) -> None:
        """Stop starting runs. Workers keep running (they finish on their own) unless
        ``kill_workers``: then they are stopped and their runs re-queued for the next start."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if kill_workers:
            with self._lock:
                for run_id, proc in list(self.active.items()):
                    _kill(proc.pid)
                    proc.wait()
                    with self.db.session() as session:
                        run = session.get(Run, run_id)
                    if run is not None and run.status == "running":
                        requeue_or_interrupt(self.db, run, "the server stopped while it ran")
                self.active.clear()

    def wake(self) -> None:
        """Look for queued runs now (after a run is created)."""
        self._wake.set()

    # ------------------------------------------------------------------ the loop

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception:
                import traceback

                traceback.print_exc()
            self._wake.wait(self.settings.poll_interval_s)
            self._wake.clear()

    def tick(self) -> None:
        """Reap finished workers, then start queued runs while there is room."""
        with self._lock:
            for run_id, proc in list(self.active.items()):
                code = proc.poll()
                if code is None:
                    continue
                del self.active[run_id]
                finish(self.db, run_id, "failed", f"the worker stopped (exit code {code})")
            for run_id, pid in list(self.orphans.items()):
                if not worker_alive(pid):
                    del self.orphans[run_id]
                    with self.db.session() as session:
                        run = session.get(Run, run_id)
                    if run is not None and run.status == "running":
                        requeue_or_interrupt(self.db, run, "its worker stopped")
            while len(self.active) + len(self.orphans) < self.settings.max_jobs:
                if not self._start_next():
                    break

    def _start_next(self) -> bool:
        with self.db.session() as session:
            run = session.scalars(select(Run).where(Run.status == "queued")
                                  .order_by(Run.id).limit(1)).first()
        if run is None:
            return False
        claimed = set_run(self.db, run.id, ("queued",), status="running", started_at=utcnow(),
                          attempts=run.attempts + 1, step="starting", progress=0.0,
                          message="")
        if not claimed:
            return True  # another runner took it; look again
        log_dir = self.settings.project_dir(run.project_id) / "runs"
        log_dir.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "CASCADA_HOME": str(self.settings.home),
               "CASCADA_DATABASE_URL": self.settings.database_url}
        env.pop("CASCADA_SECRET_KEY", None)
        with open(log_dir / f"{run.id}.log", "ab") as log:
            proc = subprocess.Popen([sys.executable, "-m", WORKER_MODULE, str(run.id)],
                                    stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env,
                                    start_new_session=True)
        self.active[run.id] = proc
        set_run(self.db, run.id, ("running",), worker_pid=proc.pid)
        return True

    # ------------------------------------------------------------------ cancel

    def cancel(self, run_id: int) -> None:
        """Cancel a queued or running run; a running worker is killed (process group)."""
        if set_run(self.db, run_id, ("queued",), status="cancelled", finished_at=utcnow(),
                   message="cancelled before it started"):
            return
        with self._lock:
            with self.db.session() as session:
                run = session.get(Run, run_id)
            if run is None or run.status != "running":
                return
            finish(self.db, run_id, "cancelled", "cancelled")
            proc = self.active.pop(run_id, None)
            pid = proc.pid if proc is not None else self.orphans.pop(run_id, None) or (
                run.worker_pid if worker_alive(run.worker_pid) else None)
            if pid:
                _kill(pid)
            if proc is not None:
                proc.wait()
