"""Embedded results store: Parquet run folders, queried and indexed with DuckDB.

A run folder holds one Parquet (or GeoParquet) file per table. :func:`connect`
opens an in-memory DuckDB database with one view per table, named after the
file (``outage``, ``event_impacts``, ``eai``, ``ep_curve``, ``asset_eai``, ...),
so :func:`query` runs plain SQL over a run. ``<runs>/index.duckdb`` lists the
runs written under a folder (:func:`register_run`, :func:`list_runs`).

The spatial extension is loaded from the ``duckdb-extension-spatial`` wheel's
file when that package is installed (``INSTALL spatial`` needs the internet),
so GeoParquet geometries read as GEOMETRY and ``ST_*`` functions work. Needs
``cascada[store]``.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from cascada.errors import CascadaInputError, require
from cascada.store.runfolder import atomic_folder, write_json

INDEX_NAME = "index.duckdb"


def spatial_extension_path() -> Path | None:
    """The spatial extension file shipped by ``duckdb-extension-spatial``, or None."""
    duckdb = require("duckdb", "store")
    spec = importlib.util.find_spec("duckdb_extension_spatial")
    if spec is None or spec.origin is None:
        return None
    path = (Path(spec.origin).parent / "extensions" / f"v{duckdb.__version__}"
            / "spatial.duckdb_extension")
    return path if path.exists() else None


def load_spatial(con) -> bool:
    """Load the spatial extension into a connection from the wheel's file; True if loaded."""
    path = spatial_extension_path()
    if path is None:
        return False
    try:
        con.execute(f"LOAD '{path.as_posix()}'")
    except Exception:
        return False
    return True


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def run_tables(run_dir: str | Path) -> dict[str, Path]:
    """{table name: Parquet file} of a run folder."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise CascadaInputError("run folder not found", file=run_dir)
    return {p.stem: p for p in sorted(run_dir.glob("*.parquet"))}


def connect(run_dir: str | Path, *, spatial: bool = True):
    """An in-memory DuckDB connection with one view per table of the run folder."""
    duckdb = require("duckdb", "store")
    tables = run_tables(run_dir)
    if not tables:
        raise CascadaInputError("no Parquet tables in the run folder", file=run_dir)
    con = duckdb.connect()
    if spatial:
        load_spatial(con)
    for name, path in tables.items():
        con.execute(f'CREATE VIEW "{name}" AS SELECT * FROM read_parquet('
                    f'{_sql_string(path.resolve().as_posix())})')
    return con


def query(run_dir: str | Path, sql: str) -> pd.DataFrame:
    """Run SQL over a run folder's tables (views named after the files)."""
    duckdb = require("duckdb", "store")
    con = connect(run_dir)
    try:
        return con.execute(sql).df()
    except duckdb.Error as exc:
        names = ", ".join(run_tables(run_dir))
        raise CascadaInputError(f"query failed: {str(exc).splitlines()[0]}", file=run_dir,
                                hint=f"tables: {names}") from exc
    finally:
        con.close()


def write_tables(tables: dict[str, pd.DataFrame], summary: dict, destination: str | Path,
                 *, overwrite: bool = False, report: Callable[[Path], object] | None = None
                 ) -> Path:
    """Write tables (Parquet; GeoDataFrames as GeoParquet) and summary.json atomically.

    report: called with the (temporary) folder to write report.html into it
    before the folder is renamed into place.
    """
    destination = Path(destination)
    with atomic_folder(destination, overwrite=overwrite) as tmp:
        for name, table in tables.items():
            table.to_parquet(tmp / f"{name}.parquet", index=False)
        write_json(tmp / "summary.json", summary)
        if report is not None:
            report(tmp)
    return destination


def _index(root: Path):
    duckdb = require("duckdb", "store")
    con = duckdb.connect(str(root / INDEX_NAME))
    con.execute("CREATE TABLE IF NOT EXISTS runs (name VARCHAR PRIMARY KEY, path VARCHAR, "
                "kind VARCHAR, scenario VARCHAR, seed BIGINT, samples BIGINT, "
                "events BIGINT, tables VARCHAR, summary JSON)")
    return con


def register_run(run_dir: str | Path, index_root: str | Path | None = None) -> Path:
    """Add (or replace) a run in ``<index_root>/index.duckdb`` (default: the run's parent)."""
    run_dir = Path(run_dir).resolve()
    root = Path(index_root) if index_root is not None else run_dir.parent
    summary_path = run_dir / "summary.json"
    summary = json.loads(summary_path.read_text()) if summary_path.exists() else {}
    con = _index(root)
    try:
        con.execute("DELETE FROM runs WHERE name = ?", [run_dir.name])
        con.execute("INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", [
            run_dir.name, str(run_dir), summary.get("kind", "scenario"),
            summary.get("scenario", ""), summary.get("seed"), summary.get("samples"),
            summary.get("events"), ",".join(run_tables(run_dir)), json.dumps(summary)])
    finally:
        con.close()
    return root / INDEX_NAME


def list_runs(root: str | Path = "runs") -> pd.DataFrame:
    """Runs under ``root``: from its index, plus any run folder not indexed yet."""
    root = Path(root)
    columns = ["name", "path", "kind", "scenario", "seed", "samples", "events", "tables"]
    frames = []
    if (root / INDEX_NAME).exists():
        con = _index(root)
        try:
            frames.append(con.execute(f"SELECT {', '.join(columns)} FROM runs").df())
        finally:
            con.close()
    known = set(frames[0]["name"]) if frames else set()
    extra = []
    for folder in sorted(root.glob("*/summary.json")) if root.exists() else []:
        run = folder.parent
        if run.name in known or run.name.startswith("."):
            continue
        summary = json.loads(folder.read_text())
        extra.append({"name": run.name, "path": str(run.resolve()),
                      "kind": summary.get("kind", "scenario"),
                      "scenario": summary.get("scenario", ""), "seed": summary.get("seed"),
                      "samples": summary.get("samples"), "events": summary.get("events"),
                      "tables": ",".join(run_tables(run))})
    if extra:
        frames.append(pd.DataFrame(extra))
    if not frames:
        return pd.DataFrame(columns=columns)
    return pd.concat(frames, ignore_index=True).sort_values("name").reset_index(drop=True)
