"""An interrupted risk run resumes from its finished blocks and equals an uninterrupted one."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from cascada.errors import CascadaInputError
from cascada.risk import backends
from cascada.risk.backends import SerialBackend
from cascada.risk.cli import risk_command
from cascada.risk.montecarlo import run_risk
from cascada.risk.resume import BlockFolder, partial_folder

from .test_sparse_risk import random_events, random_region


class Killed(Exception):
    """Stands for a kill in the middle of a run."""


class DiesAfter:
    """A backend that finishes ``k`` blocks, then dies."""

    def __init__(self, k: int) -> None:
        self.k = k

    def map(self, fn, blocks, progress=None):
        for i, block in enumerate(blocks):
            if i == self.k:
                raise Killed
            yield i, fn(block)


def _same(a, b) -> None:
    np.testing.assert_array_equal(a.loss_eur, b.loss_eur)
    for s in a.services:
        np.testing.assert_array_equal(a.people_hours[s], b.people_hours[s])
    np.testing.assert_array_equal(a.assets_damaged, b.assets_damaged)
    np.testing.assert_array_equal(a.asset_loss_eur, b.asset_loss_eur)
    np.testing.assert_array_equal(a.asset_down_hours, b.asset_down_hours)
    np.testing.assert_array_equal(a.asset_outage_probability, b.asset_outage_probability)


def test_resume_after_a_kill_equals_an_uninterrupted_run(tmp_path):
    region = random_region(seed=3)
    es = random_events(region, 9, seed=4)
    kwargs = dict(n_samples=32, hours=24, seed=5, events_per_block=2)
    fingerprint = {"seed": 5, "samples": 32, "hours": 24, "events_per_block": 2}
    whole = run_risk(region, es, backend=SerialBackend(), **kwargs)

    store = BlockFolder(tmp_path / "run.partial", fingerprint)
    with pytest.raises(Killed):
        run_risk(region, es, backend=DiesAfter(3), block_store=store, **kwargs)
    assert sorted(p.name for p in store.blocks.iterdir()) == [
        "block-00000.npz", "block-00001.npz", "block-00002.npz"]

    seen = []
    resumed = run_risk(region, es, backend=SerialBackend(), block_store=store,
                       progress=lambda d, t: seen.append((d, t)), **kwargs)
    assert resumed.metadata["blocks_resumed"] == 3
    assert seen[0] == (3, 5) and seen[-1] == (5, 5)
    _same(whole, resumed)

    with pytest.raises(CascadaInputError, match="other inputs"):
        BlockFolder(tmp_path / "run.partial", {**fingerprint, "seed": 6})


RISK_TOML = """\
[risk]
name = "tiny-resume"
region = "tiny.gpkg"
seed = 3
samples = 16
hours = 24
bootstrap = 5
events_per_block = 1

{entries}
"""
ENTRY = """\
[[event_sets]]
hazard = "attack"
generator = "model"
annual_rate = {rate}
parameters = {{ asset_ids = ["{asset}"] }}
"""


def test_cli_resume(tmp_path, monkeypatch, tiny_region):
    from cascada.region.io import write_region

    write_region(tiny_region, tmp_path / "tiny.gpkg")
    entries = "\n".join(ENTRY.format(rate=r, asset=a) for r, a in
                        [(0.01, "sub-a"), (0.02, "sub-b"), (0.005, "plant"), (0.03, "exch")])
    scenario = tmp_path / "risk.toml"
    scenario.write_text(RISK_TOML.format(entries=entries), encoding="utf-8")
    app = typer.Typer()
    app.command("risk")(risk_command)
    app.command("other")(lambda: None)
    runner = CliRunner()

    whole = tmp_path / "runs" / "whole"
    out = runner.invoke(app, ["risk", str(scenario), "-o", str(whole), "--no-report"])
    assert out.exit_code == 0, out.output
    assert not partial_folder(whole).exists()

    run = tmp_path / "runs" / "killed"
    real = backends.make_backend
    monkeypatch.setattr(backends, "make_backend", lambda *a, **k: DiesAfter(2))
    out = runner.invoke(app, ["risk", str(scenario), "-o", str(run), "--no-report"])
    assert isinstance(out.exception, Killed)
    assert not run.exists()  # an interrupted run never looks complete
    assert len(list((partial_folder(run) / "blocks").glob("block-*.npz"))) == 2

    out = runner.invoke(app, ["risk", str(scenario), "-o", str(run), "--no-report"])
    assert out.exit_code == 2 and "--resume" in out.output

    monkeypatch.setattr(backends, "make_backend", real)
    out = runner.invoke(app, ["risk", "--resume", str(run), "--no-report"])
    assert out.exit_code == 0, out.output
    assert run.is_dir() and not partial_folder(run).exists()
    for table in ("event_impacts", "eai", "asset_eai"):
        a = pd.read_parquet(whole / f"{table}.parquet")
        b = pd.read_parquet(run / f"{table}.parquet")
        pd.testing.assert_frame_equal(a, b)
    summaries = [json.loads((p / "summary.json").read_text()) for p in (whole, run)]
    assert summaries[0]["expected_annual_impact"] == summaries[1]["expected_annual_impact"]

    out = runner.invoke(app, ["risk", "--resume", str(run)])
    assert out.exit_code == 2 and "already complete" in out.output
