"""Run folders: every result table of a run, written atomically.

A run is written into a hidden temporary folder beside its destination and
renamed when complete, so a failed or interrupted run leaves nothing behind.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from cascada.errors import CascadaInputError

RUN_TABLES = ("assets", "service_timeseries", "services", "facilities", "people", "outages")


def default_run_dir(name: str, root: str | Path = "runs") -> Path:
    """``runs/<name>-<YYYYmmdd-HHMMSS>/`` (a new name if that exists)."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = Path(root) / f"{name}-{stamp}"
    i = 1
    while path.exists():
        path = Path(root) / f"{name}-{stamp}-{i}"
        i += 1
    return path


@contextmanager
def atomic_folder(destination: str | Path, *, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary folder that becomes ``destination`` when the block succeeds."""
    destination = Path(destination)
    if destination.exists() and not overwrite:
        raise CascadaInputError(
            "output folder already exists", file=destination,
            hint="choose another --output, or remove the folder",
        )
    destination.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{destination.name}.", suffix=".tmp",
                                dir=destination.parent))
    try:
        yield tmp
        if destination.exists():
            shutil.rmtree(destination)
        tmp.rename(destination)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def write_json(path: Path, data: dict) -> None:
    """Write JSON with sorted keys (two runs of the same inputs compare equal)."""
    path.write_text(json.dumps(data, indent=2, sort_keys=True, default=float) + "\n",
                    encoding="utf-8")


def write_run(
    result,
    destination: str | Path,
    *,
    report: Callable[[Path], object] | None = None,
    overwrite: bool = False,
) -> Path:
    """Write a ScenarioResult's tables, summary.json and (optionally) the report.

    report: a function called with the (temporary) run folder to write
    report.html into it before the folder is renamed.
    """
    destination = Path(destination)
    with atomic_folder(destination, overwrite=overwrite) as tmp:
        for name in RUN_TABLES:
            table = getattr(result, name)
            table.to_parquet(tmp / f"{name}.parquet", index=False)
        footprint = getattr(result, "hazard_footprint", None)
        if footprint is not None and len(footprint):
            footprint.to_parquet(tmp / "hazard_footprint.parquet", index=False)
        water = getattr(result, "water_balance", None)
        if water is not None:
            water.to_parquet(tmp / "water_balance.parquet", index=False)
        write_json(tmp / "summary.json", result.summary)
        if report is not None:
            report(tmp)
    return destination
