"""Build the demo's illustrative flash-flood footprint for the island of Malta.

SYNTHETIC, for demonstration: not a flood model and not a hazard map.

Method (height above nearest drainage, HAND, Nobre et al. 2011): flow
directions (D8) and upstream areas are derived from the 40 m terrain model
(GmAMisc, ED50 / UTM 33N) with `pyflwdir`; every cell draining at least
DRAINAGE_KM2 is a drainage cell (Malta's valleys, "widien"). HAND is each cell's
height above the drainage cell it flows to. The scenario lets water stand
WATER_LEVEL_M above every drainage cell, so depth = WATER_LEVEL_M − HAND where
that is at least 5 cm. The result is written as a GeoTIFF (depth_m, float32,
0 = dry) in the terrain model's CRS, which also exercises reprojection when
cascada samples it. Gozo and Comino are not covered (no terrain model offline).

Run from the repository root (needs `pip install pyflwdir`):
    python scenarios/build_malta_flash_flood.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyflwdir
import rasterio

ROOT = Path(__file__).resolve().parents[1]
DTM = ROOT / "data" / "malta" / "malta-dtm-40m.tif"
OUT = ROOT / "scenarios" / "hazards" / "malta-flash-flood-depth.tif"
WATER_LEVEL_M = 1.2
DRAINAGE_KM2 = 1.0
NODATA = -9999.0


def main() -> None:
    with rasterio.open(DTM) as src:
        z = src.read(1).astype("float32")
        profile = src.profile
        transform = src.transform
    land = np.isfinite(z)
    elevation = np.where(land, z, NODATA).astype("float32")
    flow = pyflwdir.from_dem(elevation, nodata=NODATA, transform=transform, latlon=False)
    upstream_km2 = flow.upstream_area("km2")
    hand = flow.hand(drain=upstream_km2 >= DRAINAGE_KM2, elevtn=elevation)
    depth = np.where(land & np.isfinite(hand) & (hand >= 0), WATER_LEVEL_M - hand, 0.0)
    depth[depth < 0.05] = 0.0
    profile.update(dtype="float32", nodata=None, compress="deflate", predictor=3)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with rasterio.open(OUT, "w", **profile) as dst:
        dst.write(depth.astype("float32"), 1)
        dst.update_tags(
            unit="depth_m", synthetic="true",
            method=f"HAND (pyflwdir D8, drainage >= {DRAINAGE_KM2} km2), water "
                   f"{WATER_LEVEL_M} m above drainage; illustrative, not a hazard map",
        )
    wet = depth > 0
    print(f"wrote {OUT.relative_to(ROOT)}: {wet.sum()} wet cells "
          f"({wet.sum() * abs(transform.a * transform.e) / 1e6:.1f} km²), "
          f"max depth {depth.max():.2f} m")


if __name__ == "__main__":
    main()
