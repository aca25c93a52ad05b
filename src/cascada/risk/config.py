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

A hazard can also come from a registered hazard model, and hazards can chain:

```toml
[[hazards]]
id = "eq1693"
hazard = "earthquake"
parameters = { magnitude_mw = 7.4, lat = 37.1, lon = 15.2, depth_km = 20 }

[[hazards]]
hazard = "tsunami"
trigger = "eq1693"                   # starts after its trigger ...
time_offset_hours = 1.0              # ... by this many hours
parameters = { }                     # inherits magnitude_mw, lat, lon, depth_km
```

Unknown keys are errors (with a "did you mean" hint), so a typo never silently
falls back to a default.
"""

from __future__ import annotations

import difflib
import tomllib
from pathlib import Path
from typing import Annotated, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from cascada.errors import CascadaInputError
from cascada.hazards.eventset import HAZARD_UNITS
from cascada.impact.water import WaterSettings


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


M = TypeVar("M", bound=BaseModel)


class HazardInput(_Strict):
    """One hazard of a scenario: a footprint file, or a hazard model with parameters.

    A hazard with ``trigger`` is part of a chain: it starts
    ``time_offset_hours`` after the hazard it names (earthquake → tsunami,
    earthquake → industrial release), and, when it is a model, inherits the
    parent's parameters that its own model also takes (a tsunami takes the
    earthquake's magnitude and location).
    """

    id: str = Field("", description="name of this hazard, for chains (default hazard-<n>)")
    hazard: str = Field(description="hazard family, e.g. flood, earthquake, tsunami")
    footprint: Path | None = Field(
        None, description="GeoTIFF or vector file (GeoJSON, GPKG, GeoParquet)")
    event_set: Path | None = Field(
        None, description="event set written by cascada (e.g. `cascada hazard ... -o`, "
                          "`cascada food recall ... -o`)")
    outage_hours: Annotated[float, Field(gt=0)] | None = Field(
        None, description="assets this hazard damages are out exactly this long (a "
                          "closure or shutdown) instead of their sampled repair time, hours")
    parameters: dict | None = Field(
        None, description="parameters of the hazard model (cascada hazards list)")
    trigger: str | None = Field(None, description="id of the hazard that triggers this one")
    time_offset_hours: Annotated[float, Field(ge=0)] = Field(
        0.0, description="start after the triggering hazard (or the scenario start), hours")
    if_damaged: str | None = Field(
        None, description="natech: happens only in the samples where the trigger damages "
                          "this asset (asset_id), e.g. a storage tank releasing its content")
    min_damage_state: Annotated[int, Field(ge=1, le=4)] = Field(
        2, description="with if_damaged: the damage state that causes the release (1-4)")
    intensity_column: str = Field("intensity", description="column of intensities (vectors)")
    band: Annotated[int, Field(ge=1)] = Field(
        1, description="raster band (GeoTIFF), or slice of a NetCDF variable's extra dimension")
    variable: str | None = Field(None, description="NetCDF variable of the footprint")
    synthetic: bool = Field(False, description="the footprint is illustrative, not observed")
    note: str = Field("", description="how the footprint was made; shown in the report")

    @field_validator("hazard")
    @classmethod
    def _known_hazard(cls, value: str) -> str:
        if value not in HAZARD_UNITS:
            raise ValueError(f"unknown hazard {value!r}; known: {', '.join(HAZARD_UNITS)}")
        return value

    @model_validator(mode="after")
    def _one_source(self) -> HazardInput:
        if self.if_damaged is not None and self.trigger is None:
            raise ValueError("if_damaged needs a trigger: the hazard whose damage releases it")
        files = (self.footprint is not None) + (self.event_set is not None)
        model = self.parameters is not None or (self.trigger is not None and files == 0)
        if files + model != 1:
            raise ValueError("give one of: a footprint file, an event_set file, or model "
                             "parameters (or a trigger)")
        return self


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
    water: WaterSettings = Field(default_factory=WaterSettings,
                                 description="water supply-demand balance (impact.water)")
    path: Path | None = None

    @model_validator(mode="after")
    def _chains(self) -> Scenario:
        ids: list[str] = []
        for i, hazard in enumerate(self.hazards):
            name = hazard.id or f"hazard-{i + 1}"
            if name in ids:
                raise ValueError(f"hazards[{i}]: duplicate id {name!r}")
            if hazard.trigger is not None and hazard.trigger not in ids:
                raise ValueError(
                    f"hazards[{i}]: trigger {hazard.trigger!r} names no earlier hazard "
                    f"(earlier ids: {', '.join(ids) or 'none'})"
                )
            ids.append(name)
        return self

    def hazard_ids(self) -> list[str]:
        """The id of every hazard (given, or hazard-<n>)."""
        return [h.id or f"hazard-{i + 1}" for i, h in enumerate(self.hazards)]

    def onset_hours(self) -> list[float]:
        """Start of every hazard after the scenario start, hours (chains add up)."""
        ids = self.hazard_ids()
        onset: dict[str, float] = {}
        for name, hazard in zip(ids, self.hazards, strict=True):
            base = onset[hazard.trigger] if hazard.trigger else 0.0
            onset[name] = base + hazard.time_offset_hours
        return [onset[name] for name in ids]

    def resolve(self, relative: Path) -> Path:
        """A path from the file, relative to the file's folder."""
        base = self.path.parent if self.path else Path.cwd()
        return relative if relative.is_absolute() else (base / relative)


def _known_keys(model: type[BaseModel]) -> list[str]:
    return [k for k in model.model_fields if k != "path"]


def _did_you_mean(loc: tuple, models: dict[str, type[BaseModel]], top: type[BaseModel]
                  ) -> str | None:
    key = str(loc[-1])
    parent = loc[0] if len(loc) > 1 else None
    model = models.get(str(parent), top)
    close = difflib.get_close_matches(key, _known_keys(model), n=1)
    allowed = ", ".join(_known_keys(model))
    return (f"did you mean '{close[0]}'? " if close else "") + f"allowed keys: {allowed}"


def read_toml_model(path: str | Path, model: type[M], tables: dict[str, type[BaseModel]],
                    what: str) -> M:
    """Read a TOML file into a strict pydantic model; errors name the file and the key.

    tables: the models of the file's tables, by key, for "did you mean"
    hints on unknown keys; what: how to call the file in errors.
    """
    path = Path(path)
    if not path.exists():
        raise CascadaInputError(f"{what} file not found", file=path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise CascadaInputError(f"not valid TOML: {exc}", file=path) from exc
    try:
        return model.model_validate({**raw, "path": path})
    except ValidationError as exc:
        # A typo'd key also makes the real key "missing": report the typo first.
        errors = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")
        err = errors[0]
        loc = tuple(err["loc"])
        field = ".".join(str(p) for p in loc)
        if err["type"] == "extra_forbidden":
            raise CascadaInputError(
                "unknown key", file=path, field=field,
                hint=_did_you_mean(tuple(p for p in loc if not isinstance(p, int)), tables,
                                   model),
            ) from exc
        message = err["msg"].removeprefix("Value error, ")
        raise CascadaInputError(message, file=path, field=field or None) from exc


def read_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario TOML file; errors name the file and the key."""
    return read_toml_model(path, Scenario,
                           {"scenario": ScenarioSettings, "hazards": HazardInput}, "scenario")
