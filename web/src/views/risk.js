// Risk results of a risk run: expected annual impact per hazard and metric,
// exceedance-probability curves, and the assets with the highest EAI on the map.
import { api } from "../api.js";
import { epChart } from "../charts.js";
import { decimal, h, number } from "../dom.js";

export function riskPanel({ state, view, onPick, onReady }) {
  const body = h("div#risk-body", h("p.meta", "Finish or pick a risk run (a scenario file with an event set) to see risk results."));
  const element = h("section.panel.wide#risk", { "aria-labelledby": "risk-title" }, h("h2#risk-title", "Risk"), body);
  let chart = null;
  let names = null;

  function assetLabel(id) {
    names ??= new Map(state.assets.features.map((f) => [f.properties.asset_id, f.properties]));
    const p = names.get(id);
    return p ? `${p.name || id} (${p.asset_type})` : id;
  }

  function applyEai() {
    const assets = state.risk?.assets ?? [];
    view.setAssetStates(new Map(assets.filter((a) => a.eai_eur > 0).map((a) => [a.asset_id, { eai_eur: a.eai_eur }])));
  }

  async function load(runBase) {
    const risk = await api.get(`${runBase}/risk`);
    state.risk = risk;
    const metrics = [...new Set((risk.ep ?? []).map((r) => r.metric))];
    const metricSelect = h("select#ep-metric", metrics.map((m) => h("option", { value: m }, m)));
    const chartBox = h("div.chart#ep-chart");
    const draw = () => {
      chart?.destroy();
      chart = epChart(chartBox, metricSelect.value, risk.ep.filter((r) => r.metric === metricSelect.value));
    };
    metricSelect.addEventListener("change", draw);
    const top = (risk.assets ?? []).filter((a) => a.eai_eur > 0).slice(0, 15);
    body.replaceChildren(...[
      h("table.eai#eai-table", h("caption", "Expected annual impact"),
        h("thead", h("tr", ["hazard", "metric", "per year", "± s.e.", "unit"].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", (risk.eai ?? []).map((r) => h("tr", h("td", r.hazard), h("td", r.metric),
          h("td.num", number.format(r.eai)), h("td.num", r.se != null ? decimal.format(r.se) : "–"), h("td", r.unit ?? ""))))),
      metrics.length ? [h("label", { for: "ep-metric" }, "Exceedance-probability curve of"), metricSelect, chartBox] : h("p.meta", "No EP curves in this run."),
      top.length ? [h("h3", "Assets with the highest expected annual impact"),
        h("ol.top-assets#top-assets", top.map((a) => h("li",
          h("button.link", { type: "button", on: { click: () => onPick(a.asset_id) } }, assetLabel(a.asset_id)), ` €${number.format(a.eai_eur)} / year`)))] : null,
    ].flat().filter(Boolean));
    if (metrics.length) draw();
    onReady?.(top.length > 0);
  }

  function clear() {
    chart?.destroy();
    chart = null;
    state.risk = null;
    body.replaceChildren(h("p.meta", "Finish or pick a risk run (a scenario file with an event set) to see risk results."));
  }

  return { element, load, clear, applyEai };
}
