"""Water supply–demand balance: the *capacity* side of the water sector.

The dependency cascade says whether each asset works; it cannot say whether
the water that the working sources produce is *enough*. This module adds that:
an hourly mass balance of the potable-water system, per Monte-Carlo sample,
fed by the cascade's working states and by drought capacity factors.

Model (one system for the whole region; documented assumptions, all in
:class:`WaterSettings` and overridable in a scenario's ``[water]`` table):

- **Demand** ``D`` (m³/h) = people served by water × ``per_capita_m3_day`` / 24.
- **Rain-dependent sources** (wells, reservoirs) normally deliver
  ``rain_dependent_share`` of ``D``, split evenly over those assets (or in
  proportion to an asset column ``capacity_m3_day`` when the region has one).
  A drought multiplies each source's yield by its capacity factor
  (:func:`cascada.hazards.drought.capacity_factor`); a source that is down in
  the cascade delivers nothing.
- **Desalination** plants cover the rest, normally running at
  ``desal_utilisation`` of their capacity, so their spare capacity is
  ``(1/u − 1)`` of their normal output. They ramp up to meet demand and
  refill storage — and need power: a plant that the cascade has down
  delivers nothing. Extra production costs ``desal_kwh_per_m3`` of
  electricity, reported as extra power demand (MW).
- **Storage** (service reservoirs) holds ``storage_hours`` of demand, full
  at hour 0. Each hour ``L ← min(S, L + rain + desal − D)``; when ``L`` would
  fall below zero the deficit is **rationed**: that share of the demand, and
  so of the people served, is without water for the hour.

The rationed share is spread over the people served by water who are not
already without it through their own service links (uniform rationing).

Limits: one well-mixed system (no network hydraulics — use WNTR for that);
capacities are shares of demand, not plant nameplates, unless the region
gives ``capacity_m3_day``; the defaults are assumptions for Malta
(docs/hazards-plume-fire-drought-attack.md, "Drought as capacity").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

#: Asset types that deliver potable water, by kind.
RAIN_DEPENDENT_TYPES = ("water.well", "water.reservoir")
DESALINATION_TYPES = ("water.desalination",)


class WaterSettings(BaseModel):
    """The ``[water]`` table of a scenario (all optional; defaults are assumptions)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    balance: bool = Field(True, description="run the supply–demand balance")
    per_capita_m3_day: float = Field(
        0.18, gt=0, le=5,
        description="potable water produced per resident, m³/day (approx.: Malta's "
                    "public supply is of the order of 30-35 million m³/yr for 0.52 "
                    "million residents plus visitors; assumption)")
    rain_dependent_share: float = Field(
        0.4, ge=0, le=1,
        description="share of normal demand met by rain-dependent sources (Malta: "
                    "desalination supplies more than half, the rest groundwater)")
    desal_utilisation: float = Field(
        0.85, gt=0, le=1,
        description="normal output of desalination as a share of its capacity (assumption)")
    storage_hours: float = Field(
        24.0, ge=0, le=24 * 60, description="service-reservoir storage, hours of demand "
                                             "(assumption)")
    desal_kwh_per_m3: float = Field(
        3.5, gt=0, le=20, description="electricity per m³ of seawater RO, kWh/m³ (typical "
                                      "3-4 kWh/m³)")
    rain_dependent_types: tuple[str, ...] = RAIN_DEPENDENT_TYPES
    desalination_types: tuple[str, ...] = DESALINATION_TYPES


@dataclass(frozen=True)
class WaterSystem:
    """The compiled water system of a region.

    rain_index, desal_index: asset positions of the sources. rain_m3_h,
    desal_capacity_m3_h: normal yield of each rain-dependent source and
    capacity of each desalination plant, m³/h. demand_m3_h: demand, m³/h.
    storage_m3: storage volume, m³.
    """

    rain_index: np.ndarray
    rain_m3_h: np.ndarray
    desal_index: np.ndarray
    desal_capacity_m3_h: np.ndarray
    demand_m3_h: float
    storage_m3: float
    settings: WaterSettings

    @classmethod
    def compile(cls, assets: pd.DataFrame, people_served: float,
                settings: WaterSettings | None = None) -> WaterSystem | None:
        """Sources and demand of a region; None when it has no water source.

        assets: the region's asset table (asset_type, optional capacity_m3_day).
        people_served: people served by water (people).
        """
        s = settings or WaterSettings()
        types = assets["asset_type"].to_numpy(dtype=object)
        rain = np.flatnonzero(np.isin(types, s.rain_dependent_types))
        desal = np.flatnonzero(np.isin(types, s.desalination_types))
        if not s.balance or people_served <= 0 or (len(rain) + len(desal)) == 0:
            return None
        demand = people_served * s.per_capita_m3_day / 24.0
        rain_share = s.rain_dependent_share if len(rain) else 0.0
        if not len(desal):
            rain_share = 1.0
        given = (assets["capacity_m3_day"].to_numpy(np.float64) / 24.0
                 if "capacity_m3_day" in assets.columns else None)
        return cls(
            rain_index=rain,
            rain_m3_h=_split(demand * rain_share, rain, given),
            desal_index=desal,
            desal_capacity_m3_h=_split(demand * (1 - rain_share) / s.desal_utilisation, desal,
                                       given),
            demand_m3_h=float(demand),
            storage_m3=float(demand * s.storage_hours),
            settings=s,
        )


def _split(total: float, index: np.ndarray, given: np.ndarray | None) -> np.ndarray:
    """``total`` split evenly over ``index`` (or in proportion to given capacities)."""
    if len(index) == 0:
        return np.zeros(0)
    if given is not None:
        weights = np.nan_to_num(given[index], nan=0.0)
        if weights.sum() > 0:
            return total * weights / weights.sum()
    return np.full(len(index), total / len(index))


def _bits(words: np.ndarray, n_samples: int) -> np.ndarray:
    """bool [hours, sources, samples] from uint64 words [hours, sources]."""
    shifts = np.arange(n_samples, dtype=np.uint64)
    return ((words[..., None] >> shifts) & np.uint64(1)).astype(bool)


@dataclass(frozen=True)
class WaterBalance:
    """Per-hour, per-sample results of the balance; arrays are [hours, samples].

    rain_m3_h, desal_m3_h: delivered by each kind, m³/h. storage_m3: level at
    the end of the hour, m³. rationed_share: share of demand unmet (0..1).
    extra_power_mw: electricity for desalination above normal, MW (negative
    when plants are down).
    """

    rain_m3_h: np.ndarray
    desal_m3_h: np.ndarray
    storage_m3: np.ndarray
    rationed_share: np.ndarray
    extra_power_mw: np.ndarray


def water_balance(system: WaterSystem, working: np.ndarray, n_samples: int,
                  capacity_factor: np.ndarray | None = None) -> WaterBalance:
    """Run the hourly balance for one block of samples.

    working: uint64 [hours, assets] cascade words (bit s = sample s works).
    capacity_factor: float [assets] share of normal yield left (drought), or None.
    """
    hours = working.shape[0]
    cf = (np.ones(len(system.rain_index)) if capacity_factor is None
          else np.asarray(capacity_factor, np.float64)[system.rain_index])
    rain_on = _bits(working[:, system.rain_index], n_samples)  # [H, R, S]
    desal_on = _bits(working[:, system.desal_index], n_samples)
    rain = np.einsum("hrs,r->hs", rain_on, system.rain_m3_h * cf)
    desal_capacity = np.einsum("hrs,r->hs", desal_on, system.desal_capacity_m3_h)
    demand, full = system.demand_m3_h, system.storage_m3
    normal_desal = demand - float(system.rain_m3_h.sum())
    level = np.full(n_samples, full)
    out_desal = np.zeros((hours, n_samples))
    out_level = np.zeros((hours, n_samples))
    rationed = np.zeros((hours, n_samples))
    for h in range(hours):
        need = np.maximum(demand - rain[h] + (full - level), 0.0)
        produced = np.minimum(desal_capacity[h], need)
        after = level + rain[h] + produced - demand
        rationed[h] = np.maximum(-after, 0.0) / demand
        level = np.clip(after, 0.0, full)
        out_desal[h] = produced
        out_level[h] = level
    kwh = system.settings.desal_kwh_per_m3
    return WaterBalance(rain, out_desal, out_level, rationed,
                        (out_desal - normal_desal) * kwh / 1000.0)


def concat_balances(parts: list[WaterBalance]) -> WaterBalance:
    """Join the blocks' balances along the samples axis."""
    return WaterBalance(*(np.concatenate([getattr(p, f) for p in parts], axis=1)
                          for f in ("rain_m3_h", "desal_m3_h", "storage_m3",
                                    "rationed_share", "extra_power_mw")))


def ration_people(people_without: np.ndarray, rationed_share: np.ndarray,
                  population: float) -> np.ndarray:
    """People without water once rationing is spread over those still served.

    people_without: [hours, samples] people without water through their links;
    rationed_share: [hours, samples] (0..1); population: people served by water.
    """
    return people_without + rationed_share * np.maximum(population - people_without, 0.0)


def balance_table(system: WaterSystem, balance: WaterBalance) -> pd.DataFrame:
    """Tidy per-hour table: demand, mean deliveries, storage, rationing, extra power."""
    hours = balance.rationed_share.shape[0]
    return pd.DataFrame({
        "hour": np.arange(hours),
        "demand_m3_h": system.demand_m3_h,
        "rain_dependent_m3_h_mean": balance.rain_m3_h.mean(axis=1),
        "desalination_m3_h_mean": balance.desal_m3_h.mean(axis=1),
        "storage_m3_mean": balance.storage_m3.mean(axis=1),
        "rationed_share_mean": balance.rationed_share.mean(axis=1),
        "rationed_share_p95": np.percentile(balance.rationed_share, 95, axis=1),
        "extra_power_mw_mean": balance.extra_power_mw.mean(axis=1),
    })


def balance_summary(system: WaterSystem, balance: WaterBalance,
                    capacity_factor: np.ndarray | None, population: float) -> dict:
    """Headline figures of the balance (m³/day, MW, people-hours), for summary.json."""
    cf = (np.ones(len(system.rain_index)) if capacity_factor is None
          else np.asarray(capacity_factor, np.float64)[system.rain_index])
    rationed_hours = balance.rationed_share.sum(axis=0) * population  # per sample
    s = system.settings
    lost = float((system.rain_m3_h * (1 - cf)).sum())
    spare = float(system.desal_capacity_m3_h.sum() - (system.demand_m3_h
                                                      - system.rain_m3_h.sum()))
    deficit = max(lost - spare, 0.0)  # m³/h with every plant working
    return {
        "deficit_with_all_desalination_m3_day": deficit * 24,
        "storage_lasts_hours": (system.storage_m3 / deficit) if deficit > 0 else None,
        "demand_m3_day": system.demand_m3_h * 24,
        "rain_dependent_capacity_m3_day": float(system.rain_m3_h.sum() * 24),
        "rain_dependent_capacity_lost_m3_day": lost * 24,
        "desalination_capacity_m3_day": float(system.desal_capacity_m3_h.sum() * 24),
        "desalination_extra_m3_day_mean": float(
            (balance.desal_m3_h.mean() - (system.demand_m3_h - system.rain_m3_h.sum())) * 24),
        "desalination_extra_power_mw_mean": float(balance.extra_power_mw.mean()),
        "desalination_extra_power_mw_peak": float(balance.extra_power_mw.mean(axis=1).max()),
        "storage_m3": system.storage_m3,
        "rationed_share_peak_mean": float(balance.rationed_share.mean(axis=1).max()),
        "rationed_people_hours_mean": float(rationed_hours.mean()),
        "sources": {"rain_dependent": len(system.rain_index),
                    "desalination": len(system.desal_index)},
        "settings": s.model_dump(mode="json"),
    }
