"""Static figures for the run report: map, service time series, small multiples.

Every function builds a :class:`matplotlib.figure.Figure` directly (no pyplot,
no global backend state) and returns the picture as PNG bytes, ready to embed
as base64 in a self-contained HTML page. No map tiles and no fonts are fetched:
the map is drawn from the run folder's own geometries on plain lon/lat axes.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import shapely

from cascada.errors import require

if TYPE_CHECKING:  # pragma: no cover - typing only
    import geopandas as gpd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "SERVICE_COLOURS",
    "STATE_COLOURS",
    "STATE_ORDER",
    "map_png",
    "service_hours_png",
    "service_timeseries_png",
]

#: Colour of each ``worst_state`` on the map, drawn in this order (last on top).
STATE_ORDER: tuple[str, ...] = ("working", "on backup", "lost supply", "damaged")
STATE_COLOURS: dict[str, str] = {
    "damaged": "#8b0000",
    "lost supply": "#f07d00",
    "on backup": "#d4a900",
    "working": "#8fa68f",
}
_STATE_POINT_SIZE = {"damaged": 26.0, "lost supply": 18.0, "on backup": 18.0, "working": 5.0}
_STATE_LINE_WIDTH = {"damaged": 1.5, "lost supply": 1.4, "on backup": 1.4, "working": 0.5}

#: One colour per service in the time-series chart.
SERVICE_COLOURS: dict[str, str] = {
    "power": "#e69f00",
    "water": "#0072b2",
    "telecom": "#9467bd",
    "health": "#d62728",
    "finance": "#009e73",
    "food": "#8c564b",
}
_FALLBACK_COLOURS = ("#17becf", "#7f7f7f", "#bcbd22", "#e377c2", "#1f77b4", "#ff7f0e")

_ROAD_COLOUR = "#cfcfcf"
_PEOPLE_COLOUR = "#9a9a9a"
_OSM_CREDIT = "© OpenStreetMap contributors"
_DPI = 110


def service_colour(service: str, index: int = 0) -> str:
    """Colour for ``service``; unknown services cycle through a fallback palette."""
    return SERVICE_COLOURS.get(service, _FALLBACK_COLOURS[index % len(_FALLBACK_COLOURS)])


def unit_label(unit: str | None) -> str:
    """``"depth_m"`` → ``"depth (m)"``; ``"pga_g"`` → ``"pga (g)"``; unknown kept as is."""
    if not unit:
        return "intensity"
    name, _, suffix = unit.rpartition("_")
    if not name:
        return unit
    return f"{name.replace('_', ' ')} ({suffix.replace('m3', 'm³')})"


# --------------------------------------------------------------------------- helpers


def new_figure(width_in: float, height_in: float) -> Figure:
    figure_module = require("matplotlib.figure", "report")
    return figure_module.Figure(figsize=(width_in, height_in), dpi=_DPI, layout="constrained")


def to_png(figure: Figure) -> bytes:
    """Render ``figure`` with the Agg canvas; no timestamps in the PNG metadata."""
    backend_agg = require("matplotlib.backends.backend_agg", "report")
    backend_agg.FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=_DPI, metadata={"Software": None})
    return buffer.getvalue()


def _line_segments(geometries: Sequence[Any] | np.ndarray) -> list[np.ndarray]:
    """Coordinate arrays (n × 2) of every line part in ``geometries``."""
    parts = shapely.get_parts(np.asarray(geometries, dtype=object))
    parts = parts[shapely.get_type_id(parts) == 1]  # LineString
    if len(parts) == 0:
        return []
    coords, index = shapely.get_coordinates(parts, return_index=True)
    splits = np.flatnonzero(np.diff(index)) + 1
    return [c for c in np.split(coords, splits) if len(c) >= 2]


def _points_xy(geometries: np.ndarray) -> np.ndarray:
    """x, y (n × 2) of points; other non-line geometries give a representative point."""
    if len(geometries) == 0:
        return np.empty((0, 2))
    points = shapely.point_on_surface(geometries)
    return shapely.get_coordinates(points)


def _is_line(geometries: np.ndarray) -> np.ndarray:
    type_id = shapely.get_type_id(geometries)
    return (type_id == 1) | (type_id == 2) | (type_id == 5)  # Line, LinearRing, MultiLine


def _with_geometry(frame: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
    """Rows whose geometry is present and not empty (so coordinates align with rows)."""
    if frame is None:
        return None
    geometry = frame.geometry
    return frame[~(geometry.isna() | geometry.is_empty)]


def map_extent(
    assets: gpd.GeoDataFrame | None, people: gpd.GeoDataFrame | None, margin: float = 0.03
) -> tuple[float, float, float, float]:
    """lon/lat box (min_x, min_y, max_x, max_y) around assets and people, with a margin.

    The box spans the 0.2–99.8 % quantiles of all vertices, so a few far-away
    vertices (a submarine interconnector, a pipeline to the mainland) do not
    shrink the place itself to a corner; such lines are clipped at the frame.
    """
    coordinates = []
    for frame in (assets, people):
        if frame is not None and len(frame):
            coordinates.append(shapely.get_coordinates(frame.geometry.to_numpy()))
    xy = np.concatenate(coordinates) if coordinates else np.empty((0, 2))
    xy = xy[np.all(np.isfinite(xy), axis=1)]
    if len(xy) == 0:
        return (-1.0, -1.0, 1.0, 1.0)
    (min_x, min_y), (max_x, max_y) = np.quantile(xy, [0.002, 0.998], axis=0)
    pad_x = max((max_x - min_x) * margin, 1e-3)
    pad_y = max((max_y - min_y) * margin, 1e-3)
    return (float(min_x - pad_x), float(min_y - pad_y), float(max_x + pad_x),
            float(max_y + pad_y))


def _style_map_axes(ax: Axes, extent: tuple[float, float, float, float], *, labels: bool) -> None:
    min_x, min_y, max_x, max_y = extent
    ax.set_xlim(min_x, max_x)
    ax.set_ylim(min_y, max_y)
    mid_lat = math.radians((min_y + max_y) / 2)
    ax.set_aspect(1.0 / max(math.cos(mid_lat), 0.05))
    ax.set_facecolor("white")
    ax.tick_params(labelsize=7 if labels else 0, length=2 if labels else 0)
    if labels:
        ax.set_xlabel("Longitude (°E)", fontsize=8)
        ax.set_ylabel("Latitude (°N)", fontsize=8)
        ax.ticklabel_format(useOffset=False, style="plain")
    else:
        ax.set_xticks([])
        ax.set_yticks([])


def _credit(ax: Axes, fontsize: float = 7) -> None:
    ax.text(
        0.995, 0.005, _OSM_CREDIT, transform=ax.transAxes, ha="right", va="bottom",
        fontsize=fontsize, color="#333333", zorder=20,
        bbox={"facecolor": "white", "alpha": 0.75, "edgecolor": "none", "pad": 1.5},
    )


def _north_and_scale(ax: Axes, extent: tuple[float, float, float, float]) -> None:
    """A north arrow and a round-number scale bar in the lower-left corner."""
    min_x, min_y, max_x, max_y = extent
    ax.annotate(
        "N", xy=(0.03, 0.97), xytext=(0.03, 0.87), xycoords="axes fraction",
        ha="center", va="center", fontsize=8, fontweight="bold", zorder=20,
        arrowprops={"arrowstyle": "-|>", "color": "#333333", "lw": 1.0},
    )
    km_per_degree_lon = 111.32 * math.cos(math.radians((min_y + max_y) / 2))
    width_km = (max_x - min_x) * km_per_degree_lon
    if not np.isfinite(width_km) or width_km <= 0:
        return
    target = width_km / 5
    magnitude = 10 ** math.floor(math.log10(target))
    bar_km = max(m * magnitude for m in (1, 2, 5) if m * magnitude <= target)
    bar_deg = bar_km / km_per_degree_lon
    x0 = min_x + 0.04 * (max_x - min_x)
    y0 = min_y + 0.04 * (max_y - min_y)
    ax.plot([x0, x0 + bar_deg], [y0, y0], color="#333333", lw=2.0, solid_capstyle="butt",
            zorder=20)
    label = f"{bar_km:g} km" if bar_km >= 1 else f"{bar_km * 1000:g} m"
    ax.text(x0 + bar_deg / 2, y0 + 0.012 * (max_y - min_y), label, ha="center", va="bottom",
            fontsize=7, color="#333333", zorder=20)


def _people_sizes(population: np.ndarray, scale: float) -> np.ndarray:
    population = np.nan_to_num(np.asarray(population, dtype=float), nan=0.0).clip(min=0)
    top = population.max() if len(population) else 0.0
    if top <= 0:
        return np.full(len(population), 0.5 * scale)
    return 0.5 * scale + scale * 6.0 * np.sqrt(population / top)


# --------------------------------------------------------------------------- map


def map_png(
    assets: gpd.GeoDataFrame,
    people: gpd.GeoDataFrame | None = None,
    footprint: gpd.GeoDataFrame | None = None,
    *,
    footprint_unit: str | None = None,
    title: str | None = None,
) -> bytes:
    """Overview map as PNG bytes.

    assets: run-folder asset table (EPSG:4326) with ``sector``, ``asset_type`` and
    ``worst_state``; people: points with ``population`` (grey background);
    footprint: hazard polygons with ``intensity`` in ``footprint_unit`` (blue).
    """
    colors = require("matplotlib.colors", "report")
    collections = require("matplotlib.collections", "report")
    lines_module = require("matplotlib.lines", "report")
    colormaps = require("matplotlib", "report").colormaps

    assets = _with_geometry(assets)
    people = _with_geometry(people)
    footprint = _with_geometry(footprint)
    extent = map_extent(assets, people)
    min_x, min_y, max_x, max_y = extent
    aspect = 1.0 / max(math.cos(math.radians((min_y + max_y) / 2)), 0.05)
    data_ratio = (max_y - min_y) * aspect / max(max_x - min_x, 1e-9)
    width = 9.0
    axes_width = width - (1.7 if footprint is not None and len(footprint) else 0.9)
    height = float(np.clip(axes_width * data_ratio + 1.5, 4.5, 12.0))
    figure = new_figure(width, height)
    ax = figure.add_subplot()

    # People: light grey dots sized by population.
    if people is not None and len(people):
        xy = _points_xy(people.geometry.to_numpy())
        scale = float(np.clip(3000.0 / len(people), 0.6, 2.5))
        ax.scatter(xy[:, 0], xy[:, 1], s=_people_sizes(people["population"].to_numpy(), scale),
                   color=_PEOPLE_COLOUR, alpha=0.5, linewidths=0, zorder=1, rasterized=True)

    # Hazard footprint: blue shades by intensity.
    if footprint is not None and len(footprint):
        intensity = pd.to_numeric(footprint["intensity"], errors="coerce").to_numpy(dtype=float)
        finite = intensity[np.isfinite(intensity)]
        top = float(finite.max()) if len(finite) and finite.max() > 0 else 1.0
        norm = colors.Normalize(vmin=0.0, vmax=top)
        cmap = colors.ListedColormap(colormaps["Blues"](np.linspace(0.2, 1.0, 256)))
        order = np.argsort(np.nan_to_num(intensity, nan=0.0), kind="stable")
        ordered = footprint.iloc[order]
        shades = cmap(norm(np.nan_to_num(intensity[order], nan=0.0)))
        ordered.plot(ax=ax, color=shades, alpha=0.6, linewidth=0.3, edgecolor="#4a78a8",
                     zorder=2)
        mappable = require("matplotlib.cm", "report").ScalarMappable(norm=norm, cmap=cmap)
        bar = figure.colorbar(mappable, ax=ax, shrink=0.55, pad=0.01, alpha=0.55)
        bar.set_label(f"Hazard {unit_label(footprint_unit)}", fontsize=8)
        bar.ax.tick_params(labelsize=7)

    geometries = assets.geometry.to_numpy()
    states = assets["worst_state"].fillna("working").astype(str).to_numpy()
    line_mask = _is_line(geometries)
    road_mask = line_mask & (
        (assets["sector"].astype(str).to_numpy() == "transport")
        | assets["asset_type"].astype(str).str.contains("road").to_numpy()
    )

    # Roads: light grey, under everything that carries a state colour.
    road_segments = _line_segments(geometries[road_mask & (states == "working")])
    if road_segments:
        ax.add_collection(collections.LineCollection(
            road_segments, colors=_ROAD_COLOUR, linewidths=0.6, zorder=3, rasterized=True))

    counts: dict[str, int] = {}
    is_health = assets["sector"].astype(str).to_numpy() == "health"
    for rank, state in enumerate(STATE_ORDER):
        in_state = states == state
        if state == "working":
            in_state = in_state | ~np.isin(states, STATE_ORDER)
        counts[state] = int(in_state.sum())
        colour = STATE_COLOURS[state]
        other_lines = in_state & line_mask & ~(road_mask & (states == "working"))
        segments = _line_segments(geometries[other_lines])
        if segments:
            ax.add_collection(collections.LineCollection(
                segments, colors=colour, linewidths=_STATE_LINE_WIDTH[state],
                zorder=4 + rank, rasterized=True))
        for health, marker in ((False, "o"), (True, "s")):
            mask = in_state & ~line_mask & (is_health == health)
            if not mask.any():
                continue
            xy = _points_xy(geometries[mask])
            size = max(_STATE_POINT_SIZE[state] * 2.0, 20.0) if health else _STATE_POINT_SIZE[state]
            ax.scatter(xy[:, 0], xy[:, 1], s=size, marker=marker, color=colour,
                       edgecolors="black" if health else "none",
                       linewidths=0.6 if health else 0, zorder=8 + rank)

    handles = []
    for state in reversed(STATE_ORDER):
        handles.append(lines_module.Line2D(
            [], [], marker="o", linestyle="-", linewidth=_STATE_LINE_WIDTH[state],
            markersize=math.sqrt(_STATE_POINT_SIZE[state]) + 1, color=STATE_COLOURS[state],
            label=f"{state} ({counts.get(state, 0):,})"))
    handles.append(lines_module.Line2D(
        [], [], marker="s", linestyle="none", markersize=7, markerfacecolor="white",
        markeredgecolor="black", label="hospital / clinic"))
    if road_segments:
        handles.append(lines_module.Line2D([], [], color=_ROAD_COLOUR, linewidth=1.5,
                                           label="road"))
    if people is not None and len(people):
        handles.append(lines_module.Line2D(
            [], [], marker="o", linestyle="none", markersize=6, color=_PEOPLE_COLOUR,
            alpha=0.5, label="people (size ∝ population)"))
    figure.legend(handles=handles, loc="outside lower center", ncols=4, fontsize=8,
                  title="Worst state over the horizon (median over samples)", title_fontsize=8,
                  frameon=False)

    _style_map_axes(ax, extent, labels=True)
    _north_and_scale(ax, extent)
    _credit(ax)
    if title:
        ax.set_title(title, fontsize=10)
    return to_png(figure)


# --------------------------------------------------------------------------- charts


def service_timeseries_png(timeseries: pd.DataFrame) -> bytes:
    """People without each service per hour: mean line and p05–p95 band.

    timeseries: ``service, hour, people_without_mean, people_without_p05,
    people_without_p95, population_total``. The lower panel shows the mean as
    a share of the population the service reaches.
    """
    ticker = require("matplotlib.ticker", "report")
    figure = new_figure(9.0, 6.2)
    top, bottom = figure.subplots(2, 1, sharex=True, height_ratios=(3, 2))
    services = list(dict.fromkeys(timeseries["service"].astype(str)))
    for index, service in enumerate(services):
        rows = timeseries[timeseries["service"].astype(str) == service].sort_values("hour")
        if not len(rows):
            continue
        # Each value holds for its whole hour: repeat the last one at the horizon's end.
        rows = pd.concat([rows, rows.tail(1).assign(hour=rows["hour"].iloc[-1] + 1)])
        hours = rows["hour"].to_numpy(dtype=float)
        mean = rows["people_without_mean"].to_numpy(dtype=float)
        low = rows["people_without_p05"].to_numpy(dtype=float)
        high = rows["people_without_p95"].to_numpy(dtype=float)
        colour = service_colour(service, index)
        label = service if np.nanmax(high, initial=0.0) > 0 else f"{service} (no loss)"
        top.fill_between(hours, low, high, color=colour, alpha=0.13, linewidth=0, step="post")
        top.step(hours, mean, where="post", color=colour, linewidth=1.8, label=label)
        total = rows["population_total"].to_numpy(dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(total > 0, 100.0 * mean / total, np.nan)
        bottom.step(hours, share, where="post", color=colour, linewidth=1.6, label=service)

    top.set_ylabel("People without service", fontsize=9)
    top.yaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _pos: f"{v:,.0f}"))
    top.set_ylim(bottom=0)
    top.legend(fontsize=8, ncols=min(len(services), 6) or 1, loc="upper right",
               title="mean; band = 5–95 % of samples", title_fontsize=7, framealpha=0.85)
    top.set_title("People without service over time", fontsize=10)
    bottom.set_ylabel("Share of population (%)", fontsize=9)
    bottom.set_xlabel("Hours since the event", fontsize=9)
    bottom.set_ylim(bottom=0)
    if len(timeseries):
        bottom.set_xlim(0, float(timeseries["hour"].max()) + 1)
        bottom.xaxis.set_major_locator(ticker.MaxNLocator(integer=True, nbins=12))
    for ax in (top, bottom):
        ax.grid(True, color="#e5e5e5", linewidth=0.6)
        ax.tick_params(labelsize=8)
        ax.spines[["top", "right"]].set_visible(False)
    return to_png(figure)


#: Above this many people points the small multiples aggregate to a grid (speed).
_SCATTER_LIMIT = 4000


class _PeopleGrid:
    """Regular lon/lat grid over people points, for population-weighted means.

    Cells hold NaN where nobody lives; about 160 cells across the longer side.
    """

    def __init__(self, xy: np.ndarray, population: np.ndarray,
                 extent: tuple[float, float, float, float], cells: int = 160) -> None:
        min_x, min_y, max_x, max_y = extent
        aspect = 1.0 / max(math.cos(math.radians((min_y + max_y) / 2)), 0.05)
        step = max(max_x - min_x, (max_y - min_y) * aspect) / cells
        self.shape = (max(math.ceil((max_y - min_y) / (step / aspect)), 1),
                      max(math.ceil((max_x - min_x) / step), 1))
        self.image_extent = (min_x, min_x + self.shape[1] * step,
                             min_y, min_y + self.shape[0] * step / aspect)
        column = np.clip(((xy[:, 0] - min_x) / step).astype(np.int64), 0, self.shape[1] - 1)
        row = np.clip(((xy[:, 1] - min_y) / (step / aspect)).astype(np.int64), 0,
                      self.shape[0] - 1)
        self.cell = row * self.shape[1] + column
        self.weight = np.where(population > 0, population, 1e-9)
        self.total = np.bincount(self.cell, self.weight, minlength=self.shape[0] * self.shape[1])

    def weighted_mean(self, values: np.ndarray) -> np.ndarray:
        """Population-weighted mean of ``values`` per cell (rows × columns), NaN if empty."""
        summed = np.bincount(self.cell, self.weight * values, minlength=len(self.total))
        with np.errstate(divide="ignore", invalid="ignore"):
            mean = np.where(self.total > 0, summed / self.total, np.nan)
        return mean.reshape(self.shape)


def service_hours_png(
    people: gpd.GeoDataFrame, services: Sequence[str], *, hours: int | None = None
) -> bytes:
    """Small multiples: mean hours without each service on the people points.

    people: points with ``population`` and ``hours_without_<service>`` columns.
    One panel per service (three per row), one shared colour scale in hours.
    """
    colors = require("matplotlib.colors", "report")
    colormaps = require("matplotlib", "report").colormaps
    people = _with_geometry(people)
    extent = map_extent(people, None)
    columns = 3 if len(services) > 2 else max(len(services), 1)
    rows = max(math.ceil(len(services) / columns), 1)
    min_x, min_y, max_x, max_y = extent
    aspect = 1.0 / max(math.cos(math.radians((min_y + max_y) / 2)), 0.05)
    panel_ratio = (max_y - min_y) * aspect / max(max_x - min_x, 1e-9)
    panel_width = 8.0 / columns
    figure = new_figure(9.0, float(np.clip(rows * (panel_width * panel_ratio + 0.3) + 0.2,
                                            2.5, 12.0)))
    axes = np.atleast_1d(figure.subplots(rows, columns, squeeze=False)).ravel()

    values = {s: people[f"hours_without_{s}"].to_numpy(dtype=float) for s in services}
    top = max((np.nanmax(v) for v in values.values() if len(v)), default=0.0)
    top = float(hours) if hours else max(float(top), 1.0)
    norm = colors.Normalize(vmin=0.0, vmax=top)
    cmap = colors.ListedColormap(colormaps["YlOrRd"](np.linspace(0.25, 1.0, 256)))
    xy = _points_xy(people.geometry.to_numpy())
    population = np.nan_to_num(people["population"].to_numpy(dtype=float), nan=0.0)
    grid = _PeopleGrid(xy, population, extent) if len(people) > _SCATTER_LIMIT else None
    sizes = _people_sizes(population, float(np.clip(6000.0 / max(len(people), 1), 0.5, 3.0)))
    for ax, service in zip(axes, services, strict=False):
        hours_without = np.nan_to_num(values[service], nan=0.0)
        if grid is not None:
            image = grid.weighted_mean(hours_without)
            ax.imshow(np.where(image > 0, np.nan, image), extent=grid.image_extent,
                      origin="lower", cmap=colors.ListedColormap(["#d9d9d9"]),
                      interpolation="nearest")
            ax.imshow(np.where(image > 0, image, np.nan), extent=grid.image_extent,
                      origin="lower", cmap=cmap, norm=norm, interpolation="nearest")
        else:
            affected = hours_without > 0
            ax.scatter(xy[~affected, 0], xy[~affected, 1], s=sizes[~affected],
                       color="#d9d9d9", linewidths=0)
            order = np.argsort(hours_without[affected], kind="stable")
            ax.scatter(xy[affected, 0][order], xy[affected, 1][order],
                       s=1.5 * sizes[affected][order], c=hours_without[affected][order], cmap=cmap,
                       norm=norm, linewidths=0)
        _style_map_axes(ax, extent, labels=False)
        ax.set_title(service, fontsize=9)
        _credit(ax, fontsize=5)
    for ax in axes[len(services):]:
        ax.set_visible(False)
    mappable = require("matplotlib.cm", "report").ScalarMappable(norm=norm, cmap=cmap)
    bar = figure.colorbar(mappable, ax=list(axes[: len(services)]), shrink=0.8, pad=0.01)
    bar.set_label("Mean hours without service (grey: none)", fontsize=8)
    bar.ax.tick_params(labelsize=7)
    return to_png(figure)


def value_map_png(assets: gpd.GeoDataFrame, values: np.ndarray, label: str,
                  cmap: str = "inferno_r", max_size: float = 60.0) -> bytes:
    """Assets sized and coloured (log10) by a non-negative value; grey where it is 0.

    assets: GeoDataFrame in EPSG:4326; values: one per asset (any unit, named
    in ``label``, the colour bar's title). No map tiles: the assets are the map.
    """
    figure = new_figure(9.0, 8.0)
    ax = figure.subplots()
    extent = map_extent(assets, None)
    values = np.asarray(values, dtype=float)
    quiet = ~(values > 0)
    points = assets.geometry.representative_point()
    ax.scatter(points.x[quiet], points.y[quiet], s=2, color="#cfd5da", zorder=1)
    if (~quiet).any():
        size = 6 + max_size * np.sqrt(values[~quiet] / values.max())
        shown = ax.scatter(points.x[~quiet], points.y[~quiet], s=size,
                           c=np.log10(values[~quiet]), cmap=cmap, zorder=2, edgecolors="none")
        bar = figure.colorbar(shown, ax=ax, shrink=0.6)
        bar.set_label(label)
    _style_map_axes(ax, extent, labels=True)
    _credit(ax)
    return to_png(figure)

