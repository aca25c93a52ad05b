"""Wildfire: fire danger (Canadian FWI, xclim) and cellular-automaton spread → burn probability.

Fire danger. The Canadian Fire Weather Index (Van Wagner 1987), computed by
``xclim.indices.fire.cffwis_indices`` from a daily weather series. Offline
there is no observed series for Malta, so :func:`synthetic_daily_weather`
draws a SYNTHETIC year calibrated to Malta's monthly normals
(``data/malta_climate.csv``, WMO 1961–1990 Luqa): noon temperature = normal
mean maximum + AR(1) noise (σ 2 °C, lag-1 0.7); noon relative humidity =
normal mean − 15 points ± 8 (assumption: afternoon minimum below the daily
mean), clipped to 15–100 %; wind = monthly mean × lognormal (σ 0.35); rain
on a day with probability (rain days / days in month), amount exponential
with mean (monthly total / rain days). The event's FWI is either given
(``fwi``) or read from the synthetic series on ``weather_day`` (MM-DD).
Drought raises fire danger: with ``deficit_percent`` (inherited when a drought
triggers the fire) the rain of the ``duration_months`` before the day is cut
by that share, so the Duff Moisture and Drought Codes — and so the FWI — climb
(the series starts on 1 January, so at most the months since then count).

Spread. The cellular automaton of Alexandridis et al. (2008) on a 100 m grid
(UTM 33N): a burning cell ignites each of its 8 neighbours j with

    p_burn = p_h · (1 + p_veg_j) · (1 + p_den_j) · p_w · p_s    (clipped to 1)

- p_h = 0.58 (their calibration) × min(FWI / 21.3, 1.5): scaled by fire
  danger (assumption; 21.3 is the lower bound of EFFIS' "very high" class);
- p_veg, p_den: fuel type and density from OSM land cover
  (``data/wildfire_fuels.csv``: farmland, grass, scrub, heath, wood …);
  cells without mapped vegetation (built-up, rock, sea) do not burn;
- p_w = exp(c1 · V) · exp(c2 · V · (cos θ − 1)), c1 = 0.045, c2 = 0.131 s/m,
  V the wind speed (m/s), θ the angle between the wind's heading and the
  direction of spread;
- p_s = exp(a · θs), a = 0.078 per degree, θs the slope angle from the burning
  cell to j (uphill positive), from the 40 m DTM averaged onto the grid.
  Gozo and Comino have no DTM offline: flat there (labelled in metadata).

Wildland–urban interface (WUI). After Radeloff et al. (2005), people and
assets where buildings meet wildland vegetation: *intermix* when the point
lies on a wildland fuel cell (grass, garrigue, scrub, woods — not farmland),
*interface* when it lies within ``wui_interface_m`` (default 200 m,
assumption: of the order of ember spotting in Mediterranean shrubland;
Radeloff et al. use 2.4 km for large US wildlands, which would put all of
Malta inside) of one. The event set's metadata counts assets per class
(``wui_assets``, ``wui_assets_by_sector``); ``people_exposed`` counts
residents per class.

Each directed neighbour link gets ONE uniform draw per run (not per step), so
a run is a percolation: the burnt set after n steps is everything reachable
from the ignitions through open links in ≤ n steps. With the same seed, a
higher FWI or more hours never burns less. A step is ``cell_m`` / 10 m/min
(10 min for 100 m cells; assumption, a typical Mediterranean shrubland rate).

Monte Carlo over ``n_runs`` (seeded) gives the burn probability of each
cell. An asset takes the burn probability of its cell; an asset on a cell
without fuel takes the highest probability of its 8 neighbours (the
wildland–urban interface: fire within ~100 m); lines take the maximum along
them. The intensity is this probability (unit burn_fraction, 0..1).

Limits: no spotting, no suppression, no fuel moisture by cell, wind uniform
and constant, the FWI does not change during the run.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from typing import ClassVar

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
from pydantic import Field, field_validator, model_validator
from scipy import ndimage, sparse

from cascada.datafile import data_path
from cascada.errors import CascadaInputError, require
from cascada.hazards.drought import MALTA_LATITUDE, malta_climate
from cascada.hazards.eventset import EventSet
from cascada.hazards.footprint import sample_array, sample_stack, value_at_points
from cascada.hazards.registry import HazardModel, HazardParameters, register
from cascada.region.osm import open_osm

DEFAULT_DEM = data_path("malta", "malta-dtm-40m.tif")
GRID_CRS = "EPSG:32633"
P_H = 0.58
C1, C2 = 0.045, 0.131
SLOPE_A = 0.078
FWI_REFERENCE = 21.3
SPREAD_M_PER_MIN = 10.0
# neighbour offsets (row, col): N, NE, E, SE, S, SW, W, NW
_OFFSETS = ((-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1), (-1, -1))


@cache
def fuel_table() -> pd.DataFrame:
    """OSM tag → fuel code, type, p_veg, p_den (Alexandridis et al. 2008), with notes."""
    path = resources.files("cascada.hazards") / "data" / "wildfire_fuels.csv"
    with resources.as_file(path) as p:
        return pd.read_csv(p)


def malta_fuel_grid_path() -> Path:
    """The packaged 100 m fuel-code grid of Malta (built by :func:`build_fuel_grid`)."""
    with resources.as_file(resources.files("cascada.hazards") / "data" /
                           "malta_fuels_100m.tif") as p:
        return Path(p)


def build_fuel_grid(pbf_path: str | Path, output: str | Path, cell_m: float = 100.0) -> Path:
    """Rasterise OSM land cover into a fuel-code GeoTIFF (uint8, 0 = no fuel, UTM 33N).

    Codes and the tag mapping come from ``data/wildfire_fuels.csv``; where
    polygons overlap the higher code wins. The grid covers the features plus
    1 km, snapped to ``cell_m``. © OpenStreetMap contributors, ODbL 1.0.
    """
    rasterio = require("rasterio", "raster")
    from rasterio import features

    table = fuel_table()
    osm = open_osm(pbf_path)
    wanted = {key: sorted(group["value"]) for key, group in table.groupby("key")}
    gdf = osm.get_data_by_custom_criteria(custom_filter=wanted, filter_type="keep",
                                          keep_nodes=False)
    if gdf is None or len(gdf) == 0:
        raise CascadaInputError("no vegetated land cover in the OSM file", file=pbf_path)
    gdf = gdf[gdf.geom_type.isin(["Polygon", "MultiPolygon"])].to_crs(GRID_CRS)
    code = pd.Series(0, index=gdf.index)
    for row in table.itertuples():
        if row.key in gdf.columns:
            match = (gdf[row.key] == row.value).to_numpy()
            code[match] = np.maximum(code[match], row.code)
    gdf = gdf.assign(code=code.to_numpy())
    gdf = gdf[gdf["code"] > 0].sort_values("code")
    left, bottom, right, top = gdf.total_bounds
    left = np.floor((left - 1000) / cell_m) * cell_m
    top = np.ceil((top + 1000) / cell_m) * cell_m
    width = int(np.ceil((right + 1000 - left) / cell_m))
    height = int(np.ceil((top - (bottom - 1000)) / cell_m))
    transform = rasterio.transform.from_origin(left, top, cell_m, cell_m)
    grid = features.rasterize(zip(gdf.geometry.values, gdf["code"].to_numpy(), strict=True),
                              out_shape=(height, width), transform=transform, fill=0,
                              dtype="uint8")
    output = Path(output)
    with rasterio.open(output, "w", driver="GTiff", height=height, width=width, count=1,
                       dtype="uint8", crs=GRID_CRS, transform=transform, compress="deflate",
                       nodata=None) as dst:
        dst.write(grid, 1)
        dst.update_tags(source=f"OpenStreetMap land cover ({Path(pbf_path).name}), "
                               "© OpenStreetMap contributors, ODbL 1.0",
                        mapping="cascada/hazards/data/wildfire_fuels.csv")
    return output


@dataclass(frozen=True)
class FuelGrid:
    """Fuels and terrain on the fire grid (rows × cols).

    code: uint8 fuel code (0 no fuel). p_veg, p_den: float64. elevation_m:
    float64 (0 where no DTM). has_dtm: bool. transform, crs: the grid's.
    """

    code: np.ndarray
    p_veg: np.ndarray
    p_den: np.ndarray
    elevation_m: np.ndarray
    has_dtm: np.ndarray
    transform: object
    crs: str
    cell_m: float


@lru_cache(maxsize=4)
def load_fuel_grid(fuel_path: str, dem_path: str | None) -> FuelGrid:
    """Read a fuel-code grid and average the DTM onto it (cached per file pair)."""
    rasterio = require("rasterio", "raster")
    from rasterio.warp import Resampling, reproject

    with rasterio.open(fuel_path) as src:
        code = src.read(1)
        transform, crs = src.transform, src.crs.to_string()
    table = fuel_table().drop_duplicates("code").set_index("code")
    lookup_veg = np.zeros(256)
    lookup_den = np.zeros(256)
    lookup_veg[table.index] = table["p_veg"]
    lookup_den[table.index] = table["p_den"]
    elevation = np.full(code.shape, np.nan, dtype="float64")
    if dem_path is not None and Path(dem_path).is_file():
        with rasterio.open(dem_path) as dem:
            reproject(source=rasterio.band(dem, 1), destination=elevation,
                      src_nodata=np.nan, dst_transform=transform, dst_crs=crs,
                      dst_nodata=np.nan, resampling=Resampling.average)
    has_dtm = np.isfinite(elevation)
    return FuelGrid(code, lookup_veg[code], lookup_den[code], np.where(has_dtm, elevation, 0.0),
                    has_dtm, transform, crs, abs(transform.a))


# --------------------------------------------------------------------------- fire weather


def synthetic_daily_weather(year: int, rng: np.random.Generator) -> pd.DataFrame:
    """A SYNTHETIC year of daily noon weather for Malta (see the module docstring).

    Returns: DataFrame indexed by date: tas_c (°C), hurs_pct (%),
    wind_km_h (km/h), pr_mm (mm/day).
    """
    climate = malta_climate()
    days = pd.date_range(f"{year}-01-01", f"{year}-12-31", freq="D")
    month = days.month.to_numpy()
    n = len(days)
    noise = np.empty(n)
    z = rng.standard_normal(n)
    noise[0] = z[0]
    for t in range(1, n):
        noise[t] = 0.7 * noise[t - 1] + np.sqrt(1 - 0.49) * z[t]
    tas = climate["tasmax_mean_c"].to_numpy()[month - 1] + 2.0 * noise
    hurs = np.clip(climate["hurs_mean_pct"].to_numpy()[month - 1] - 15.0
                   + 8.0 * rng.standard_normal(n), 15.0, 100.0)
    wind = (climate["wind_mean_m_s"].to_numpy()[month - 1] * 3.6
            * rng.lognormal(-0.5 * 0.35 ** 2, 0.35, n))
    wet_probability = (climate["precipitation_days"].to_numpy()[month - 1]
                       / days.days_in_month.to_numpy())
    mean_wet = (climate["precipitation_mm"] / climate["precipitation_days"]).to_numpy()
    rain = np.where(rng.random(n) < wet_probability,
                    rng.exponential(1.0, n) * mean_wet[month - 1], 0.0)
    return pd.DataFrame({"tas_c": tas, "hurs_pct": hurs, "wind_km_h": wind, "pr_mm": rain},
                        index=days)


def fire_weather_index(weather: pd.DataFrame, latitude: float = MALTA_LATITUDE) -> pd.Series:
    """Daily FWI (dimensionless) from noon weather with xclim's ``cffwis_indices``.

    weather: as :func:`synthetic_daily_weather` (a daily series from January).
    """
    xr = require("xarray", "climate")
    fire = require("xclim.indices.fire", "climate")
    time = weather.index

    def arr(column: str, units: str):
        return xr.DataArray(weather[column].to_numpy(float), dims="time",
                            coords={"time": time}, attrs={"units": units})

    out = fire.cffwis_indices(arr("tas_c", "degC"), arr("pr_mm", "mm/d"),
                              arr("wind_km_h", "km/h"), arr("hurs_pct", "%"),
                              xr.DataArray(latitude, attrs={"units": "degrees_north"}))
    return pd.Series(out[-1].to_numpy(), index=time, name="fwi")


# --------------------------------------------------------------------------- spread


def spread_probabilities(grid: FuelGrid, wind_speed_m_s: float, wind_from_deg: float,
                         fwi: float) -> np.ndarray:
    """p_burn of each directed link, 8 × rows × cols (link from a cell to its neighbour d).

    Zero where the neighbour is outside the grid or has no fuel.
    """
    rows, cols = grid.code.shape
    heading = np.deg2rad((wind_from_deg + 180.0) % 360.0)     # where the wind blows to
    p_h = P_H * min(max(fwi, 0.0) / FWI_REFERENCE, 1.5)
    burnable = grid.code > 0
    out = np.zeros((8, rows, cols))
    for d, (dr, dc) in enumerate(_OFFSETS):
        src = (slice(max(0, -dr), rows - max(0, dr)), slice(max(0, -dc), cols - max(0, dc)))
        dst = (slice(max(0, dr), rows - max(0, -dr)), slice(max(0, dc), cols - max(0, -dc)))
        direction = np.arctan2(dc, -dr)                        # clockwise from north
        theta = direction - heading
        p_w = np.exp(wind_speed_m_s * (C1 + C2 * (np.cos(theta) - 1.0)))
        length = grid.cell_m * np.hypot(dr, dc)
        rise = grid.elevation_m[dst] - grid.elevation_m[src]
        p_s = np.exp(SLOPE_A * np.degrees(np.arctan(rise / length)))
        p = p_h * (1 + grid.p_veg[dst]) * (1 + grid.p_den[dst]) * p_w * p_s
        out[d][src] = np.where(burnable[dst], np.minimum(p, 1.0), 0.0)
    return out


def burn_probability(p_burn: np.ndarray, ignitions: np.ndarray, n_steps: int,
                     rng: np.random.Generator, chunk: int = 8) -> np.ndarray:
    """Monte-Carlo burn probability of each cell (rows × cols, float64, 0..1).

    p_burn: 8 × rows × cols link probabilities. ignitions: runs × k flat cell
    indices (one row per run). One uniform draw per link and run; runs are
    processed in chunks of ``chunk`` (the draws do not depend on p_burn).
    """
    n_runs = len(ignitions)
    _, rows, cols = p_burn.shape
    burnt_count = np.zeros((rows, cols))
    for start in range(0, n_runs, chunk):
        runs = ignitions[start:start + chunk]
        k = len(runs)
        open_links = rng.random((k, 8, rows, cols), dtype=np.float32) < p_burn[None]
        burnt = np.zeros((k, rows, cols), dtype=bool)
        flat = burnt.reshape(k, -1)
        for r in range(k):
            flat[r, runs[r]] = True
        front = burnt.copy()
        for _ in range(n_steps):
            ignite = np.zeros_like(front)
            for d, (dr, dc) in enumerate(_OFFSETS):
                src = (slice(None), slice(max(0, -dr), rows - max(0, dr)),
                       slice(max(0, -dc), cols - max(0, dc)))
                dst = (slice(None), slice(max(0, dr), rows - max(0, -dr)),
                       slice(max(0, dc), cols - max(0, -dc)))
                ignite[dst] |= front[src] & open_links[:, d][src]
            front = ignite & ~burnt
            if not front.any():
                break
            burnt |= front
        burnt_count += burnt.sum(axis=0)
    return burnt_count / max(n_runs, 1)


# --------------------------------------------------------------------------- the model


class WildfireParameters(HazardParameters):
    """Ignitions, wind and fire danger; field names carry their units."""

    ignition_lat: float | None = Field(None, ge=-90, le=90, description="degrees")
    ignition_lon: float | None = Field(None, ge=-180, le=180, description="degrees")
    n_ignitions: int = Field(1, ge=1, le=100, description="random ignitions per run "
                                                          "(without ignition_lat/lon)")
    wind_speed_m_s: float = Field(5.0, ge=0, le=40, description="m/s")
    wind_from_deg: float = Field(315.0, ge=0, le=360,
                                 description="where the wind blows from, degrees")
    fwi: float | None = Field(None, ge=0, le=200, description="Fire Weather Index")
    weather_day: str | None = Field(None, description="MM-DD of the synthetic year")
    deficit_percent: float = Field(
        0.0, ge=0, le=100, description="drought: rainfall deficit in the months before "
                                       "weather_day, % (inherited from a drought trigger)")
    duration_months: int = Field(12, ge=1, le=60,
                                 description="drought: months of deficit before weather_day")
    n_runs: int = Field(50, ge=1, le=2000, description="Monte-Carlo runs")
    hours: float = Field(6.0, gt=0, le=72, description="duration of spread, h")
    fuel_grid: str | None = Field(None, description="fuel-code GeoTIFF (default: Malta)")
    dem_path: str | None = Field(str(DEFAULT_DEM), description="terrain model for slope")
    wui_interface_m: float = Field(
        200.0, ge=0, le=5000, description="wildland-urban interface: distance to wildland "
                                          "fuel, m (assumption; see the module docstring)")

    @field_validator("weather_day")
    @classmethod
    def _day(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                pd.Timestamp(f"2001-{value}")
            except ValueError as exc:
                raise ValueError(f"weather_day must be MM-DD, got {value!r}") from exc
        return value

    @model_validator(mode="after")
    def _choices(self) -> WildfireParameters:
        if (self.ignition_lat is None) != (self.ignition_lon is None):
            raise ValueError("give both ignition_lat and ignition_lon, or neither")
        if self.fwi is not None and self.weather_day is not None:
            raise ValueError("give fwi or weather_day, not both")
        return self


@register
class Wildfire(HazardModel):
    """Burn probability from a Monte-Carlo Alexandridis (2008) cellular automaton."""

    name: ClassVar[str] = "wildfire"
    unit: ClassVar[str] = "burn_fraction"
    description: ClassVar[str] = ("wildfire: FWI (xclim) on synthetic weather + Alexandridis "
                                  "(2008) cellular spread over OSM fuels → burn probability")
    Parameters: ClassVar[type[HazardParameters]] = WildfireParameters
    size_parameter: ClassVar[str | None] = "fwi"
    #: a summer fire lit near Buskett / Dingli cliffs, north-westerly wind.
    example: ClassVar[dict] = {"ignition_lat": 35.8585, "ignition_lon": 14.3950,
                               "wind_speed_m_s": 6.0, "wind_from_deg": 315.0, "fwi": 30.0,
                               "n_runs": 40, "hours": 6.0}

    def fwi_of(self, p: WildfireParameters, rng: np.random.Generator) -> tuple[float, str]:
        """The event's FWI and where it came from."""
        if p.fwi is not None:
            return float(p.fwi), "given"
        day = p.weather_day or "08-01"
        weather = synthetic_daily_weather(2001, rng)
        when = pd.Timestamp(f"2001-{day}")
        source = f"synthetic weather, {day}"
        if p.deficit_percent > 0:
            # drought → fire danger: the same weather with less rain before the day
            dry = weather.index > when - pd.DateOffset(months=p.duration_months)
            weather.loc[dry, "pr_mm"] *= 1.0 - p.deficit_percent / 100.0
            source += f", rainfall -{p.deficit_percent:g} % over {p.duration_months} months"
        value = float(fire_weather_index(weather).loc[when])
        return (value if np.isfinite(value) else 0.0), source

    def burn_probability_grid(self, p: WildfireParameters, rng: np.random.Generator
                              ) -> tuple[np.ndarray, FuelGrid, dict]:
        """Burn probability per cell (rows × cols), the grid, and metadata."""
        fuel_path = p.fuel_grid or str(malta_fuel_grid_path())
        if not Path(fuel_path).is_file():
            raise CascadaInputError("fuel grid not found", file=fuel_path, field="fuel_grid")
        grid = load_fuel_grid(str(fuel_path), p.dem_path)
        fwi, fwi_source = self.fwi_of(p, rng)
        burnable = np.flatnonzero(grid.code.reshape(-1) > 0)
        if len(burnable) == 0:
            raise CascadaInputError("the fuel grid has no fuel", file=fuel_path)
        if p.ignition_lat is not None:
            cell = _nearest_burnable(grid, p.ignition_lon, p.ignition_lat)
            ignitions = np.full((p.n_runs, 1), cell)
        else:
            ignitions = rng.choice(burnable, size=(p.n_runs, p.n_ignitions))
        n_steps = int(np.ceil(p.hours * 60.0 * SPREAD_M_PER_MIN / grid.cell_m))
        links = spread_probabilities(grid, p.wind_speed_m_s, p.wind_from_deg, fwi)
        probability = burn_probability(links, ignitions, n_steps, rng)
        metadata = {"fwi": fwi, "fwi_source": fwi_source, "n_runs": p.n_runs,
                    "n_steps": n_steps, "cell_m": grid.cell_m,
                    "burnt_area_expected_km2": float(probability.sum() * grid.cell_m ** 2
                                                     / 1e6),
                    "flat_terrain_share_of_fuel": float((~grid.has_dtm[grid.code > 0]).mean()),
                    "synthetic_weather": p.fwi is None}
        return probability, grid, metadata

    def people_exposed(self, people: gpd.GeoDataFrame, assets: gpd.GeoDataFrame,
                       parameters: HazardParameters) -> dict[str, float] | None:
        """Residents in the wildland–urban interface (people), by WUI class."""
        p = parameters
        assert isinstance(p, WildfireParameters)
        require("rasterio", "raster")
        return _people_in_wui(people, p)

    def event_set(self, assets: gpd.GeoDataFrame, parameters: HazardParameters,
                  rng: np.random.Generator) -> EventSet:
        """One event: burn probability (0..1) at every asset."""
        p = parameters
        assert isinstance(p, WildfireParameters)
        require("rasterio", "raster")
        probability, grid, metadata = self.burn_probability_grid(p, rng)
        exposure = np.where(grid.code > 0, probability,
                            ndimage.maximum_filter(probability, size=3, mode="constant"))
        intensity, exposed = sample_array(assets, exposure, grid.transform, grid.crs)
        events = pd.DataFrame({"event_id": ["wildfire"], "hazard": ["wildfire"]})
        metadata.update(method="Alexandridis et al. (2008) CA, Monte Carlo; FWI by xclim",
                        fuels="OSM land cover, © OpenStreetMap contributors, ODbL 1.0")
        wui = wui_class(distance_to_wildland_m(assets.geometry, grid), p.wui_interface_m)
        metadata["wui_assets"] = {c: int((wui == c).sum()) for c in ("intermix", "interface")}
        metadata["wui_assets_by_sector"] = (
            pd.Series(wui[wui != ""]).groupby(assets["sector"].to_numpy()[wui != ""]).size()
            .astype(int).to_dict() if "sector" in assets.columns else {})
        return EventSet(intensity=sparse.csr_matrix(np.clip(intensity, 0, 1)[None, :]),
                        asset_ids=assets["asset_id"].to_numpy(), events=events,
                        exposed_length_m=sparse.csr_matrix(exposed[None, :]),
                        metadata=metadata)


#: fuel codes that count as wildland (grass, garrigue/heath, scrub, woods); farmland does not
WILDLAND_CODES = (2, 3, 4, 5)


def distance_to_wildland_m(geometries: gpd.GeoSeries, grid: FuelGrid) -> np.ndarray:
    """Distance (m) from each geometry's representative point to the nearest wildland
    cell of the fuel grid (0 on a wildland cell; cell-centre accuracy, ±cell/2)."""
    wild = np.isin(grid.code, WILDLAND_CODES)
    if not wild.any():
        return np.full(len(geometries), np.inf)
    distance = ndimage.distance_transform_edt(~wild) * grid.cell_m
    return value_at_points(geometries, distance, grid.transform, grid.crs, outside=np.inf)


def wui_class(distance_m: np.ndarray, interface_m: float) -> np.ndarray:
    """WUI class per point: "intermix" (on wildland), "interface" (within
    ``interface_m`` of it) or "" (outside)."""
    return np.where(distance_m <= 0, "intermix",
                    np.where(distance_m <= interface_m, "interface", ""))


def _people_in_wui(people: gpd.GeoDataFrame, p: WildfireParameters) -> dict[str, float]:
    fuel_path = p.fuel_grid or str(malta_fuel_grid_path())
    grid = load_fuel_grid(str(fuel_path), p.dem_path)
    wui = wui_class(distance_to_wildland_m(people.geometry, grid), p.wui_interface_m)
    population = people["population"].to_numpy(float)
    return {"WUI intermix (on wildland)": float(population[wui == "intermix"].sum()),
            f"WUI interface (≤ {p.wui_interface_m:g} m of wildland)":
                float(population[wui == "interface"].sum())}


def _nearest_burnable(grid: FuelGrid, lon: float, lat: float, max_m: float = 500.0) -> int:
    """Flat index of the fuel cell nearest to a point, within ``max_m`` metres."""
    x, y = pyproj.Transformer.from_crs("EPSG:4326", grid.crs, always_xy=True).transform(lon, lat)
    cols = grid.code.shape[1]
    col = (x - grid.transform.c) / grid.transform.a
    row = (y - grid.transform.f) / grid.transform.e
    rr, cc = np.nonzero(grid.code > 0)
    distance = np.hypot(rr + 0.5 - row, cc + 0.5 - col) * grid.cell_m
    best = int(np.argmin(distance))
    if distance[best] > max_m:
        raise CascadaInputError(f"no vegetation within {max_m:.0f} m of the ignition point",
                                field="ignition_lat",
                                hint="fires start in mapped vegetation (OSM landuse/natural)")
    return int(rr[best] * cols + cc[best])


# --------------------------------------------------------------------------- fire seasons


def stochastic_fire_season(
    assets: gpd.GeoDataFrame,
    n_events: int,
    rng: np.random.Generator,
    *,
    fires_per_year: float = 2.0,
    months: tuple[int, ...] = (6, 7, 8, 9),
    n_weather_years: int = 10,
    hours: float = 6.0,
    prevailing_from_deg: float = 315.0,
    prevailing_share: float = 0.6,
    fuel_grid: str | None = None,
    dem_path: str | None = str(DEFAULT_DEM),
) -> EventSet:
    """A SYNTHETIC stochastic fire catalogue for risk: ``n_events`` fires, each one
    run of the cellular automaton, sharing ``fires_per_year`` (events/year).

    Each fire: an ignition on a random fuel cell (uniform over fuel); a day drawn
    from ``months`` of ``n_weather_years`` synthetic years (its FWI by xclim and
    its wind speed); wind from ``prevailing_from_deg`` ± 20° (normal) with
    probability ``prevailing_share`` (Malta's north-westerly majjistral;
    assumption), else from a uniform direction; spread for ``hours``.
    Intensity: 1 at assets the fire burns (or next to, as in the scenario model),
    0 elsewhere — a burn_fraction of one realisation.

    fires_per_year: rate of fires large enough to spread into assets
    (assumption, default 2; replace with local statistics, e.g. Civil
    Protection Department call-outs to vegetation fires). Returns an EventSet with ``annual_rate``
    = fires_per_year / n_events per event; metadata holds each fire's FWI,
    wind and ignition cell.
    """
    require("rasterio", "raster")
    if n_events < 1:
        raise CascadaInputError("n_events must be >= 1", field="n_events")
    if fires_per_year < 0:
        raise CascadaInputError("fires_per_year must be >= 0", field="fires_per_year")
    if not months or any(not 1 <= m <= 12 for m in months):
        raise CascadaInputError("months must be 1..12", field="months")
    fuel_path = fuel_grid or str(malta_fuel_grid_path())
    if not Path(fuel_path).is_file():
        raise CascadaInputError("fuel grid not found", file=fuel_path, field="fuel_grid")
    grid = load_fuel_grid(str(fuel_path), dem_path)
    burnable = np.flatnonzero(grid.code.reshape(-1) > 0)
    if len(burnable) == 0:
        raise CascadaInputError("the fuel grid has no fuel", file=fuel_path)
    # one continuous series, so the moisture codes carry over from year to year
    weather = pd.concat([synthetic_daily_weather(2001 + year, rng)
                         for year in range(n_weather_years)])
    fwi_series = fire_weather_index(weather)
    season = weather.index.month.isin(months)
    pool = np.nan_to_num(np.column_stack([fwi_series.to_numpy()[season],
                                          weather["wind_km_h"].to_numpy()[season] / 3.6]))
    pick = rng.integers(0, len(pool), n_events)
    fwi, wind = pool[pick, 0], pool[pick, 1]
    prevailing = rng.random(n_events) < prevailing_share
    wind_from = np.where(prevailing, prevailing_from_deg + 20.0 * rng.standard_normal(n_events),
                         rng.uniform(0.0, 360.0, n_events)) % 360.0
    ignition = rng.choice(burnable, size=n_events)
    n_steps = int(np.ceil(hours * 60.0 * SPREAD_M_PER_MIN / grid.cell_m))
    parts = []
    for lo in range(0, n_events, 64):  # grids in chunks: memory stays bounded
        exposure = np.zeros((min(64, n_events - lo), *grid.code.shape), np.float32)
        for i, e in enumerate(range(lo, lo + len(exposure))):
            links = spread_probabilities(grid, float(wind[e]), float(wind_from[e]),
                                         float(fwi[e]))
            burnt = burn_probability(links, ignition[e:e + 1, None], n_steps, rng)
            exposure[i] = np.where(grid.code > 0, burnt,
                                   ndimage.maximum_filter(burnt, size=3, mode="constant"))
        parts.append(sample_stack(assets, exposure, grid.transform, grid.crs))
    intensity = np.concatenate([p[0] for p in parts])
    exposed = np.concatenate([p[1] for p in parts])
    events = pd.DataFrame({"event_id": [f"wildfire-s{e:05d}" for e in range(n_events)],
                           "hazard": "wildfire", "annual_rate": fires_per_year / n_events})
    return EventSet(
        intensity=sparse.csr_matrix(np.clip(intensity, 0, 1)),
        asset_ids=assets["asset_id"].to_numpy(),
        events=events, exposed_length_m=sparse.csr_matrix(exposed),
        metadata={"synthetic": True, "fwi": fwi.tolist(), "wind_speed_m_s": wind.tolist(),
                  "wind_from_deg": wind_from.tolist(), "ignition_cell": ignition.tolist(),
                  "fires_per_year": fires_per_year, "months": list(months),
                  "method": "Alexandridis et al. (2008) CA, one run per fire; FWI by xclim "
                            "on synthetic weather",
                  "fuels": "OSM land cover, © OpenStreetMap contributors, ODbL 1.0"},
    )
