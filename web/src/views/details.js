// Details of one asset: its attributes, and what it depends on and supplies.
import * as maplibregl from "maplibre-gl";
import { api } from "../api.js";
import { decimal, h, number } from "../dom.js";

export function detailsPanel({ regionBase, state, onPick }) {
  const body = h("div#asset-details-body", h("p.meta", "Click an asset on the map, or find it by name."));
  const element = h("section.panel#asset-details", { "aria-labelledby": "asset-details-title", "aria-live": "polite" },
    h("h2#asset-details-title", "Asset details"), body);
  let popup = null;
  let seq = 0;

  function row(label, value) {
    return value === undefined || value === null || value === "" ? null : h("tr", h("th", { scope: "row" }, label), h("td", value));
  }

  function links(list) {
    if (!list?.length) return h("span.meta", "none");
    return h("ul.links", list.slice(0, 30).map((x) => h("li",
      h("button.link", { type: "button", on: { click: () => onPick(x.asset_id) } }, x.asset_id),
      ` ${x.asset_type ?? ""}${x.kind ? ` (${x.kind})` : ""}`)),
      list.length > 30 ? h("li.meta", `… and ${list.length - 30} more`) : null);
  }

  function pDownNow(id) {
    const t = state.timeline;
    if (!t || !state.timelineIndex) return null;
    const i = state.timelineIndex.get(id);
    if (i === undefined) return "0 (never down in this run)";
    return decimal.format(t.p_down[i][state.hour] ?? 0);
  }

  async function show(id, feature, lngLat) {
    const mine = ++seq;
    popup?.remove();
    popup = null;
    if (!id) {
      body.replaceChildren(h("p.meta", "No asset selected."));
      return;
    }
    const p = feature?.properties ?? { asset_id: id };
    if (lngLat && state.view) {
      popup = new maplibregl.Popup({ closeButton: true, focusAfterOpen: false, maxWidth: "260px" })
        .setLngLat(lngLat)
        .setDOMContent(h("div.popup", h("strong", p.name || p.asset_id), h("div", p.asset_type ?? "")))
        .addTo(state.view.map);
    }
    body.replaceChildren(h("p.meta", `Loading ${id}…`));
    let d = p;
    try {
      d = await api.get(`${regionBase}/assets/${encodeURIComponent(id)}`);
    } catch (err) {
      if (mine !== seq) return;
      body.replaceChildren(h("p.error", err.message));
    }
    if (mine !== seq) return;
    const down = pDownNow(id);
    body.replaceChildren(
      h("h3#asset-name", d.name || d.asset_id),
      h("table.kv#asset-table", h("tbody",
        row("id", d.asset_id),
        row("sector", d.sector),
        row("type", d.asset_type),
        row("value", d.value_eur != null ? `€${number.format(d.value_eur)}` : null),
        row("people served", d.population_served != null ? number.format(d.population_served) : null),
        row("backup", d.backup_hours != null ? `${decimal.format(d.backup_hours)} h` : null),
        down !== null ? row(`P(down) at hour ${state.hour}`, down) : null)),
      h("h4", "Depends on"), links(d.suppliers),
      h("h4", "Supplies"), links(d.consumers),
    );
  }

  return { element, show };
}
