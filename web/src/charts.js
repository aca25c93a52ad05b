// Charts with uPlot (small, maintained, canvas-based). Every chart also has
// its numbers in a collapsible table, for keyboard and screen-reader users.
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { SERIES_COLOURS, SECTOR_COLOURS } from "./palette.js";

const HEIGHT = 220;
// Line styles as well as colours tell the services apart.
const DASHES = [undefined, [8, 4], [2, 3], [10, 3, 2, 3]];
const fmt = new Intl.NumberFormat("en", { maximumFractionDigits: 0 });

function widthOf(el) {
  return Math.max(280, Math.floor(el.getBoundingClientRect().width || 360));
}

function numbersTable(caption, headers, rows) {
  const details = document.createElement("details");
  details.className = "chart-table";
  const summary = document.createElement("summary");
  summary.textContent = "Show the numbers";
  const table = document.createElement("table");
  const cap = document.createElement("caption");
  cap.textContent = caption;
  table.append(cap);
  const head = table.createTHead().insertRow();
  for (const h of headers) {
    const th = document.createElement("th");
    th.scope = "col";
    th.textContent = h;
    head.append(th);
  }
  const body = table.createTBody();
  for (const r of rows) {
    const tr = body.insertRow();
    for (const v of r) tr.insertCell().textContent = typeof v === "number" ? fmt.format(v) : v;
  }
  details.append(summary, table);
  return details;
}

function observeWidth(el, plot) {
  const ro = new ResizeObserver(() => plot.setSize({ width: widthOf(el), height: HEIGHT }));
  ro.observe(el);
  return ro;
}

/**
 * People without each service, per hour (mean over samples), with a vertical
 * marker at the selected hour. timeline: the /timeline response.
 * Returns { setHour(h), destroy() }; the container's data-hour follows the marker.
 */
export function serviceChart(container, timeline) {
  container.replaceChildren();
  const services = Object.keys(timeline.services ?? {}).sort();
  const hours = Array.from({ length: Math.max(1, timeline.hours) }, (_, i) => i); // 0..H-1
  const data = [hours, ...services.map((s) => {
    const v = timeline.services[s].people_without_mean ?? [];
    return hours.map((h) => v[h] ?? null);
  })];
  let markerHour = 0;
  const plotEl = document.createElement("div");
  plotEl.setAttribute("role", "img");
  plotEl.setAttribute("aria-label", `People without each service over ${timeline.hours} hours: ${services.join(", ")}`);
  container.append(plotEl);
  const opts = {
    width: widthOf(container),
    height: HEIGHT,
    cursor: { drag: { x: false, y: false } },
    scales: { x: { time: false } },
    axes: [
      { label: "hour after the event" },
      { label: "people without service", size: 70, values: (u, ticks) => ticks.map((t) => fmt.format(t)) },
    ],
    series: [
      { label: "hour" },
      ...services.map((s, i) => ({
        label: s,
        stroke: SECTOR_COLOURS[s] ?? SERIES_COLOURS[i % SERIES_COLOURS.length],
        width: 2.5,
        dash: DASHES[i % DASHES.length],
        points: { show: false },
        value: (u, v) => (v == null ? "–" : fmt.format(v)),
      })),
    ],
    hooks: {
      draw: [(u) => {
        const x = Math.round(u.valToPos(markerHour, "x", true));
        const { ctx } = u;
        ctx.save();
        ctx.strokeStyle = "#000000";
        ctx.lineWidth = 2 * devicePixelRatio;
        ctx.setLineDash([4 * devicePixelRatio, 3 * devicePixelRatio]);
        ctx.beginPath();
        ctx.moveTo(x, u.bbox.top);
        ctx.lineTo(x, u.bbox.top + u.bbox.height);
        ctx.stroke();
        ctx.restore();
      }],
    },
  };
  const plot = new uPlot(opts, data, plotEl);
  const ro = observeWidth(container, plot);
  const rows = hours.map((h) => [String(h), ...services.map((s, i) => data[i + 1][h] ?? 0)]);
  container.append(numbersTable("People without each service (mean over samples)", ["hour", ...services], rows));
  container.dataset.hour = "0";
  return {
    plot,
    setHour(h) {
      markerHour = h;
      container.dataset.hour = String(h);
      plot.redraw(false);
    },
    destroy() {
      ro.disconnect();
      plot.destroy();
    },
  };
}

/**
 * Exceedance-probability curve of one metric: value against return period
 * (log scale), with the confidence band as dashed lines where given.
 * rows: [{return_period, value, lo, hi}] for that metric.
 */
export function epChart(container, metric, rows) {
  container.replaceChildren();
  const sorted = [...rows].filter((r) => r.return_period > 0).sort((a, b) => a.return_period - b.return_period);
  const hasBand = sorted.some((r) => r.lo != null && r.hi != null);
  const data = [
    sorted.map((r) => r.return_period),
    sorted.map((r) => r.value),
    ...(hasBand ? [sorted.map((r) => r.lo ?? null), sorted.map((r) => r.hi ?? null)] : []),
  ];
  const plotEl = document.createElement("div");
  plotEl.setAttribute("role", "img");
  plotEl.setAttribute("aria-label", `Exceedance-probability curve of ${metric}`);
  container.append(plotEl);
  const band = hasBand ? [
    { label: "low", stroke: "#4477AA", dash: [4, 4], width: 1 },
    { label: "high", stroke: "#4477AA", dash: [4, 4], width: 1 },
  ] : [];
  const plot = new uPlot({
    width: widthOf(container),
    height: HEIGHT,
    scales: { x: { time: false, distr: 3 } },
    axes: [
      { label: "return period (years)" },
      { label: metric, size: 80, values: (u, ticks) => ticks.map((t) => fmt.format(t)) },
    ],
    series: [{ label: "return period" }, { label: metric, stroke: "#000000", width: 2, points: { show: true } }, ...band],
  }, data, plotEl);
  const ro = observeWidth(container, plot);
  container.append(numbersTable(`${metric} by return period`, ["return period (years)", metric, "low", "high"],
    sorted.map((r) => [String(r.return_period), r.value, r.lo ?? "", r.hi ?? ""])));
  return { plot, destroy() { ro.disconnect(); plot.destroy(); } };
}
