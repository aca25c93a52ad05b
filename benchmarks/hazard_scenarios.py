"""Each hazard family's example scenario on Malta: time to an event set over all assets.

The issue's figure: every hazard's scenario on Malta in <= 10 s. Each model's
``example`` parameters (``cascada hazards show NAME``) run on the Malta region
(``regions/malta.gpkg``, or built from the repository's OSM extract), in one
process; the first model that needs a library pays its import (reported
separately). No peer here: these are absolute figures. Run::

    python benchmarks/hazard_scenarios.py

Figures last, one per line (``name: value unit``).
"""

from __future__ import annotations

import importlib
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from criticality_n1 import malta

from cascada.hazards.registry import hazard_model, hazard_models

LIBRARIES = ("pygmm", "xclim.indices", "rasterio", "pyflwdir")


def main() -> None:
    region = malta()
    figures = []
    start = time.perf_counter()
    for library in LIBRARIES:
        importlib.import_module(library)
    figures.append(("library_imports", time.perf_counter() - start, "s"))
    for name in sorted(hazard_models()):
        model = hazard_model(name)
        parameters = model.parameters(dict(model.example))
        start = time.perf_counter()
        es = model.event_set(region.assets, parameters, np.random.default_rng(1))
        took = time.perf_counter() - start
        exposed = int((es.intensity.max(axis=0).toarray() > 0).sum())
        figures.append((f"{name}_scenario", took, f"s ({exposed} assets exposed)"))
    for name, value, unit in figures:
        print(f"{name}: {value:.2f} {unit}")
    print(f"slowest_scenario: {max(v for n, v, _ in figures if n != 'library_imports'):.2f} s")


if __name__ == "__main__":
    main()
