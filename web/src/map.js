// The region map: assets by sector (points and lines) over Natural Earth
// outlines, with no basemap and no text layers (labels would need glyph files;
// names appear in HTML popups and panels instead).
import * as maplibregl from "maplibre-gl";
import workerUrl from "maplibre-gl/dist/maplibre-gl-worker.mjs?url";
import "maplibre-gl/dist/maplibre-gl.css";
import { naturalEarthNear } from "./outline.js";
import { eaiColourExpression, pDownColourExpression, sectorColourExpression } from "./palette.js";

maplibregl.setWorkerUrl(new URL(workerUrl, document.baseURI).href);
// Start the map's web worker now, while the page logs in and fetches the region.
maplibregl.prewarm();

export const OSM_ATTRIBUTION =
  '© <a href="https://www.openstreetmap.org/copyright" target="_blank" rel="noopener">OpenStreetMap</a> contributors';
const NATURAL_EARTH_ATTRIBUTION =
  '<a href="https://www.naturalearthdata.com/" target="_blank" rel="noopener">Natural Earth</a>';

const SEA = "#E8F1F7";
const LAND = "#F8F7F2";
const BORDER = "#8A8A8A";
const EMPTY = { type: "FeatureCollection", features: [] };
const IS_LINE = ["in", ["geometry-type"], ["literal", ["LineString", "MultiLineString"]]];
const IS_POINT = ["in", ["geometry-type"], ["literal", ["Point", "MultiPoint"]]];
const IS_AREA = ["in", ["geometry-type"], ["literal", ["Polygon", "MultiPolygon"]]];
const HAS_STATE = [">", ["coalesce", ["feature-state", "p_down"], ["feature-state", "eai_eur"], 0], 0];

// Bounding box [w, s, e, n] of the assets, ignoring the 0.5 % most outlying
// vertices at each side (a ferry route to Sicily should not zoom the map out).
export function robustBounds(geojson) {
  const xs = [];
  const ys = [];
  const walk = (c) => {
    if (typeof c[0] === "number") { xs.push(c[0]); ys.push(c[1]); } else c.forEach(walk);
  };
  for (const f of geojson.features) if (f.geometry) walk(f.geometry.coordinates);
  if (xs.length === 0) return [-10, 35, 30, 60];
  xs.sort((a, b) => a - b);
  ys.sort((a, b) => a - b);
  const lo = Math.floor(xs.length * 0.005);
  const hi = Math.max(lo, Math.ceil(xs.length * 0.995) - 1);
  return [xs[lo], ys[lo], xs[hi], ys[hi]];
}

function baseStyle() {
  return {
    version: 8,
    sources: {
      land: { type: "geojson", data: EMPTY, attribution: NATURAL_EARTH_ATTRIBUTION },
      borders: { type: "geojson", data: EMPTY },
    },
    layers: [
      { id: "sea", type: "background", paint: { "background-color": SEA } },
      { id: "land", type: "fill", source: "land", paint: { "fill-color": LAND, "fill-outline-color": BORDER } },
      { id: "borders", type: "line", source: "borders", paint: { "line-color": BORDER, "line-width": 0.8, "line-dasharray": [3, 2] } },
    ],
  };
}

/**
 * Show a region's assets (a GeoJSON FeatureCollection with properties asset_id,
 * sector, asset_type, name, ...) in `container`.
 * `assetsOrPromise` may be a promise: the map (style, worker) starts meanwhile.
 * Returns a controller: { map, ready, firstIdle, info, setVisibleSectors,
 * setColourMode, setAssetStates, select, onSelect, fitRegion, ... }.
 */
export function createRegionMap(container, assetsOrPromise, { bbox = null, initialBbox = null } = {}) {
  const info = { countries: 0, firstIdleMs: null }; // read by tests and benchmarks
  // The map (style, worker) starts while the assets download: `assetsOrPromise`
  // may be a promise; the view fits the assets' own extent once they arrive.
  let assets = { type: "FeatureCollection", features: [] };
  let bounds = bbox ?? initialBbox ?? [-10, 35, 30, 60];
  const map = new maplibregl.Map({
    container,
    style: baseStyle(),
    fadeDuration: 0,
    bounds: [[bounds[0], bounds[1]], [bounds[2], bounds[3]]],
    fitBoundsOptions: { padding: 30 },
    attributionControl: false,
    maxZoom: 18,
    dragRotate: false,
    pitchWithRotate: false,
  });
  // Milestones in ms since navigation, for benchmarks/dashboard_render.py.
  info.created = performance.now();
  map.once("load", () => { info.styleLoaded = performance.now(); });
  const onSourceData = (e) => {
    if (e.sourceId !== "assets" || !e.isSourceLoaded) return;
    info.assetsLoaded = performance.now();
    map.off("sourcedata", onSourceData);
  };
  map.on("sourcedata", onSourceData);
  map.getCanvas().setAttribute("aria-label", "Map of the region's assets. Arrow keys pan, + and - zoom.");
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-right");
  map.addControl(new maplibregl.ScaleControl({ unit: "metric" }), "bottom-left");
  map.addControl(new maplibregl.AttributionControl({ compact: false, customAttribution: OSM_ATTRIBUTION }), "bottom-right");

  const listeners = [];
  let selectedId = null;
  let visibleSectors = null; // null: all
  let colourMode = "sector";
  let eaiMaxLog10 = 1;
  const stateIds = new Set();

  function colourExpression() {
    if (colourMode === "state") return pDownColourExpression();
    if (colourMode === "eai") return eaiColourExpression(eaiMaxLog10);
    return sectorColourExpression();
  }

  function filterFor(kind) {
    const parts = ["all", kind];
    if (visibleSectors) parts.push(["in", ["get", "sector"], ["literal", [...visibleSectors]]]);
    return parts;
  }

  const styleLoaded = new Promise((resolve) => map.once("load", resolve));
  let resolveFirstIdle;
  const firstIdle = new Promise((resolve) => { resolveFirstIdle = resolve; });
  const ready = Promise.all([styleLoaded, Promise.resolve(assetsOrPromise)]).then(([, data]) => {
    assets = data;
    if (!bbox && assets.features.length) bounds = robustBounds(assets);
    map.fitBounds([[bounds[0], bounds[1]], [bounds[2], bounds[3]]], { padding: 30, duration: 0 });
    // The worker needs only the id and the sector; details come from `assets`.
    const light = {
      type: "FeatureCollection",
      features: assets.features.map((f) => ({
        type: "Feature", geometry: f.geometry,
        properties: { asset_id: f.properties.asset_id, sector: f.properties.sector },
      })),
    };
    map.addSource("assets", { type: "geojson", data: light, promoteId: "asset_id", maxzoom: 15, attribution: OSM_ATTRIBUTION });
    map.addLayer({
      id: "assets-areas", type: "fill", source: "assets", filter: filterFor(IS_AREA),
      paint: { "fill-color": colourExpression(), "fill-opacity": 0.5 },
    });
    map.addLayer({
      id: "assets-lines", type: "line", source: "assets", filter: filterFor(IS_LINE),
      layout: { "line-cap": "round", "line-join": "round" },
      paint: {
        "line-color": colourExpression(),
        "line-width": ["interpolate", ["linear"], ["zoom"], 8, ["case", HAS_STATE, 2, 0.8], 14, ["case", HAS_STATE, 5, 2.5]],
      },
    });
    map.addLayer({
      id: "assets-points", type: "circle", source: "assets", filter: filterFor(IS_POINT),
      paint: {
        "circle-color": colourExpression(),
        "circle-radius": ["interpolate", ["linear"], ["zoom"], 8, ["case", HAS_STATE, 5, 3], 14, ["case", HAS_STATE, 10, 7]],
        "circle-stroke-color": "#FFFFFF",
        "circle-stroke-width": 0.8,
      },
    });
    map.addLayer({
      id: "selected-lines", type: "line", source: "assets",
      filter: ["all", IS_LINE, ["==", ["get", "asset_id"], ""]],
      paint: { "line-color": "#000000", "line-width": 6, "line-opacity": 0.6 },
    }, "assets-lines");
    map.addLayer({
      id: "selected-points", type: "circle", source: "assets",
      filter: ["all", IS_POINT, ["==", ["get", "asset_id"], ""]],
      paint: { "circle-color": "rgba(0,0,0,0)", "circle-radius": 12, "circle-stroke-color": "#000000", "circle-stroke-width": 3 },
    });
    // Milliseconds from navigation to the first frame with every asset layer drawn;
    // the Natural Earth outlines load after it, so they never delay the assets.
    map.once("idle", () => {
      info.firstIdleMs = performance.now();
      resolveFirstIdle(map);
      naturalEarthNear(bounds).then(({ land, borders }) => {
        map.getSource("land").setData(land);
        map.getSource("borders").setData(borders);
        info.countries = land.features.length;
      }).catch((err) => console.warn(err));
    });
    return map;
  });

  const clickable = ["assets-points", "assets-lines", "assets-areas"];
  map.on("click", (e) => {
    const r = 5;
    const box = [[e.point.x - r, e.point.y - r], [e.point.x + r, e.point.y + r]];
    const hits = map.queryRenderedFeatures(box, { layers: clickable });
    if (hits.length === 0) return;
    const hit = hits.find((f) => f.layer.id === "assets-points") ?? hits[0];
    select(hit.properties.asset_id, e.lngLat);
  });
  for (const layer of clickable) {
    map.on("mouseenter", layer, () => { map.getCanvas().style.cursor = "pointer"; });
    map.on("mouseleave", layer, () => { map.getCanvas().style.cursor = ""; });
  }

  function select(assetId, lngLat = null) {
    selectedId = assetId;
    const f = ["==", ["get", "asset_id"], assetId ?? ""];
    if (map.getLayer("selected-points")) {
      map.setFilter("selected-points", ["all", IS_POINT, f]);
      map.setFilter("selected-lines", ["all", IS_LINE, f]);
    }
    const feature = assetId ? assets.features.find((x) => x.properties.asset_id === assetId) : null;
    for (const fn of listeners) fn(assetId, feature, lngLat);
  }

  function setVisibleSectors(sectors) {
    visibleSectors = sectors ? new Set(sectors) : null;
    map.setFilter("assets-points", filterFor(IS_POINT));
    map.setFilter("assets-lines", filterFor(IS_LINE));
    map.setFilter("assets-areas", filterFor(IS_AREA));
  }

  function setColourMode(mode, { maxEaiEur = 10 } = {}) {
    colourMode = mode;
    eaiMaxLog10 = Math.log10(Math.max(maxEaiEur, 10));
    const expr = colourExpression();
    map.setPaintProperty("assets-points", "circle-color", expr);
    map.setPaintProperty("assets-lines", "line-color", expr);
    map.setPaintProperty("assets-areas", "fill-color", expr);
  }

  // states: Map(asset_id -> {p_down?, eai_eur?}); assets not listed lose their state.
  function setAssetStates(states) {
    for (const id of stateIds) {
      if (!states.has(id)) map.removeFeatureState({ source: "assets", id });
    }
    stateIds.clear();
    for (const [id, state] of states) {
      map.setFeatureState({ source: "assets", id }, state);
      stateIds.add(id);
    }
  }

  function fitRegion() {
    map.fitBounds([[bounds[0], bounds[1]], [bounds[2], bounds[3]]], { padding: 30, duration: 0 });
  }

  return {
    map,
    ready,
    firstIdle,
    info,
    get bounds() { return bounds; },
    get assets() { return assets; },
    select,
    selected: () => selectedId,
    onSelect: (fn) => listeners.push(fn),
    setVisibleSectors,
    setColourMode,
    colourMode: () => colourMode,
    setAssetStates,
    fitRegion,
  };
}
