"""HTML report of a scenario run: one self-contained page with maps and charts.

``write_report(run_dir)`` reads a run folder and writes ``report.html`` beside
its tables. Figures need the ``report`` extra (matplotlib).
"""

from cascada.report.html import write_report

__all__ = ["write_report"]
