"""`python -m cascada.service.worker RUN_ID`: execute one run outside the server.

The worker reads the run, its scenario and region from the database, calls
the library (the same functions as `cascada run` / `cascada risk`), reports
each step into the run's row, and writes the run folder atomically into the
project's folder before marking the run succeeded.
"""

from __future__ import annotations

import os
import sys
import time
import traceback
from pathlib import Path

from cascada.errors import CascadaInputError
from cascada.service import scenarios
from cascada.service.db import Database
from cascada.service.models import RegionRecord, Run, ScenarioRecord
from cascada.service.runstate import finish, set_run
from cascada.service.settings import Settings

SCENARIO_STEPS = 7  # run_scenario's steps, plus writing the run folder and report


class Reporter:
    """Writes the current step and progress (0..1) into the run row, at most twice a second."""

    def __init__(self, db: Database, run_id: int) -> None:
        self.db = db
        self.run_id = run_id
        self.steps = 0
        self.last = 0.0

    def set(self, step: str, progress: float, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self.last > 0.5:
            set_run(self.db, self.run_id, ("running",), step=step[:200],
                    progress=float(min(max(progress, 0.0), 0.99)))
            self.last = now

    def __call__(self, step: str) -> None:
        self.steps += 1
        self.set(step, self.steps / SCENARIO_STEPS, force=True)


def _run_scenario(model, run: Run, destination: Path, report: Reporter) -> None:
    from cascada.report import write_report
    from cascada.risk.scenario import run_scenario
    from cascada.store.runfolder import write_run

    overrides = {k: v for k, v in (("seed", run.seed), ("samples", run.samples))
                 if v is not None}
    if overrides:
        model = model.model_copy(update={"scenario": model.scenario.model_copy(
            update=overrides)})
    result = run_scenario(model, progress=report)
    report("writing run folder and report")
    write_run(result, destination, report=write_report, overwrite=True)


def _run_risk(model, run: Run, destination: Path, report: Reporter) -> None:
    from cascada.region.io import read_region
    from cascada.report.risk import write_risk_report
    from cascada.risk.backends import close_backend, make_backend
    from cascada.risk.cli import risk_summary
    from cascada.risk.eventsets import build_eventset
    from cascada.risk.metrics import risk_tables
    from cascada.risk.montecarlo import run_risk
    from cascada.store.duckdb_store import write_tables

    overrides = {k: v for k, v in (("seed", run.seed), ("samples", run.samples))
                 if v is not None}
    if overrides:
        model = model.model_copy(update={"risk": model.risk.model_copy(update=overrides)})
    settings = model.risk
    report.set("reading region and building event sets", 0.02, force=True)
    region = read_region(model.resolve(settings.region))
    eventset = build_eventset(model, region)
    backend = make_backend(1, None, "serial")
    report.set(f"{eventset.n_events} events × {settings.samples} samples", 0.1, force=True)

    def tick(done: int, total: int) -> None:
        report.set(f"event blocks {done}/{total}", 0.1 + 0.8 * done / max(total, 1),
                   force=done == total)

    try:
        result = run_risk(region, eventset, settings.samples, settings.hours, settings.seed,
                          backend, events_per_block=settings.events_per_block, progress=tick)
    finally:
        close_backend(backend)
    result.events["source"] = eventset.events["source"].to_numpy()
    report.set("writing run folder and report", 0.92, force=True)
    tables = risk_tables(result, region.assets, settings.bootstrap)
    summary = risk_summary(model, region, eventset, result, tables, type(backend).__name__)
    write_tables(tables, summary, destination, report=write_risk_report, overwrite=True)


def execute(db: Database, settings: Settings, run_id: int) -> str:
    """Execute a claimed (status running) run; returns its final status."""
    with db.session() as session:
        run = session.get(Run, run_id)
        if run is None or run.status != "running":
            return run.status if run else "missing"
        run.worker_pid = os.getpid()
        scenario = session.get(ScenarioRecord, run.scenario_id)
        region = session.get(RegionRecord, run.region_id) if run.region_id else None
    project_dir = settings.project_dir(run.project_id)
    relative = Path("runs") / str(run.id)
    report = Reporter(db, run_id)
    try:
        if scenario is None or region is None:
            raise CascadaInputError("the run's scenario or region no longer exists")
        path = project_dir / scenario.path
        kind, model = scenarios.parse(path.read_text(encoding="utf-8"), path,
                                      project_dir / region.path)
        scenarios.check_files(kind, model, project_dir)
        runner = _run_risk if kind == "risk" else _run_scenario
        runner(model, run, project_dir / relative, report)
    except CascadaInputError as exc:
        message = str(exc).replace(str(project_dir) + "/", "").replace(str(settings.home), "")
        finish(db, run_id, "failed", message)
        return "failed"
    except Exception as exc:
        traceback.print_exc()
        finish(db, run_id, "failed", f"internal error ({type(exc).__name__}); see the server's "
                                     "run log")
        return "failed"
    finish(db, run_id, "succeeded", "", progress=1.0, step="done", output=str(relative))
    return "succeeded"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1 or not argv[0].isdigit():
        print("usage: python -m cascada.service.worker RUN_ID", file=sys.stderr)
        return 2
    settings = Settings.from_env()
    db = Database(settings.database_url, migrate=False)
    try:
        status = execute(db, settings, int(argv[0]))
    finally:
        db.dispose()
    return 0 if status == "succeeded" else 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
