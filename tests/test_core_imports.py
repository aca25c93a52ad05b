"""The core installs small: module-level imports use only the core dependencies.

Optional libraries (pyrosm, rasterio, matplotlib, lightgbm, pygmm, xclim,
pyflwdir, networkx) must be imported inside the functions that need them,
through ``cascada.errors.require``, so that `pip install cascada` (and `make
demo`, which installs only the demo extra) never fails on a missing package.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "cascada"
CORE = {"numpy", "scipy", "pandas", "pyarrow", "geopandas", "shapely", "pyproj", "pyogrio",
        "numba", "typer", "rich", "pydantic", "pydantic_core", "cascada"}


def _module_level_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_module_level_imports_are_core_or_stdlib():
    offenders = {}
    for path in sorted(SRC.rglob("*.py")):
        extra = _module_level_imports(path) - CORE - set(sys.stdlib_module_names)
        if extra:
            offenders[str(path.relative_to(SRC))] = sorted(extra)
    assert offenders == {}
