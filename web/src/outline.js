// Country and coastline outlines from Natural Earth (1:10m), shipped by the
// npm package `world-atlas` as TopoJSON and bundled as a static file: the map
// needs no basemap server. Only the countries near the region are converted.
import { feature, mesh } from "topojson-client";
import countriesUrl from "world-atlas/countries-10m.json?url";

let topologyPromise = null;

function loadTopology() {
  topologyPromise ??= fetch(countriesUrl).then((response) => {
    if (!response.ok) throw new Error(`Natural Earth outlines: HTTP ${response.status}`);
    return response.json();
  });
  return topologyPromise;
}

// Bounding box [w, s, e, n] of a TopoJSON geometry, from its arcs' quantised
// coordinates (cheap: no GeoJSON conversion for the countries we drop).
function arcBoxes(topology) {
  const quantised = Boolean(topology.transform);
  const { scale, translate } = topology.transform ?? { scale: [1, 1], translate: [0, 0] };
  return topology.arcs.map((arc) => {
    let x = 0, y = 0;
    let w = Infinity, s = Infinity, e = -Infinity, n = -Infinity;
    for (const [dx, dy] of arc) {
      if (quantised) { x += dx; y += dy; } else { x = dx; y = dy; }
      const lon = x * scale[0] + translate[0];
      const lat = y * scale[1] + translate[1];
      if (lon < w) w = lon; if (lon > e) e = lon;
      if (lat < s) s = lat; if (lat > n) n = lat;
    }
    return [w, s, e, n];
  });
}

function geometryArcs(geometry) {
  const out = [];
  const walk = (a) => (Array.isArray(a) ? a.forEach(walk) : out.push(a < 0 ? ~a : a));
  walk(geometry.arcs ?? []);
  return out;
}

function intersects(a, b) {
  return a[0] <= b[2] && a[2] >= b[0] && a[1] <= b[3] && a[3] >= b[1];
}

// Countries (polygons) and borders (lines between countries) within `bbox`
// [w, s, e, n] widened by `margin` degrees.
export async function naturalEarthNear(bbox, margin = 3) {
  const topology = await loadTopology();
  const area = [bbox[0] - margin, bbox[1] - margin, bbox[2] + margin, bbox[3] + margin];
  const boxes = arcBoxes(topology);
  const near = topology.objects.countries.geometries.filter((g) =>
    geometryArcs(g).some((i) => intersects(boxes[i], area)));
  const subset = { type: "GeometryCollection", geometries: near };
  return {
    land: feature(topology, subset),
    borders: mesh(topology, subset, (a, b) => a !== b),
  };
}
