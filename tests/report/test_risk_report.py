"""The risk report: a self-contained page from a risk run folder."""

from __future__ import annotations

import base64
import re

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

pytest.importorskip("matplotlib")
pytest.importorskip("duckdb")

from cascada.errors import CascadaInputError
from cascada.hazards.eventset import EventSet
from cascada.report import write_report
from cascada.risk.metrics import risk_tables
from cascada.risk.montecarlo import run_risk
from cascada.store.duckdb_store import write_tables


@pytest.fixture
def risk_run(tiny_region, tmp_path):
    rng = np.random.default_rng(4)
    intensity = rng.uniform(0.0, 0.6, (4, tiny_region.n_assets))
    es = EventSet(sparse.csr_matrix(intensity), tiny_region.assets["asset_id"].to_numpy(),
                  pd.DataFrame({"hazard": ["earthquake", "earthquake", "flood", "flood"],
                                "annual_rate": [0.01, 0.02, 0.03, 0.04]}))
    result = run_risk(tiny_region, es, 16, 24, seed=1, events_per_block=2)
    tables = risk_tables(result, tiny_region.assets, n_bootstrap=5)
    summary = {"kind": "risk", "scenario": "tiny-risk", "seed": 1, "samples": 16, "hours": 24,
               "events": 4, "event_sets": [{"synthetic": True, "note": "test events"}]}
    return write_tables(tables, summary, tmp_path / "runs" / "tiny-risk"), tables


def test_risk_report_is_self_contained(risk_run):
    path, tables = risk_run
    report = write_report(path)
    html = report.read_text(encoding="utf-8")
    assert "Expected annual impact" in html and "Exceedance curves" in html
    assert "Synthetic input" in html and "test events" in html
    assert "Loss exceedance curves by hazard" in html and "By sector" in html
    assert not re.search(r'(src|href)="https?://', html)
    images = re.findall(r'data:image/png;base64,([A-Za-z0-9+/=]+)', html)
    assert len(images) >= 3
    assert all(base64.b64decode(i).startswith(b"\x89PNG") for i in images)
    total = tables["eai"].query("impact == 'direct_loss_eur' and hazard == 'all'")
    value = float(total["expected_annual_impact"].iloc[0])
    assert value > 0
    assert not [p for p in path.iterdir() if p.name.startswith(".")]


def test_a_scenario_folder_is_not_a_risk_folder(tmp_path):
    from cascada.report.risk import write_risk_report

    (tmp_path / "summary.json").write_text('{"kind": "risk"}')
    with pytest.raises(CascadaInputError, match="not a risk run folder"):
        write_risk_report(tmp_path)
