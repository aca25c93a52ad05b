"""Earthquake ground shaking (PGA, g) at assets, from a rupture or a stochastic catalogue.

Method, per event:

1. **Rupture and distance.** The rupture's surface trace is a line of the
   Wells & Coppersmith (1994, Table 2A, all slip types) subsurface rupture
   length, log10(L_km) = -2.44 + 0.59 Mw, centred on the epicentre along
   ``strike_deg``; with no strike the rupture is a point at the epicentre.
   The Joyner-Boore distance (km) of an asset is the horizontal distance from
   its nearest point (for lines: the nearest of its vertices, lines simplified
   to 100 m and densified every 1 km) to that trace. The dip's surface projection (W cos(dip)) is
   neglected: a vertical-fault approximation.
2. **Median and variability.** ln PGA and its between-event (tau) and
   within-event (phi) standard deviations come from ``pygmm`` (default
   Akkar, Sandikkaya & Bommer 2014, derived from European and Middle-Eastern
   records, valid to 200 km; Boore, Stewart, Seyhan & Atkinson 2014 or Chiou &
   Youngs 2014, both with Italian regional terms and valid to 300 km, for far
   ruptures such as 1908 Messina). pygmm evaluates one site per call,
   so it is called on a grid of 48 distances and ln PGA is interpolated
   linearly in ln(1 + R_jb) (tested against direct pygmm calls: < 0.5 %).
3. **Spatially correlated residuals.** ln PGA = median + tau·eta + phi·eps,
   eta ~ N(0, 1) per event, eps a unit Gaussian field with correlation
   rho(h) = exp(-3h/b), b = 8.5 km for PGA (Jayaram & Baker 2009, case with
   clustered Vs30: b = 8.5 + 17.2T for T < 1 s). The field is drawn exactly
   (Cholesky) at the nodes of a 1 km grid around the assets and interpolated
   bilinearly to each asset's representative point (points: the point; lines:
   their midpoint); an independent nugget restores unit variance at each
   asset, so marginal statistics are exact and correlation is approximate
   below the grid spacing.

Intensity measure (``imt``): PGA in g (default: what the fragility
catalogue uses), PGV in cm/s, or SA(T) in g (5 % damped, T in seconds within
the GMM's range), each with the GMM's own median and total sigma (the
between/within split in PGA's proportion) and the Jayaram & Baker (2009)
correlation range for its period. Only PGA event sets feed damage: a scenario
or risk run refuses the others (export them with ``cascada hazard``).

Site: a uniform ``vs30_m_s`` (default 760 m/s, the rock reference near the
GMMs' reference velocities, since no site data exist offline for Malta;
Malta's surface geology is mostly limestone), or, with ``site = "slope"``,
Vs30 from the terrain model's slope (Wald & Allen 2007, :mod:`cascada.hazards.site`)
where the terrain model covers the asset. Assets with a ``vs30_m_s``
column use their own value. PGA below 0.001 g is stored as 0 (not exposed):
no fragility in the catalogue has a damage probability above ~1e-5 there.

Scenarios: ``n_realisations`` ground-motion fields (default 16), each an
event with ``annual_rate / n_realisations`` (0 for a scenario), or one median
field with ``median_only``. Historical ruptures: :func:`historical_scenario`.
Stochastic set: :func:`stochastic_event_set` (Gutenberg-Richter fitted to
CPTI15 with the Weichert 1980 maximum-likelihood method).
"""

from __future__ import annotations

import re
import tomllib
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from pydantic import Field, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError
from scipy import linalg, optimize, sparse

from cascada.datafile import data_path
from cascada.errors import CascadaInputError, require
from cascada.hazards.eventset import EventSet
from cascada.hazards.registry import HazardModel, HazardParameters, register

DATA_DIR = Path(__file__).parent / "data"
SCENARIOS_TOML = DATA_DIR / "earthquake_scenarios.toml"
COMPLETENESS_TOML = DATA_DIR / "cpti15_completeness.toml"
CPTI15_CSV = data_path("italy-earthquakes", "CPTI15_v4.0.csv")
DEFAULT_DEM = data_path("malta", "malta-dtm-40m.tif")

MIN_PGA_G = 0.001  # below this, stored as 0 (not exposed)
GRID_SPACING_KM = 1.0  # residual-field grid
MAX_GRID_NODES = 3000  # the grid spacing doubles until the nodes fit
LINE_STEP_M = 1000.0  # lines are densified to vertices this far apart for distances
SIMPLIFY_M = 100.0  # ... after simplifying them to this tolerance (distance error <= 0.1 km)
_N_DISTANCES = 48

Mechanism = Literal["strike-slip", "normal", "reverse"]
_PYGMM_MECHANISM = {"strike-slip": "SS", "normal": "NS", "reverse": "RS"}
GMMS = ("AkkarSandikkayaBommer2014", "BooreStewartSeyhanAtkinson2014", "ChiouYoungs2014")
#: longest period (s) of each GMM's spectral accelerations (pygmm coefficient tables)
_MAX_PERIOD_S = {"AkkarSandikkayaBommer2014": 4.0, "BooreStewartSeyhanAtkinson2014": 10.0,
                 "ChiouYoungs2014": 10.0}
GmmName = Literal["AkkarSandikkayaBommer2014", "BooreStewartSeyhanAtkinson2014",
                  "ChiouYoungs2014"]
GmmRegion = Literal["global", "california", "china", "italy", "japan", "new_zealand", "taiwan",
                    "turkey"]


def _pygmm():
    return require("pygmm", "seismic")


# Mechanism-specific magnitude ranges that pygmm checks only with a logged warning.
_MAGNITUDE_BY_MECHANISM = {
    ("BooreStewartSeyhanAtkinson2014", "normal"): (3.0, 7.0),
    ("ChiouYoungs2014", "normal"): (3.5, 8.0),
    ("ChiouYoungs2014", "reverse"): (3.5, 8.0),
}
# Fault dip, degrees, where none is given (Kaklamanos et al. 2011, Earthquake Spectra 27).
_DIP_DEG = {"strike-slip": 90.0, "normal": 50.0, "reverse": 40.0}


def gmm_limits(gmm: str, mechanism: str | None = None
               ) -> dict[str, tuple[float | None, float | None]]:
    """The GMM's recommended ranges, from pygmm.

    Returns {'mag': (min, max), 'distance_km': (min, max), 'v_s30': (min, max)};
    the distance is R_jb (ASB14, BSSA14) or R_rup (CY14).
    """
    cls = getattr(_pygmm(), gmm)
    found = {p.name: (getattr(p, "min", None), getattr(p, "max", None)) for p in cls.PARAMS}
    out = {"mag": found["mag"], "v_s30": found["v_s30"],
           "distance_km": found["dist_rup" if "dist_rup" in found else "dist_jb"]}
    if (gmm, mechanism) in _MAGNITUDE_BY_MECHANISM:
        out["mag"] = _MAGNITUDE_BY_MECHANISM[(gmm, mechanism)]
    return out


def _range_error(field: str, value: float, lo, hi, gmm: str) -> PydanticCustomError:
    return PydanticCustomError(
        "gmm_range", "{field}={value} is outside the range of {gmm} ({lo} to {hi})",
        {"field": field, "value": value, "gmm": gmm, "lo": lo, "hi": hi})


class EarthquakeParameters(HazardParameters):
    """A rupture and how to compute ground motion from it."""

    magnitude_mw: float = Field(description="moment magnitude Mw of the rupture")
    lat: float = Field(ge=-90, le=90, description="epicentre latitude, degrees north (WGS84)")
    lon: float = Field(ge=-180, le=180, description="epicentre longitude, degrees east (WGS84)")
    depth_km: float = Field(10.0, ge=0, le=200, description="hypocentre depth, km (recorded; "
                            "the GMMs offered use the Joyner-Boore distance, which has no depth)")
    mechanism: Mechanism = Field(
        "normal", description="style of faulting: strike-slip, normal or reverse (default "
        "normal: the extensional Sicily Channel and Malta graben setting; assumption)")
    strike_deg: float | None = Field(
        None, ge=0, le=360, description="fault strike, degrees clockwise from north; the "
        "rupture is a Wells & Coppersmith (1994) length centred on the epicentre; none = point")
    gmm: GmmName = Field("AkkarSandikkayaBommer2014",
                         description="ground-motion model (pygmm class name)")
    gmm_region: GmmRegion = Field(
        "italy", description="regional attenuation of BooreStewartSeyhanAtkinson2014 and "
        "ChiouYoungs2014 (CY14 knows california, china, italy, japan); ignored by ASB14")
    vs30_m_s: float = Field(760.0, gt=0, description="time-averaged shear-wave velocity of the "
                            "top 30 m, m/s, where assets carry no vs30_m_s column")
    site: Literal["uniform", "slope"] = Field(
        "uniform", description="uniform: vs30_m_s everywhere; slope: Vs30 from the terrain "
        "model's slope (Wald & Allen 2007) where assets carry no vs30_m_s column")
    dem_path: str | None = Field(str(DEFAULT_DEM), description="terrain model for site=slope")
    n_realisations: int = Field(16, ge=1, le=10_000,
                                description="ground-motion fields drawn, one event each")
    median_only: bool = Field(False, description="one event with the median ground motion, "
                              "no variability (n_realisations ignored)")
    correlation_range_km: float | None = Field(
        None, ge=0, description="range b of the within-event correlation exp(-3h/b), km "
        "(default: Jayaram & Baker 2009 for the IMT, clustered Vs30: 8.5 km for PGA); "
        "0 = uncorrelated")
    imt: str = Field(
        "PGA", pattern=r"^(PGA|PGV|SA\(\d+(\.\d+)?\))$",
        description="intensity measure: PGA (g, what the fragility curves use), PGV (cm/s) "
        "or SA(T) (g, 5 %-damped spectral acceleration at T s)")
    annual_rate: float = Field(0.0, ge=0, description="events per year of this rupture (0 for "
                               "a scenario), shared equally by the realisations")
    event_name: str = Field("earthquake", min_length=1,
                            description="prefix of the event ids")

    @model_validator(mode="after")
    def _within_gmm_range(self) -> EarthquakeParameters:
        limits = gmm_limits(self.gmm, self.mechanism)
        if self.gmm == "ChiouYoungs2014" and self.gmm_region not in (
                "california", "china", "italy", "japan"):
            raise ValidationError.from_exception_data(type(self).__name__, [InitErrorDetails(
                type=PydanticCustomError("gmm_region", "ChiouYoungs2014 has no region "
                                         "{region}", {"region": self.gmm_region}),
                loc=("gmm_region",), input=self.gmm_region)])
        period = imt_period(self.imt)
        if period and not 0.01 <= period <= _MAX_PERIOD_S[self.gmm]:
            raise ValidationError.from_exception_data(type(self).__name__, [InitErrorDetails(
                type=PydanticCustomError("imt", "{gmm} gives SA for 0.01-{hi} s, not {t} s",
                                         {"gmm": self.gmm, "hi": _MAX_PERIOD_S[self.gmm],
                                          "t": period}),
                loc=("imt",), input=self.imt)])
        checks = [("magnitude_mw", self.magnitude_mw, "mag"), ("vs30_m_s", self.vs30_m_s, "v_s30")]
        for field, value, key in checks:
            lo, hi = limits[key]
            if (lo is not None and value < lo) or (hi is not None and value > hi):
                raise ValidationError.from_exception_data(
                    type(self).__name__,
                    [InitErrorDetails(type=_range_error(field, value, lo, hi, self.gmm),
                                      loc=(field,), input=value)])
        return self


# --------------------------------------------------------------------------- distances


def wells_coppersmith_length_km(magnitude_mw: np.ndarray | float) -> np.ndarray:
    """Subsurface rupture length, km: log10 L = -2.44 + 0.59 Mw (Wells & Coppersmith 1994,
    Table 2A, all slip types)."""
    return 10.0 ** (-2.44 + 0.59 * np.asarray(magnitude_mw, dtype=float))


@dataclass
class SiteGeometry:
    """Assets in a local metric frame (azimuthal equidistant about their centre).

    vertices_m: V × 2 (x, y) metres, the points and line vertices; owner: V asset
    indices; points_m: M × 2 representative points (points; line midpoints), metres.
    """

    transformer: pyproj.Transformer
    vertices_m: np.ndarray
    owner: np.ndarray
    points_m: np.ndarray
    n_assets: int

    @classmethod
    def from_assets(cls, assets: gpd.GeoDataFrame) -> SiteGeometry:
        geoms = assets.geometry.to_crs("EPSG:4326").values
        if len(geoms) == 0:
            raise CascadaInputError("the region has no assets", field="assets")
        if shapely.is_missing(geoms).any() or shapely.is_empty(geoms).any():
            row = int(np.flatnonzero(shapely.is_missing(geoms) | shapely.is_empty(geoms))[0])
            raise CascadaInputError("asset without geometry", row=row, field="geometry")
        # centre: the median of the assets' centroids (robust to a long cable or road)
        lon0, lat0 = (float(v) for v in np.median(
            shapely.get_coordinates(shapely.centroid(geoms)), axis=0))
        crs = pyproj.CRS.from_proj4(
            f"+proj=aeqd +lat_0={lat0:.6f} +lon_0={lon0:.6f} +datum=WGS84 +units=m +no_defs")
        transformer = pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True)
        metric = shapely.transform(geoms, lambda xy: np.column_stack(
            transformer.transform(xy[:, 0], xy[:, 1])))
        dense = shapely.segmentize(shapely.simplify(metric, SIMPLIFY_M), LINE_STEP_M)
        vertices, owner = shapely.get_coordinates(dense, return_index=True)
        is_line = np.isin(shapely.get_type_id(metric), (1, 5))
        points = shapely.get_coordinates(shapely.centroid(metric))
        if is_line.any():
            points[is_line] = shapely.get_coordinates(
                shapely.line_interpolate_point(metric[is_line], 0.5, normalized=True))
        return cls(transformer, vertices, owner, points, len(geoms))

    def project(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """WGS84 degrees → local metres, N × 2."""
        return np.column_stack(self.transformer.transform(np.asarray(lon), np.asarray(lat)))


def rupture_traces_m(site: SiteGeometry, lon: np.ndarray, lat: np.ndarray,
                     magnitude_mw: np.ndarray, strike_deg: np.ndarray) -> np.ndarray:
    """Surface traces of ruptures: E × 2 × 2 (end, x/y) metres; NaN strike → a point."""
    centre = site.project(lon, lat)
    half = 500.0 * wells_coppersmith_length_km(magnitude_mw)
    strike = np.radians(np.nan_to_num(np.asarray(strike_deg, float), nan=0.0))
    half = np.where(np.isnan(np.asarray(strike_deg, float)), 0.0, half)
    direction = np.column_stack([np.sin(strike), np.cos(strike)]) * half[:, None]
    return np.stack([centre - direction, centre + direction], axis=1)


def joyner_boore_km(site: SiteGeometry, traces_m: np.ndarray) -> np.ndarray:
    """Joyner-Boore distance of every asset to every rupture trace: E × M, km."""
    p = site.vertices_m
    starts = np.flatnonzero(np.r_[True, site.owner[1:] != site.owner[:-1]])
    out = np.empty((len(traces_m), site.n_assets))
    chunk = max(1, 4_000_000 // max(len(p), 1))
    for lo in range(0, len(traces_m), chunk):
        a, b = traces_m[lo:lo + chunk, 0], traces_m[lo:lo + chunk, 1]  # C × 2
        ab = b - a
        denom = np.maximum((ab * ab).sum(axis=1), 1e-9)[:, None]  # C × 1
        t = ((p[None, :, 0] - a[:, None, 0]) * ab[:, None, 0]
             + (p[None, :, 1] - a[:, None, 1]) * ab[:, None, 1]) / denom
        t = np.clip(t, 0.0, 1.0)
        d = np.hypot(p[None, :, 0] - (a[:, None, 0] + t * ab[:, None, 0]),
                     p[None, :, 1] - (a[:, None, 1] + t * ab[:, None, 1]))
        out[lo:lo + chunk] = np.minimum.reduceat(d, starts, axis=1) / 1000.0
    return out


# --------------------------------------------------------------------------- median GMM


def _pygmm_point(gmm: str, magnitude_mw: float, distance_km: float, vs30_m_s: float,
                 mechanism: str, gmm_region: str, imt: str = "PGA"
                 ) -> tuple[float, float, float]:
    """(ln PGA in g, tau, phi) from one direct pygmm call at Joyner-Boore distance (km).

    CY14 also needs R_rup, R_x, dip and Z_tor: the dip is the mechanism's typical
    value (Kaklamanos et al. 2011), Z_tor CY14's own magnitude-dependent mean,
    R_rup = sqrt(R_jb² + Z_tor²) and R_x = -R_jb (footwall: no hanging-wall term).
    CY14 gives only the total sigma: tau is its between-event coefficient
    (tau_1..tau_2 by magnitude) and phi = sqrt(sigma² - tau²).
    """
    pygmm = _pygmm()
    mech = _PYGMM_MECHANISM[mechanism]
    keys: dict[str, Any] = {"mag": magnitude_mw, "dist_jb": distance_km, "v_s30": vs30_m_s,
                            "mechanism": mech, "region": gmm_region}
    if gmm == "ChiouYoungs2014":
        z_tor = float(pygmm.ChiouYoungs2014.calc_depth_tor(magnitude_mw, mech))
        keys.update(depth_tor=z_tor, dip=_DIP_DEG[mechanism], dist_x=-distance_km,
                    dist_rup=float(np.hypot(distance_km, z_tor)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = getattr(pygmm, gmm)(pygmm.Scenario(**keys))
    if gmm == "AkkarSandikkayaBommer2014":
        row = model.COEFF["dist_jb"][model.INDEX_PGA]
        tau, phi = float(row.sd_between), float(row.sd_within)
    elif gmm == "ChiouYoungs2014":
        c = model.COEFF[model.INDEX_PGA]
        tau = float(c.tau_1 + (c.tau_2 - c.tau_1) / 1.5 * (np.clip(magnitude_mw, 5.0, 6.5) - 5))
        phi = float(np.sqrt(max(model.ln_std_pga**2 - tau**2, 0.0)))
    else:
        tau, phi = float(model._tau[model.INDEX_PGA]), float(model._phi[model.INDEX_PGA])
    if imt == "PGA":
        return float(np.log(model.pga)), tau, phi
    # PGV (cm/s) or SA(T) (g): the GMM's median and total sigma; tau and phi split
    # in PGA's proportion (approximation: the between/within split varies little
    # with period in these models)
    if imt == "PGV":
        ln_value, sigma = float(np.log(model.pgv)), float(model.ln_std_pgv)
    else:
        period = imt_period(imt)
        ln_value = float(np.log(model.interp_spec_accels([period])[0]))
        sigma = float(model.interp_ln_stds([period])[0])
    share = tau / np.hypot(tau, phi)
    return ln_value, sigma * share, sigma * float(np.sqrt(1 - share ** 2))


def imt_period(imt: str) -> float:
    """The period (s) of an ``SA(T)`` intensity measure; 0 for PGA/PGV."""
    match = re.fullmatch(r"SA\((\d+(?:\.\d+)?)\)", imt)
    return float(match.group(1)) if match else 0.0


def imt_unit(imt: str) -> str:
    """Unit of an intensity measure: g for PGA and SA, cm/s for PGV."""
    return "cm/s" if imt == "PGV" else "g"


def imt_correlation_range_km(imt: str) -> float:
    """Jayaram & Baker (2009) range b (km) of the within-event correlation, clustered
    Vs30 case: 8.5 + 17.2 T for T < 1 s, 22.0 + 3.7 T for T >= 1 s (PGA: T = 0).
    PGV: as SA(0.5 s) (assumption; they give no PGV value)."""
    period = 0.5 if imt == "PGV" else imt_period(imt)
    return 8.5 + 17.2 * period if period < 1.0 else 22.0 + 3.7 * period


def median_ln_pga(gmm: str, magnitude_mw: float, distance_km: np.ndarray, vs30_m_s: float,
                  mechanism: str, gmm_region: str = "italy", imt: str = "PGA"
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Median ln PGA (g), tau and phi at Joyner-Boore distances (any shape, km).

    pygmm is called on 48 distances evenly spaced in ln(1 + R_jb) from 0 to the
    largest, and interpolated linearly in ln(1 + R_jb) (error < 0.3 % in PGA).
    """
    distance_km = np.asarray(distance_km, dtype=float)
    top = max(float(np.max(distance_km, initial=0.0)), 1.0)
    grid = np.expm1(np.linspace(0.0, np.log1p(top), _N_DISTANCES))
    table = np.array([_pygmm_point(gmm, magnitude_mw, d, vs30_m_s, mechanism, gmm_region, imt)
                      for d in grid])
    x, xs = np.log1p(grid), np.log1p(distance_km)
    return tuple(np.interp(xs, x, table[:, k]) for k in range(3))  # type: ignore[return-value]


# --------------------------------------------------------------------------- residual field


class ResidualField:
    """Unit-variance Gaussian field with correlation exp(-3h/b) at M points.

    Drawn exactly at the nodes of a square grid (Cholesky) and interpolated
    bilinearly; an independent nugget restores unit variance at each point.
    points_m: M × 2 metres; correlation_range_km: b (0 = independent).
    """

    def __init__(self, points_m: np.ndarray, correlation_range_km: float,
                 spacing_km: float = GRID_SPACING_KM) -> None:
        self.n_points = len(points_m)
        self.range_km = float(correlation_range_km)
        if self.range_km <= 0:
            return
        xy = np.asarray(points_m, float) / 1000.0
        origin = xy.min(axis=0)
        spacing = spacing_km
        while True:
            cell = np.floor((xy - origin) / spacing).astype(np.int64)
            corners = (cell[:, None, :] + np.array([[0, 0], [1, 0], [0, 1], [1, 1]])[None])
            keys = corners[..., 0] * 10_000_000 + corners[..., 1]
            nodes, index = np.unique(keys.ravel(), return_inverse=True)
            if len(nodes) <= MAX_GRID_NODES:
                break
            spacing *= 2.0
        node_xy = np.column_stack([nodes // 10_000_000, nodes % 10_000_000]) * spacing + origin
        self.node_index = index.reshape(-1, 4)
        fx, fy = ((xy - origin) / spacing - cell).T
        self.weights = np.column_stack([(1 - fx) * (1 - fy), fx * (1 - fy), (1 - fx) * fy,
                                        fx * fy])
        cov = self._correlation(node_xy[:, None, :] - node_xy[None, :, :])
        self.cholesky = linalg.cholesky(cov + 1e-9 * np.eye(len(nodes)), lower=True)
        # variance of the interpolated value: w' C w over the 4 corners of each point
        corner_xy = node_xy[self.node_index]  # M × 4 × 2, km
        local = self._correlation(corner_xy[:, :, None, :] - corner_xy[:, None, :, :])
        variance = np.einsum("pi,pij,pj->p", self.weights, local, self.weights)
        self.nugget = np.sqrt(np.clip(1.0 - variance, 0.0, None))
        self.n_nodes = len(nodes)
        self.spacing_km = spacing

    def _correlation(self, delta_km: np.ndarray) -> np.ndarray:
        return np.exp(-3.0 * np.hypot(delta_km[..., 0], delta_km[..., 1]) / self.range_km)

    def draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """n independent fields: n × M standard-normal values, spatially correlated."""
        if self.range_km <= 0:
            return rng.standard_normal((n, self.n_points))
        at_nodes = rng.standard_normal((n, self.n_nodes)) @ self.cholesky.T
        nugget = rng.standard_normal((n, self.n_points))
        interpolated = (at_nodes[:, self.node_index] * self.weights).sum(axis=-1)
        return interpolated + nugget * self.nugget


# --------------------------------------------------------------------------- ground motion


def _asset_vs30(assets: gpd.GeoDataFrame, default_m_s: float) -> np.ndarray:
    if "vs30_m_s" not in assets.columns:
        return np.full(len(assets), default_m_s)
    values = pd.to_numeric(assets["vs30_m_s"], errors="coerce").to_numpy(float)
    values = np.where(np.isfinite(values) & (values > 0), values, default_m_s)
    return np.round(values, -1)  # 10 m/s classes: one GMM table per class


def _check_distance(gmm: str, distance_km: np.ndarray, field: str, magnitude_mw: float,
                    mechanism: str) -> None:
    """Raise if the farthest asset is beyond the GMM's distance range (R_rup for CY14)."""
    hi = gmm_limits(gmm)["distance_km"][1]
    far = float(np.max(distance_km))
    if gmm == "ChiouYoungs2014":
        z_tor = float(_pygmm().ChiouYoungs2014.calc_depth_tor(
            magnitude_mw, _PYGMM_MECHANISM[mechanism]))
        far = float(np.hypot(far, z_tor))
    if hi is not None and far > hi:
        other = [g for g in GMMS if (gmm_limits(g)["distance_km"][1] or np.inf) > hi]
        raise CascadaInputError(
            f"the farthest asset is {far:.0f} km from the rupture; {gmm} is valid to {hi:g} km",
            field=field, hint=(f"use gmm='{other[0]}' or a nearer rupture" if other
                               else "use a nearer rupture"))


def ln_pga_median(distance_km: np.ndarray, vs30: np.ndarray, gmm: str, magnitude_mw: float,
                  mechanism: str, gmm_region: str, imt: str = "PGA") -> tuple[np.ndarray, ...]:
    """Median ln PGA, tau, phi for one magnitude: arrays shaped like distance_km (E × M);
    vs30 (M,) per asset."""
    mu = np.empty_like(distance_km)
    tau = np.empty_like(distance_km)
    phi = np.empty_like(distance_km)
    for v in np.unique(vs30):
        cols = vs30 == v
        m, t, p = median_ln_pga(gmm, magnitude_mw, distance_km[:, cols], float(v), mechanism,
                                gmm_region, imt)
        mu[:, cols], tau[:, cols], phi[:, cols] = m, t, p
    return mu, tau, phi


def _to_intensity(ln_pga: np.ndarray, imt: str = "PGA") -> sparse.csr_matrix:
    pga = np.exp(ln_pga)
    # below 0.001 g (or 0.1 cm/s for PGV) is stored as 0: not exposed
    pga[pga < (0.1 if imt == "PGV" else MIN_PGA_G)] = 0.0
    return sparse.csr_matrix(pga.astype(np.float32))


def scenario_event_set(assets: gpd.GeoDataFrame, p: EarthquakeParameters,
                       rng: np.random.Generator) -> EventSet:
    """Ground-motion fields of one rupture at the assets (see the module docstring)."""
    site = SiteGeometry.from_assets(assets)
    strike = np.nan if p.strike_deg is None else p.strike_deg
    traces = rupture_traces_m(site, np.array([p.lon]), np.array([p.lat]),
                              np.array([p.magnitude_mw]), np.array([strike]))
    rjb = joyner_boore_km(site, traces)
    _check_distance(p.gmm, rjb, "lat/lon", p.magnitude_mw, p.mechanism)
    vs30 = _asset_vs30(assets, p.vs30_m_s)
    site_info: dict[str, Any] = {"site": p.site}
    if p.site == "slope":
        from cascada.hazards.site import vs30_at_assets

        if p.dem_path is None:
            raise CascadaInputError("site = 'slope' needs a terrain model", field="dem_path")
        proxy, proxied = vs30_at_assets(assets, p.dem_path, p.vs30_m_s)
        own = ("vs30_m_s" in assets.columns
               and pd.to_numeric(assets["vs30_m_s"], errors="coerce").gt(0).to_numpy())
        use = proxied & ~np.asarray(own, bool)
        vs30 = np.where(use, np.round(proxy, -1), vs30)
        site_info.update(vs30_from_slope_assets=int(use.sum()),
                         vs30_median_m_s=float(np.median(vs30)),
                         site_source="Wald & Allen (2007) slope proxy on the terrain model")
    lo, hi = gmm_limits(p.gmm)["v_s30"]
    if (lo is not None and vs30.min() < lo) or (hi is not None and vs30.max() > hi):
        raise CascadaInputError(f"asset vs30_m_s outside {p.gmm}'s range {lo}-{hi} m/s",
                                field="vs30_m_s")
    mu, tau, phi = ln_pga_median(rjb, vs30, p.gmm, p.magnitude_mw, p.mechanism, p.gmm_region,
                                 p.imt)
    n = 1 if p.median_only else p.n_realisations
    if p.median_only:
        ln_pga = mu
    else:
        between = rng.standard_normal((n, 1))
        b = (p.correlation_range_km if p.correlation_range_km is not None
             else imt_correlation_range_km(p.imt))
        within = ResidualField(site.points_m, b).draw(rng, n)
        ln_pga = mu + tau * between + phi * within
    ids = ([f"{p.event_name}-median"] if p.median_only
           else [f"{p.event_name}-r{i:03d}" for i in range(n)])
    events = pd.DataFrame({"event_id": ids, "hazard": "earthquake",
                           "annual_rate": p.annual_rate / n})
    return EventSet(intensity=_to_intensity(ln_pga, p.imt),
                    asset_ids=assets["asset_id"].to_numpy(),
                    events=events, metadata={"hazard": "earthquake", "gmm": p.gmm,
                                             "imt": p.imt, "imt_unit": imt_unit(p.imt),
                                             "parameters": p.model_dump(), **site_info})


@register
class Earthquake(HazardModel):
    """Ground shaking (PGA, g) from a rupture, with correlated variability (pygmm GMMs)."""

    name = "earthquake"
    unit = "pga_g"
    description = ("ground shaking (PGA, g) from a rupture: pygmm GMM (default Akkar et al. "
                   "2014), spatially correlated residuals (Jayaram & Baker 2009)")
    Parameters = EarthquakeParameters
    size_parameter = "magnitude_mw"
    #: valid example parameters for Malta (contract tests, CLI help)
    example: ClassVar[dict[str, Any]] = {
        "magnitude_mw": 6.0, "lat": 35.70, "lon": 14.70, "depth_km": 10.0,
        "mechanism": "normal", "strike_deg": 135.0, "n_realisations": 4,
    }

    def event_set(self, assets: gpd.GeoDataFrame, parameters: HazardParameters | dict,
                  rng: np.random.Generator) -> EventSet:
        if not isinstance(parameters, EarthquakeParameters):
            parameters = self.parameters(
                parameters.model_dump() if isinstance(parameters, HazardParameters)
                else parameters)
        return scenario_event_set(assets, parameters, rng)


# --------------------------------------------------------------------------- historical


def historical_scenarios() -> dict[str, dict[str, Any]]:
    """Historical ruptures from ``data/earthquake_scenarios.toml``: name → entry (parameters
    plus ``title`` and ``source``)."""
    with SCENARIOS_TOML.open("rb") as fh:
        return tomllib.load(fh)


def historical_scenario(name: str, **overrides: Any) -> EarthquakeParameters:
    """Validated parameters of a historical rupture (e.g. ``"val-di-noto-1693"``,
    ``"messina-1908"``), with optional overrides (``n_realisations=64``)."""
    scenarios = historical_scenarios()
    if name not in scenarios:
        raise CascadaInputError(f"no historical earthquake {name!r}", field="scenario",
                                hint=f"known: {', '.join(scenarios)}")
    values = {k: v for k, v in scenarios[name].items() if k not in ("title", "source")}
    values.setdefault("event_name", name)
    values.update(overrides)
    return Earthquake().parameters(values, source=f"{SCENARIOS_TOML.name} [{name}]")


# --------------------------------------------------------------------------- stochastic set


@dataclass(frozen=True)
class GutenbergRichter:
    """Truncated Gutenberg-Richter recurrence: rate_above_min events/year with Mw >= m_min,
    log10 N(>=m) falling with slope b_value, up to m_max."""

    b_value: float
    rate_above_min: float
    m_min: float
    m_max: float
    n_events: int  # catalogue events used in the fit

    def rate_above(self, magnitude_mw: np.ndarray | float) -> np.ndarray:
        """Annual rate of events with Mw >= magnitude (truncated at m_max)."""
        m = np.clip(np.asarray(magnitude_mw, float), self.m_min, self.m_max)
        top = 10.0 ** (-self.b_value * (self.m_max - self.m_min))
        return self.rate_above_min * (10.0 ** (-self.b_value * (m - self.m_min)) - top) / (1 - top)


def read_catalogue(path: str | Path | None = None) -> pd.DataFrame:
    """CPTI15 (or a CSV with the same columns): year, lat, lon, magnitude_mw, one row per
    event with an epicentre and Mw."""
    path = Path(path) if path is not None else CPTI15_CSV
    if not path.exists():
        raise CascadaInputError("earthquake catalogue not found", file=path,
                                hint="pass catalogue= the path of CPTI15_v4.0.csv")
    raw = pd.read_csv(path, low_memory=False)
    missing = [c for c in ("Year", "LatDef", "LonDef", "MwDef") if c not in raw.columns]
    if missing:
        raise CascadaInputError("not a CPTI15 table", file=path, field=missing[0])
    out = pd.DataFrame({"year": raw["Year"], "lat": raw["LatDef"], "lon": raw["LonDef"],
                        "magnitude_mw": raw["MwDef"]}).apply(pd.to_numeric, errors="coerce")
    return out.dropna().reset_index(drop=True)


def _great_circle_km(lat0: float, lon0: float, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    la0, lo0, la, lo = (np.radians(v) for v in (lat0, lon0, lat, lon))
    h = np.sin((la - la0) / 2) ** 2 + np.cos(la) * np.cos(la0) * np.sin((lo - lo0) / 2) ** 2
    return 2 * 6371.0 * np.arcsin(np.sqrt(h))


def fit_gutenberg_richter(catalogue: pd.DataFrame, completeness: list[tuple[float, float]],
                          end_year: float, *, m_min: float = 4.5, m_max: float = 7.5,
                          bin_width: float = 0.1) -> GutenbergRichter:
    """Weichert (1980) maximum-likelihood b-value and rate with completeness periods.

    catalogue: year, magnitude_mw columns. completeness: (min_mw, start_year) pairs: an
    event of Mw >= min_mw counts from start_year on (the highest applicable pair wins).
    """
    edges = np.round(np.arange(m_min, m_max + bin_width / 2, bin_width), 6)
    centres = edges[:-1] + bin_width / 2
    periods = sorted(completeness)
    start = np.array([max([s for mmin, s in periods if mmin <= c + 1e-9], default=np.nan)
                      for c in centres])
    if np.isnan(start).any():
        raise CascadaInputError(f"no completeness period covers Mw {m_min}", field="m_min")
    years = end_year - start
    mags, yrs = catalogue["magnitude_mw"].to_numpy(), catalogue["year"].to_numpy()
    which = np.searchsorted(edges, mags + 1e-9, side="right") - 1
    keep = (which >= 0) & (which < len(centres))
    keep[keep] &= yrs[keep] >= start[which[keep]]
    counts = np.bincount(which[keep], minlength=len(centres)).astype(float)
    n = counts.sum()
    if n < 5:
        raise CascadaInputError(f"only {int(n)} complete events to fit Gutenberg-Richter",
                                field="radius_km", hint="use a larger radius or lower m_min")
    mean_m = (counts * centres).sum() / n

    def score(beta: float) -> float:
        w = years * np.exp(-beta * centres)
        return (w * centres).sum() / w.sum() - mean_m

    beta = optimize.brentq(score, 1e-3, 10.0)
    rate = n * np.exp(-beta * centres).sum() / (years * np.exp(-beta * centres)).sum()
    return GutenbergRichter(b_value=beta / np.log(10), rate_above_min=float(rate),
                            m_min=m_min, m_max=m_max, n_events=int(n))


def stochastic_event_set(
    assets: gpd.GeoDataFrame,
    n_events: int,
    rng: np.random.Generator,
    *,
    radius_km: float = 170.0,
    fit_radius_km: float = 250.0,
    m_min: float = 4.5,
    m_max: float = 7.5,
    bin_width: float = 0.1,
    depth_km: float = 10.0,
    mechanism: str = "normal",
    gmm: str = "AkkarSandikkayaBommer2014",
    gmm_region: str = "italy",
    vs30_m_s: float = 760.0,
    correlation_range_km: float = 8.5,
    catalogue: str | Path | pd.DataFrame | None = None,
) -> EventSet:
    """Stochastic earthquakes around the region with Gutenberg-Richter annual rates.

    Source model: the epicentres of CPTI15 events (any year, Mw >= m_min) within
    ``radius_km`` of the region's centre are the possible locations (sampled
    with replacement), each with a random strike; magnitudes are the centres of
    ``bin_width`` bins from m_min to m_max, with n_events split evenly across
    bins and each bin's truncated-GR rate split evenly across its events, so the
    annual rates sum to the modelled rate of Mw >= m_min within ``radius_km``.
    The b-value and rate are fitted within ``fit_radius_km`` (Weichert 1980;
    completeness in ``data/cpti15_completeness.toml``: too few complete events lie
    within 170 km for a stable b-value), and the rate is scaled by the share of
    the Mw >= m_min epicentres that lie within ``radius_km``.
    Each event has one ground-motion realisation. Default GMM: ASB14, valid to
    200 km, hence the default radius of 170 km (the region spans ~25 km about its
    centre); for a larger radius use gmm="ChiouYoungs2014" (300 km, Italian
    adjustment; ~20x slower in pygmm).
    Returns an EventSet of n_events rows; metadata['gutenberg_richter'] holds the fit.
    """
    if mechanism not in _PYGMM_MECHANISM:
        raise CascadaInputError(f"unknown mechanism {mechanism!r}", field="mechanism",
                                hint=", ".join(_PYGMM_MECHANISM))
    if gmm not in GMMS:
        raise CascadaInputError(f"unknown gmm {gmm!r}", field="gmm", hint=", ".join(GMMS))
    lo, hi = gmm_limits(gmm, mechanism)["mag"]
    if (lo is not None and m_min < lo) or (hi is not None and m_max > hi):
        raise CascadaInputError(f"m_min..m_max = {m_min}..{m_max} is outside {gmm}'s range "
                                f"{lo}..{hi}", field="magnitude_mw")
    n_bins = round((m_max - m_min) / bin_width)
    if n_events < n_bins:
        raise CascadaInputError(f"n_events must be at least the {n_bins} magnitude bins",
                                field="n_events")
    cat = catalogue if isinstance(catalogue, pd.DataFrame) else read_catalogue(catalogue)
    site = SiteGeometry.from_assets(assets)
    lon0, lat0 = site.transformer.transform(0.0, 0.0, direction="INVERSE")
    if fit_radius_km < radius_km:
        raise CascadaInputError("fit_radius_km must be >= radius_km", field="fit_radius_km")
    distance = _great_circle_km(lat0, lon0, cat["lat"].to_numpy(), cat["lon"].to_numpy())
    near = cat[distance <= fit_radius_km]
    with COMPLETENESS_TOML.open("rb") as fh:
        comp = tomllib.load(fh)
    gr = fit_gutenberg_richter(near, [(p["min_mw"], p["start_year"]) for p in comp["period"]],
                               comp["end_year"], m_min=m_min, m_max=m_max, bin_width=bin_width)
    wide = near["magnitude_mw"] >= m_min
    locations = near[wide & (distance[distance <= fit_radius_km] <= radius_km)]
    if len(locations) == 0:
        raise CascadaInputError(f"no catalogue epicentre with Mw >= {m_min} within "
                                f"{radius_km} km", field="radius_km")
    # the wide fit's rate, apportioned to the source radius by its share of epicentres
    share = len(locations) / int(wide.sum())
    gr = GutenbergRichter(b_value=gr.b_value, rate_above_min=gr.rate_above_min * share,
                          m_min=gr.m_min, m_max=gr.m_max, n_events=gr.n_events)
    edges = m_min + bin_width * np.arange(n_bins + 1)
    bin_rate = -np.diff(gr.rate_above(edges))
    per_bin = np.full(n_bins, n_events // n_bins)
    per_bin[: n_events % n_bins] += 1
    bin_of = np.repeat(np.arange(n_bins), per_bin)
    magnitude = edges[bin_of] + bin_width / 2
    annual_rate = bin_rate[bin_of] / per_bin[bin_of]
    pick = rng.integers(0, len(locations), n_events)
    lat, lon = locations["lat"].to_numpy()[pick], locations["lon"].to_numpy()[pick]
    strike = rng.uniform(0.0, 180.0, n_events)
    rjb = joyner_boore_km(site, rupture_traces_m(site, lon, lat, magnitude, strike))
    _check_distance(gmm, rjb, "radius_km", m_max, mechanism)
    vs30 = _asset_vs30(assets, vs30_m_s)
    field = ResidualField(site.points_m, correlation_range_km)
    ln_pga = np.empty_like(rjb)
    for b in range(n_bins):
        rows = bin_of == b
        mu, tau, phi = ln_pga_median(rjb[rows], vs30, gmm, float(magnitude[rows][0]),
                                     mechanism, gmm_region)
        ln_pga[rows] = mu
        ln_pga[rows] += tau * rng.standard_normal((rows.sum(), 1))
        ln_pga[rows] += phi * field.draw(rng, int(rows.sum()))
    events = pd.DataFrame({
        "event_id": [f"earthquake-stochastic-{i:05d}" for i in range(n_events)],
        "hazard": "earthquake", "annual_rate": annual_rate})
    catalogue_rows = pd.DataFrame({"magnitude_mw": magnitude, "lat": lat, "lon": lon,
                                   "strike_deg": strike, "depth_km": depth_km})
    return EventSet(intensity=_to_intensity(ln_pga), asset_ids=assets["asset_id"].to_numpy(),
                    events=events,
                    metadata={"hazard": "earthquake", "gmm": gmm,
                              "gutenberg_richter": gr.__dict__.copy(),
                              "ruptures": catalogue_rows})
