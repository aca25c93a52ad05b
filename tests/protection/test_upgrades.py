"""Upgrade ranking, portfolios (exact = brute force), insider, uncertainty bands."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from cascada.errors import CascadaInputError
from cascada.protection.compiled import compile_site
from cascada.protection.paths import most_vulnerable_path
from cascada.protection.site import load_site
from cascada.protection.upgrades import (
    apply_options,
    choose_portfolio,
    interruption_uncertainty,
    load_options,
    options_from_dict,
    rank_options,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "protection"


@pytest.fixture(scope="module")
def site():
    return load_site(EXAMPLES / "chemical_store.toml")


@pytest.fixture(scope="module")
def options(site):
    return load_options(EXAMPLES / "options.toml", site)


def _worst(site):
    return min(most_vulnerable_path(site, t).p_interruption for t in site.tactics())


def test_compiled_equals_site_evaluation(site, options):
    compiled = compile_site(site)
    assert compiled.worst()[0] == pytest.approx(_worst(site), abs=1e-12)
    for option in options:
        after = rank_options(compiled, [option])["p_interruption_after"].iloc[0]
        assert after == pytest.approx(_worst(apply_options(site, [option])), abs=1e-12)


def test_ranking_is_by_gain_per_euro(site, options):
    table = rank_options(site, options)
    assert list(table["gain_per_million_eur"]) == sorted(table["gain_per_million_eur"],
                                                         reverse=True)
    assert (table["gain"] >= -1e-12).all()
    assert table["option"].iloc[0] == "fence-fibre"


def test_exact_portfolio_equals_brute_force(site, options):
    budget = 200_000
    best = -1.0
    for r in range(len(options) + 1):
        for subset in itertools.combinations(options, r):
            groups = [o.group for o in subset if o.group]
            if sum(o.cost_eur for o in subset) > budget or len(groups) != len(set(groups)):
                continue
            best = max(best, _worst(apply_options(site, subset)))
    portfolio = choose_portfolio(site, options, budget, method="exact")
    assert portfolio.p_interruption == pytest.approx(best, abs=1e-12)
    assert portfolio.cost_eur <= budget
    greedy = choose_portfolio(site, options, budget, method="greedy")
    assert greedy.cost_eur <= budget
    assert greedy.p_interruption <= portfolio.p_interruption + 1e-12
    assert choose_portfolio(site, options, 0).options == ()


def test_faster_response_option_never_lowers_p_i(site):
    opts = options_from_dict({"options": [
        {"id": "fast", "cost_eur": 1, "target": "response", "response_mean_s": 60}]}, site)
    assert rank_options(site, opts)["gain"].iloc[0] > 0


@pytest.mark.parametrize("option, words", [
    ({"id": "x", "cost_eur": 1, "target": "moat", "p_detection": 0.5}, ["'moat'"]),
    ({"id": "x", "cost_eur": -1, "target": "store-wall", "p_detection": 0.5}, ["cost_eur"]),
    ({"id": "x", "cost_eur": 1, "target": "store-wall", "p_detection": 1.2}, ["p_detection"]),
    ({"id": "x", "cost_eur": 1, "target": "store-wall"}, ["changes nothing"]),
    ({"id": "x", "cost_eur": 1, "target": "response", "p_detection": 0.5},
     ["p_detection does not apply"]),
])
def test_bad_options(site, option, words):
    with pytest.raises(CascadaInputError) as info:
        options_from_dict({"options": [option]}, site, source="options.toml")
    for word in [*words, "options.toml", "'x'"]:
        assert word in str(info.value)


def test_uncertainty_bands_are_seeded_and_bracket_the_median(site):
    a = interruption_uncertainty(site, n_samples=500, rng=np.random.default_rng(3))
    b = interruption_uncertainty(site, n_samples=500, rng=np.random.default_rng(3))
    np.testing.assert_array_equal(a["samples"], b["samples"])
    assert 0 <= a["p05"] <= a["p50"] <= a["p95"] <= 1
    assert a["p05"] < a["p_interruption_nominal"] < a["p95"]
    # No uncertainty: every sample is the nominal value.
    c = interruption_uncertainty(site, n_samples=10, rng=np.random.default_rng(0),
                                 p_detection_sd=0.0, delay_relative_sd=0.0,
                                 response_relative_sd=0.0)
    np.testing.assert_allclose(c["samples"], c["p_interruption_nominal"], atol=1e-12)
