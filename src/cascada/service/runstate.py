"""Run state changes shared by the server, its job runner and the workers.

Every change is one conditional UPDATE (``... WHERE status IN (...)``), so a
worker finishing and a user cancelling cannot overwrite each other.
"""

from __future__ import annotations

from sqlalchemy import update

from cascada.service.db import Database
from cascada.service.models import Run, utcnow

#: a run that was running when the server stopped is re-queued this many times at most
MAX_ATTEMPTS = 2


def set_run(db: Database, run_id: int, only_if: tuple[str, ...] | None = None,
            **values) -> bool:
    """Update a run; with ``only_if``, only while its status is one of those. True if done."""
    with db.session() as session:
        query = update(Run).where(Run.id == run_id)
        if only_if is not None:
            query = query.where(Run.status.in_(only_if))
        return session.execute(query.values(**values)).rowcount == 1


def finish(db: Database, run_id: int, status: str, message: str = "", **values) -> bool:
    """Mark a running run finished (succeeded, failed, cancelled, interrupted)."""
    return set_run(db, run_id, ("running",), status=status, message=message[:4000],
                   finished_at=utcnow(), worker_pid=None, **values)


def requeue_or_interrupt(db: Database, run: Run, reason: str) -> str:
    """A run whose worker is gone: queued again (once), else interrupted. Returns the status."""
    if run.attempts < MAX_ATTEMPTS:
        set_run(db, run.id, ("running",), status="queued", progress=0.0, worker_pid=None,
                step="re-queued", message=f"re-queued: {reason}")
        return "queued"
    finish(db, run.id, "interrupted", f"interrupted: {reason}")
    return "interrupted"
