// Builds the dashboard into the Python package (src/cascada/service/static/),
// which `cascada serve` serves at `/`. Everything the page needs is bundled:
// no CDN, no basemap tiles, no fonts or glyphs fetched at run time.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

export default defineConfig({
  base: "./",
  build: {
    outDir: fileURLToPath(new URL("../src/cascada/service/static", import.meta.url)),
    emptyOutDir: true,
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 1200,
    sourcemap: false,
    reportCompressedSize: false,
  },
  server: {
    proxy: { "/api": "http://127.0.0.1:8000" },
  },
});
