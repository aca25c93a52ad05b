"""HTML reports of run folders: one self-contained page with maps and charts.

``write_report(run_dir)`` reads a run folder — a scenario run (``cascada run``)
or a risk run (``cascada risk``) — and writes ``report.html`` beside its
tables. Figures need the ``report`` extra (matplotlib).
"""

from __future__ import annotations

import json
from pathlib import Path

from cascada.report.html import write_report as write_scenario_report
from cascada.report.risk import write_risk_report

__all__ = ["write_report", "write_risk_report", "write_scenario_report"]


def write_report(run_dir: Path, output: Path | None = None) -> Path:
    """Write the report of a scenario or risk run folder; returns the file written."""
    summary = Path(run_dir) / "summary.json"
    kind = ""
    if summary.exists():
        try:
            kind = json.loads(summary.read_text(encoding="utf-8")).get("kind", "")
        except (json.JSONDecodeError, AttributeError):
            kind = ""
    if kind == "risk":
        return write_risk_report(Path(run_dir), output)
    return write_scenario_report(Path(run_dir), output)
