"""The core installs small: module-level imports use only the core dependencies.

Optional libraries (pyrosm, rasterio, matplotlib, lightgbm, pygmm, xclim,
pyflwdir, networkx) must be imported inside the functions that need them,
through ``cascada.errors.require``, so that `pip install cascada` (and `make
demo`, which installs only the demo extra) never fails on a missing package.

The HTTP service (``cascada.service``) is a room of its own that only runs with
the ``service`` extra: its modules may import that extra at module level, and
so nothing outside it may import ``cascada.service`` at module level — except its
command-line entry (``cascada.service.cli``), which, like the package's
``__init__``, must itself stay within the core.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "cascada"
SERVICE_EXTRA = {"fastapi", "starlette", "uvicorn", "sqlalchemy", "alembic", "argon2",
                 "multipart", "python_multipart", "itsdangerous", "httpx", "duckdb"}
CORE = {"numpy", "scipy", "pandas", "pyarrow", "geopandas", "shapely", "pyproj", "pyogrio",
        "numba", "typer", "rich", "pydantic", "pydantic_core", "cascada"}


def _module_level_imports(path: Path, depth: int = 1) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            names |= {".".join(alias.name.split(".")[:depth]) for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(".".join(node.module.split(".")[:depth]))
    return names


def test_module_level_imports_are_core_or_stdlib():
    offenders = {}
    for path in sorted(SRC.rglob("*.py")):
        allowed = CORE | set(sys.stdlib_module_names)
        rel = path.relative_to(SRC)
        if rel.parts[0] == "service" and rel.name not in ("cli.py", "__init__.py"):
            allowed |= SERVICE_EXTRA
        extra = _module_level_imports(path) - allowed
        if extra:
            offenders[str(path.relative_to(SRC))] = sorted(extra)
    assert offenders == {}


def test_only_the_service_imports_the_service_at_module_level():
    offenders = [str(path.relative_to(SRC)) for path in sorted(SRC.rglob("*.py"))
                 if path.relative_to(SRC).parts[0] != "service"
                 and any(name.startswith("cascada.service")
                         and name not in ("cascada.service.cli",)
                         for name in _module_level_imports(path, depth=3))]
    assert offenders == []
