"""Scenario files of a project: validated with cascada's own models, confined to its folder.

A stored scenario keeps the TOML text as the user wrote it. Its ``region``
is ignored: runs use a region of the project. File references (footprints,
event sets, ``*_path`` / ``*_file`` parameters) must lie inside the
project's folder; parameter-only hazards need no files at all.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import ValidationError

from cascada.errors import CascadaInputError

PLACEHOLDER_REGION = "project-region.gpkg"


def scenario_kind(raw: dict) -> str:
    if "risk" in raw:
        return "risk"
    if "scenario" in raw:
        return "scenario"
    raise CascadaInputError("a scenario file needs a [scenario] or a [risk] table")


def parse(text: str, path: Path, region: Path | None = None):
    """(kind, model) of scenario TOML ``text`` stored at ``path``, region set to ``region``.

    kind is "scenario" (cascada.risk.config.Scenario) or "risk"
    (cascada.risk.eventsets.RiskScenario).
    """
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CascadaInputError(f"not valid TOML: {exc}") from exc
    kind = scenario_kind(raw)
    table = dict(raw.get(kind) or {}) if isinstance(raw.get(kind), dict) else None
    if table is None:
        raise CascadaInputError(f"[{kind}] must be a table")
    table["region"] = str(region) if region is not None else PLACEHOLDER_REGION
    raw = {**raw, kind: table, "path": path}
    if kind == "risk":
        from cascada.risk.eventsets import RiskScenario as model
    else:
        from cascada.risk.config import Scenario as model
    try:
        return kind, model.model_validate(raw)
    except ValidationError as exc:
        errors = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")
        err = errors[0]
        field = ".".join(str(p) for p in err["loc"]) or None
        message = ("unknown key" if err["type"] == "extra_forbidden"
                   else err["msg"].removeprefix("Value error, "))
        raise CascadaInputError(message, field=field) from exc


def _inside(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder.resolve())


def file_references(kind: str, model) -> list[tuple[str, Path]]:
    """(field, path as written) of every file a scenario refers to."""
    refs: list[tuple[str, Path]] = []
    entries = model.event_sets if kind == "risk" else model.hazards
    table = "event_sets" if kind == "risk" else "hazards"
    for i, entry in enumerate(entries):
        for name in ("footprint", "event_set"):
            value = getattr(entry, name, None)
            if value is not None:
                refs.append((f"{table}.{i}.{name}", Path(value)))
        for key, value in (entry.parameters or {}).items():
            if isinstance(value, str) and (key.endswith("_path") or key.endswith("_file")):
                refs.append((f"{table}.{i}.parameters.{key}", Path(value)))
    return refs


def check_files(kind: str, model, folder: Path) -> None:
    """Every file reference resolves inside ``folder`` and exists (else CascadaInputError)."""
    for field, path in file_references(kind, model):
        resolved = model.resolve(path)
        if not _inside(resolved, folder):
            raise CascadaInputError("files must lie inside the project's folder", field=field,
                                    hint="use parameters only, or add the file to the project")
        if not resolved.exists():
            raise CascadaInputError("file not found in the project", field=field)


def hazards_of(kind: str, model) -> list[dict]:
    if kind == "risk":
        return [{"id": i, "hazard": e.hazard, "generator": e.generator}
                for i, e in zip(model.entry_ids(), model.event_sets, strict=True)]
    return [{"id": i, "hazard": h.hazard}
            for i, h in zip(model.hazard_ids(), model.hazards, strict=True)]
