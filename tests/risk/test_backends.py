"""Serial, process pool and Dask LocalCluster give bit-identical results."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from cascada.hazards.eventset import EventSet
from cascada.risk.backends import ProcessBackend, SerialBackend, make_backend
from cascada.risk.metrics import eai_table
from cascada.risk.montecarlo import run_risk


def _eventset(region) -> EventSet:
    rng = np.random.default_rng(7)
    n = 9
    intensity = rng.uniform(0.0, 0.6, (n, region.n_assets))
    intensity[rng.random(intensity.shape) < 0.4] = 0.0
    hazard = ["earthquake"] * 6 + ["flood"] * 3
    intensity[6:] *= 3.0  # flood depths, m
    return EventSet(sparse.csr_matrix(intensity), region.assets["asset_id"].to_numpy(),
                    pd.DataFrame({"hazard": hazard, "annual_rate": rng.uniform(0.001, 0.1, n)}))


def _assert_same(a, b):
    np.testing.assert_array_equal(a.loss_eur, b.loss_eur)
    for s in a.services:
        np.testing.assert_array_equal(a.people_hours[s], b.people_hours[s])
    np.testing.assert_array_equal(a.asset_loss_eur, b.asset_loss_eur)
    np.testing.assert_array_equal(a.asset_down_hours, b.asset_down_hours)
    ea, eb = eai_table(a.events, a.impacts()), eai_table(b.events, b.impacts())
    np.testing.assert_array_equal(ea["expected_annual_impact"], eb["expected_annual_impact"])


def test_serial_processes_and_dask_are_bit_identical(tiny_region):
    pytest.importorskip("dask.distributed")
    from cascada.risk.backends import DaskBackend

    es = _eventset(tiny_region)
    kwargs = dict(n_samples=64, hours=48, seed=99, events_per_block=2)
    serial = run_risk(tiny_region, es, backend=SerialBackend(), **kwargs)
    assert serial.loss_eur.any()
    processes = run_risk(tiny_region, es, backend=ProcessBackend(2), **kwargs)
    _assert_same(serial, processes)
    with DaskBackend(workers=2) as dask:
        distributed = run_risk(tiny_region, es, backend=dask, **kwargs)
    _assert_same(serial, distributed)


def test_progress_is_reported(tiny_region):
    seen = []
    run_risk(tiny_region, _eventset(tiny_region), 8, 4, seed=1, events_per_block=4,
             progress=lambda done, total: seen.append((done, total)))
    assert seen == [(1, 3), (2, 3), (3, 3)]


def test_make_backend_choices(monkeypatch):
    monkeypatch.delenv("CASCADA_SCHEDULER", raising=False)
    assert isinstance(make_backend(1), SerialBackend)
    assert isinstance(make_backend(2, kind="processes"), ProcessBackend)
    assert type(make_backend(2)).__name__ == "DaskBackend"
    with pytest.raises(ValueError):
        make_backend(2, kind="threads")
    monkeypatch.setenv("CASCADA_SCHEDULER", "tcp://127.0.0.1:1")
    backend = make_backend(1)
    assert type(backend).__name__ == "DaskBackend" and backend.scheduler == "tcp://127.0.0.1:1"
