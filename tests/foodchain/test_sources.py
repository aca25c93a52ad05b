"""Probabilistic source ranking and the synthetic benchmark generator."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cascada.errors import CascadaInputError
from cascada.foodchain.generator import (
    LayerSpec,
    contamination,
    drop_relations,
    generate_network,
    simulate_outbreak,
)
from cascada.foodchain.model import FoodNetwork
from cascada.foodchain.sources import WalkModel, rank_sources, read_cases
from cascada.foodchain.trace import Tracer

SMALL = LayerSpec(n_farms=12, n_processors=4, n_wholesalers=5, n_retailers=30,
                  n_deliveries=300, n_days=30, customers=3)


@pytest.fixture(scope="module")
def small():
    return generate_network(SMALL, seed=3)


def chain() -> FoodNetwork:
    """farm A -> P (40 kg), farm B -> P (10 kg); P -> shops X (lot from A), Y (lot from B)."""
    deliveries = pd.DataFrame({
        "delivery_id": ["a", "b", "x", "y", "z"],
        "supplier": ["A", "B", "P", "P", "C"],
        "recipient": ["P", "P", "X", "Y", "Y"],
        "departure": ["2024-01-01", "2024-01-01", "2024-01-03", "2024-01-03", "2024-01-02"],
        "amount": [40.0, 10.0, 30.0, 30.0, 5.0],
    })
    relations = pd.DataFrame({"from_delivery": ["a", "b"], "to_delivery": ["x", "y"]})
    return FoodNetwork.from_tables(deliveries, relations=relations)


def test_absorption_follows_lots_and_volumes():
    network = chain()
    model = WalkModel(network)
    rows = network.resolve_stations(("A", "B", "P", "C"))
    cases = network.resolve_stations(("X", "Y"))
    a = model.absorption(rows, cases)
    np.testing.assert_allclose(a, [[1, 0], [0, 1], [0.5, 0.5], [0, 1]])


def test_ranking_posteriors_and_priors():
    network = chain()
    ranking = rank_sources(network, {"X": 3})
    assert ranking["station_id"].iloc[0] == "A"
    assert ranking["posterior"].sum() == pytest.approx(1.0)
    assert list(ranking["rank"]) == list(range(1, len(ranking) + 1))
    with_prior = rank_sources(network, {"X": 3}, priors={"A": 0.0})
    assert with_prior.set_index("station_id").loc["A", "posterior"] == 0.0
    assert with_prior["station_id"].iloc[0] == "P"


def test_missing_links_keep_every_candidate_possible():
    network = chain()
    # a case at C's customer that no walk from A reaches, and one at a station
    # with no delivery at all (Q is added with no deliveries)
    stations = pd.concat([network.stations[["station_id"]],
                          pd.DataFrame({"station_id": ["Q"]})])
    lonely = FoodNetwork.from_tables(network.deliveries[["delivery_id", "supplier", "recipient",
                                                         "departure", "amount"]],
                                     stations, network.relations)
    ranking = rank_sources(lonely, {"X": 2, "Q": 1})
    assert np.isfinite(ranking["log_likelihood"]).all()
    assert ranking["station_id"].iloc[0] == "A"
    assert ranking.set_index("station_id").loc["A", "explained_cases"] == 2


def test_bad_cases():
    network = chain()
    with pytest.raises(CascadaInputError, match="unknown station 'nowhere'"):
        rank_sources(network, {"nowhere": 1})
    with pytest.raises(CascadaInputError, match="no cases"):
        rank_sources(network, {"X": 0})
    with pytest.raises(CascadaInputError, match=r"row 3.*unknown station 'Mars'"):
        read_cases(pd.DataFrame({"station": ["X", "Mars"], "cases": ["1", "2"]}), network,
                   file="cases.csv")
    counts = read_cases(pd.DataFrame({"station": ["X", "X", "Y"]}), network)
    assert counts.to_dict() == {"X": 2.0, "Y": 1.0}


def test_generator_is_deterministic_and_valid(small):
    again = generate_network(SMALL, seed=3)
    pd.testing.assert_frame_equal(small.deliveries, again.deliveries)
    pd.testing.assert_frame_equal(small.relations, again.relations)
    assert 250 <= small.n_deliveries <= 350
    assert small.metadata["synthetic"]
    types = small.stations.set_index("station_id")["station_type"]
    # layered: farms only supply, retailers only receive
    assert (types[small.deliveries["supplier"]] != "retailer").all()
    assert (types[small.deliveries["recipient"]] != "farm").all()


def test_contamination_shares_are_fractions(small):
    tracer = Tracer(small)
    farm = np.flatnonzero(small.stations["station_type"] == "farm")[0]
    start = tracer.graph.outgoing(np.array([farm]))
    share = contamination(tracer.graph, start)
    assert ((share >= 0) & (share <= 1 + 1e-12)).all()
    assert (share[start] == 1).all()
    reached = tracer.forward_reach(start)
    assert not share[~reached & ~np.isin(np.arange(len(share)), start)].any()


def test_outbreak_cases_are_downstream_of_the_source(small):
    farms = small.stations["station_id"][small.stations["station_type"] == "farm"]
    tracer = Tracer(small)
    for k, farm in enumerate(farms[:5]):
        cases = simulate_outbreak(small, farm, n_cases=15, seed=k, graph=tracer.graph)
        if cases.empty:
            continue
        assert cases.sum() == 15
        assert set(cases.index) <= tracer.forward(stations=(farm,)).station_ids


def test_probabilistic_ranking_finds_sources_on_the_generated_network(small):
    farms = list(small.stations["station_id"][small.stations["station_type"] == "farm"])
    model = WalkModel(small)
    hits = trials = 0
    for k, farm in enumerate(farms):
        cases = simulate_outbreak(small, farm, n_cases=20, seed=k, graph=model.graph)
        if cases.empty:
            continue
        ranking = rank_sources(small, cases, candidates=farms, model=model)
        trials += 1
        hits += farm in set(ranking["station_id"].head(3))
    assert trials >= 5 and hits / trials >= 0.6


def test_dropped_relations_still_rank(small):
    sparse_net = drop_relations(small, 0.3, seed=1)
    assert len(sparse_net.relations) < len(small.relations)
    farms = list(small.stations["station_id"][small.stations["station_type"] == "farm"])
    cases = next(c for c in (simulate_outbreak(small, f, n_cases=10, seed=0) for f in farms)
                 if not c.empty)
    ranking = rank_sources(sparse_net, cases, candidates=farms)
    assert np.isfinite(ranking["log_likelihood"]).all()


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), n_cases=st.integers(1, 12), extra=st.integers(1, 3))
def test_adding_a_case_downstream_only_of_the_true_source_never_lowers_it(seed, n_cases, extra):
    """Cases downstream only of the true source raise its posterior and its
    likelihood ratio against every other candidate (never lower them)."""
    spec = LayerSpec(n_farms=8, n_processors=4, n_wholesalers=6, n_retailers=40,
                     n_deliveries=120, n_days=20, customers=3, ingredients=1)
    network = generate_network(spec, seed=seed)
    tracer = Tracer(network)
    model = WalkModel(network, tracer=tracer, missing_links="absorb")
    farms = list(network.stations["station_id"][network.stations["station_type"] == "farm"])
    exclusive = {farm: [r for r in sorted(tracer.forward(stations=(farm,)).station_ids)
                        if set(farms) & tracer.backward(stations=(r,)).station_ids == {farm}]
                 for farm in farms}
    choices = [farm for farm in farms if exclusive[farm]]
    if not choices:
        return
    rng = np.random.default_rng(seed)
    source = choices[int(rng.integers(len(choices)))]
    cases = simulate_outbreak(network, source, n_cases=n_cases, seed=seed, graph=tracer.graph)
    if cases.empty:
        return
    station = exclusive[source][int(rng.integers(len(exclusive[source])))]
    before = rank_sources(network, cases, candidates=farms, model=model).set_index("station_id")
    more = cases.add(pd.Series({station: float(extra)}), fill_value=0.0)
    after = rank_sources(network, more, candidates=farms, model=model).set_index("station_id")
    assert after.loc[source, "posterior"] >= before.loc[source, "posterior"] - 1e-12
    ratio_before = before.loc[source, "log_likelihood"] - before["log_likelihood"]
    ratio_after = (after.loc[source, "log_likelihood"] - after["log_likelihood"]
                   ).reindex(ratio_before.index)
    assert (ratio_after >= ratio_before - 1e-9).all()
