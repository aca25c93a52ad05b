"""Measures: effects on copies, cost-benefit by hand, portfolios, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse

from cascada.errors import CascadaInputError
from cascada.hazards.eventset import EventSet
from cascada.measures.costbenefit import (
    RiskRun,
    annuity_factor,
    appraise,
    present_cost,
)
from cascada.measures.model import Measure, Settings, apply_measures, read_measures
from cascada.measures.portfolio import choose_portfolio, knapsack_brute, knapsack_ilp
from cascada.risk.montecarlo import run_risk


def measure(**effect) -> Measure:
    return Measure(id=effect.pop("id", "m"), capital_eur=effect.pop("capital", 300.0),
                   lifetime_years=effect.pop("lifetime", 10.0), effect=effect)


def test_cost_benefit_by_hand_as_climada():
    """One event at 0.1/yr losing EUR 1000, EUR 400 with the measure: EUR 60/yr avoided;
    no discounting over 10 years: benefit EUR 600 for a EUR 300 measure → BCR 2."""
    base = RiskRun(np.array([0.1]), {"direct_loss_eur": np.full((1, 4), 1000.0)})
    better = RiskRun(np.array([0.1]), {"direct_loss_eur": np.full((1, 4), 400.0)})
    m = measure(kind="backup", asset_types=["power.substation"], hours=10)
    row = appraise([m], base, better, Settings(discount_rate=0.0, horizon_years=10))
    assert row["avoided_eur_per_year"] == pytest.approx(60.0)
    assert row["benefit_pv_eur"] == pytest.approx(600.0)
    assert row["cost_pv_eur"] == pytest.approx(300.0)
    assert row["bcr"] == pytest.approx(2.0) and row["npv_eur"] == pytest.approx(300.0)
    assert row["avoided_eur_per_year_se"] == 0  # identical samples: no sampling error


def test_discounting_and_renewals():
    assert annuity_factor(0.0, 30) == 30
    assert annuity_factor(0.03, 30) == pytest.approx((1 - 1.03 ** -30) / 0.03)
    m = measure(kind="backup", asset_types=["x"], hours=1, capital=100.0, lifetime=10.0)
    assert present_cost(m, 0.0, 30) == pytest.approx(300.0)  # bought at 0, 10 and 20
    assert present_cost(m, 0.05, 30) == pytest.approx(100 * (1 + 1.05 ** -10 + 1.05 ** -20))


def test_people_hours_are_valued():
    base = RiskRun(np.array([1.0]), {"direct_loss_eur": np.zeros((1, 2)),
                                     "people_hours_power": np.full((1, 2), 100.0)})
    better = RiskRun(np.array([1.0]), {"direct_loss_eur": np.zeros((1, 2)),
                                       "people_hours_power": np.full((1, 2), 40.0)})
    row = appraise([measure(kind="backup", asset_types=["x"], hours=1)], base, better,
                   Settings(discount_rate=0.0, horizon_years=1,
                            value_eur_per_person_hour={"power": 2.0}))
    assert row["avoided_eur_per_year"] == pytest.approx(120.0)
    assert row["avoided_people_hours_power_per_year"] == pytest.approx(60.0)


def quake(region, pga: float) -> EventSet:
    m = region.n_assets
    return EventSet(sparse.csr_matrix(np.full((2, m), pga, np.float32)),
                    region.assets["asset_id"].to_numpy(),
                    pd.DataFrame({"event_id": ["a", "b"], "hazard": "earthquake",
                                  "annual_rate": [0.1, 0.01]}))


def test_backup_only_never_increases_outage(tiny_region):
    es = quake(tiny_region, 0.4)
    base = run_risk(tiny_region, es, 16, 72, seed=3)
    applied = apply_measures(tiny_region, es, [measure(kind="backup", hours=24,
                                                       asset_types=["health.hospital",
                                                                    "telecom.mast"])])
    better = run_risk(applied.region, applied.eventset, 16, 72, seed=3)
    for service, hours in base.people_hours.items():
        assert np.all(better.people_hours[service] <= hours + 1e-9), service
    assert np.array_equal(better.loss_eur, base.loss_eur)  # backups change no damage


def test_effects_apply_to_copies_only(tiny_region):
    es = quake(tiny_region, 0.4)
    before_deps = tiny_region.dependencies.copy()
    before = es.intensity.toarray().copy()
    applied = apply_measures(tiny_region, es, [
        measure(kind="fragility", hazard="earthquake", median_factor=2.0,
                asset_ids=["sub-a"]),
        measure(kind="redundancy", asset_ids=["mast"], supplier="sub-b", dependency="power"),
        measure(kind="crews", sector="power", crews=2)])
    pd.testing.assert_frame_equal(tiny_region.dependencies, before_deps)
    assert np.array_equal(es.intensity.toarray(), before)
    col = list(tiny_region.assets["asset_id"]).index("sub-a")
    assert applied.eventset.intensity.toarray()[0, col] == pytest.approx(0.2)
    deps = applied.region.dependencies
    assert ((deps["consumer"] == "mast") & (deps["supplier"] == "sub-b")).any()
    assert applied.not_evaluated == ("m",)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 100), st.floats(1, 50)), min_size=1, max_size=7),
       st.floats(0, 200))
def test_ilp_and_brute_force_agree(items, budget):
    values = np.array([v for v, _ in items])
    costs = np.array([c for _, c in items])
    ilp = knapsack_ilp(values, costs, budget)
    brute = knapsack_brute(values, costs, budget)
    assert costs[ilp].sum() <= budget + 1e-6
    assert values[ilp].sum() == pytest.approx(values[brute].sum(), abs=1e-6)


def toy_evaluate(gains: dict[str, float]):
    """A fake risk model: each applied measure's id lowers loss by its gain (interaction:
    the two 'flood' measures overlap, together they save only the larger)."""
    def evaluate(region, es) -> RiskRun:
        applied = es.metadata.get("applied", [])
        flood = [gains[m] for m in applied if m.startswith("flood")]
        saved = sum(gains[m] for m in applied if not m.startswith("flood")) + max(flood,
                                                                                  default=0)
        return RiskRun(np.array([1.0]), {"direct_loss_eur": np.full((1, 2), 1000.0 - saved)})
    return evaluate


@pytest.mark.parametrize("exact_max", [5, 0])
def test_fuller_budget_never_lowers_avoided_risk(tiny_region, monkeypatch, exact_max):
    import cascada.measures.costbenefit as cb

    def tagged(region, eventset, chosen):
        out = apply_measures(region, eventset, chosen)
        out.eventset.metadata["applied"] = [m.id for m in chosen]
        return out

    monkeypatch.setattr(cb, "apply_measures", tagged)
    gains = {"flood-a": 50.0, "flood-b": 40.0, "quake": 30.0, "fire": 10.0}
    options = [measure(id=k, kind="backup", asset_types=["power.substation"], hours=1,
                       capital=c) for k, c in zip(gains, [100, 80, 60, 20], strict=True)]
    es = quake(tiny_region, 0.1)
    best = []
    for budget in (20, 60, 100, 160, 180, 260):
        p = choose_portfolio(tiny_region, es, options, budget, toy_evaluate(gains),
                             Settings(discount_rate=0.0, horizon_years=1), exact_max=exact_max)
        row = p.evaluated.set_index("subset").loc[[p.chosen]].iloc[0]
        assert row["capital_eur"] <= budget
        best.append(row["benefit_pv_eur"])
    assert best == sorted(best)
    assert best[-1] == pytest.approx(90.0)  # flood-a + quake + fire; flood-b adds nothing


def test_budget_smaller_than_every_measure(tiny_region):
    options = [measure(kind="backup", asset_types=["power.substation"], hours=1, capital=50)]
    with pytest.raises(CascadaInputError, match="smaller than every"):
        choose_portfolio(tiny_region, quake(tiny_region, 0.1), options, 10.0,
                         toy_evaluate({}), Settings())


BAD = [
    ('capital_eur = -1.0', "capital_eur"),
    ('lifetime_years = 0', "lifetime_years"),
    ('effect = { kind = "backup", asset_ids = ["nope"], hours = 4 }', "asset_ids"),
    ('effect = { kind = "backup", asset_types = ["power.nothing"], hours = 4 }', "asset_types"),
    ('effect = { kind = "fragility", asset_ids = ["sub-a"], hazard = "earthquake" }', "effect"),
]


@pytest.mark.parametrize(("line", "field"), BAD)
def test_bad_measures_name_the_field(tmp_path, tiny_region, line, field):
    good = {"capital_eur": "capital_eur = 100.0", "lifetime_years": "lifetime_years = 10",
            "effect": 'effect = { kind = "backup", asset_ids = ["sub-a"], hours = 4 }'}
    key = line.split(" =")[0]
    good[key] = line
    path = tmp_path / "m.toml"
    path.write_text('[[measures]]\nid = "x"\n' + "\n".join(good.values()) + "\n",
                    encoding="utf-8")
    with pytest.raises(CascadaInputError) as err:
        read_measures(path, tiny_region)
    assert field in (err.value.field or "") and err.value.row == 1
    assert str(path) in str(err.value.file)
