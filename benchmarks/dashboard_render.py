"""Dashboard: time for the Malta map with all its assets to render in headless Chromium.

Starts the real service (uvicorn, a temporary CASCADA_HOME) with the Malta
region, logs in once, then opens the project page ``--repeats`` times in
fresh tabs of Debian's Chromium (software WebGL, SwiftShader). Each time it
reads, in the page, the milliseconds from navigation start to the map's first
``idle`` event after the asset layers were added (the dashboard records it
in ``window.cascada.view.info.firstIdleMs``): fetching /api/auth/me, the
project, its regions and assets.geojson, building the map and drawing every
asset. It then checks how many distinct assets the rendered frame holds.

The first load is cold (nothing in the browser's cache); the others reuse
the cached scripts. Needs ``make web`` and /usr/bin/chromium. Run::

    python benchmarks/dashboard_render.py [--region regions/malta.gpkg] [--repeats 5]

Figures are printed last, one per line (``name: value unit``). Not a test:
nothing here asserts on wall time.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "service"))

from conftest_dashboard import (  # noqa: E402
    ADMIN,
    CHROMIUM,
    PASSWORD,
    PROJECT,
    launch_browser,
    start_service,
    static_built,
    wait_until,
)

RENDERED = """() => {
  const m = window.cascada.map;
  const layers = ['assets-points', 'assets-lines', 'assets-areas'];
  const ids = new Set(m.queryRenderedFeatures({layers}).map(f => f.properties.asset_id));
  const info = window.cascada.view.info;
  return {rendered: ids.size, total: window.cascada.state.assets.features.length,
          ms: info.firstIdleMs, created: info.created, style: info.styleLoaded,
          source: info.assetsLoaded};
}"""


def load_region(path: Path):
    from cascada.region.io import read_region

    if path.exists():
        return read_region(path)
    from cascada.region.osm import build_region_from_osm

    print(f"{path} missing: building the region from the OSM extract", file=sys.stderr)
    return build_region_from_osm(ROOT / "data" / "malta" / "malta-2018-08.osm.pbf", name="malta")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--region", type=Path, default=ROOT / "regions" / "malta.gpkg")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    if not static_built():
        sys.exit("the dashboard is not built: run `make web`")
    if not CHROMIUM.exists():
        sys.exit("Debian's chromium is missing: run `make chromium`")

    from playwright.sync_api import sync_playwright

    region = load_region(args.region)
    with tempfile.TemporaryDirectory(prefix="cascada-dashboard-bench-") as tmp:
        service = start_service(Path(tmp) / "home", region)
        try:
            with sync_playwright() as playwright:
                context = launch_browser(playwright, Path(tmp) / "profile")
                login = context.request.post(service.url + "api/auth/login",
                                             data={"username": ADMIN, "password": PASSWORD})
                if login.status != 200:
                    sys.exit(f"login failed: HTTP {login.status}")
                loads = []
                for i in range(args.repeats):
                    page = context.new_page()
                    started = time.perf_counter()
                    page.goto(f"{service.url}#/projects/{PROJECT}")
                    wait_until(page, "window.cascada && window.cascada.view"
                                     " && window.cascada.view.info.firstIdleMs", timeout_s=120)
                    wall = time.perf_counter() - started
                    figures = page.evaluate(RENDERED)
                    loads.append((figures["ms"] / 1000, wall, figures))
                    print(f"load {i + 1}: {figures['ms'] / 1000:.2f} s in the page "
                          f"({wall:.2f} s seen by the driver), {figures['rendered']} of "
                          f"{figures['total']} assets in the frame; map created at "
                          f"{figures['created']:.0f} ms, style at {figures['style']:.0f} ms, "
                          f"assets tiled at {figures['source']:.0f} ms", file=sys.stderr)
                    page.close()
                context.close()
        finally:
            service.stop()

    seconds = [s for s, _, _ in loads]
    warm = seconds[1:] or seconds
    last = loads[-1][2]
    print(f"malta_assets: {last['total']} assets")
    print(f"malta_assets_rendered: {last['rendered']} assets")
    print(f"malta_map_render_cold: {seconds[0]:.2f} s")
    print(f"malta_map_render: {statistics.median(warm):.2f} s")
    # other work on the machine slows software WebGL; read the figures with it
    print(f"load_average_1min: {os.getloadavg()[0]:.1f} processes on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
