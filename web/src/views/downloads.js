// Downloads of a finished run: the report and every result table in each format.
import { api } from "../api.js";
import { formatBytes, h } from "../dom.js";

const FORMATS = [["parquet", "Parquet"], ["geojson", "GeoJSON"], ["csv", "CSV"]];
// Tables with geometries (GeoParquet, and GeoJSON on offer), where /files does
// not say so itself with a `spatial` flag.
const SPATIAL = new Set(["assets", "people", "asset_eai"]);

export function downloadsPanel() {
  const body = h("div#downloads-body", h("p.meta", "Finish or pick a run to download its results."));
  const element = h("section.panel#downloads", { "aria-labelledby": "downloads-title" }, h("h2#downloads-title", "Downloads"), body);

  async function load(runBase) {
    const files = await api.get(`${runBase}/files`);
    const tables = files.filter((f) => f.name.endsWith(".parquet")).map((f) => {
      const name = f.name.replace(/\.parquet$/, "");
      return { name, spatial: f.spatial ?? SPATIAL.has(name) };
    });
    const other = files.filter((f) => !f.name.endsWith(".parquet"));
    body.replaceChildren(...[
      h("ul.files#file-links", other.map((f) => h("li",
        h("a", { href: api.url(`${runBase}/files/${encodeURIComponent(f.name)}`), download: f.name.endsWith(".html") ? undefined : f.name, target: f.name.endsWith(".html") ? "_blank" : undefined, rel: "noopener" },
          f.name === "report.html" ? "HTML report" : f.name),
        ` (${formatBytes(f.size)})`))),
      tables.length ? h("table.downloads#table-links",
        h("caption", "Result tables"),
        h("thead", h("tr", h("th", { scope: "col" }, "table"), FORMATS.map(([, label]) => h("th", { scope: "col" }, label === "Parquet" ? "(Geo)Parquet" : label)))),
        h("tbody", tables.map((t) => h("tr", h("th", { scope: "row" }, t.name),
          FORMATS.map(([fmt, label]) => {
            if (fmt === "geojson" && !t.spatial) return h("td", h("span.meta", { title: "no geometries" }, "–"));
            const what = fmt === "parquet" && t.spatial ? "GeoParquet" : label;
            return h("td", h("a", { href: api.url(`${runBase}/download/${encodeURIComponent(t.name)}.${fmt}`),
              download: `${t.name}.${fmt}`, "aria-label": `${t.name} as ${what}` }, fmt === "parquet" && t.spatial ? "geoparquet" : fmt));
          }))))) : null,
    ].filter(Boolean));
  }

  return { element, load, clear: () => body.replaceChildren(h("p.meta", "Finish or pick a run to download its results.")) };
}
