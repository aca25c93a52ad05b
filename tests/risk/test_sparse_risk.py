"""The event-driven Monte Carlo against a dense oracle, and what keyed draws promise.

The oracle runs each event over every asset, as the engine did before it
became sparse: dense damage with the same keyed uniforms, the dense cascade
(:func:`cascada.cascade.propagate`) and people-hours from the dense words
(:func:`cascada.impact.people.people_hours_without_service`).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from cascada.cascade import propagate, sample_mask
from cascada.hazards.eventset import EventSet
from cascada.impact.people import people_hours_without_service
from cascada.region.model import Region
from cascada.risk.draws import DAMAGE_STREAM, REPAIR_STREAM, keyed_uniforms, run_key
from cascada.risk.montecarlo import _damage_states, _repair_hours, build_context, run_risk

TYPES = ["power.substation", "telecom.exchange", "water.pumping_station", "health.clinic",
         "finance.bank", "food.supermarket"]
SERVICE_OF = {"power.substation": "power", "telecom.exchange": "telecom",
              "water.pumping_station": "water", "health.clinic": "health",
              "finance.bank": "finance", "food.supermarket": "food"}


def random_region(n_assets: int = 60, n_people: int = 40, seed: int = 0) -> Region:
    """Random dependencies (cycles, k-of-n, backups) and 1–3 links per person."""
    rng = np.random.default_rng(seed)
    ids = [f"a{i}" for i in range(n_assets)]
    types = rng.choice(TYPES, n_assets)
    x = 14.4 + 0.1 * rng.random(n_assets)
    assets = gpd.GeoDataFrame({"asset_id": ids, "asset_type": types},
                              geometry=gpd.points_from_xy(x, np.full(n_assets, 35.9)),
                              crs="EPSG:4326")
    rows = []
    for c in range(n_assets):
        for group in range(rng.integers(0, 3)):
            suppliers = rng.choice([i for i in range(n_assets) if i != c],
                                   rng.integers(1, 4), replace=False)
            k = int(rng.integers(1, len(suppliers) + 1))
            backup = float(rng.choice([0.0, 0.0, 3.0, 12.0]))
            rows += [(ids[c], ids[s], "power", f"g{group}", k, backup) for s in suppliers]
    deps = pd.DataFrame(rows, columns=["consumer", "supplier", "kind", "group", "k",
                                       "backup_hours"])
    people_ids = [f"p{i}" for i in range(n_people)]
    people = gpd.GeoDataFrame({"people_id": people_ids,
                               "population": rng.integers(1, 500, n_people).astype(float)},
                              geometry=gpd.points_from_xy(np.full(n_people, 14.45),
                                                          np.full(n_people, 35.9)),
                              crs="EPSG:4326")
    links = []
    for p in people_ids:
        for service in ("power", "water", "health", "finance"):
            candidates = [ids[i] for i in range(n_assets) if SERVICE_OF[types[i]] == service]
            if candidates:
                for a in rng.choice(candidates, min(len(candidates), rng.integers(1, 4)),
                                    replace=False):
                    links.append((p, service, a))
    links = pd.DataFrame(links, columns=["people_id", "service", "asset_id"])
    return Region.from_tables("random", assets, deps, people, links)


def random_events(region: Region, n_events: int, seed: int = 1,
                  density: float = 0.2) -> EventSet:
    rng = np.random.default_rng(seed)
    intensity = rng.uniform(0.05, 1.2, (n_events, region.n_assets))
    intensity[rng.random(intensity.shape) > density] = 0.0
    onset = np.where(rng.random(n_events) < 0.5, rng.integers(1, 6, n_events), 0).astype(float)
    return EventSet(sparse.csr_matrix(intensity), region.assets["asset_id"].to_numpy(),
                    pd.DataFrame({"hazard": "earthquake",
                                  "annual_rate": rng.uniform(0.001, 0.1, n_events),
                                  "time_offset_hours": onset}))


def dense_oracle(region: Region, eventset: EventSet, n_samples: int, hours: int, seed: int):
    """Per event: loss [S], people-hours {service: [S]}, down sample-hours and samples
    ever down [assets] — every asset, every hour."""
    ctx = build_context(region, ["earthquake"], n_samples, hours)
    key = run_key(seed)
    m = region.n_assets
    out = []
    for e in range(eventset.n_events):
        row = eventset.intensity[e].toarray().ravel().astype(np.float64)
        onset = np.float32(eventset.events["time_offset_hours"].iloc[e])
        exposed = np.flatnonzero(row > 0)
        states = np.zeros((n_samples, m), np.uint8)
        repair = np.zeros((n_samples, m), np.float32)
        if len(exposed):
            u = keyed_uniforms(key, e, exposed, n_samples, DAMAGE_STREAM)
            states[:, exposed] = _damage_states(ctx, "earthquake", row[exposed], exposed, u)
            u = keyed_uniforms(key, e, exposed, n_samples, REPAIR_STREAM)
            repair[:, exposed] = _repair_hours(ctx, "earthquake", exposed, states[:, exposed], u)
        loss = ctx.damage_ratio[np.arange(m)[None, :], states] @ ctx.value_eur
        end = np.where(states > 0, onset + repair, 0.0).astype(np.float32)
        start = np.where(states > 0, onset, 0.0).astype(np.float32)
        state = propagate(ctx.graph, end, hours, start)
        down = ~state.working & sample_mask(n_samples)
        hours_without = people_hours_without_service(state.working, n_samples, ctx.links)
        people = {s: hours_without[s].T @ ctx.links.population[s] for s in ctx.links.services}
        out.append((loss, people, np.bitwise_count(down).sum(axis=0),
                    np.bitwise_count(np.bitwise_or.reduce(down, axis=0))))
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sparse_run_equals_the_dense_oracle(seed):
    region = random_region(seed=seed)
    es = random_events(region, 6, seed=seed + 10)
    S, hours = 64, 24
    result = run_risk(region, es, S, hours, seed=seed, events_per_block=4)
    oracle = dense_oracle(region, es, S, hours, seed)
    rates = es.events["annual_rate"].to_numpy()
    down = np.zeros(region.n_assets)
    out = np.zeros(region.n_assets)
    for e, (loss, people, down_e, out_e) in enumerate(oracle):
        np.testing.assert_allclose(result.loss_eur[e], loss, rtol=1e-12)
        for service, values in people.items():
            np.testing.assert_array_equal(result.people_hours[service][e], values)
        down += rates[e] * down_e / S
        out += rates[e] * out_e / S
    np.testing.assert_allclose(result.asset_down_hours.sum(axis=0), down, rtol=1e-12)
    np.testing.assert_allclose(result.asset_outage_probability.sum(axis=0), out, rtol=1e-12)
    assert result.loss_eur.any() and result.asset_down_hours.any()


def test_results_do_not_depend_on_events_per_block():
    region = random_region(seed=4)
    es = random_events(region, 11, seed=5)
    runs = [run_risk(region, es, 40, 24, seed=7, events_per_block=b) for b in (1, 3, 16)]
    for other in runs[1:]:
        np.testing.assert_array_equal(runs[0].loss_eur, other.loss_eur)
        for s in runs[0].services:
            np.testing.assert_array_equal(runs[0].people_hours[s], other.people_hours[s])
        np.testing.assert_array_equal(runs[0].assets_damaged, other.assets_damaged)
        np.testing.assert_array_equal(runs[0].asset_loss_eur, other.asset_loss_eur)
        np.testing.assert_array_equal(runs[0].asset_down_hours, other.asset_down_hours)
        np.testing.assert_array_equal(runs[0].asset_outage_probability,
                                      other.asset_outage_probability)


def test_sample_s_is_the_same_with_more_samples():
    """Draws are keyed by sample: the first 64 of 100 samples are the 64-sample run."""
    region = random_region(seed=6)
    es = random_events(region, 4, seed=8)
    small = run_risk(region, es, 64, 24, seed=3)
    large = run_risk(region, es, 100, 24, seed=3)
    np.testing.assert_array_equal(small.loss_eur, large.loss_eur[:, :64])
    for s in small.services:
        np.testing.assert_array_equal(small.people_hours[s], large.people_hours[s][:, :64])


def test_keyed_uniforms_are_uniform_and_keyed():
    key = run_key(1)
    u = keyed_uniforms(key, 5, np.arange(2000), 64)
    assert u.shape == (64, 2000) and 0.0 <= u.min() and u.max() < 1.0
    assert abs(u.mean() - 0.5) < 0.005 and abs(u.var() - 1 / 12) < 0.002
    np.testing.assert_array_equal(keyed_uniforms(key, 5, [7, 3], 64), u[:, [7, 3]])
    assert not np.array_equal(keyed_uniforms(key, 6, [7], 64), u[:, [7]])
    assert not np.array_equal(keyed_uniforms(run_key(2), 5, [7], 64), u[:, [7]])
    repair = keyed_uniforms(key, 5, np.arange(2000), 64, REPAIR_STREAM)
    assert abs(np.corrcoef(u.ravel(), repair.ravel())[0, 1]) < 0.01


def test_line_loss_scales_with_the_exposed_length(tiny_region):
    """A line asset loses value in proportion to its length inside the footprint
    (the same event draws the same damage, whatever the exposed length)."""
    road = int(np.flatnonzero(tiny_region.assets["asset_id"] == "road")[0])
    length = build_context(tiny_region, ["flood"], 8, 4).line_length_m[road]
    intensity = np.zeros((1, tiny_region.n_assets))
    intensity[0, road] = 3.0
    ids = tiny_region.assets["asset_id"].to_numpy()
    events = pd.DataFrame({"hazard": "flood", "annual_rate": [0.1]})
    losses = []
    for share in (1.0, 0.25):
        exposed = np.zeros_like(intensity)
        exposed[0, road] = share * length
        es = EventSet(sparse.csr_matrix(intensity), ids, events, sparse.csr_matrix(exposed))
        losses.append(run_risk(tiny_region, es, 64, 4, seed=1).loss_eur[0])
    assert losses[0].max() > 0
    np.testing.assert_allclose(losses[1], 0.25 * losses[0], rtol=1e-6)


def test_repair_times_beyond_the_limit_are_skipped_not_changed():
    region = random_region(seed=9)
    ctx = build_context(region, ["earthquake"], 64, 48)
    assets = np.arange(region.n_assets)
    rng = np.random.default_rng(0)
    states = rng.integers(0, 5, (64, region.n_assets)).astype(np.uint8)
    u = rng.random(states.shape)
    exact = _repair_hours(ctx, "earthquake", assets, states, u)
    limited = _repair_hours(ctx, "earthquake", assets, states, u, limit_hours=30.0)
    early = exact < 29.0
    assert early.any() and (~early & (states > 0)).any()
    np.testing.assert_array_equal(limited[early], exact[early])
    assert (limited[~early] >= 29.0).all()
