// Colours readable by colour-blind users.
//
// Sectors: Paul Tol's "muted" qualitative scheme (nine colours distinct under
// deuteranopia, protanopia and tritanopia), with transport — the road and rail
// lines that make up most of a region — in dark grey so the service points stand
// out. Every colour is also named in the legend; the map never relies on colour
// alone to identify a sector (click an asset or use "Find an asset").
// https://personal.sron.nl/~pault/#sec:qualitative

export const SECTOR_COLOURS = {
  power: "#DDCC77", // sand
  water: "#332288", // indigo
  telecom: "#AA4499", // purple
  transport: "#555555", // dark grey
  health: "#CC6677", // rose
  finance: "#999933", // olive
  food: "#117733", // green
  emergency: "#882255", // wine
  fuel: "#44AA99", // teal
  shelter: "#88CCEE", // cyan
};
export const OTHER_COLOUR = "#BBBBBB";

// The sectors the issue names first, in this order; others follow alphabetically.
const SECTOR_ORDER = ["power", "water", "telecom", "transport", "health", "finance", "food", "emergency"];

export function sectorColour(sector) {
  return SECTOR_COLOURS[sector] ?? OTHER_COLOUR;
}

export function orderedSectors(sectors) {
  const rank = (s) => {
    const i = SECTOR_ORDER.indexOf(s);
    return i === -1 ? SECTOR_ORDER.length : i;
  };
  return [...sectors].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

// MapLibre expression: colour by the feature's `sector` property.
export function sectorColourExpression() {
  const pairs = Object.entries(SECTOR_COLOURS).flat();
  return ["match", ["get", "sector"], ...pairs, OTHER_COLOUR];
}

// State of an asset at hour h: probability that it is down (0..1), on a
// sequential viridis ramp (perceptually uniform and colour-blind safe). Assets
// that are never down in a run are drawn in light grey ("working").
export const WORKING_COLOUR = "#D0D0D0";
export const P_DOWN_STOPS = [
  [0.0, "#FDE725"],
  [0.25, "#5EC962"],
  [0.5, "#21918C"],
  [0.75, "#3B528B"],
  [1.0, "#440154"],
];

export function pDownColourExpression() {
  return [
    "case",
    [">", ["coalesce", ["feature-state", "p_down"], 0], 0],
    ["interpolate", ["linear"], ["feature-state", "p_down"], ...P_DOWN_STOPS.flat()],
    WORKING_COLOUR,
  ];
}

// Expected annual impact (€) per asset: the same ramp over log10(€).
export function eaiColourExpression(maxLog10) {
  const top = Math.max(maxLog10, 1);
  const stops = P_DOWN_STOPS.flatMap(([t, c]) => [t * top, c]);
  return [
    "case",
    [">", ["coalesce", ["feature-state", "eai_eur"], 0], 0],
    ["interpolate", ["linear"], ["log10", ["max", ["feature-state", "eai_eur"], 1]], ...stops],
    WORKING_COLOUR,
  ];
}

// Lines in charts: Tol's "bright" scheme, one per service.
export const SERIES_COLOURS = ["#4477AA", "#EE6677", "#228833", "#CCBB44", "#66CCEE", "#AA3377", "#BBBBBB", "#000000"];
