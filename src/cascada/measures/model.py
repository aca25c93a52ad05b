"""Risk-reduction measures as data (``measures/*.toml``) and how they change the model.

```toml
[settings]
discount_rate = 0.03            # per year
horizon_years = 30
[settings.value_eur_per_person_hour]   # value of an hour without a service, EUR
power = 2.0

[[measures]]
id = "desal-generators"
name = "Standby generators at the desalination plants"
capital_eur = 3.0e6
yearly_eur = 6.0e4
lifetime_years = 20
effect = { kind = "backup", asset_types = ["water.desalination"], hours = 48, dependency = "power" }
```

Effects (``kind``), each applied to *copies* of the region and of the event
set — the base model is never changed:

- ``fragility``: the targets' fragility medians × ``median_factor`` for
  ``hazard`` (retrofit). With lognormal curves this is exactly the same as
  dividing the targets' intensity by the factor, which is how it is applied.
- ``elevate``: flood-proofing / raising by ``height_m`` against ``flood`` or
  ``tsunami``: the targets' depth − height_m (never below 0).
- ``hazard_reduction``: the intensity of ``hazard`` × ``factor`` (0..1) at the
  targets, or everywhere inside ``area`` = [west, south, east, north]
  (flood defence, firebreaks, vegetation management).
- ``backup``: ``hours`` more backup on the targets' dependencies (optionally
  only those of kind ``dependency``: generators, batteries, fuel or water
  storage).
- ``redundancy``: the targets get ``supplier`` as one more supplier in their
  group of kind ``dependency`` (second feeder, interconnection).
- ``crews`` and ``early_warning`` change restoration and people's exposure,
  which the expected-annual-impact metrics do not see: they are accepted,
  costed, and reported as "not evaluated by the risk model".

Targets: ``asset_ids`` and/or ``asset_types``; unknown ones are errors naming
the file, the measure and the field.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from scipy import sparse

from cascada.errors import CascadaInputError
from cascada.hazards.eventset import HAZARD_UNITS, EventSet
from cascada.region.model import Region

#: EUR per person-hour without each service (assumptions; see docs/measures.md)
DEFAULT_VALUES = {"power": 2.0, "water": 1.5, "telecom": 0.5, "health": 5.0,
                  "finance": 0.3, "food": 0.5}
NOT_IN_RISK = ("crews", "early_warning")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Effect(_Strict):
    """What a measure changes (see the module docstring)."""

    kind: Literal["fragility", "elevate", "hazard_reduction", "backup", "redundancy",
                  "crews", "early_warning"]
    asset_ids: list[str] = Field(default_factory=list)
    asset_types: list[str] = Field(default_factory=list)
    hazard: str | None = None
    median_factor: Annotated[float, Field(gt=0)] | None = None
    height_m: Annotated[float, Field(gt=0)] | None = None
    factor: Annotated[float, Field(ge=0, le=1)] | None = None
    area: list[float] | None = Field(None, min_length=4, max_length=4,
                                     description="[west, south, east, north] degrees")
    hours: Annotated[float, Field(gt=0)] | None = None
    dependency: str | None = Field(None, description="dependency kind (power, water ...)")
    supplier: str | None = None
    sector: str | None = None
    crews: Annotated[int, Field(ge=1)] | None = None
    people_exposure_factor: Annotated[float, Field(ge=0, le=1)] | None = None

    @model_validator(mode="after")
    def _complete(self) -> Effect:
        need = {"fragility": ("hazard", "median_factor"), "elevate": ("hazard", "height_m"),
                "hazard_reduction": ("hazard", "factor"), "backup": ("hours",),
                "redundancy": ("supplier", "dependency"), "crews": ("sector", "crews"),
                "early_warning": ("people_exposure_factor",)}[self.kind]
        missing = [k for k in need if getattr(self, k) is None]
        if missing:
            raise ValueError(f"effect {self.kind!r} needs {', '.join(missing)}")
        if self.hazard is not None and self.hazard not in HAZARD_UNITS:
            raise ValueError(f"unknown hazard {self.hazard!r}")
        if self.kind == "fragility" and HAZARD_UNITS.get(self.hazard) == "damage_state":
            raise ValueError(f"{self.hazard} gives damage states, not an intensity a "
                             "fragility acts on")
        if self.kind == "elevate" and self.hazard not in ("flood", "tsunami"):
            raise ValueError("elevate works against flood or tsunami depth")
        targeted = bool(self.asset_ids or self.asset_types)
        if self.kind in ("fragility", "elevate", "backup", "redundancy") and not targeted:
            raise ValueError(f"effect {self.kind!r} needs asset_ids or asset_types")
        if self.kind == "hazard_reduction" and not targeted and self.area is None:
            raise ValueError("hazard_reduction needs targets or an area")
        return self


class Measure(_Strict):
    """One option: its costs (EUR), lifetime (years) and effect."""

    id: Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")]
    name: str = ""
    capital_eur: Annotated[float, Field(ge=0)]
    yearly_eur: Annotated[float, Field(ge=0)] = 0.0
    lifetime_years: Annotated[float, Field(gt=0)]
    effect: Effect
    note: str = ""


class Settings(_Strict):
    discount_rate: Annotated[float, Field(ge=0, lt=1)] = 0.03
    horizon_years: Annotated[int, Field(ge=1, le=200)] = 30
    value_eur_per_person_hour: dict[str, Annotated[float, Field(ge=0)]] = Field(
        default_factory=lambda: dict(DEFAULT_VALUES))


class MeasureFile(_Strict):
    settings: Settings = Field(default_factory=Settings)
    measures: Annotated[list[Measure], Field(min_length=1)]
    path: Path | None = None


def read_measures(path: str | Path, region: Region | None = None) -> MeasureFile:
    """Read and validate a measures file; with ``region``, check every target exists."""
    path = Path(path)
    if not path.is_file():
        raise CascadaInputError("measures file not found", file=path)
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise CascadaInputError(f"not valid TOML: {exc}", file=path) from exc
    try:
        parsed = MeasureFile.model_validate({**data, "path": path})
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = [str(p) for p in first["loc"]]
        row = int(loc[1]) + 1 if len(loc) > 1 and loc[0] == "measures" and loc[1].isdigit() \
            else None
        raise CascadaInputError(first["msg"], file=path, row=row,
                                field=".".join(loc)) from exc
    ids = [m.id for m in parsed.measures]
    if len(set(ids)) != len(ids):
        raise CascadaInputError("duplicate measure id", file=path, field="measures.id")
    if region is not None:
        check_targets(parsed, region)
    return parsed


def check_targets(measures: MeasureFile, region: Region) -> None:
    """Every asset id, asset type and supplier a measure names must be in the region."""
    ids = set(region.assets["asset_id"].astype(str))
    types = set(region.assets["asset_type"].astype(str))
    for i, m in enumerate(measures.measures):
        e = m.effect
        for field, names, known in (("asset_ids", e.asset_ids, ids),
                                    ("asset_types", e.asset_types, types),
                                    ("supplier", [e.supplier] if e.supplier else [], ids)):
            unknown = sorted(set(names) - known)
            if unknown:
                raise CascadaInputError(
                    f"measure {m.id!r} names {field} not in the region: "
                    f"{', '.join(unknown[:5])}", file=measures.path, row=i + 1,
                    field=f"measures.{i}.effect.{field}")


def targets(effect: Effect, region: Region) -> np.ndarray:
    """bool [assets]: the assets an effect names (ids or types)."""
    assets = region.assets
    return (assets["asset_id"].astype(str).isin(effect.asset_ids)
            | assets["asset_type"].astype(str).isin(effect.asset_types)).to_numpy()


@dataclass(frozen=True)
class Applied:
    """A region and an event set with measures applied (copies), and what was skipped."""

    region: Region
    eventset: EventSet
    not_evaluated: tuple[str, ...]


def apply_measures(region: Region, eventset: EventSet, measures: list[Measure]) -> Applied:
    """Copies of ``region`` and ``eventset`` with every measure's effect applied, in order."""
    intensity = eventset.intensity.tocsr(copy=True).astype(np.float64)
    hazards = eventset.events["hazard"].to_numpy()
    deps = region.dependencies.copy()
    skipped = []
    for m in measures:
        e = m.effect
        if e.kind in NOT_IN_RISK:
            skipped.append(m.id)
            continue
        if e.kind in ("fragility", "elevate", "hazard_reduction"):
            columns = targets(e, region) if (e.asset_ids or e.asset_types) else None
            if e.area is not None:
                west, south, east, north = e.area
                point = region.assets.geometry.representative_point()
                inside = ((point.x >= west) & (point.x <= east) & (point.y >= south)
                          & (point.y <= north)).to_numpy()
                columns = inside if columns is None else columns | inside
            rows = np.flatnonzero(hazards == e.hazard)
            intensity = _transform(intensity, rows, np.flatnonzero(columns), e)
        elif e.kind == "backup":
            hit = deps["consumer"].isin(region.assets["asset_id"][targets(e, region)])
            if e.dependency is not None:
                hit &= deps["kind"] == e.dependency
            deps.loc[hit, "backup_hours"] = deps.loc[hit, "backup_hours"] + e.hours
        elif e.kind == "redundancy":
            consumers = region.assets["asset_id"][targets(e, region)]
            rows = []
            for consumer in consumers:
                own = deps[(deps["consumer"] == consumer) & (deps["kind"] == e.dependency)]
                if (own["supplier"] == e.supplier).any() or consumer == e.supplier:
                    continue
                template = (own.iloc[0].to_dict() if len(own) else
                            {"consumer": consumer, "kind": e.dependency, "group": e.dependency,
                             "k": 1, "backup_hours": 0.0})
                rows.append({**template, "supplier": e.supplier})
            if rows:
                deps = pd.concat([deps, pd.DataFrame(rows)], ignore_index=True)
    new_region = Region.from_tables(region.name, region.assets, deps, region.people,
                                    region.service_links, metadata=dict(region.metadata))
    new_events = EventSet(sparse.csr_matrix(intensity.astype(np.float32)), eventset.asset_ids,
                          eventset.events.copy(), eventset.exposed_length_m,
                          dict(eventset.metadata))
    return Applied(new_region, new_events, tuple(skipped))


def _transform(intensity: sparse.csr_matrix, rows: np.ndarray, columns: np.ndarray,
               e: Effect) -> sparse.csr_matrix:
    if len(rows) == 0 or len(columns) == 0:
        return intensity
    coo = intensity.tocoo()
    hit = np.isin(coo.row, rows) & np.isin(coo.col, columns)
    data = coo.data.copy()
    if e.kind == "fragility":
        data[hit] = data[hit] / e.median_factor
    elif e.kind == "elevate":
        data[hit] = np.maximum(data[hit] - e.height_m, 0.0)
    else:
        data[hit] = data[hit] * e.factor
    out = sparse.csr_matrix((data, (coo.row, coo.col)), shape=intensity.shape)
    out.eliminate_zeros()
    return out
