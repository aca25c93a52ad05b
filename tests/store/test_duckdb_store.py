"""The embedded results store: views over a run folder, SQL, the run index, the CLI."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import typer
from scipy import sparse
from typer.testing import CliRunner

pytest.importorskip("duckdb")

from cascada.hazards.eventset import EventSet
from cascada.risk.cli import results_app, risk_command
from cascada.risk.metrics import risk_tables
from cascada.risk.montecarlo import run_risk
from cascada.store.duckdb_store import (
    list_runs,
    load_spatial,
    query,
    register_run,
    write_tables,
)


@pytest.fixture
def run_dir(tiny_region, tmp_path):
    rng = np.random.default_rng(4)
    intensity = rng.uniform(0.0, 0.6, (4, tiny_region.n_assets))
    es = EventSet(sparse.csr_matrix(intensity), tiny_region.assets["asset_id"].to_numpy(),
                  pd.DataFrame({"hazard": "earthquake", "annual_rate": [0.01, 0.02, 0.03, 0.04]}))
    result = run_risk(tiny_region, es, 16, 24, seed=1, events_per_block=2)
    tables = risk_tables(result, tiny_region.assets, n_bootstrap=5)
    summary = {"kind": "risk", "scenario": "tiny", "seed": 1, "samples": 16, "events": 4}
    path = write_tables(tables, summary, tmp_path / "runs" / "tiny-risk")
    return path, tables


def test_query_the_outage_view(run_dir):
    path, tables = run_dir
    out = query(path, "select sector, sum(people_hours) as people_hours from outage "
                      "group by sector order by sector")
    expected = tables["outage"].groupby("sector")["people_hours"].sum().sort_index()
    np.testing.assert_allclose(out["people_hours"], expected.to_numpy())
    eai = query(path, "select sum(expected_annual_loss_eur) s from asset_eai")
    assert eai["s"].iloc[0] == pytest.approx(tables["asset_eai"]["expected_annual_loss_eur"]
                                             .sum())


def test_bad_sql_is_a_clear_error(run_dir):
    path, _ = run_dir
    with pytest.raises(ValueError, match=r"tables: .*outage"):
        query(path, "select * from nowhere")


def test_spatial_extension_loads_offline(run_dir):
    import duckdb

    pytest.importorskip("duckdb_extension_spatial")
    con = duckdb.connect()
    assert load_spatial(con)
    path, _ = run_dir
    out = query(path, "select ST_GeometryType(geometry) t from asset_eai limit 1")
    assert "POINT" in str(out["t"].iloc[0]).upper()


def test_index_and_list(run_dir):
    path, _ = run_dir
    runs = list_runs(path.parent)
    assert list(runs["name"]) == ["tiny-risk"]  # unindexed folders are listed too
    register_run(path)
    assert (path.parent / "index.duckdb").exists()
    runs = list_runs(path.parent)
    assert list(runs["name"]) == ["tiny-risk"] and runs["kind"].iloc[0] == "risk"


def test_results_cli(run_dir):
    path, _ = run_dir
    app = typer.Typer()
    app.command("risk")(risk_command)
    app.add_typer(results_app, name="results")
    runner = CliRunner()
    out = runner.invoke(app, ["results", "query", str(path),
                              "select sector, sum(people_hours) from outage group by sector",
                              "--csv"])
    assert out.exit_code == 0, out.output
    assert "power" in out.output
    out = runner.invoke(app, ["results", "list", str(path.parent)])
    assert out.exit_code == 0 and "tiny-risk" in out.output
    out = runner.invoke(app, ["results", "query", str(path / "missing"), "select 1"])
    assert out.exit_code == 2
    for args in (["risk", "--help"], ["results", "query", "--help"]):
        assert runner.invoke(app, args).exit_code == 0
