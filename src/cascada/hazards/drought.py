"""Drought: SPI / SPEI from a SYNTHETIC monthly series → reduced water-source capacity.

Drought causes no physical damage (no fragility curves): the cascade reads it
as *capacity*. The intensity at an asset is the **drought severity**
``max(0, −index)`` (index = SPI or SPEI, dimensionless, standard normal units)
at the water sources that depend on rainfall (``water.well`` and
``water.reservoir`` by default), 0 elsewhere. :func:`capacity_factor` turns it
into the share of normal yield left (0..1), which a capacity model multiplies
into the source's output; the shortfall moves onto desalination (and so onto
power) — see docs/hazards-plume-fire-drought-attack.md.

Method
------
1. Monthly precipitation for ``n_years`` is drawn (SYNTHETIC, seeded) from a
   gamma distribution per calendar month with the mean of Malta's published
   normals (``data/malta_climate.csv``: WMO 1961–1990, Luqa) and a coefficient
   of variation of 0.7 for months with ≥ 40 mm, 1.0 for 10–40 mm, 2.0 below
   (assumption; typical of Mediterranean monthly totals). Months are linked by
   a Gaussian copula with lag-1 correlation ``persistence`` (0.2, assumption)
   so dry months cluster.
2. The drought scenario replaces the last ``duration_months`` of the series
   by the normals times ``1 − deficit_percent / 100`` (a deterministic
   deficit relative to the climate, so the same deficit gives nearly the same
   index whatever the seed; the seed changes only the calibration record).
3. SPI (McKee et al. 1993; gamma, maximum likelihood) and SPEI
   (Vicente-Serrano et al. 2010; water balance P − PET, PET by Thornthwaite
   1948, log-logistic "fisk" distribution) over ``accumulation_months`` with
   xclim's ``standardized_precipitation_index`` /
   ``standardized_precipitation_evapotranspiration_index``, calibrated on the
   years **before** the drought (so a larger deficit never raises the index).
4. Severity s = max(0, −index) of the last month → yield reduction by a
   piecewise-linear curve (assumption, anchored on McKee's classes: moderate
   −1, severe −1.5, extreme −2): groundwater (wells) 0, 0.10, 0.20, 0.35,
   0.60 at s = 0, 1, 1.5, 2, 3 (aquifers buffer drought);
   reservoirs 0, 0.20, 0.40, 0.65, 0.90 (surface storage responds faster).

Limits: the series is synthetic, not observed weather; one regional index for
all of Malta; the yield curves are assumptions to be replaced by an aquifer /
reservoir balance when one is available. In Malta, OSM ``water.reservoir``
features are mostly covered service reservoirs that store desalinated and
ground water — treat them as rain-dependent only if that fits the study.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import ClassVar, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
from pydantic import Field
from scipy import sparse, stats

from cascada.errors import require
from cascada.hazards.eventset import EventSet
from cascada.hazards.registry import HazardModel, HazardParameters, register

MALTA_LATITUDE = 35.9
#: (severity, yield reduction) knots per asset type; see the module docstring.
YIELD_REDUCTION_CURVES: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] = {
    "water.well": ((0.0, 1.0, 1.5, 2.0, 3.0), (0.0, 0.10, 0.20, 0.35, 0.60)),
    "water.reservoir": ((0.0, 1.0, 1.5, 2.0, 3.0), (0.0, 0.20, 0.40, 0.65, 0.90)),
}
DEFAULT_CURVE = "water.well"


@cache
def malta_climate() -> pd.DataFrame:
    """Malta's monthly climate normals (index: month 1..12) with their sources.

    Columns: precipitation_mm (mm/month), precipitation_days (days ≥ 0.1 mm),
    tas_mean_c, tasmax_mean_c (°C), hurs_mean_pct (%), wind_mean_m_s (m/s),
    source.
    """
    path = resources.files("cascada.hazards") / "data" / "malta_climate.csv"
    with resources.as_file(path) as p:
        return pd.read_csv(p).set_index("month")


def synthetic_monthly_precipitation(n_years: int, rng: np.random.Generator,
                                    persistence: float = 0.2, start_year: int = 1991
                                    ) -> pd.Series:
    """SYNTHETIC monthly precipitation (mm/month) for Malta, calibrated to the normals.

    Returns: Series of n_years × 12 values indexed by month start dates.
    Gamma marginals per calendar month (mean = normal, CV by wetness, see the
    module docstring), Gaussian AR(1) copula with lag-1 correlation
    ``persistence``.
    """
    normals = malta_climate()["precipitation_mm"].to_numpy(float)
    cv = np.where(normals >= 40, 0.7, np.where(normals >= 10, 1.0, 2.0))
    shape = 1.0 / cv ** 2
    scale = normals / shape
    n = n_years * 12
    z = rng.standard_normal(n)
    ar = np.empty(n)
    ar[0] = z[0]
    for t in range(1, n):
        ar[t] = persistence * ar[t - 1] + np.sqrt(1 - persistence ** 2) * z[t]
    u = np.clip(stats.norm.cdf(ar), 1e-9, 1 - 1e-9)
    month = np.arange(n) % 12
    values = stats.gamma.ppf(u, shape[month], scale=scale[month])
    index = pd.date_range(f"{start_year}-01-01", periods=n, freq="MS")
    return pd.Series(values, index=index, name="precipitation_mm")


def thornthwaite_pet(n_years: int, start_year: int = 1991) -> pd.Series:
    """Potential evapotranspiration (mm/month), Thornthwaite (1948) via xclim, from the normals."""
    xr = require("xarray", "climate")
    xi = require("xclim.indices", "climate")
    units = require("xclim.core.units", "climate")
    index = pd.date_range(f"{start_year}-01-01", periods=n_years * 12, freq="MS")
    tas = xr.DataArray(np.tile(malta_climate()["tas_mean_c"].to_numpy(float), n_years),
                       dims="time", coords={"time": index}, attrs={"units": "degC"})
    lat = xr.DataArray(MALTA_LATITUDE, attrs={"units": "degrees_north"})
    pet = xi.potential_evapotranspiration(tas=tas, lat=lat, method="TW48")
    mm_day = units.convert_units_to(pet, "mm/d", context="hydro").to_numpy()
    return pd.Series(mm_day * index.days_in_month.to_numpy(), index=index, name="pet_mm")


def standardized_index(precipitation_mm: pd.Series, accumulation_months: int,
                       index: Literal["spi", "spei"] = "spi",
                       calibration_end: pd.Timestamp | str | None = None) -> pd.Series:
    """SPI or SPEI (dimensionless) of a monthly series, with xclim.

    precipitation_mm: monthly totals indexed by month-start dates.
    index: "spi" (gamma, ML) or "spei" (P − Thornthwaite PET, fisk, ML).
    calibration_end: last date of the calibration period (default: all).
    Returns: Series, NaN for the first accumulation_months − 1 months.
    """
    xr = require("xarray", "climate")
    xi = require("xclim.indices", "climate")
    time = precipitation_mm.index
    cal = {"cal_start": str(time[0].date()),
           "cal_end": str(pd.Timestamp(calibration_end or time[-1]).date())}
    if index == "spi":
        data = xr.DataArray(precipitation_mm.to_numpy(float), dims="time",
                            coords={"time": time}, attrs={"units": "mm/month"})
        out = xi.standardized_precipitation_index(data, freq="MS", window=accumulation_months,
                                                  dist="gamma", method="ML", **cal)
    else:
        pet = thornthwaite_pet(len(time) // 12, time[0].year).to_numpy()
        water_balance = xr.DataArray(precipitation_mm.to_numpy(float) - pet[:len(time)],
                                     dims="time", coords={"time": time},
                                     attrs={"units": "mm/month"})
        out = xi.standardized_precipitation_evapotranspiration_index(
            water_balance, freq="MS", window=accumulation_months, dist="fisk", method="ML",
            **cal)
    return pd.Series(out.to_numpy(), index=time, name=index)


def yield_reduction(severity: np.ndarray, asset_types: np.ndarray | None = None) -> np.ndarray:
    """Share of normal yield lost (0..1) at drought severity s = max(0, −index).

    severity: M (≥ 0). asset_types: M names picking the curve (wells default).
    Returns: M float64, non-decreasing in severity, 0 at s = 0.
    """
    s = np.clip(np.asarray(severity, dtype=np.float64), 0.0, None)
    types = (np.full(len(s), DEFAULT_CURVE, dtype=object) if asset_types is None
             else np.asarray(asset_types, dtype=object))
    out = np.zeros(len(s))
    for asset_type, (knots, values) in YIELD_REDUCTION_CURVES.items():
        chosen = types == asset_type
        if asset_type == DEFAULT_CURVE:
            chosen |= ~np.isin(types, list(YIELD_REDUCTION_CURVES))
        out[chosen] = np.interp(s[chosen], knots, values)
    return out


def capacity_factor(event_set: EventSet, event: int = 0,
                    asset_types: np.ndarray | None = None) -> np.ndarray:
    """Share of normal capacity (0..1) left at each asset in one drought event.

    event_set: a drought EventSet (intensity = severity ≥ 0). asset_types: M
    names for type-specific curves (default: the event set's
    ``metadata['rain_dependent_assets']`` {asset_id: asset_type}, else the
    groundwater curve). Returns: M float64; 1 where the asset is not affected.
    """
    severity = event_set.intensity[event].toarray().reshape(-1)
    if asset_types is None:
        by_id = event_set.metadata.get("rain_dependent_assets") or {}
        asset_types = np.array([by_id.get(str(a), DEFAULT_CURVE) for a in event_set.asset_ids],
                               dtype=object)
    return 1.0 - yield_reduction(severity, asset_types)


class DroughtParameters(HazardParameters):
    """A drought scenario at the end of a synthetic record."""

    deficit_percent: float = Field(40.0, ge=0, le=100, description="rainfall deficit, %")
    duration_months: int = Field(12, ge=1, le=60, description="months of deficit")
    accumulation_months: int = Field(12, ge=1, le=48, description="SPI/SPEI window")
    index: Literal["spi", "spei"] = Field("spei", description="spi or spei")
    n_years: int = Field(30, ge=10, le=200, description="length of the synthetic record")
    persistence: float = Field(0.2, ge=0, lt=1, description="lag-1 correlation of months")
    rain_dependent_types: list[str] = Field(
        default_factory=lambda: ["water.well", "water.reservoir"],
        description="asset types whose yield depends on rainfall")


@register
class Drought(HazardModel):
    """Drought severity max(0, −SPEI or −SPI) at rain-dependent water sources."""

    name: ClassVar[str] = "drought"
    unit: ClassVar[str] = "drought_severity"
    description: ClassVar[str] = ("drought: SPI/SPEI (xclim) on a synthetic Malta rainfall "
                                  "record → severity at wells and reservoirs (capacity, "
                                  "not damage)")
    Parameters: ClassVar[type[HazardParameters]] = DroughtParameters
    size_parameter: ClassVar[str | None] = "deficit_percent"
    example: ClassVar[dict] = {"deficit_percent": 45.0, "duration_months": 12,
                               "accumulation_months": 12, "index": "spei"}

    def index_series(self, parameters: HazardParameters, rng: np.random.Generator
                     ) -> tuple[pd.Series, pd.Series]:
        """(precipitation_mm, index) monthly series of the scenario (SYNTHETIC)."""
        p = parameters
        assert isinstance(p, DroughtParameters)
        if p.duration_months >= p.n_years * 12 - 120:
            p = p.model_copy(update={"n_years": p.n_years + p.duration_months // 12 + 10})
        precipitation = synthetic_monthly_precipitation(p.n_years, rng, p.persistence)
        normals = malta_climate()["precipitation_mm"].to_numpy(float)
        last = precipitation.index[-p.duration_months:].month.to_numpy() - 1
        precipitation.iloc[-p.duration_months:] = normals[last] * (1 - p.deficit_percent / 100)
        calibration_end = precipitation.index[-p.duration_months - 1]
        # calibrate on whole years before the deficit
        calibration_end = pd.Timestamp(f"{calibration_end.year - 1}-12-01")
        return precipitation, standardized_index(precipitation, p.accumulation_months, p.index,
                                                 calibration_end)

    def event_set(self, assets: gpd.GeoDataFrame, parameters: HazardParameters,
                  rng: np.random.Generator) -> EventSet:
        """One event: severity max(0, −index) of the last month at rain-dependent sources."""
        p = parameters
        assert isinstance(p, DroughtParameters)
        precipitation, index = self.index_series(p, rng)
        value = float(index.iloc[-1])
        severity = max(0.0, -value) if np.isfinite(value) else 0.0
        types = assets["asset_type"].to_numpy(dtype=object)
        dependent = np.isin(types, p.rain_dependent_types)
        intensity = np.where(dependent, severity, 0.0)
        events = pd.DataFrame({"event_id": [f"drought-{p.index}{p.accumulation_months}"],
                               "hazard": ["drought"]})
        deficit = precipitation.iloc[-p.duration_months:].sum()
        return EventSet(
            intensity=sparse.csr_matrix(intensity.astype(np.float32)[None, :]),
            asset_ids=assets["asset_id"].to_numpy(), events=events,
            metadata={"synthetic": True, "index": p.index, "index_value": value,
                      "severity": severity,
                      "rain_dependent_assets": dict(zip(
                          assets["asset_id"].astype(str)[dependent], types[dependent].tolist(),
                          strict=True)),
                      "precipitation_last_months_mm": float(deficit),
                      "intensity": "drought severity max(0, -index) at rain-dependent "
                                   "water sources",
                      "source": "synthetic monthly rainfall calibrated to WMO 1961-1990 "
                                "normals, Luqa; SPI/SPEI by xclim"},
        )
