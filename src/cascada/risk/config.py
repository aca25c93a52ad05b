"""Scenario files (TOML): what to run, declared once with types, units and defaults.

```toml
[scenario]
name = "malta-flash-flood"
description = "..."
region = "../regions/malta.gpkg"   # paths are relative to this file
seed = 20261125
samples = 64                         # Monte-Carlo damage samples
hours = 168                          # cascade horizon, hours

[[hazards]]
hazard = "flood"                     # a hazard family (cascada hazards list)
footprint = "hazards/flood.tif"      # GeoTIFF, or polygons with an intensity column
intensity_column = "depth_m"         # vector footprints only
synthetic = true                     # say so when the footprint is illustrative
note = "how the footprint was made"
```

Unknown keys are errors (with a "did you mean" hint), so a typo never silently
falls back to a default.
"""

from __future__ import annotations

import difflib
import tomllib
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from cascada.errors import CascadaInputError
from cascada.hazards.eventset import HAZARD_UNITS


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HazardInput(_Strict):
    """One hazard footprint of a scenario."""

    hazard: str = Field(description="hazard family, e.g. flood, earthquake, tsunami")
    footprint: Path = Field(description="GeoTIFF or vector file (GeoJSON, GPKG, GeoParquet)")
    intensity_column: str = Field("intensity", description="column of intensities (vectors)")
    band: Annotated[int, Field(ge=1)] = Field(1, description="raster band (GeoTIFF)")
    synthetic: bool = Field(False, description="the footprint is illustrative, not observed")
    note: str = Field("", description="how the footprint was made; shown in the report")

    @field_validator("hazard")
    @classmethod
    def _known_hazard(cls, value: str) -> str:
        if value not in HAZARD_UNITS:
            raise ValueError(f"unknown hazard {value!r}; known: {', '.join(HAZARD_UNITS)}")
        return value


class ScenarioSettings(_Strict):
    """The [scenario] table."""

    name: Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")]
    description: str = ""
    region: Path = Field(description="region file (.gpkg) or folder of GeoParquet")
    seed: Annotated[int, Field(ge=0)] = Field(12345, description="random seed")
    samples: Annotated[int, Field(ge=1, le=100_000)] = Field(
        64, description="Monte-Carlo damage samples"
    )
    hours: Annotated[int, Field(ge=1, le=24 * 366)] = Field(
        168, description="cascade horizon, hours"
    )


class Scenario(_Strict):
    """A scenario file: settings plus one or more hazard footprints."""

    scenario: ScenarioSettings
    hazards: Annotated[list[HazardInput], Field(min_length=1)]
    path: Path | None = None

    def resolve(self, relative: Path) -> Path:
        """A path from the file, relative to the file's folder."""
        base = self.path.parent if self.path else Path.cwd()
        return relative if relative.is_absolute() else (base / relative)


def _known_keys(model: type[BaseModel]) -> list[str]:
    return [k for k in model.model_fields if k != "path"]


def _did_you_mean(loc: tuple, models: dict[str, type[BaseModel]]) -> str | None:
    key = str(loc[-1])
    parent = loc[0] if len(loc) > 1 else None
    model = models.get(str(parent), Scenario)
    close = difflib.get_close_matches(key, _known_keys(model), n=1)
    allowed = ", ".join(_known_keys(model))
    return (f"did you mean '{close[0]}'? " if close else "") + f"allowed keys: {allowed}"


def read_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario TOML file; errors name the file and the key."""
    path = Path(path)
    if not path.exists():
        raise CascadaInputError("scenario file not found", file=path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise CascadaInputError(f"not valid TOML: {exc}", file=path) from exc
    try:
        scenario = Scenario.model_validate({**raw, "path": path})
    except ValidationError as exc:
        # A typo'd key also makes the real key "missing": report the typo first.
        errors = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")
        err = errors[0]
        loc = tuple(err["loc"])
        field = ".".join(str(p) for p in loc)
        models = {"scenario": ScenarioSettings, "hazards": HazardInput}
        if err["type"] == "extra_forbidden":
            raise CascadaInputError(
                "unknown key", file=path, field=field,
                hint=_did_you_mean(tuple(p for p in loc if not isinstance(p, int)), models),
            ) from exc
        raise CascadaInputError(err["msg"], file=path, field=field) from exc
    return scenario
