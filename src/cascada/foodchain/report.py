"""A self-contained HTML report of a trace: network diagram, source ranking, recall list.

The diagram is drawn with matplotlib (no pyplot state, no internet): stations
in columns by their depth in the supply chain, deliveries as arrows between
them, traced stations and deliveries highlighted. The page embeds the figure
as a base64 PNG, has no scripts and no timestamp, and is written atomically.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path

import numpy as np
import pandas as pd

from cascada.datafile import atomic_write_text
from cascada.foodchain.model import FoodNetwork
from cascada.foodchain.trace import TraceResult
from cascada.report.figures import new_figure, to_png

MAX_DIAGRAM_STATIONS = 250
TRACED = "#c0392b"
START = "#111111"
OTHER = "#b8b8b8"


def station_depths(network: FoodNetwork, max_depth: int = 64) -> np.ndarray:
    """Longest chain of deliveries leading to each station (S int64; 0 for primary producers).

    Relaxed in at most ``max_depth`` vectorised sweeps, so cycles stay bounded.
    """
    index = network.station_index()
    sup = index.get_indexer(network.deliveries["supplier"])
    rec = index.get_indexer(network.deliveries["recipient"])
    keep = sup != rec
    sup, rec = sup[keep], rec[keep]
    depth = np.zeros(len(index), dtype=np.int64)
    for _ in range(max_depth):
        new = depth.copy()
        np.maximum.at(new, rec, depth[sup] + 1)
        new = np.minimum(new, max_depth)
        if np.array_equal(new, depth):
            break
        depth = new
    return depth


def diagram_png(network: FoodNetwork, trace: TraceResult | None = None, *,
                title: str = "") -> bytes:
    """PNG of the delivery network with the trace highlighted.

    Large networks are cut to the traced stations and their direct trading
    partners (at most MAX_DIAGRAM_STATIONS stations).
    """
    n_s = network.n_stations
    station_mask = np.zeros(n_s, dtype=bool) if trace is None else trace.station_mask.copy()
    delivery_mask = (np.zeros(network.n_deliveries, dtype=bool) if trace is None
                     else trace.delivery_mask.copy())
    start = np.zeros(n_s, dtype=bool)
    if trace is not None:
        start[trace.start_stations] = True
    index = network.station_index()
    sup = index.get_indexer(network.deliveries["supplier"])
    rec = index.get_indexer(network.deliveries["recipient"])
    if trace is not None and len(trace.start_deliveries):
        start[sup[trace.start_deliveries] if trace.direction == "forward"
              else rec[trace.start_deliveries]] = True
        delivery_mask[trace.start_deliveries] = True
    show = np.ones(n_s, dtype=bool)
    if n_s > MAX_DIAGRAM_STATIONS:
        core = station_mask | start
        show = core.copy()
        touching = core[sup] | core[rec]
        show[sup[touching]] = True
        show[rec[touching]] = True
        if show.sum() > MAX_DIAGRAM_STATIONS:
            show = core.copy()
        if show.sum() > MAX_DIAGRAM_STATIONS:
            keep = np.flatnonzero(show)[:MAX_DIAGRAM_STATIONS]
            show[:] = False
            show[keep] = True
    depth = station_depths(network)
    x = depth.astype(float)
    y = np.zeros(n_s)
    for level in np.unique(depth[show]):
        members = np.flatnonzero(show & (depth == level))
        y[members] = np.linspace(0.0, 1.0, len(members) + 2)[1:-1]
    n_levels = int(depth[show].max()) + 1 if show.any() else 1
    figure = new_figure(max(6.0, 2.2 * n_levels), 6.5)
    ax = figure.add_subplot(1, 1, 1)
    edges = pd.DataFrame({"s": sup, "r": rec, "traced": delivery_mask})
    edges = edges[show[edges["s"]] & show[edges["r"]]]
    edges = edges.groupby(["s", "r"], as_index=False)["traced"].max()
    for traced in (False, True):
        part = edges[edges["traced"] == traced]
        for s, r in zip(part["s"], part["r"], strict=True):
            ax.annotate("", xy=(x[r], y[r]), xytext=(x[s], y[s]),
                        arrowprops=dict(arrowstyle="-|>", lw=1.6 if traced else 0.5,
                                        color=TRACED if traced else OTHER,
                                        shrinkA=4, shrinkB=4, alpha=0.9 if traced else 0.6))
    colour = np.where(start, START, np.where(station_mask, TRACED, OTHER))
    shown = np.flatnonzero(show)
    ax.scatter(x[shown], y[shown], s=np.where(station_mask[shown] | start[shown], 60, 25),
               c=colour[shown], zorder=3, edgecolors="white", linewidths=0.5)
    if len(shown) <= 60:
        names = network.stations["name"].to_numpy()
        for i in shown:
            ax.text(x[i], y[i] + 0.02, str(names[i])[:28], fontsize=7, ha="center",
                    va="bottom", color="#333333", zorder=4)
    ax.set_xticks(range(n_levels))
    ax.set_xticklabels([f"depth {i}" for i in range(n_levels)], fontsize=8)
    ax.set_yticks([])
    ax.set_xlim(-0.5, n_levels - 0.5)
    ax.set_ylim(-0.05, 1.08)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.set_title(title or "Delivery network", fontsize=10)
    return to_png(figure)


def _table(frame: pd.DataFrame | None, caption: str, max_rows: int = 200) -> str:
    if frame is None or frame.empty:
        return f"<h2>{html.escape(caption)}</h2><p>None.</p>"
    shown = frame.head(max_rows)
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in shown.columns)
    body = []
    for row in shown.itertuples(index=False):
        cells = []
        for value in row:
            if isinstance(value, float):
                text = f"{value:.4g}" if np.isfinite(value) else ""
            else:
                text = str(value)
            cells.append(f"<td>{html.escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    more = (f"<p>{len(frame) - max_rows} more rows not shown.</p>"
            if len(frame) > max_rows else "")
    return (f"<h2>{html.escape(caption)}</h2><table><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table>{more}")


_STYLE = """body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:1100px}
table{border-collapse:collapse;font-size:13px;margin-bottom:1.5em}
th,td{border:1px solid #ddd;padding:3px 8px;text-align:left}th{background:#f3f3f3}
img{max-width:100%}.note{color:#666;font-size:12px}"""


def render_report(network: FoodNetwork, *, trace: TraceResult | None = None,
                  ranking: pd.DataFrame | None = None, recall: pd.DataFrame | None = None,
                  title: str = "Food-chain trace") -> str:
    """The report page as HTML text (deterministic: same inputs, same text)."""
    png = diagram_png(network, trace, title=title)
    image = base64.b64encode(png).decode("ascii")
    parts = [f"<!DOCTYPE html><html><head><meta charset='utf-8'>"
             f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>",
             f"<h1>{html.escape(title)}</h1>",
             f"<p>{network.n_stations} stations, {network.n_deliveries} deliveries, "
             f"{len(network.relations)} lot relations.</p>"]
    if network.metadata.get("synthetic"):
        parts.append("<p class='note'>Synthetic network (generated).</p>")
    parts.append(f"<h2>Network</h2><img alt='delivery network' src='data:image/png;base64,"
                 f"{image}'><p class='note'>Black: start of the trace; red: traced stations "
                 f"and deliveries; grey: the rest.</p>")
    if trace is not None:
        parts.append(_table(trace.stations(), f"Stations ({trace.direction} trace)"))
    if ranking is not None:
        parts.append(_table(ranking, "Likely sources"))
    if recall is not None:
        parts.append(_table(recall, "Recall list"))
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report(path: str | Path, network: FoodNetwork, **kwargs: object) -> Path:
    """Write :func:`render_report` to ``path`` atomically; returns the path."""
    path = Path(path)
    atomic_write_text(path, render_report(network, **kwargs))  # type: ignore[arg-type]
    return path
