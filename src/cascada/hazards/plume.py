"""Chemical / CBRN release: a steady Gaussian plume with ground reflection.

Method (Turner 1970, *Workbook of Atmospheric Dispersion Estimates*; Seinfeld &
Pandis, ch. 18). A continuous release of ``Q`` mg/s at height ``H`` m, carried
by a wind of ``u`` m/s, gives at ``x`` m downwind, ``y`` m crosswind and
``z`` m above ground::

    C = Q / (2π u σy σz) · exp(−y² / 2σy²)
        · [exp(−(z − H)² / 2σz²) + exp(−(z + H)² / 2σz²)]        (mg/m³)

(the second exponential reflects the plume at the ground; nothing is
deposited). σy(x), σz(x) in metres depend on the Pasquill–Gifford stability
class A (very unstable) … F (moderately stable):

- ``briggs-rural`` (default) and ``briggs-urban``: Briggs (1973) formulas for
  open country and for cities, as tabulated by Hanna, Briggs & Hosker (1982,
  *Handbook on Atmospheric Diffusion*, table 4.3) and Seinfeld & Pandis (2016,
  table 18.3); valid for 100 m < x < 10 km.
- ``pasquill-gifford``: Martin's (1976) power-law fit to the
  Pasquill–Gifford–Turner curves (Turner 1970), σy = a·x_km^0.894,
  σz = c·x_km^d + f (x < 1 km and x ≥ 1 km have their own c, d, f). At 1 km,
  class D: σy = 68 m, σz = 31.5 m, Turner's curve values.

The intensity at an asset is the ground-level (``receptor_height_m``, default
0 m) concentration in mg/m³ while the release lasts, 0 upwind; a line asset
takes the maximum over points every 10 m along it. Thresholds: US EPA AEGL-1/2/3
for 60 minutes (``data/aegl.csv``, converted from ppm at 25 °C, 1 atm:
mg/m³ = ppm · M / 24.45).

Limits: a passive, neutrally buoyant gas on flat ground (no dense-gas slumping
for chlorine, no buoyant rise for ammonia, no terrain or buildings beyond the
urban σ), steady wind over the whole path, σ for about 10-minute averages; the
release is treated as continuous while it lasts (receptors farther than
u · duration see the same concentration later); closer than 10 m to the source
the value at 10 m is used. Compare concentrations with the 60-minute AEGL:
conservative for releases shorter than an hour.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import ClassVar, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from numpy.typing import ArrayLike
from pydantic import Field, field_validator, model_validator
from scipy import sparse

from cascada.errors import CascadaInputError
from cascada.hazards.eventset import EventSet
from cascada.hazards.registry import HazardModel, HazardParameters, register

STABILITY_CLASSES = ("A", "B", "C", "D", "E", "F")
SCHEMES = ("briggs-rural", "briggs-urban", "pasquill-gifford")
MOLAR_VOLUME_L = 24.45  # litres per mole of ideal gas at 25 °C, 101.325 kPa
MIN_DISTANCE_M = 10.0
LINE_STEP_M = 10.0
AEGL_LEVELS = ("AEGL-1", "AEGL-2", "AEGL-3")

# Briggs (1973), open country: σy = a·x·(1 + b·x)^−½ ; σz = c·x·(1 + d·x)^e.
_BRIGGS_RURAL = {
    "A": (0.22, 0.0001, 0.20, 0.0, 0.0),
    "B": (0.16, 0.0001, 0.12, 0.0, 0.0),
    "C": (0.11, 0.0001, 0.08, 0.0002, -0.5),
    "D": (0.08, 0.0001, 0.06, 0.0015, -0.5),
    "E": (0.06, 0.0001, 0.03, 0.0003, -1.0),
    "F": (0.04, 0.0001, 0.016, 0.0003, -1.0),
}
# Briggs (1973), urban (McElroy–Pooler St Louis data): A–B and E–F share formulas.
_BRIGGS_URBAN = {
    "A": (0.32, 0.0004, 0.24, 0.001, 0.5),
    "B": (0.32, 0.0004, 0.24, 0.001, 0.5),
    "C": (0.22, 0.0004, 0.20, 0.0, 0.0),
    "D": (0.16, 0.0004, 0.14, 0.0003, -0.5),
    "E": (0.11, 0.0004, 0.08, 0.0015, -0.5),
    "F": (0.11, 0.0004, 0.08, 0.0015, -0.5),
}
# Martin (1976) fit of the Pasquill–Gifford–Turner curves, x in km:
# σy = a·x^0.894; σz = c·x^d + f with (c, d, f) for x < 1 km and for x ≥ 1 km.
_MARTIN = {
    "A": (213.0, (440.8, 1.941, 9.27), (459.7, 2.094, -9.6)),
    "B": (156.0, (106.6, 1.149, 3.3), (108.2, 1.098, 2.0)),
    "C": (104.0, (61.0, 0.911, 0.0), (61.0, 0.911, 0.0)),
    "D": (68.0, (33.2, 0.725, -1.7), (44.5, 0.516, -13.0)),
    "E": (50.5, (22.8, 0.678, -1.3), (55.4, 0.305, -34.0)),
    "F": (34.0, (14.35, 0.740, -0.35), (62.6, 0.180, -48.6)),
}


def _check_class(stability_class: str) -> str:
    value = str(stability_class).strip().upper()
    if value not in STABILITY_CLASSES:
        raise CascadaInputError(
            f"unknown stability class {stability_class!r}", field="stability_class",
            hint="Pasquill–Gifford classes: A (very unstable) … F (moderately stable)",
        )
    return value


def dispersion_sigmas(x_m: ArrayLike, stability_class: str, scheme: str = "briggs-rural"
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Horizontal and vertical plume spread σy, σz (m) at downwind distance x (m).

    x_m: any shape, metres (> 0). stability_class: "A".."F". scheme: one of
    :data:`SCHEMES`. Returns (σy, σz), float64 arrays of x's shape.
    """
    cls = _check_class(stability_class)
    x = np.asarray(x_m, dtype=np.float64)
    if scheme in ("briggs-rural", "briggs-urban"):
        a, b, c, d, e = (_BRIGGS_RURAL if scheme == "briggs-rural" else _BRIGGS_URBAN)[cls]
        sigma_y = a * x / np.sqrt(1.0 + b * x)
        sigma_z = c * x * (1.0 + d * x) ** e
        return sigma_y, sigma_z
    if scheme == "pasquill-gifford":
        a, near, far = _MARTIN[cls]
        km = np.atleast_1d(x / 1000.0)
        sigma_y = a * km ** 0.894
        c, d, f = np.where(km[:, None] < 1.0, np.asarray(near), np.asarray(far)).T \
            if km.ndim == 1 else np.moveaxis(
                np.where(km[..., None] < 1.0, np.asarray(near), np.asarray(far)), -1, 0)
        sigma_z = np.maximum(c * km ** d + f, 1e-3)
        return sigma_y.reshape(x.shape), sigma_z.reshape(x.shape)
    raise CascadaInputError(f"unknown dispersion scheme {scheme!r}", field="dispersion",
                            hint=f"one of {', '.join(SCHEMES)}")


def gaussian_plume(
    x_m: ArrayLike, y_m: ArrayLike, z_m: ArrayLike, *, release_rate_mg_s: float,
    wind_speed_m_s: float, release_height_m: float, stability_class: str,
    scheme: str = "briggs-rural",
) -> np.ndarray:
    """Concentration (mg/m³) of a steady plume with ground reflection.

    x_m, y_m, z_m: broadcastable arrays, metres downwind, crosswind and above
    ground, in the plume's frame (source at x = y = 0 on the ground, release at
    ``release_height_m``). Upwind (x ≤ 0) is 0. See the module docstring for
    the formula.
    """
    if wind_speed_m_s <= 0:
        raise CascadaInputError("wind speed must be > 0 for a Gaussian plume",
                                field="wind_speed_m_s")
    x, y, z = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (x_m, y_m, z_m)))
    downwind = x > 0
    sigma_y, sigma_z = dispersion_sigmas(np.where(downwind, x, 1.0), stability_class, scheme)
    h = float(release_height_m)
    lateral = np.exp(-0.5 * (y / sigma_y) ** 2)
    vertical = (np.exp(-0.5 * ((z - h) / sigma_z) ** 2)
                + np.exp(-0.5 * ((z + h) / sigma_z) ** 2))
    c = release_rate_mg_s / (2 * np.pi * wind_speed_m_s * sigma_y * sigma_z) * lateral * vertical
    return np.where(downwind, c, 0.0)


# --------------------------------------------------------------------------- thresholds


@cache
def aegl_table() -> pd.DataFrame:
    """AEGL-1/2/3 60-minute thresholds per substance, in ppm and mg/m³ (with sources).

    Index: substance. Columns: cas, molar_mass_g_mol, aegl1..3_60min_ppm,
    AEGL-1/2/3 (mg/m³; NaN where not recommended), source.
    """
    path = resources.files("cascada.hazards") / "data" / "aegl.csv"
    with resources.as_file(path) as p:
        table = pd.read_csv(p).set_index("substance")
    factor = table["molar_mass_g_mol"] / MOLAR_VOLUME_L
    for level in (1, 2, 3):
        table[f"AEGL-{level}"] = table[f"aegl{level}_60min_ppm"] * factor
    return table


def thresholds_mg_m3(substance: str) -> dict[str, float]:
    """AEGL-1/2/3 (60 min) of a substance in mg/m³; NaN where not recommended."""
    table = aegl_table()
    if substance not in table.index:
        raise CascadaInputError(f"unknown substance {substance!r}", field="substance",
                                hint=f"known: {', '.join(table.index)}")
    return {level: float(table.at[substance, level]) for level in AEGL_LEVELS}


# --------------------------------------------------------------------------- the model


class ChemicalReleaseParameters(HazardParameters):
    """A continuous release at a point; field names carry their units."""

    source_lat: float | None = Field(None, ge=-90, le=90, description="degrees")
    source_lon: float | None = Field(None, ge=-180, le=180, description="degrees")
    source_asset_id: str | None = Field(None, description="release at this asset instead")
    substance: str = Field("chlorine", description="substance of the AEGL table (aegl.csv)")
    release_rate_kg_s: float = Field(gt=0, description="kg/s while the release lasts")
    duration_min: float = Field(60.0, gt=0, description="minutes")
    release_height_m: float = Field(2.0, ge=0, description="release height above ground, m")
    wind_speed_m_s: float = Field(gt=0, description="m/s at about 10 m")
    wind_from_deg: float = Field(ge=0, le=360, description="where the wind blows from, "
                                                            "degrees clockwise from north")
    stability_class: str = Field("D", description="Pasquill–Gifford class A..F")
    dispersion: Literal["briggs-rural", "briggs-urban", "pasquill-gifford"] = Field(
        "briggs-rural", description="σy, σz scheme")
    receptor_height_m: float = Field(0.0, ge=0, description="height of the receptors, m")

    @field_validator("stability_class")
    @classmethod
    def _stability(cls, value: str) -> str:
        if str(value).strip().upper() not in STABILITY_CLASSES:
            raise ValueError(f"unknown stability class {value!r}: use A, B, C, D, E or F")
        return str(value).strip().upper()

    @field_validator("substance")
    @classmethod
    def _substance(cls, value: str) -> str:
        if value not in aegl_table().index:
            raise ValueError(f"unknown substance {value!r}: known "
                             f"{', '.join(aegl_table().index)}")
        return value

    @model_validator(mode="after")
    def _source(self) -> ChemicalReleaseParameters:
        has_point = self.source_lat is not None and self.source_lon is not None
        if has_point == (self.source_asset_id is not None):
            raise ValueError("give either source_lat and source_lon, or source_asset_id")
        return self


def _source_point(assets: gpd.GeoDataFrame, p: ChemicalReleaseParameters) -> shapely.Point:
    if p.source_asset_id is None:
        return shapely.Point(p.source_lon, p.source_lat)
    match = assets.loc[assets["asset_id"] == p.source_asset_id, "geometry"]
    if match.empty:
        raise CascadaInputError(f"no asset {p.source_asset_id!r} in the region",
                                field="source_asset_id")
    return match.iloc[0].representative_point()


@register
class ChemicalRelease(HazardModel):
    """Gaussian plume of a toxic gas release; intensity in mg/m³ at each asset."""

    name: ClassVar[str] = "chemical"
    unit: ClassVar[str] = "concentration_mg_m3"
    description: ClassVar[str] = ("toxic gas release: Gaussian plume, Pasquill–Gifford classes, "
                                  "Briggs σ; AEGL thresholds")
    Parameters: ClassVar[type[HazardParameters]] = ChemicalReleaseParameters
    size_parameter: ClassVar[str | None] = "release_rate_kg_s"
    #: a chlorine release at the Marsa area, on Malta (illustrative).
    example: ClassVar[dict] = {
        "source_lat": 35.876, "source_lon": 14.495, "substance": "chlorine",
        "release_rate_kg_s": 1.0, "duration_min": 30.0, "release_height_m": 2.0,
        "wind_speed_m_s": 3.0, "wind_from_deg": 315.0, "stability_class": "D",
    }

    def concentration_at(self, geometries: gpd.GeoSeries, parameters: HazardParameters,
                         source: shapely.Point) -> np.ndarray:
        """Ground-level concentration (mg/m³) at each geometry; lines take their maximum.

        geometries: N points or lines (any CRS). source: release point, EPSG:4326.
        Returns: N float64.
        """
        p = parameters
        assert isinstance(p, ChemicalReleaseParameters)
        metric_crs = pyproj.CRS.from_epsg(_utm_epsg(source.x, source.y))
        geoms = geometries.to_crs(metric_crs).reset_index(drop=True).values
        sx, sy = pyproj.Transformer.from_crs("EPSG:4326", metric_crs, always_xy=True).transform(
            source.x, source.y)
        dense = shapely.segmentize(geoms, LINE_STEP_M)
        coords, owner = shapely.get_coordinates(dense, return_index=True)
        dx, dy = coords[:, 0] - sx, coords[:, 1] - sy
        toward = np.deg2rad((p.wind_from_deg + 180.0) % 360.0)
        ux, uy = np.sin(toward), np.cos(toward)
        x = dx * ux + dy * uy
        y = -dx * uy + dy * ux
        near = np.hypot(dx, dy) < MIN_DISTANCE_M
        x = np.where(near, MIN_DISTANCE_M, x)
        y = np.where(near, 0.0, y)
        c = gaussian_plume(x, y, p.receptor_height_m, release_rate_mg_s=p.release_rate_kg_s * 1e6,
                           wind_speed_m_s=p.wind_speed_m_s, release_height_m=p.release_height_m,
                           stability_class=p.stability_class, scheme=p.dispersion)
        out = np.zeros(len(geoms))
        np.maximum.at(out, owner, c)
        return out

    def event_set(self, assets: gpd.GeoDataFrame, parameters: HazardParameters,
                  rng: np.random.Generator) -> EventSet:
        """One event: concentration_mg_m3 at every asset (rng unused: deterministic)."""
        p = parameters
        assert isinstance(p, ChemicalReleaseParameters)
        source = _source_point(assets, p)
        c = self.concentration_at(assets.geometry, p, source).astype(np.float32)
        events = pd.DataFrame({"event_id": [f"chemical-{p.substance}"], "hazard": ["chemical"]})
        return EventSet(
            intensity=sparse.csr_matrix(c[None, :]),
            asset_ids=assets["asset_id"].to_numpy(),
            events=events,
            metadata={"substance": p.substance, "source_lon": source.x, "source_lat": source.y,
                      "duration_min": p.duration_min, "thresholds_mg_m3":
                      thresholds_mg_m3(p.substance), "method": "Gaussian plume, "
                      f"{p.dispersion}, class {p.stability_class}"},
        )


    def people_exposed(self, people: gpd.GeoDataFrame, assets: gpd.GeoDataFrame,
                       parameters: HazardParameters) -> dict[str, float] | None:
        """People at or above AEGL-1/2/3 (60 min) at their population points."""
        return people_exposed_to_release(people, assets, parameters).to_dict()


def _utm_epsg(lon: float, lat: float) -> int:
    zone = int((lon + 180) // 6) + 1
    return (32600 if lat >= 0 else 32700) + zone


def people_exposed(people: gpd.GeoDataFrame, concentration_mg_m3: ArrayLike,
                   thresholds: str | dict[str, float]) -> pd.Series:
    """People at or above each AEGL level.

    people: population points (``population`` column, people).
    concentration_mg_m3: one value per people row (e.g. from
    :meth:`ChemicalRelease.concentration_at`), mg/m³.
    thresholds: a substance name (AEGL table) or {level: mg/m³}.
    Returns: Series indexed by level (AEGL-1, AEGL-2, AEGL-3): people, float.
    A level that is not recommended (NaN) counts 0.
    """
    limits = thresholds_mg_m3(thresholds) if isinstance(thresholds, str) else dict(thresholds)
    c = np.asarray(concentration_mg_m3, dtype=np.float64).reshape(-1)
    if len(c) != len(people):
        raise CascadaInputError(f"{len(c)} concentrations for {len(people)} people points",
                                field="concentration_mg_m3")
    population = people["population"].to_numpy(dtype=np.float64)
    counts = {level: float(population[c >= limit].sum()) if np.isfinite(limit) else 0.0
              for level, limit in limits.items()}
    return pd.Series(counts, name="people")


def people_exposed_to_release(region_people: gpd.GeoDataFrame, assets: gpd.GeoDataFrame,
                              parameters: dict | HazardParameters) -> pd.Series:
    """Convenience: run the plume at the people points and count people per AEGL level."""
    model = ChemicalRelease()
    p = parameters if isinstance(parameters, HazardParameters) else model.parameters(parameters)
    assert isinstance(p, ChemicalReleaseParameters)
    c = model.concentration_at(region_people.geometry, p, _source_point(assets, p))
    return people_exposed(region_people, c, p.substance)
