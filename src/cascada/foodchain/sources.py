"""Probabilistic source ranking: which station most likely put the contamination in.

The model is the volume-weighted random walk of Horn & Friedrich (J. R. Soc.
Interface 16: 20180624, 2019), on deliveries so that lot relations are
respected:

- a contaminated unit leaves a candidate source s in one of its outgoing
  deliveries, with probability proportional to the delivery's amount;
- from a delivery d it moves into one of the deliveries made from d (the lot
  relations, plus cross-contamination links), with probability proportional
  to their amounts; a delivery that kills contamination goes nowhere;
- where d has no known relation but its recipient ships on (a missing link),
  it moves into the recipient's outgoing deliveries that may have departed
  after d arrived, proportional to amount;
- otherwise it is absorbed (consumed) at d's recipient.

Absorption probabilities A[s, r] = start_s · (I − Q)⁻¹ R[:, r] come from one
sparse LU solve with one right-hand side per case station. Each case is
explained by the walk with probability 1 − ε, or arrived by an unknown route
with probability ε spread evenly over the n_end possible case locations
(stations without outgoing deliveries), so cases at stations with no known
delivery leave every candidate possible:

    log L(s) = Σ_r n_r · log((1 − ε) A[s, r] + ε / n_end)

Contamination at a source rarely lasts the whole record, so the likelihood
averages over the period it may have lasted: windows of 3, 7, 14 or 28 days
starting at any of the source's delivery dates, or the whole record, all
equally likely a priori (a mixture over a latent contamination period;
``windows_days=(0,)`` gives the plain walk). Within a period the unit leaves
in one of the source's deliveries of that period, by amount.

The maximum-likelihood source maximises log L; the posterior is
prior(s) · L(s), normalised over the candidates.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse import linalg as sparse_linalg

from cascada.errors import CascadaInputError
from cascada.foodchain.graph import DeliveryGraph, gather
from cascada.foodchain.model import FoodNetwork, maybe_before
from cascada.foodchain.trace import TraceOptions, Tracer

DEFAULT_MISSING_LINK_PROBABILITY = 0.01
DEFAULT_WINDOWS_DAYS = (3.0, 7.0, 14.0, 28.0, 0.0)


class WalkModel:
    """The absorbing random walk of one network, ready to score any set of cases.

    missing_links: "station" (default) lets a delivery with no known relation
        continue into its recipient's later outgoing deliveries; "absorb"
        ends it at the recipient.
    mixing: weight a step d → o by the share of o made of d (amount(o) ·
        amount(d) / Σ amount(inputs of o)) instead of by amount(o) alone.
    """

    def __init__(self, network: FoodNetwork, options: TraceOptions | None = None, *,
                 missing_links: str = "station", mixing: bool = False,
                 tracer: Tracer | None = None) -> None:
        if missing_links not in ("station", "absorb"):
            raise ValueError("missing_links must be 'station' or 'absorb'")
        self.network = network
        self.tracer = tracer if tracer is not None else Tracer(network, options)
        g: DeliveryGraph = self.tracer.graph
        t = self.tracer.trace_graph
        self.graph = g
        amount = g.amount.copy()
        known = np.isfinite(amount) & (amount > 0)
        fill = float(np.median(amount[known])) if known.any() else 1.0
        amount[~known] = fill
        self.amount = amount
        n_d = g.n_deliveries
        src = np.repeat(np.arange(n_d, dtype=np.int64), np.diff(t.next_indptr))
        dst = t.next_indices.astype(np.int64)
        has_next = np.diff(t.next_indptr) > 0
        ships_on = np.diff(g.out_indptr) > 0
        if missing_links == "station":
            loose = np.flatnonzero(~has_next & ships_on[g.recipient] & ~t.killed_delivery
                                   & ~t.killed_station[g.recipient])
            outs = gather(g.out_indptr, g.out_indices, g.recipient[loose])
            counts = (g.out_indptr[g.recipient[loose] + 1] - g.out_indptr[g.recipient[loose]])
            ins = np.repeat(loose, counts)
            keep = maybe_before(g.arrival[ins], g.departure[outs]) & (ins != outs)
            src = np.concatenate([src, ins[keep]])
            dst = np.concatenate([dst, outs[keep]])
        # the mass of d that goes into o, if o is a mix of its inputs in proportion
        # to their amounts: amount(o) · amount(d) / Σ amount(inputs of o)
        inputs = np.bincount(dst, weights=amount[src], minlength=n_d)
        weight = amount[dst] * amount[src] / inputs[dst] if mixing else amount[dst]
        total = np.bincount(src, weights=weight, minlength=n_d)
        # a hair below 1 so that a closed loop of cross-contamination keeps I - Q regular
        self.Q = sparse.csr_matrix(((1.0 - 1e-12) * weight / total[src], (src, dst)),
                                   shape=(n_d, n_d))
        continues = total > 0
        # absorbed at the recipient: deliveries that go nowhere further (and are not killed)
        self.absorbed = ~continues & ~t.killed_delivery
        self.end_stations = np.flatnonzero(~ships_on)
        self._lu = None

    def _solve(self, rhs: np.ndarray) -> np.ndarray:
        if self._lu is None:
            n = self.graph.n_deliveries
            system = (sparse.identity(n, format="csc") - self.Q.tocsc()).tocsc()
            self._lu = sparse_linalg.splu(system, permc_spec="COLAMD")
        return self._lu.solve(rhs)

    def delivery_absorption(self, case_stations: np.ndarray) -> np.ndarray:
        """X[d, r]: probability that a unit in delivery d is consumed at station r.

        case_stations: K station rows. Returns: D × K float64 (one sparse LU
        solve of (I − Q) X = R, K right-hand sides).
        """
        g = self.graph
        k = len(case_stations)
        column = pd.Index(case_stations).get_indexer(g.recipient)
        rows = np.flatnonzero(self.absorbed & (column >= 0))
        rhs = np.zeros((g.n_deliveries, k))
        rhs[rows, column[rows]] = 1.0
        if not rows.size or not k:
            return rhs
        return np.clip(self._solve(rhs).reshape(g.n_deliveries, k), 0.0, 1.0)

    def start_weights(self, candidates: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(owner, delivery, weight) of the outgoing deliveries of the candidates.

        Returns owner (M, index into candidates), deliveries (M rows) and
        amounts (M, kg or the data's unit; 0 for a station that kills contamination).
        """
        g = self.graph
        outs = gather(g.out_indptr, g.out_indices, candidates)
        counts = g.out_indptr[candidates + 1] - g.out_indptr[candidates]
        owner = np.repeat(np.arange(len(candidates)), counts)
        killed = self.tracer.trace_graph.killed_station[candidates]
        return owner, outs, self.amount[outs] * ~killed[owner]

    def absorption(self, candidates: np.ndarray, case_stations: np.ndarray) -> np.ndarray:
        """A[s, r]: probability that a unit leaving candidate s is consumed at station r.

        The unit leaves in one of s's outgoing deliveries, chosen by amount.
        candidates: C station rows; case_stations: K station rows.
        Returns: C × K float64.
        """
        if len(case_stations) == 0 or len(candidates) == 0:
            return np.zeros((len(candidates), len(case_stations)))
        x = self.delivery_absorption(case_stations)
        owner, outs, weight = self.start_weights(candidates)
        total = np.bincount(owner, weights=weight, minlength=len(candidates))
        start = sparse.csr_matrix(
            (np.divide(weight, total[owner], out=np.zeros_like(weight),
                       where=total[owner] > 0), (owner, outs)),
            shape=(len(candidates), self.graph.n_deliveries))
        return np.clip(np.asarray(start @ x), 0.0, 1.0)


def _day_number(ymd: np.ndarray) -> np.ndarray:
    """Approximate day count of partial dates (unknown month/day: start of year/month)."""
    ymd = np.asarray(ymd, dtype=np.float64)
    month = np.where(ymd[:, 1] > 0, ymd[:, 1] - 1, 0)
    day = np.where(ymd[:, 2] > 0, ymd[:, 2] - 1, 0)
    return np.floor(ymd[:, 0] * 365.25 + month * 30.44 + day)


def windowed_log_likelihood(model: WalkModel, candidates: np.ndarray, case_rows: np.ndarray,
                            n_cases: np.ndarray, epsilon: float,
                            windows_days: tuple[float, ...]) -> tuple[np.ndarray, np.ndarray]:
    """log L(s) with an unknown contamination period at the source.

    The contamination left s during a period of one of ``windows_days`` days
    (0: the whole record), starting at one of s's delivery dates, all equally
    likely; within it, in s's deliveries by amount. L(s) is the average over
    those periods of Π_r p_r^{n_r}, p_r = (1 − ε) A_period[s, r] + ε / n_end.
    Returns (log L: C, A_whole: C × K absorption over the whole record).
    """
    n_end = max(len(model.end_stations), 1)
    floor = epsilon / n_end
    x = model.delivery_absorption(case_rows)
    owner, outs, weight = model.start_weights(candidates)
    day = _day_number(model.graph.departure[outs])
    order = np.lexsort((day, owner))
    owner, outs, weight, day = owner[order], outs[order], weight[order], day[order]
    k = len(case_rows)
    c = len(candidates)
    mass = np.vstack([np.zeros((1, k)), np.cumsum(weight[:, None] * x[outs], axis=0)])
    total = np.concatenate([[0.0], np.cumsum(weight)])
    group_start = np.searchsorted(owner, np.arange(c), side="left")
    group_end = np.searchsorted(owner, np.arange(c), side="right")
    whole = np.zeros((c, k))
    has = group_end > group_start
    denom = total[group_end] - total[group_start]
    ok = has & (denom > 0)
    whole[ok] = (mass[group_end[ok]] - mass[group_start[ok]]) / denom[ok, None]
    whole = np.clip(whole, 0.0, 1.0)
    log_floor = np.log(floor) * n_cases.sum()
    per_size = []
    key = owner * 1e7 + day
    for width in windows_days:
        if width <= 0:
            ll = np.log((1.0 - epsilon) * whole + floor) @ n_cases
            per_size.append(np.where(ok, ll, log_floor))
            continue
        end = np.searchsorted(key, key + width, side="left")
        end = np.minimum(end, group_end[owner])
        d = total[end] - total[np.arange(len(owner))]
        p = np.divide(mass[end] - mass[:-1], d[:, None], out=np.zeros((len(owner), k)),
                      where=d[:, None] > 0)
        ll = np.log((1.0 - epsilon) * np.clip(p, 0.0, 1.0) + floor) @ n_cases
        ll = np.where(d > 0, ll, -np.inf)
        # log-mean-exp of the windows of each candidate
        top = np.full(c, -np.inf)
        np.maximum.at(top, owner, ll)
        safe = np.where(np.isfinite(top), top, 0.0)
        sums = np.bincount(owner, weights=np.exp(ll - safe[owner]), minlength=c)
        count = np.bincount(owner, weights=np.isfinite(ll).astype(float), minlength=c)
        with np.errstate(divide="ignore"):
            lme = np.where(count > 0, safe + np.log(sums) - np.log(np.maximum(count, 1)),
                           log_floor)
        per_size.append(lme)
    stacked = np.vstack(per_size)
    top = stacked.max(axis=0)
    log_likelihood = top + np.log(np.exp(stacked - top).mean(axis=0))
    return log_likelihood, whole


def read_cases(table: pd.DataFrame, network: FoodNetwork, *, file: str | None = None
               ) -> pd.Series:
    """Cases per station from a table with a ``station`` column (id or exact name)
    and optionally ``cases`` (count, default 1 per row). Returns station_id -> cases.
    """
    columns = {c.lower().strip(): c for c in table.columns}
    key = columns.get("station") or columns.get("station_id")
    if key is None:
        raise CascadaInputError("missing column", file=file, field="station",
                                hint="cases need a 'station' column (id or name)")
    counts = columns.get("cases") or columns.get("weight")
    values = (pd.to_numeric(table[counts], errors="coerce") if counts
              else pd.Series(1.0, index=table.index))
    ids = network.station_index()
    names = network.stations.set_index("name")["station_id"]
    names = names[~names.index.duplicated(keep=False)]
    out: dict[str, float] = {}
    for i, (station, n) in enumerate(zip(table[key].astype(str), values, strict=True)):
        if not np.isfinite(n) or n < 0:
            raise CascadaInputError("cases must be a number >= 0", file=file, row=i + 2,
                                    field=counts)
        sid = station if station in ids else names.get(station)
        if sid is None:
            raise CascadaInputError(f"unknown station {station!r}", file=file, row=i + 2,
                                    field=key, hint="give a station id or its exact name")
        out[sid] = out.get(sid, 0.0) + float(n)
    return pd.Series(out, dtype=np.float64)


def rank_sources(
    network: FoodNetwork,
    cases: dict[str, float] | pd.Series,
    *,
    candidates: Iterable[str] | None = None,
    priors: dict[str, float] | pd.Series | None = None,
    missing_link_probability: float = DEFAULT_MISSING_LINK_PROBABILITY,
    windows_days: tuple[float, ...] = DEFAULT_WINDOWS_DAYS,
    options: TraceOptions | None = None,
    model: WalkModel | None = None,
) -> pd.DataFrame:
    """Rank candidate sources by posterior probability given the cases.

    cases: station_id -> number of cases (>= 0).
    candidates: station ids; default every station with outgoing deliveries.
    priors: station_id -> prior weight (>= 0; e.g. from inspections or lab
        results; missing candidates get 1); normalised over the candidates.
    missing_link_probability: ε, the chance that a case came by a route not
        in the data.
    windows_days: lengths (days) of the contamination period at the source
        that the likelihood averages over; 0 stands for the whole record.
        ``(0,)`` gives the plain walk likelihood.
    Returns: one row per candidate, best first: rank, station_id, name,
    station_type, prior, log_likelihood (natural log), posterior,
    explained_cases (cases at stations the walk from the candidate reaches).
    """
    if not 0.0 < missing_link_probability < 1.0:
        raise CascadaInputError("missing-link probability must be in (0, 1)",
                                field="missing_link_probability")
    model = model if model is not None else WalkModel(network, options)
    g = model.graph
    case_series = pd.Series(cases, dtype=np.float64)
    case_series = case_series[case_series > 0]
    if case_series.empty:
        raise CascadaInputError("no cases given", field="cases",
                                hint="give at least one station with cases > 0")
    station_index = network.station_index()
    case_rows = station_index.get_indexer(case_series.index)
    if (case_rows < 0).any():
        bad = case_series.index[int(np.flatnonzero(case_rows < 0)[0])]
        raise CascadaInputError(f"unknown station {bad!r}", field="cases")
    if candidates is None:
        candidate_rows = np.flatnonzero(np.diff(g.out_indptr) > 0)
    else:
        candidate_rows = network.resolve_stations(tuple(candidates))
    if candidate_rows.size == 0:
        raise CascadaInputError("no candidate sources", field="candidates")
    n_cases = case_series.to_numpy()
    log_likelihood, absorption = windowed_log_likelihood(
        model, candidate_rows, case_rows, n_cases, missing_link_probability,
        tuple(windows_days))
    prior = np.ones(len(candidate_rows))
    if priors is not None:
        given = pd.Series(priors, dtype=np.float64)
        if (given < 0).any() or not np.all(np.isfinite(given)):
            raise CascadaInputError("priors must be finite and >= 0", field="priors")
        ids = network.stations["station_id"].to_numpy()[candidate_rows]
        prior = given.reindex(ids).fillna(1.0).to_numpy()
    if prior.sum() <= 0:
        raise CascadaInputError("all priors are zero", field="priors")
    prior = prior / prior.sum()
    with np.errstate(divide="ignore"):
        log_post = np.log(prior) + log_likelihood
    posterior = np.exp(log_post - np.max(log_post))
    posterior /= posterior.sum()
    explained = (absorption > 0) @ n_cases
    table = network.stations.iloc[candidate_rows][["station_id", "name", "station_type"]]
    table = table.reset_index(drop=True).assign(
        prior=prior, log_likelihood=log_likelihood, posterior=posterior,
        explained_cases=explained)
    table = table.sort_values(["posterior", "log_likelihood", "station_id"],
                              ascending=[False, False, True], kind="stable")
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    return table.reset_index(drop=True)
