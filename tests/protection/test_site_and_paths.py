"""Site files, bad input, path enumeration, the most vulnerable path and the timeline."""

from __future__ import annotations

import copy
import itertools
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cascada.errors import CascadaInputError
from cascada.protection.paths import (
    critical_detection_path,
    enumerate_paths,
    evaluate_paths,
    most_vulnerable_path,
    path_timeline,
)
from cascada.protection.site import load_site, site_from_dict

from .helpers import layered_site

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "protection" / "chemical_store.toml"


@pytest.fixture(scope="module")
def example():
    return load_site(EXAMPLE)


def test_example_site_reproduces_the_regression_path(example):
    table = evaluate_paths(example, ["stealth"])
    main = table[table["path"] == "perimeter-fence → warehouse-door → store-wall"]
    assert main["p_interruption"].iloc[0] == pytest.approx(0.5929512244917211, rel=1e-12)
    assert len(enumerate_paths(example)) == 2 * 3 * 2
    assert example.tactics() == ["stealth", "force", "insider"]


def test_json_and_toml_read_the_same(tmp_path, example):
    import json

    path = tmp_path / "site.json"
    path.write_text(json.dumps(example.model_dump(by_alias=True, exclude={"source"})))
    again = load_site(path)
    assert again.model_dump(exclude={"source"}) == example.model_dump(exclude={"source"})


def _base():
    return layered_site([[{"p_detection": 0.5, "delay_mean_s": 30, "delay_sd_s": 9}],
                         [{"p_detection": 0.9, "delay_mean_s": 60, "delay_sd_s": 18}]])


@pytest.mark.parametrize("change, words", [
    (lambda d: d["elements"][1].update(p_detection=1.5), ["e10", "p_detection"]),
    (lambda d: d["elements"][0].update(p_detection=-0.1), ["e00", "p_detection"]),
    (lambda d: d["elements"][1].update(delay_mean_s=-5), ["e10", "delay_mean_s"]),
    (lambda d: d["elements"][0].update(force={"delay_sd_s": -1}), ["e00", "force.delay_sd_s"]),
    (lambda d: d["elements"][1].update(type="moat"), ["e10", "unknown element type 'moat'"]),
    (lambda d: d["elements"][1].update(location="halfway"), ["e10", "location"]),
    (lambda d: d["elements"][1].update(to="a0"), ["no path", "'a2'"]),
    (lambda d: d["elements"][1].update(id="e00"), ["duplicate element id 'e00'"]),
    (lambda d: d["elements"][0].update(colour="red"), ["e00", "colour"]),
    (lambda d: d["response"].update(p_communication=2), ["[response]", "p_communication"]),
    (lambda d: d["site"].update(target="vault"), ["target area 'vault'"]),
    (lambda d: d.update(insider={"bypass_detection": ["nope"]}), ["'nope'"]),
    (lambda d: d["elements"][0].update(to="a0"), ["'e00'", "to itself"]),
])
def test_bad_input_names_the_element(change, words):
    data = _base()
    change(data)
    with pytest.raises(CascadaInputError) as info:
        site_from_dict(data, source="site.toml")
    message = str(info.value)
    assert "site.toml" in message
    for word in words:
        assert word in message


def test_unparseable_and_missing_files(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[site\n")
    with pytest.raises(CascadaInputError, match="cannot parse"):
        load_site(bad)
    with pytest.raises(CascadaInputError, match="not found"):
        load_site(tmp_path / "none.toml")


def test_insider_bypasses_detection(example):
    stealth = evaluate_paths(example, ["stealth"]).set_index("path")["p_interruption"]
    insider = evaluate_paths(example, ["insider"]).set_index("path")["p_interruption"]
    insider = insider.reindex(stealth.index)
    assert (insider <= stealth + 1e-12).all()
    assert (insider < stealth - 1e-3).any()


def test_timeline(example):
    path = ("perimeter-fence", "warehouse-door", "store-wall")
    table = path_timeline(example, path, "stealth")
    assert list(table["id"]) == ["perimeter-fence", "transit:yard", "warehouse-door",
                                 "transit:hall", "store-wall", "transit:store"]
    assert table["end_s"].iloc[-1] == pytest.approx(220.0)
    assert table["detection_s"].tolist() == pytest.approx([0, 10, 80, 105, 195, 195])
    assert table["contribution"].sum() == pytest.approx(0.5929512244917211, rel=1e-12)
    # Critical detection point: crossing the yard (210 s left >= 150 s); the door's
    # detection at 80 s leaves 140 s < 150 s.
    assert table.loc[table["critical"], "id"].tolist() == ["transit:yard"]


def test_most_vulnerable_path_of_the_example(example):
    table = evaluate_paths(example)
    for tactic in example.tactics():
        best = most_vulnerable_path(example, tactic)
        rows = table[table["tactic"] == tactic]
        assert best.p_interruption == pytest.approx(rows["p_interruption"].min(), abs=1e-12)
        assert best.p_effectiveness == pytest.approx(0.8 * best.p_interruption)


# ---------------------------------------------------------------- random ASDs

element = st.fixed_dictionaries({
    "p_detection": st.sampled_from([0.0, 0.1, 0.3, 0.5, 0.7, 0.9, 0.99]),
    "location": st.sampled_from(["beginning", "middle", "end"]),
    "delay_mean_s": st.floats(0.0, 200.0),
    "delay_sd_s": st.floats(0.0, 80.0),
})


@st.composite
def random_sites(draw):
    """Random small graphs: 3–5 areas, 2–8 elements between random pairs, response random."""
    n_areas = draw(st.integers(3, 5))
    pairs = [(a, b) for a in range(n_areas) for b in range(n_areas) if a != b]
    chosen = draw(st.lists(st.sampled_from(pairs), min_size=2, max_size=8))
    # Always a way through: a chain 0 → … → n-1.
    chain = [(i, i + 1) for i in range(n_areas - 1)]
    elements = []
    for k, (a, b) in enumerate(chain + chosen):
        elements.append({"id": f"e{k}", "type": "door", "from": f"a{a}", "to": f"a{b}",
                         **draw(element)})
    areas = [{"id": f"a{i}"} for i in range(n_areas)]
    for area in areas[1:]:
        if draw(st.booleans()):
            area["transit"] = draw(element)
    return site_from_dict({
        "site": {"outside": "a0", "target": f"a{n_areas - 1}"},
        "response": {"mean_s": draw(st.floats(0.0, 400.0)), "sd_s": draw(st.floats(0, 120)),
                     "p_communication": draw(st.sampled_from([0.9, 1.0]))},
        "areas": areas, "elements": elements,
    })


@settings(max_examples=60, deadline=None)
@given(random_sites())
def test_branch_and_bound_equals_brute_force(site):
    table = evaluate_paths(site, ["stealth"])
    best = most_vulnerable_path(site, "stealth")
    assert best.p_interruption == pytest.approx(table["p_interruption"].min(), abs=1e-12)
    assert " → ".join(best.elements) in set(
        table.loc[np.isclose(table["p_interruption"], best.p_interruption, atol=1e-12,
                             rtol=0), "path"])


def test_brute_force_enumeration_counts_simple_paths():
    data = layered_site([[{}, {}], [{}, {}, {}], [{}]])
    # Add a back edge a2 → a1 (never useful in a simple path to a3 after a1).
    data["elements"].append({"id": "back", "type": "door", "from": "a2", "to": "a1"})
    site = site_from_dict(data)
    paths = enumerate_paths(site)
    assert len(paths) == 2 * 3 * 1
    assert all(len(set(p)) == len(p) for p in paths)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.lists(st.sampled_from([0.0, 0.2, 0.5, 0.8, 0.95]), min_size=1,
                         max_size=3), min_size=1, max_size=4))
def test_cdp_path_minimises_detection_when_everything_is_timely(layers):
    """With no response delay every detection is timely: CDP = max Π(1 − P_D) path."""
    data = layered_site([[{"p_detection": p, "delay_mean_s": 10, "delay_sd_s": 1}
                          for p in layer] for layer in layers], response_mean_s=0.0,
                        response_sd_s=0.0, p_communication=1.0)
    site = site_from_dict(data)
    result = critical_detection_path(site, "stealth")
    best_miss = math.prod(max(1 - p for p in layer) for layer in layers)
    assert result.extra["p_interruption_cdp"] == pytest.approx(1 - best_miss, abs=1e-9)
    assert result.p_interruption == pytest.approx(1 - best_miss, abs=1e-9)


def test_cdp_ignores_late_detections():
    """A very good sensor too close to the target does not count in the CDP model."""
    data = layered_site([[{"p_detection": 0.3, "delay_mean_s": 100},
                          {"p_detection": 0.5, "delay_mean_s": 100}],
                         [{"p_detection": 0.0, "delay_mean_s": 100}],
                         [{"p_detection": 0.99, "location": "end", "delay_mean_s": 5},
                          {"p_detection": 0.0, "delay_mean_s": 5}]],
                        response_mean_s=150, response_sd_s=0)
    result = critical_detection_path(copy.deepcopy(site_from_dict(data)), "stealth")
    assert result.elements[0] == "e00"
    assert result.extra["p_interruption_cdp"] == pytest.approx(0.95 * 0.3)
    assert list(itertools.islice(result.elements, 3))[1] == "e10"
