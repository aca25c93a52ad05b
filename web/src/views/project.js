// A project: its region on the map, the scenarios, the runs and their results.
import { api } from "../api.js";
import { h, number, toast } from "../dom.js";
import { createRegionMap } from "../map.js";
import { orderedSectors, sectorColour } from "../palette.js";
import { detailsPanel } from "./details.js";
import { downloadsPanel } from "./downloads.js";
import { legend } from "./legend.js";
import { riskPanel } from "./risk.js";
import { runPanel } from "./run.js";
import { timelinePanel } from "./timeline.js";

function section(id, title, ...body) {
  return h(`section.panel#${id}`, { "aria-labelledby": `${id}-title` }, h(`h2#${id}-title`, title), ...body);
}

export async function projectView(main, { projectId, runId, me, setCrumbs }) {
  const base = `/projects/${encodeURIComponent(projectId)}`;
  const [project, regions] = await Promise.all([api.get(base), api.get(`${base}/regions`)]);
  setCrumbs({ label: "Projects", href: "#/" }, { label: project.name });
  document.title = `${project.name} — cascada`;

  if (regions.length === 0) {
    main.replaceChildren(section("no-region", project.name,
      h("p", "This project has no region yet. Add one with the API (POST …/regions) or `cascada region`.")));
    return () => {};
  }
  const region = regions[0];
  const regionBase = `${base}/regions/${encodeURIComponent(region.id)}`;

  const mapEl = h("div.map#map", { role: "region", "aria-label": `Map of ${region.name}` });
  const sidebar = h("div.sidebar", { role: "complementary", "aria-label": "Region, scenario and run" });
  const results = h("div.results#results", { "aria-label": "Results" });
  main.replaceChildren(h("div.project", sidebar, h("div.mapcol", mapEl, h("div.legend-box#legend"), results)));

  // The map starts while the assets download; it then fits the assets' own extent
  // without outliers (region.bbox includes e.g. an interconnector to Sicily).
  const assetsRequest = api.get(`${regionBase}/assets.geojson`);
  const view = createRegionMap(mapEl, assetsRequest, { initialBbox: region.bbox });
  const assets = await assetsRequest;
  const state = { project, region, assets, view, run: null, timeline: null, risk: null, hour: 0 };
  Object.assign(window.cascada, { map: view.map, view, state });

  // --- Region and layers ---------------------------------------------------
  const counts = region.sectors ?? {};
  if (Object.keys(counts).length === 0) for (const f of assets.features) counts[f.properties.sector] = (counts[f.properties.sector] ?? 0) + 1;
  const sectors = orderedSectors(Object.keys(counts));
  const shown = new Set(sectors);
  const boxes = new Map();
  const applyLayers = () => view.setVisibleSectors(shown.size === sectors.length ? null : [...shown]);
  const toggles = h("fieldset.layers#layers", h("legend", "Sectors shown on the map"),
    sectors.map((s) => {
      const box = h("input", {
        type: "checkbox", id: `layer-${s}`, checked: true, dataset: { sector: s },
        on: { change: (e) => { if (e.target.checked) shown.add(s); else shown.delete(s); applyLayers(); } },
      });
      boxes.set(s, box);
      return h("div.layer", box, h("label", { for: `layer-${s}` },
        h("span.swatch", { style: `background:${sectorColour(s)}`, "aria-hidden": "true" }), `${s} `, h("span.count", `(${number.format(counts[s])})`)));
    }),
    h("div.buttons",
      h("button.small", { type: "button", on: { click: () => { for (const [s, b] of boxes) { b.checked = true; shown.add(s); } applyLayers(); } } }, "Show all"),
      h("button.small", { type: "button", on: { click: () => { for (const b of boxes.values()) b.checked = false; shown.clear(); applyLayers(); } } }, "Hide all")));

  // --- Find an asset (keyboard route to the details) --------------------------
  const options = h("datalist#asset-options");
  const byLabel = new Map();
  for (const f of assets.features) {
    const p = f.properties;
    const label = p.name ? `${p.name} — ${p.asset_id}` : p.asset_id;
    byLabel.set(label, p.asset_id);
    if (p.sector !== "transport" || p.name) options.append(h("option", { value: label }));
  }
  // An option's label, an id, a name (any case), or the start of a label.
  function findAsset(text) {
    if (!text) return null;
    if (byLabel.has(text)) return byLabel.get(text);
    const lower = text.toLowerCase();
    const props = assets.features.map((f) => f.properties);
    const hit = props.find((p) => p.asset_id === text) ?? props.find((p) => (p.name ?? "").toLowerCase() === lower);
    if (hit) return hit.asset_id;
    for (const [label, id] of byLabel) if (label.toLowerCase().startsWith(lower)) return id;
    return null;
  }
  const findInput = h("input#find-asset", { type: "search", list: "asset-options", autocomplete: "off", placeholder: "name or id" });
  const findForm = h("form.find", {
    on: {
      submit: (e) => {
        e.preventDefault();
        const v = findInput.value.trim();
        const id = findAsset(v);
        if (!id) { toast(`No asset "${v}"`, { error: true }); return; }
        focusAsset(id);
      },
    },
  }, h("label", { for: "find-asset" }, "Find an asset"), h("div.row", findInput, h("button", { type: "submit" }, "Show")), options);

  const details = detailsPanel({ regionBase, state, onPick: (id) => focusAsset(id) });
  view.onSelect((id, feature, lngLat) => details.show(id, feature, lngLat));

  function focusAsset(id) {
    const f = assets.features.find((x) => x.properties.asset_id === id);
    if (!f) return;
    const c = f.geometry.type === "Point" ? f.geometry.coordinates : firstCoordinate(f.geometry.coordinates);
    view.map.easeTo({ center: c, zoom: Math.max(view.map.getZoom(), 14), duration: 300 });
    view.select(id, { lng: c[0], lat: c[1] });
  }

  sidebar.append(
    section("region", `${region.name}`,
      h("p.meta", `${number.format(region.n_assets)} assets, ${number.format(region.n_dependencies)} dependencies, ${number.format(region.n_people)} population points`),
      toggles, findForm),
    details.element,
  );

  // --- Legend and colour mode -------------------------------------------------
  const legendBox = main.querySelector("#legend");
  const legendBody = h("div#legend-body");
  const maxEai = () => Math.max(10, ...(state.risk?.assets ?? []).map((a) => a.eai_eur ?? 0));
  const colourModes = h("fieldset.colour-mode#colour-mode", h("legend", "Colour assets by"),
    ["sector", "state", "eai"].map((m) => h("label",
      h("input", { type: "radio", name: "colour-mode", value: m, checked: m === "sector", disabled: m !== "sector", on: { change: () => setMode(m) } }),
      { sector: " sector", state: " state at the hour", eai: " expected annual impact" }[m])));
  legendBox.replaceChildren(colourModes, legendBody);
  function setMode(mode) {
    for (const r of colourModes.querySelectorAll("input")) r.checked = r.value === mode;
    view.setColourMode(mode, { maxEaiEur: maxEai() });
    if (mode === "state") timeline.applyHour();
    else if (mode === "eai") risk.applyEai();
    else view.setAssetStates(new Map());
    legendBody.replaceChildren(legend(mode, { sectors, maxEai: maxEai() }));
  }
  function enableMode(mode, on = true) {
    colourModes.querySelector(`input[value="${mode}"]`).disabled = !on;
  }
  legendBody.append(legend("sector", { sectors }));

  // --- Results panels -----------------------------------------------------------
  const timeline = timelinePanel({ state, view, onReady: () => { enableMode("state"); setMode("state"); } });
  const risk = riskPanel({ state, view, onPick: (id) => focusAsset(id), onReady: (hasAssets) => { if (hasAssets) { enableMode("eai"); setMode("eai"); } } });
  const downloads = downloadsPanel({ base });
  const measures = section("measures", "Measures",
    h("p.note", "Measures (benefit–cost table, frontier) are appraised from the command line for now: cascada measures compare RISK.toml MEASURES.toml --budget … writes a report; this view will show them."));
  results.append(timeline.element, risk.element, downloads.element, measures);

  async function showRun(run) {
    state.run = run;
    history.replaceState(null, "", `#/projects/${encodeURIComponent(projectId)}/runs/${encodeURIComponent(run.id)}`);
    timeline.clear();
    risk.clear();
    downloads.clear();
    enableMode("state", false);
    enableMode("eai", false);
    setMode("sector");
    timeline.element.hidden = run.kind === "risk";
    risk.element.hidden = run.kind !== "risk";
    if (run.status !== "succeeded") return;
    const runBase = `${base}/runs/${encodeURIComponent(run.id)}`;
    const jobs = [downloads.load(runBase)];
    if (run.kind === "risk") jobs.push(risk.load(runBase));
    else jobs.push(timeline.load(runBase));
    await Promise.allSettled(jobs).then((outcomes) => {
      for (const o of outcomes) if (o.status === "rejected") toast(o.reason.message, { error: true });
    });
  }

  // Results wait for the map's first complete frame: the assets come first.
  const runs = runPanel({ base, state, region, me, onFinished: showRun, onPick: showRun, mapIdle: view.firstIdle });
  sidebar.append(runs.element);

  await view.ready;
  const exposed = window.cascada;
  runs.load(runId)
    .then(() => { exposed.ready = true; })
    .catch((err) => toast(err.message, { error: true }));
  return () => {
    runs.stop();
    timeline.stop();
    view.map.remove();
  };
}

function firstCoordinate(coords) {
  let c = coords;
  while (Array.isArray(c[0])) c = c[Math.floor(c.length / 2)] ?? c[0];
  return c;
}
