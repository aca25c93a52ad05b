"""Protection report: ASD diagram, timeline chart, paths and upgrades tables.

One self-contained HTML page (inline CSS, figures as base64 PNG, no scripts,
nothing fetched), written atomically. Figures are built on
:class:`matplotlib.figure.Figure` with the Agg canvas (no pyplot state).
"""

from __future__ import annotations

import base64
import html
from collections import deque
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cascada.datafile import atomic_write_text
from cascada.protection.paths import SiteEvaluation, evaluate_site
from cascada.protection.site import Site
from cascada.protection.upgrades import Portfolio
from cascada.report.figures import new_figure, to_png

__all__ = ["asd_png", "render_report", "timeline_png", "write_report"]

_WORST = "#c0392b"
_NORMAL = "#5d6d7e"


def _area_depth(site: Site) -> dict[str, int]:
    """Hops from the outside area (breadth-first), target last."""
    depth = {site.site.outside: 0}
    queue = deque([site.site.outside])
    while queue:
        area = queue.popleft()
        for element in site.elements:
            if element.from_area == area and element.to_area not in depth:
                depth[element.to_area] = depth[area] + 1
                queue.append(element.to_area)
    last = max(depth.values()) + 1
    for area in site.areas:
        depth.setdefault(area.id, last)
    depth[site.site.target] = max(depth.values())
    return depth


def asd_png(site: Site, worst_path: tuple[str, ...] = (), tactic: str = "stealth") -> bytes:
    """The adversary sequence diagram: areas as bands (outside at the top), elements
    as boxes on the boundary they cross (P_D and mean delay for ``tactic``), the
    worst path in red."""
    depth = _area_depth(site)
    levels = sorted(set(depth.values()))
    rows = {lvl: i for i, lvl in enumerate(levels)}
    n_rows = len(levels)
    boundary: dict[tuple[int, int], list[str]] = {}
    for element in site.elements:
        key = (rows[depth[element.from_area]], rows[depth[element.to_area]])
        boundary.setdefault(key, []).append(element.id)
    width = max(6.0, 1.9 * max((len(v) for v in boundary.values()), default=1) + 2)
    figure = new_figure(width, 1.3 * n_rows + 0.6)
    ax = figure.add_subplot()
    ax.set_xlim(0, 10)
    ax.set_ylim(-n_rows, 0.3)
    ax.axis("off")
    for lvl, i in rows.items():
        names = [a.name or a.id for a in site.areas if depth[a.id] == lvl]
        ax.axhspan(-i - 1, -i, color="#f4f6f7" if i % 2 == 0 else "#e5e8e8", zorder=0)
        transits = [a for a in site.areas if depth[a.id] == lvl and a.transit is not None]
        text = " / ".join(names)
        if transits:
            d = site.step(f"transit:{transits[0].id}", tactic).detection
            text += f"   (transit P_D {d.p_detection:.2f}, {d.delay_mean_s:.0f} s)"
        ax.text(0.1, -i - 0.15, text, va="top", fontsize=8, color="#333333")
    on_path = set(worst_path)
    for (a, b), ids in sorted(boundary.items()):
        y = -(max(a, b)) if b > a else -(a + 0.5)
        xs = np.linspace(10 / (len(ids) + 1), 10 - 10 / (len(ids) + 1), len(ids))
        for x, element_id in zip(xs, ids, strict=True):
            d = site.step(element_id, tactic).detection
            colour = _WORST if element_id in on_path else _NORMAL
            ax.text(x, y, f"{element_id}\nP_D {d.p_detection:.2f} · {d.delay_mean_s:.0f} s",
                    ha="center", va="center", fontsize=7, color="white",
                    bbox={"boxstyle": "round,pad=0.3", "fc": colour, "ec": colour})
            if element_id in on_path:
                ax.annotate("", xy=(x, y - 0.28), xytext=(x, y + 0.28),
                            arrowprops={"arrowstyle": "->", "color": _WORST, "lw": 1.5})
    ax.set_title(f"Adversary sequence diagram — worst path ({tactic}) in red", fontsize=9)
    return to_png(figure)


def timeline_png(timeline: pd.DataFrame, response_mean_s: float, response_sd_s: float,
                 title: str = "") -> bytes:
    """Cumulative adversary delay (steps as bars) against the response time (± 1 sd)."""
    figure = new_figure(7.0, 0.45 * len(timeline) + 1.6)
    ax = figure.add_subplot()
    y = np.arange(len(timeline))[::-1]
    colours = np.where(timeline["p_detection"] > 0, "#2e86c1", "#aab7b8")
    ax.barh(y, timeline["delay_mean_s"], left=timeline["start_s"], color=colours,
            height=0.6, edgecolor="white")
    detected = timeline["p_detection"] > 0
    ax.scatter(timeline.loc[detected, "detection_s"], y[detected.to_numpy()], marker="v",
               color="black", zorder=3, s=18, label="detection point")
    end = float(timeline["end_s"].iloc[-1]) if len(timeline) else 0.0
    ax.axvspan(end - response_mean_s - response_sd_s, end - response_mean_s + response_sd_s,
               color=_WORST, alpha=0.12)
    ax.axvline(end - response_mean_s, color=_WORST, lw=1.2,
               label=f"latest timely detection (end − response {response_mean_s:.0f} s)")
    critical = timeline[timeline["critical"]]
    if len(critical):
        ax.axhline(y[critical.index[0]], color=_WORST, lw=0.6, ls=":")
    ax.set_yticks(y, [f"{s} ({p:.2f})" for s, p in zip(timeline["id"], timeline["p_detection"],
                                                         strict=True)], fontsize=7)
    ax.set_xlabel("adversary time from start, s (mean); bar labels: step (P_D)")
    ax.legend(fontsize=7, loc="lower right")
    ax.set_xlim(min(0.0, end - response_mean_s - response_sd_s), end * 1.05 + 1)
    ax.set_title(title or "Timeline of the worst path", fontsize=9)
    return to_png(figure)


# ------------------------------------------------------------------------ HTML


_CSS = """
body{font-family:system-ui,Segoe UI,Helvetica,Arial,sans-serif;margin:2em auto;max-width:64em;
color:#222;line-height:1.4}h1{font-size:1.5em}h2{font-size:1.15em;margin-top:1.6em}
table{border-collapse:collapse;font-size:.85em}td,th{border:1px solid #ccc;padding:.25em .5em;
text-align:left}th{background:#eee}td.n{text-align:right}img{max-width:100%}
.figure{margin:1em 0}.note{color:#555;font-size:.85em}.big{font-size:1.3em;font-weight:bold}
"""


def _e(value: Any) -> str:
    return html.escape(str(value))


def _img(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<div class="figure"><img alt="{_e(alt)}" src="data:image/png;base64,{data}"></div>'


def _table(frame: pd.DataFrame, formats: dict[str, str] | None = None) -> str:
    formats = formats or {}
    head = "".join(f"<th>{_e(c)}</th>" for c in frame.columns)
    body = []
    for _, row in frame.iterrows():
        cells = []
        for column in frame.columns:
            value = row[column]
            if isinstance(value, float | np.floating):
                text = "—" if not np.isfinite(value) else format(value, formats.get(column, ".3f"))
                cells.append(f'<td class="n">{_e(text)}</td>')
            else:
                cells.append(f"<td>{_e(value)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def render_report(site: Site, evaluation: SiteEvaluation | None = None, *,
                  ranking: pd.DataFrame | None = None, portfolio: Portfolio | None = None,
                  uncertainty: dict | None = None) -> str:
    """The HTML page (a string): headline, ASD, timeline, paths, upgrades."""
    evaluation = evaluation or evaluate_site(site)
    worst = evaluation.overall
    r = site.response
    parts = [f"<h1>Physical protection: {_e(site.name)}</h1>"]
    if site.site.description:
        parts.append(f"<p>{_e(site.site.description)}</p>")
    p_e = "" if worst.p_effectiveness is None else (
        f" · P_E = P_I × P_N = <b>{worst.p_effectiveness:.3f}</b>")
    parts.append(
        f'<p class="big">Worst-path P_I = {worst.p_interruption:.3f} ({_e(worst.tactic)})</p>'
        f"<p>Most vulnerable path: {_e(worst.label)}{p_e}. Response {r.mean_s:.0f} ± "
        f"{r.sd_s:.0f} s, P_C {r.p_communication:.2f}.</p>")
    if uncertainty is not None:
        parts.append(
            f"<p>With uncertain inputs ({uncertainty['n_samples']} samples): worst-path P_I "
            f"median {uncertainty['p50']:.3f}, 90 % band {uncertainty['p05']:.3f} – "
            f"{uncertainty['p95']:.3f}.</p>")
    parts.append("<h2>Adversary sequence diagram</h2>")
    parts.append(_img(asd_png(site, worst.elements, worst.tactic), "ASD"))
    parts.append("<h2>Timeline of the worst path</h2>")
    parts.append(_img(timeline_png(evaluation.timeline, r.mean_s, r.sd_s), "timeline"))
    columns = ["step", "id", "name", "p_detection", "location", "delay_mean_s", "start_s",
               "detection_s", "remaining_mean_s", "p_timely", "contribution", "critical"]
    parts.append(_table(evaluation.timeline[columns], {"delay_mean_s": ".0f", "start_s": ".0f",
                                                       "detection_s": ".0f",
                                                       "remaining_mean_s": ".0f"}))
    parts.append("<h2>Most vulnerable path per tactic</h2>")
    rows = [{"tactic": t, "path (exact)": res.label, "P_I": res.p_interruption,
             "path (CDP)": evaluation.cdp[t].label,
             "P_I CDP estimate": evaluation.cdp[t].extra.get("p_interruption_cdp", np.nan)}
            for t, res in evaluation.worst.items()]
    parts.append(_table(pd.DataFrame(rows)))
    if evaluation.paths is not None:
        parts.append("<h2>All paths (lowest P_I first, first 30)</h2>")
        parts.append(_table(evaluation.paths.head(30), {"delay_mean_s": ".0f"}))
    if ranking is not None and len(ranking):
        parts.append("<h2>Upgrades, one at a time</h2>")
        table = ranking[["option", "name", "cost_eur", "p_interruption_after", "gain",
                         "gain_per_million_eur", "worst_path_after"]]
        parts.append(_table(table, {"cost_eur": ",.0f", "gain_per_million_eur": ".3f"}))
    if portfolio is not None:
        chosen = ", ".join(portfolio.options) or "none"
        parts.append(
            f"<h2>Portfolio within {portfolio.budget_eur:,.0f} EUR</h2><p>{_e(chosen)} — "
            f"cost {portfolio.cost_eur:,.0f} EUR, worst-path P_I "
            f"{portfolio.p_interruption_before:.3f} → <b>{portfolio.p_interruption:.3f}</b> "
            f"({_e(portfolio.method)} search, {portfolio.evaluated} sets evaluated).</p>")
    parts.append(
        '<h2>Method</h2><p class="note">EASI (Garcia, <i>Design and Evaluation of Physical '
        "Protection Systems</i>, 2nd ed., ch. 14): P_I = Σ P_C·P_Di·Π_{j&lt;i}(1−P_Dj)·"
        "Φ((m_i − μ_R)/√(v_i + σ_R²)), m_i, v_i the mean and variance of the time left after "
        "detection at step i. The most vulnerable path is found exactly by branch and bound "
        "over the ASD; the CDP column is the critical-detection-point shortest path on "
        "−log(1−P_D). Figures made by cascada.</p>")
    body = "\n".join(parts)
    return (f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>"
            f"{_e(site.name)} — protection</title><style>{_CSS}</style></head><body>{body}"
            "</body></html>\n")


def write_report(site: Site, output: str | Path, **kwargs: Any) -> Path:
    """Write :func:`render_report` to ``output`` atomically (temp file + rename)."""
    return atomic_write_text(output, render_report(site, **kwargs))
