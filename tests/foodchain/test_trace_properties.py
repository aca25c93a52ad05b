"""Tracing and FCL scores against a plain-Python transcription of FCL's definitions.

The reference below follows FoodChain-Lab's definitions literally (sets and
recursion, fine for a dozen deliveries); the library computes the same sets
with vectorised BFS over CSR arrays and scores by reverse traces.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from cascada.foodchain.model import FoodNetwork
from cascada.foodchain.scores import fcl_scores
from cascada.foodchain.trace import TraceOptions, Tracer


class Reference:
    """FCL tracing, literally: link sets, then recursive forward/backward sets."""

    def __init__(self, network: FoodNetwork, options: TraceOptions) -> None:
        d = network.deliveries.set_index("delivery_id")
        self.sup = d["supplier"].to_dict()
        self.rec = d["recipient"].to_dict()

        def ymd(text: str) -> tuple[int, int, int]:
            parts = [int(p) for p in text.split("-")] if text else []
            return tuple(parts + [0] * (3 - len(parts)))  # type: ignore[return-value]

        dep = {k: ymd(v) for k, v in d["departure"].items()}
        arr = {k: ymd(v) for k, v in d["arrival"].items()}
        self.arr = {k: arr[k] if arr[k][0] else dep[k] for k in d.index}
        self.dep = {k: dep[k] if dep[k][0] else arr[k] for k in d.index}
        ids = list(d.index)
        self.nxt = {k: set() for k in ids}
        self.prv = {k: set() for k in ids}
        for a, b in zip(network.relations["from_delivery"], network.relations["to_delivery"],
                        strict=True):
            self.nxt[a].add(b)
            self.prv[b].add(a)
        self.incoming = {s: set() for s in network.stations["station_id"]}
        self.outgoing = {s: set() for s in network.stations["station_id"]}
        for k in ids:
            self.incoming[self.rec[k]].add(k)
            self.outgoing[self.sup[k]].add(k)
        t = options.enforce_temporal_order
        for s in options.cross_contamination_stations:
            for i in self.incoming[s]:
                for o in self.outgoing[s]:
                    if i != o and (not t or self.before(i, o)):
                        self.nxt[i].add(o)
                        self.prv[o].add(i)
        for a in options.cross_contamination_deliveries:
            for b in options.cross_contamination_deliveries:
                if a == b or self.rec[a] != self.rec[b]:
                    continue
                for o in list(self.nxt[a]):
                    if not t or self.before(b, o):
                        self.nxt[b].add(o)
                        self.prv[o].add(b)
                for o in list(self.nxt[b]):
                    if not t or self.before(a, o):
                        self.nxt[a].add(o)
                        self.prv[o].add(a)
        self.kill_s = set(options.kill_contamination_stations)
        self.kill_d = set(options.kill_contamination_deliveries)
        for s in self.kill_s:
            for i in self.incoming[s]:
                for o in self.nxt[i]:
                    self.prv[o].discard(i)
                self.nxt[i] = set()
            for o in self.outgoing[s]:
                for i in self.prv[o]:
                    self.nxt[i].discard(o)
                self.prv[o] = set()
            self.outgoing[s] = set()
        for k in self.kill_d:
            for o in self.nxt[k]:
                self.prv[o].discard(k)
            self.nxt[k] = set()
            self.incoming[self.rec[k]].discard(k)

    def before(self, a: str, b: str) -> bool:
        (y1, m1, d1), (y2, m2, d2) = self.arr[a], self.dep[b]
        if not y1 or not y2 or y2 != y1:
            return not y1 or not y2 or y2 > y1
        if not m1 or not m2 or m2 != m1:
            return not m1 or not m2 or m2 > m1
        return not d1 or not d2 or d2 >= d1

    def fwd(self, k: str) -> set[str]:
        seen: set[str] = set()
        stack = [k]
        while stack:
            for n in self.nxt[stack.pop()]:
                if n not in seen:
                    seen.add(n)
                    stack.append(n)
        seen.discard(k)
        return seen

    def bwd(self, k: str) -> set[str]:
        seen: set[str] = set()
        stack = [k]
        while stack:
            for n in self.prv[stack.pop()]:
                if n not in seen:
                    seen.add(n)
                    stack.append(n)
        seen.discard(k)
        return seen

    def fwd_stations_of_delivery(self, k: str) -> set[str]:
        out = {self.rec[f] for f in self.fwd(k)}
        if k not in self.kill_d:
            out.add(self.rec[k])
        return out

    def bwd_stations_of_delivery(self, k: str) -> set[str]:
        out = {self.sup[b] for b in self.bwd(k)}
        if self.sup[k] not in self.kill_s:
            out.add(self.sup[k])
        return out

    def fwd_stations(self, s: str) -> set[str]:
        return set().union(*[self.fwd_stations_of_delivery(o) for o in self.outgoing[s]])

    def bwd_stations(self, s: str) -> set[str]:
        return set().union(*[self.bwd_stations_of_delivery(i) for i in self.incoming[s]])

    def fwd_deliveries(self, s: str) -> set[str]:
        return set().union(*[{o} | self.fwd(o) for o in self.outgoing[s]])

    def scores(self, w_s: dict, w_d: dict) -> tuple[dict, dict]:
        total = sum(w for w in list(w_s.values()) + list(w_d.values()) if w > 0)
        st = {s: (w_s.get(s, 0.0) + sum(w_s.get(x, 0.0) for x in self.fwd_stations(s))
                  + sum(w_d.get(x, 0.0) for x in self.fwd_deliveries(s))) / total
              for s in self.outgoing | self.incoming}
        de = {k: (w_d.get(k, 0.0) + sum(w_s.get(x, 0.0) for x in self.fwd_stations_of_delivery(k))
                  + sum(w_d.get(x, 0.0) for x in self.fwd(k))) / total for k in self.sup}
        return st, de


@st.composite
def networks(draw):
    n_stations = draw(st.integers(2, 6))
    n_deliveries = draw(st.integers(1, 14))
    stations = [f"s{i}" for i in range(n_stations)]
    rows = []
    for i in range(n_deliveries):
        sup = draw(st.sampled_from(stations))
        rec = draw(st.sampled_from([s for s in stations if s != sup]))
        day = draw(st.one_of(st.none(), st.integers(1, 9)))
        dep = "" if day is None else f"2020-01-0{day}"
        arr = "" if day is None or draw(st.booleans()) else f"2020-01-0{min(day + 1, 9)}"
        rows.append((f"d{i}", sup, rec, dep, arr))
    deliveries = pd.DataFrame(rows, columns=["delivery_id", "supplier", "recipient",
                                             "departure", "arrival"])
    pairs = [(a[0], b[0]) for i, a in enumerate(rows) for j, b in enumerate(rows)
             if i < j and a[2] == b[1]]
    chosen = draw(st.lists(st.sampled_from(pairs), unique=True)) if pairs else []
    relations = pd.DataFrame(chosen, columns=["from_delivery", "to_delivery"])
    network = FoodNetwork.from_tables(deliveries, pd.DataFrame({"station_id": stations}),
                                      relations)
    d_ids = list(deliveries["delivery_id"])
    options = TraceOptions(
        enforce_temporal_order=draw(st.booleans()),
        cross_contamination_stations=tuple(draw(st.lists(st.sampled_from(stations),
                                                         unique=True, max_size=2))),
        cross_contamination_deliveries=tuple(draw(st.lists(st.sampled_from(d_ids),
                                                           unique=True, max_size=3))),
        kill_contamination_stations=tuple(draw(st.lists(st.sampled_from(stations),
                                                        unique=True, max_size=1))),
        kill_contamination_deliveries=tuple(draw(st.lists(st.sampled_from(d_ids),
                                                          unique=True, max_size=2))),
    )
    return network, options


def _acyclic(reference: Reference) -> bool:
    """No delivery reaches itself (cross-contamination can close loops)."""
    for k in reference.sup:
        seen: set[str] = set()
        stack = [k]
        while stack:
            for n in reference.nxt[stack.pop()]:
                if n == k:
                    return False
                if n not in seen:
                    seen.add(n)
                    stack.append(n)
    return True


@settings(max_examples=30, deadline=None)
@given(networks())
def test_traces_match_the_fcl_definitions(case):
    network, options = case
    reference = Reference(network, options)
    if not _acyclic(reference):  # cross-contamination can close loops; FCL then recurses oddly
        return
    tracer = Tracer(network, options)
    for s in network.stations["station_id"]:
        assert tracer.forward_stations_of_station(s) == reference.fwd_stations(s)
        assert tracer.backward_stations_of_station(s) == reference.bwd_stations(s)
        assert tracer.forward_deliveries_of_station(s) == reference.fwd_deliveries(s)
    for k in network.deliveries["delivery_id"]:
        assert tracer.forward_deliveries_of_delivery(k) == reference.fwd(k)
        assert tracer.backward_deliveries_of_delivery(k) == reference.bwd(k)
        assert tracer.forward_stations_of_delivery(k) == reference.fwd_stations_of_delivery(k)
        assert tracer.backward_stations_of_delivery(k) == reference.bwd_stations_of_delivery(k)


@settings(max_examples=25, deadline=None)
@given(networks(), st.data())
def test_scores_match_the_fcl_definition(case, data):
    network, options = case
    reference = Reference(network, options)
    if not _acyclic(reference):
        return
    stations = list(network.stations["station_id"])
    w_s = {s: float(data.draw(st.integers(1, 3))) for s in
           data.draw(st.lists(st.sampled_from(stations), unique=True, min_size=1, max_size=3))}
    w_d = {k: float(data.draw(st.integers(1, 3))) for k in
           data.draw(st.lists(st.sampled_from(list(network.deliveries["delivery_id"])),
                              unique=True, max_size=2))}
    scores = fcl_scores(network, w_s, w_d, options=options)
    expected_s, expected_d = reference.scores(w_s, w_d)
    got_s = scores.stations.set_index("station_id")["score"]
    got_d = scores.deliveries.set_index("delivery_id")["score"]
    for s, value in expected_s.items():
        assert got_s[s] == np.float64(value) or abs(got_s[s] - value) < 1e-12, s
    for k, value in expected_d.items():
        assert abs(got_d[k] - value) < 1e-12, k


@settings(max_examples=30, deadline=None)
@given(networks(), st.data())
def test_kill_contamination_never_enlarges_a_forward_set(case, data):
    network, options = case
    stations = list(network.stations["station_id"])
    deliveries = list(network.deliveries["delivery_id"])
    extra_s = tuple(data.draw(st.lists(st.sampled_from(stations), unique=True, max_size=2)))
    extra_d = tuple(data.draw(st.lists(st.sampled_from(deliveries), unique=True, max_size=3)))
    killing = TraceOptions(
        options.enforce_temporal_order, options.cross_contamination_stations,
        options.cross_contamination_deliveries,
        tuple(set(options.kill_contamination_stations) | set(extra_s)),
        tuple(set(options.kill_contamination_deliveries) | set(extra_d)))
    plain, killed = Tracer(network, options), Tracer(network, killing)
    start = data.draw(st.sampled_from(stations))
    a, b = plain.forward(stations=(start,)), killed.forward(stations=(start,))
    assert b.station_ids <= a.station_ids
    assert b.delivery_ids <= a.delivery_ids
    k = data.draw(st.sampled_from(deliveries))
    assert killed.forward_deliveries_of_delivery(k) <= plain.forward_deliveries_of_delivery(k)
    assert killed.forward_stations_of_delivery(k) <= plain.forward_stations_of_delivery(k)
