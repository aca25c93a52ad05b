"""Risk metrics from per-event, per-sample impacts.

Definitions (x_e: the mean impact of event e over its S samples; r_e: its
annual rate, events/year):

- expected annual impact (EAI) = Σ_e r_e · x_e (impact unit per year);
- annual exceedance frequency λ(x) = Σ_e r_e · [x_e ≥ x] (per year), and
  annual exceedance probability P(x) = 1 − exp(−λ(x)) (Poisson occurrence);
- the T-year value is the largest event impact x_e with λ(x_e) ≥ 1/T (0 when
  all events together are rarer than 1/T);
- sampling-uncertainty bands: the T-year values over ``bootstrap`` resamples of
  each event's S samples (with replacement, seeded), 5th and 95th percentiles;
- convergence: the EAI estimated from the first k events of a seeded random
  order, scaled by N/k (an unbiased estimate under random subsampling), and
  from the first s samples of every event.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

RETURN_PERIODS_YEARS = (10, 50, 100, 250, 500, 1000)


def expected_annual_impact(annual_rate: np.ndarray, impact: np.ndarray) -> float:
    """Σ_e rate_e × mean_s impact[e, s].

    annual_rate: [events], per year; impact: [events, samples] or [events].
    """
    mean = impact.mean(axis=1) if impact.ndim == 2 else impact
    return float(np.dot(np.asarray(annual_rate, np.float64), mean))


def exceedance_curve(annual_rate: np.ndarray, event_impact: np.ndarray) -> pd.DataFrame:
    """Exceedance-probability curve: one row per distinct impact > 0, largest first.

    annual_rate: [events], per year; event_impact: [events], mean impact per event.
    Returns impact, exceedance_frequency (per year), exceedance_probability
    (per year, 1 − exp(−λ)), return_period_years (1/λ); λ is non-decreasing as
    impact falls.
    """
    rate = np.asarray(annual_rate, np.float64)
    x = np.asarray(event_impact, np.float64)
    keep = x > 0
    x, rate = x[keep], rate[keep]
    order = np.argsort(-x, kind="stable")
    x, rate = x[order], rate[order]
    frequency = np.cumsum(rate)
    # ties: the frequency of an impact value counts every event with that value
    last = np.r_[x[1:] != x[:-1], True] if len(x) else np.zeros(0, bool)
    x, frequency = x[last], frequency[last]
    with np.errstate(divide="ignore"):
        period = np.where(frequency > 0, 1.0 / frequency, np.inf)
    return pd.DataFrame({
        "impact": x,
        "exceedance_frequency": frequency,
        "exceedance_probability": -np.expm1(-frequency),
        "return_period_years": period,
    })


def return_period_values(annual_rate: np.ndarray, event_impact: np.ndarray,
                         return_periods: tuple[float, ...] = RETURN_PERIODS_YEARS
                         ) -> np.ndarray:
    """Impact at each return period T: the largest x_e with λ(x_e) ≥ 1/T, else 0.

    Returns float64 [len(return_periods)].
    """
    curve = exceedance_curve(annual_rate, event_impact)
    x = curve["impact"].to_numpy()
    frequency = curve["exceedance_frequency"].to_numpy()
    out = np.zeros(len(return_periods))
    for i, t in enumerate(return_periods):
        # frequency is non-decreasing along x (largest first): first index reaching 1/T
        j = np.searchsorted(frequency, 1.0 / t * (1 - 1e-12), side="left")
        out[i] = x[j] if j < len(x) else 0.0
    return out


def bootstrap_return_periods(annual_rate: np.ndarray, impact: np.ndarray,
                             return_periods: tuple[float, ...] = RETURN_PERIODS_YEARS,
                             n_bootstrap: int = 100, seed: int = 0,
                             quantiles: tuple[float, float] = (0.05, 0.95)) -> np.ndarray:
    """Sampling bands of the T-year values: resample each event's S samples.

    impact: [events, samples]. Returns float64 [2, len(return_periods)] (lower,
    upper quantile); zeros when n_bootstrap is 0.
    """
    if n_bootstrap <= 0 or impact.shape[0] == 0:
        return np.zeros((2, len(return_periods)))
    rng = np.random.default_rng(seed)
    n_events, n_samples = impact.shape
    hit = np.flatnonzero(impact.any(axis=1))  # events with no impact stay at 0
    values = np.empty((n_bootstrap, len(return_periods)))
    mean = np.zeros(n_events)
    for b in range(n_bootstrap):
        pick = rng.integers(0, n_samples, (len(hit), n_samples))
        mean[hit] = np.take_along_axis(impact[hit], pick, axis=1).mean(axis=1)
        values[b] = return_period_values(annual_rate, mean, return_periods)
    return np.quantile(values, quantiles, axis=0)


def convergence(annual_rate: np.ndarray, impact: np.ndarray, seed: int = 0,
                points: int = 12) -> pd.DataFrame:
    """How the EAI estimate settles with events and with samples.

    impact: [events, samples]. Rows: kind ("events" or "samples"), n, estimate.
    Events: first n of a seeded random order, Σ r·x × N/n. Samples: every event,
    first n samples.
    """
    n_events, n_samples = impact.shape
    rate = np.asarray(annual_rate, np.float64)
    rows = []
    if n_events:
        order = np.random.default_rng(seed).permutation(n_events)
        contribution = np.cumsum(rate[order] * impact[order].mean(axis=1))
        for n in np.unique(np.geomspace(1, n_events, points).astype(int)):
            rows.append(("events", int(n), float(contribution[n - 1] * n_events / n)))
        cumulative = np.cumsum(impact, axis=1)
        for n in np.unique(np.geomspace(1, n_samples, points).astype(int)):
            rows.append(("samples", int(n), float(rate @ (cumulative[:, n - 1] / n))))
    return pd.DataFrame(rows, columns=["kind", "n", "expected_annual_impact"])


def impact_unit(name: str) -> str:
    """Unit of an impact column: EUR or people-hours."""
    return "EUR" if name.endswith("_eur") else "people_hours"


def eai_table(events: pd.DataFrame, impacts: dict[str, np.ndarray]) -> pd.DataFrame:
    """EAI of every impact, in total and by hazard.

    Rows: impact, service ("" for direct loss), hazard ("all" or a family),
    unit, expected_annual_impact (unit per year), standard_error (sampling,
    √Σ r² var/S).
    """
    rate = events["annual_rate"].to_numpy(np.float64)
    hazard = events["hazard"].to_numpy()
    rows = []
    for name, matrix in impacts.items():
        service = name.removeprefix("people_hours_") if name.startswith("people_hours_") else ""
        s = max(matrix.shape[1], 1)
        variance = matrix.var(axis=1, ddof=1) if matrix.shape[1] > 1 else np.zeros(len(rate))
        for h in ["all", *dict.fromkeys(hazard)]:
            pick = np.ones(len(rate), bool) if h == "all" else hazard == h
            rows.append({
                "impact": name, "service": service, "hazard": h, "unit": impact_unit(name),
                "expected_annual_impact": expected_annual_impact(rate[pick], matrix[pick]),
                "standard_error": float(np.sqrt((rate[pick] ** 2 * variance[pick]).sum() / s)),
            })
    return pd.DataFrame(rows)


def ep_table(events: pd.DataFrame, impacts: dict[str, np.ndarray]) -> pd.DataFrame:
    """EP curves of every impact, in total and by hazard (tidy, see exceedance_curve)."""
    rate = events["annual_rate"].to_numpy(np.float64)
    hazard = events["hazard"].to_numpy()
    frames = []
    for name, matrix in impacts.items():
        mean = matrix.mean(axis=1)
        for h in ["all", *dict.fromkeys(hazard)]:
            pick = np.ones(len(rate), bool) if h == "all" else hazard == h
            curve = exceedance_curve(rate[pick], mean[pick])
            curve = curve.rename(columns={"impact": "impact_value"})
            frames.append(curve.assign(impact=name, hazard=h, unit=impact_unit(name)))
    columns = ["impact", "hazard", "unit", "impact_value", "exceedance_frequency",
               "exceedance_probability", "return_period_years"]
    if not frames:
        return pd.DataFrame(columns=columns)
    return pd.concat(frames, ignore_index=True)[columns]


def return_period_table(events: pd.DataFrame, impacts: dict[str, np.ndarray],
                        n_bootstrap: int = 100, seed: int = 0,
                        return_periods: tuple[float, ...] = RETURN_PERIODS_YEARS
                        ) -> pd.DataFrame:
    """T-year values of every impact (all hazards) with bootstrap bands.

    Rows: impact, unit, return_period_years, value, value_p05, value_p95.
    """
    rate = events["annual_rate"].to_numpy(np.float64)
    seeds = np.random.SeedSequence(seed).spawn(max(len(impacts), 1))
    rows = []
    for (name, matrix), s in zip(impacts.items(), seeds, strict=False):
        values = return_period_values(rate, matrix.mean(axis=1), return_periods)
        band = bootstrap_return_periods(rate, matrix, return_periods, n_bootstrap,
                                        int(s.generate_state(1)[0]))
        for i, t in enumerate(return_periods):
            rows.append({"impact": name, "unit": impact_unit(name),
                         "return_period_years": float(t), "value": values[i],
                         "value_p05": band[0, i], "value_p95": band[1, i]})
    return pd.DataFrame(rows)


def risk_tables(result, assets, n_bootstrap: int = 100) -> dict[str, pd.DataFrame]:
    """Every table of a risk run folder from a :class:`~cascada.risk.montecarlo.RiskResult`.

    assets: the region's asset table (GeoDataFrame, same order as the result).
    Returns {name: table}: event_impacts, outage, eai, sector_eai, ep_curve,
    return_periods, convergence, asset_eai (GeoDataFrame).
    """
    events = result.events
    impacts = result.impacts()
    base = events[["event_id", "hazard", "annual_rate"]].copy()
    if "source" in events.columns:
        base["source"] = events["source"].to_numpy()
    event_impacts = base.assign(assets_damaged_mean=result.assets_damaged)
    for name, matrix in impacts.items():
        event_impacts[f"{name}_mean"] = matrix.mean(axis=1)
        event_impacts[f"{name}_p05"] = np.percentile(matrix, 5, axis=1)
        event_impacts[f"{name}_p95"] = np.percentile(matrix, 95, axis=1)
    rate = events["annual_rate"].to_numpy(np.float64)
    outage = pd.concat([
        events[["event_id", "hazard", "annual_rate"]].assign(
            sector=service, service=service,
            people_hours=matrix.mean(axis=1),
            people_hours_p05=np.percentile(matrix, 5, axis=1),
            people_hours_p95=np.percentile(matrix, 95, axis=1),
            expected_annual_people_hours=rate * matrix.mean(axis=1))
        for service, matrix in result.people_hours.items()
    ], ignore_index=True) if result.people_hours else pd.DataFrame(
        columns=["event_id", "hazard", "annual_rate", "sector", "service", "people_hours",
                 "people_hours_p05", "people_hours_p95", "expected_annual_people_hours"])
    population = assets["population_served"].to_numpy(np.float64)
    asset_eai = assets[["asset_id", "sector", "asset_type", "name", "value_eur",
                        "population_served", "geometry"]].copy()
    asset_eai["expected_annual_loss_eur"] = result.asset_loss_eur.sum(axis=0)
    asset_eai["expected_annual_down_hours"] = result.asset_down_hours.sum(axis=0)
    asset_eai["annual_outage_frequency"] = result.asset_outage_probability.sum(axis=0)
    asset_eai["expected_annual_people_hours_served"] = (
        asset_eai["expected_annual_down_hours"].to_numpy() * population)
    for h, hazard in enumerate(result.hazards):
        asset_eai[f"expected_annual_loss_eur_{hazard}"] = result.asset_loss_eur[h]
        asset_eai[f"expected_annual_down_hours_{hazard}"] = result.asset_down_hours[h]
    sector_rows = []
    sectors = assets["sector"].to_numpy()
    for h, hazard in [(None, "all"), *enumerate(result.hazards)]:
        loss = result.asset_loss_eur.sum(axis=0) if h is None else result.asset_loss_eur[h]
        down = result.asset_down_hours.sum(axis=0) if h is None else result.asset_down_hours[h]
        frame = pd.DataFrame({"sector": sectors, "loss": loss, "down": down,
                              "served": down * population})
        grouped = frame.groupby("sector", sort=True).sum()
        for sector, row in grouped.iterrows():
            sector_rows.append({"sector": sector, "hazard": hazard,
                                "expected_annual_loss_eur": row["loss"],
                                "expected_annual_down_hours": row["down"],
                                "expected_annual_people_hours_served": row["served"]})
    seed = int(np.random.SeedSequence(result.seed).generate_state(1)[0])
    impacts_rp = return_period_table(events, impacts, n_bootstrap, seed)
    conv = pd.concat([convergence(rate, m, seed).assign(impact=name)
                      for name, m in impacts.items()], ignore_index=True)
    return {
        "event_impacts": event_impacts,
        "outage": outage,
        "eai": eai_table(events, impacts),
        "sector_eai": pd.DataFrame(sector_rows),
        "ep_curve": ep_table(events, impacts),
        "return_periods": impacts_rp,
        "convergence": conv[["impact", "kind", "n", "expected_annual_impact"]],
        "asset_eai": asset_eai,
    }
