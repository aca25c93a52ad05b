"""Data files: catalogue CSVs (comment lines allowed, errors at the real line) and hashes."""

from __future__ import annotations

import hashlib
import io
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from cascada.errors import CascadaInputError


def read_catalogue_csv(path: str | Path, what: str) -> tuple[pd.DataFrame, list[int], list[str]]:
    """Read a CSV whose ``#`` lines are comments.

    Returns (table of strings, the 1-based file line of the header and of each
    table row — so row i of the table is line ``lines_of[i + 1]`` — and all
    lines of the file). ``what`` names the file in error messages.
    """
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise CascadaInputError(f"cannot read the {what}: {exc}", file=path) from exc
    # File line number (1-based) of each non-comment, non-blank line; [0] is the header.
    data_lines = [
        i + 1 for i, line in enumerate(lines) if line.strip() and not line.lstrip().startswith("#")
    ]
    if not data_lines:
        raise CascadaInputError(f"the {what} is empty", file=path)
    try:
        table = pd.read_csv(
            io.StringIO("\n".join(lines[i - 1] for i in data_lines)),
            dtype=str,
            keep_default_na=False,
        )
    except pd.errors.ParserError as exc:
        raise CascadaInputError(f"cannot parse the {what}: {exc}", file=path) from exc
    if len(table) != len(data_lines) - 1:  # a quoted field spans lines: numbers would lie
        raise CascadaInputError("a quoted field spans several lines; keep one row per line",
                                file=path)
    return table, data_lines, lines


def version_line(lines: list[str]) -> str:
    """The value of a ``# version: ...`` comment line, or "unversioned"."""
    for line in lines:
        if line.startswith("# version:"):
            return line.split(":", 1)[1].strip()
    return "unversioned"


def sha256_file(path: str | Path) -> str:
    """Hex SHA-256 of a file, or of every file in a folder (sorted by name)."""
    path = Path(path)
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for f in files:
        with open(f, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


def data_path(*parts: str) -> Path:
    """A file of the project's data folder (``data/`` in the repository).

    ``CASCADA_DATA_DIR`` names another data folder (for an installed package,
    or data kept elsewhere); otherwise the repository's ``data/`` beside
    ``src/``, else ``./data``. The path is returned even if it does not exist;
    readers raise a clear error naming it.
    """
    root = os.environ.get("CASCADA_DATA_DIR")
    if root:
        return Path(root, *parts)
    repository = Path(__file__).resolve().parents[2] / "data"
    if repository.is_dir():
        return repository.joinpath(*parts)
    return Path("data", *parts)


@contextmanager
def atomic_file(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; it becomes ``path`` when the block succeeds.

    The temporary name is unique and on the same file system, so the final
    rename is atomic: a reader never sees half a file, and a failure leaves
    nothing behind. The parent folder is created.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Keep the extension last: writers such as GDAL choose or check the format by it.
    tmp = path.parent / f".{path.stem}.{os.getpid()}.{uuid.uuid4().hex}.tmp{path.suffix}"
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write a UTF-8 text file atomically (see :func:`atomic_file`)."""
    with atomic_file(path) as tmp:
        tmp.write_text(text, encoding="utf-8", newline="\n")
    return Path(path)
