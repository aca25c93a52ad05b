import { h, number } from "../dom.js";
import { P_DOWN_STOPS, WORKING_COLOUR, sectorColour } from "../palette.js";

const gradient = `linear-gradient(to right, ${P_DOWN_STOPS.map(([t, c]) => `${c} ${t * 100}%`).join(", ")})`;

export function legend(mode, { sectors = [], maxEai = 10 } = {}) {
  if (mode === "state") {
    return h("div.legend", { "aria-label": "Legend: probability that an asset is down at the chosen hour" },
      h("div.ramp", h("span", "P(down) 0"), h("span.bar", { style: `background:${gradient}`, "aria-hidden": "true" }), h("span", "1")),
      h("div", h("span.swatch", { style: `background:${WORKING_COLOUR}`, "aria-hidden": "true" }), " never down in this run"));
  }
  if (mode === "eai") {
    return h("div.legend", { "aria-label": "Legend: expected annual impact per asset" },
      h("div.ramp", h("span", "€1"), h("span.bar", { style: `background:${gradient}`, "aria-hidden": "true" }), h("span", `€${number.format(maxEai)} / year (log)`)),
      h("div", h("span.swatch", { style: `background:${WORKING_COLOUR}`, "aria-hidden": "true" }), " not among the top assets"));
  }
  return h("ul.legend.sectors", { "aria-label": "Legend: sectors" },
    sectors.map((s) => h("li", h(s === "transport" ? "span.swatch.line" : "span.swatch", { style: `background:${sectorColour(s)}`, "aria-hidden": "true" }), ` ${s}`)));
}
