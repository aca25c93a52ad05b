"""Risk scenario files and the multi-hazard event table they describe.

A risk file (TOML) names the region, the Monte-Carlo settings and one or more
event sets with annual rates::

    [risk]
    name = "malta-all-hazards"
    region = "../regions/malta.gpkg"   # relative to this file
    seed = 20261125
    samples = 64                       # damage samples per event
    hours = 168                        # cascade horizon, hours
    events_per_block = 16              # events per seeded work block

    [[event_sets]]                     # stochastic catalogue (Gutenberg-Richter rates)
    hazard = "earthquake"
    generator = "stochastic"
    n_events = 300
    parameters = { radius_km = 170.0 }

    [[event_sets]]                     # a hazard model at several return periods
    hazard = "flood"
    generator = "return_periods"
    parameters = { duration_h = 24.0 }
    return_periods = [ { return_period_years = 10, parameters = { rainfall_mm = 90 } },
                       { return_period_years = 100, parameters = { rainfall_mm = 150 } } ]

    [[event_sets]]                     # depth rasters per return period (GeoTIFF/COG/NetCDF)
    hazard = "flood"
    generator = "return_periods"
    return_periods = [ { return_period_years = 10, footprint = "hazards/depth.nc",
                         variable = "depth", band = 1 },
                       { return_period_years = 100, footprint = "hazards/depth.nc",
                         variable = "depth", band = 2 } ]

    [[event_sets]]                     # one model event with a given annual rate
    hazard = "flood"
    generator = "model"
    annual_rate = 0.01
    parameters = { rainfall_mm = 150 }

    [[event_sets]]                     # an event set file written by cascada
    hazard = "earthquake"
    generator = "file"
    event_set = "hazards/my-events.parquet"

Return periods T_1 < ... < T_n become events with annual rates
``1/T_i - 1/T_{i+1}`` (the last: ``1/T_n``): event i stands for every event
between its return period and the next (the usual discretisation of a hazard
curve), so the rates add up to ``1/T_1``.

All event sets are stacked into one :class:`EventSet` (rows: events of every
hazard; columns: the region's assets), with a ``source`` column naming the
event-set entry (added after stacking: EventSet keeps only its own columns).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator
from scipy import sparse

from cascada.errors import CascadaInputError
from cascada.hazards.eventset import HAZARD_UNITS, EventSet, read_eventset
from cascada.hazards.footprint import footprint_eventset
from cascada.hazards.registry import hazard_model
from cascada.region.model import Region
from cascada.risk.config import ScenarioSettings, read_toml_model

#: hazards with a stochastic catalogue generator
STOCHASTIC = ("earthquake", "wildfire")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ReturnPeriodEvent(_Strict):
    """One event of a return-period set: its return period and either model
    parameters or a footprint file (a depth raster: GeoTIFF / COG / NetCDF, any CRS)."""

    return_period_years: Annotated[float, Field(gt=0)]
    parameters: dict = Field(default_factory=dict)
    footprint: Path | None = Field(None, description="footprint file of this return period")
    band: Annotated[int, Field(ge=1)] = Field(1, description="raster band / NetCDF slice")
    variable: str | None = Field(None, description="NetCDF variable")
    intensity_column: str = Field("intensity", description="column of intensities (vectors)")

    @model_validator(mode="after")
    def _one_source(self) -> ReturnPeriodEvent:
        if self.footprint is not None and self.parameters:
            raise ValueError("give parameters or a footprint, not both")
        return self


class EventSetInput(_Strict):
    """One ``[[event_sets]]`` entry: where events and their annual rates come from."""

    id: str = Field("", description="name of the entry (default <hazard>-<n>)")
    hazard: str = Field(description="hazard family, e.g. earthquake, flood")
    generator: Literal["stochastic", "return_periods", "model", "file"] = Field(
        description="stochastic catalogue, return periods of a model, one model event, "
                    "or an event set file")
    n_events: Annotated[int, Field(ge=1, le=1_000_000)] | None = Field(
        None, description="events of a stochastic catalogue")
    parameters: dict = Field(default_factory=dict, description="model / generator parameters")
    return_periods: list[ReturnPeriodEvent] = Field(default_factory=list)
    annual_rate: Annotated[float, Field(ge=0)] | None = Field(
        None, description="events/year of a single model event")
    event_set: Path | None = Field(None, description="event set file (generator = file)")
    synthetic: bool = Field(False, description="rates or footprints are illustrative")
    note: str = ""

    @model_validator(mode="after")
    def _complete(self) -> EventSetInput:
        if self.hazard not in HAZARD_UNITS:
            raise ValueError(f"unknown hazard {self.hazard!r}; known: {', '.join(HAZARD_UNITS)}")
        need = {"stochastic": "n_events", "return_periods": "return_periods",
                "model": "annual_rate", "file": "event_set"}[self.generator]
        if not getattr(self, need):
            raise ValueError(f"generator {self.generator!r} needs {need!r}")
        if self.generator == "stochastic" and self.hazard not in STOCHASTIC:
            raise ValueError(f"stochastic catalogues exist for {' and '.join(STOCHASTIC)} "
                             "only; use return_periods for other hazards")
        return self


class RiskSettings(ScenarioSettings):
    """The ``[risk]`` table: a scenario's settings (samples are per event) plus these."""

    events_per_block: Annotated[int, Field(ge=1, le=100_000)] = Field(
        16, description="events per seeded work block")
    bootstrap: Annotated[int, Field(ge=0, le=10_000)] = Field(
        100, description="bootstrap resamples for the return-period bands")


class RiskScenario(_Strict):
    """A risk file: settings plus the event sets."""

    risk: RiskSettings
    event_sets: Annotated[list[EventSetInput], Field(min_length=1)]
    path: Path | None = None

    def entry_ids(self) -> list[str]:
        """The id of every event-set entry (given, or <hazard>-<n>)."""
        return [e.id or f"{e.hazard}-{i + 1}" for i, e in enumerate(self.event_sets)]

    def resolve(self, relative: Path) -> Path:
        """A path from the file, relative to the file's folder."""
        base = self.path.parent if self.path else Path.cwd()
        return relative if relative.is_absolute() else (base / relative)


def read_risk_scenario(path: str | Path) -> RiskScenario:
    """Read and validate a risk TOML file; errors name the file and the key."""
    return read_toml_model(path, RiskScenario,
                           {"risk": RiskSettings, "event_sets": EventSetInput},
                           "risk scenario")


def return_period_rates(return_periods_years: list[float]) -> np.ndarray:
    """Annual rates of events standing for return periods T (any order; returned in
    that order): rate_i = 1/T_i − 1/T_next (next longer T), the longest: 1/T."""
    t = np.asarray(return_periods_years, np.float64)
    if len(np.unique(t)) != len(t):
        raise CascadaInputError("return periods must differ", field="return_periods")
    order = np.argsort(t)
    exceed = 1.0 / t[order]
    rates = exceed - np.r_[exceed[1:], 0.0]
    out = np.empty_like(rates)
    out[order] = rates
    return out


def _model_event(hazard: str, parameters: dict, region: Region, rng: np.random.Generator,
                 source: str) -> EventSet:
    model = hazard_model(hazard)
    p = model.parameters(parameters, source=source)
    return model.event_set(region.assets, p, rng)


def _entry_eventset(entry: EventSetInput, entry_id: str, scenario: RiskScenario,
                    region: Region, rng: np.random.Generator, index: int) -> EventSet:
    source = f"{scenario.path or '<risk>'} [event_sets.{index}]"
    if entry.generator == "stochastic" and entry.hazard == "wildfire":
        from cascada.hazards.wildfire import stochastic_fire_season

        es = _stochastic(stochastic_fire_season, region, entry, rng, source)
    elif entry.generator == "stochastic":
        from cascada.hazards.earthquake import stochastic_event_set

        es = _stochastic(stochastic_event_set, region, entry, rng, source)
    elif entry.generator == "file":
        path = scenario.resolve(entry.event_set or Path())
        es = read_eventset(path)
        if not np.array_equal(es.asset_ids, region.assets["asset_id"].to_numpy()):
            raise CascadaInputError("the event set's assets are not the region's, in order",
                                    file=path, field="asset_id")
    elif entry.generator == "model":
        es = _model_event(entry.hazard, entry.parameters, region, rng, source)
        es.events["annual_rate"] = float(entry.annual_rate or 0.0)
    else:
        parts = []
        rates = return_period_rates([r.return_period_years for r in entry.return_periods])
        for r, rate in zip(entry.return_periods, rates, strict=True):
            if r.footprint is not None:
                part = footprint_eventset(region.assets, scenario.resolve(r.footprint),
                                          entry.hazard, band=r.band, variable=r.variable,
                                          intensity_column=r.intensity_column)
            else:
                part = _model_event(entry.hazard, {**entry.parameters, **r.parameters}, region,
                                    rng, source)
            part.events["event_id"] = [f"{entry_id}-rp{r.return_period_years:g}"
                                       for _ in range(part.n_events)]
            part.events["annual_rate"] = rate / part.n_events
            parts.append(part)
        es = stack_eventsets(parts)
    if not (es.events["hazard"] == entry.hazard).all():
        raise CascadaInputError(f"the event set holds {sorted(set(es.events['hazard']))}",
                                file=source, field="hazard")
    if es.metadata.get("imt", "PGA") != "PGA":
        raise CascadaInputError(f"the fragility curves use PGA, this event set holds "
                                f"{es.metadata['imt']}", file=source, field="imt")
    return es


def _stochastic(generator, region: Region, entry: EventSetInput, rng: np.random.Generator,
                source: str) -> EventSet:
    """Call a stochastic generator with the entry's parameters; unknown ones name the key."""
    import inspect

    known = [k for k in inspect.signature(generator).parameters
             if k not in ("assets", "n_events", "rng")]
    for key in entry.parameters:
        if key not in known:
            raise CascadaInputError(f"unknown parameter {key!r} of the {entry.hazard} "
                                    "stochastic generator", file=source,
                                    field=f"parameters.{key}",
                                    hint=f"known: {', '.join(known)}")
    parameters = dict(entry.parameters)
    if "months" in parameters:
        parameters["months"] = tuple(parameters["months"])
    return generator(region.assets, int(entry.n_events or 0), rng, **parameters)


def stack_eventsets(eventsets: list[EventSet]) -> EventSet:
    """One EventSet with the rows of all of them (same assets, same order)."""
    if not eventsets:
        raise CascadaInputError("no event sets to stack")
    ids = eventsets[0].asset_ids
    for es in eventsets[1:]:
        if not np.array_equal(es.asset_ids, ids):
            raise CascadaInputError("event sets cover different assets", field="asset_id")
    intensity = sparse.vstack([es.intensity for es in eventsets]).tocsr()
    exposed = None
    if any(es.exposed_length_m is not None for es in eventsets):
        exposed = sparse.vstack([
            es.exposed_length_m if es.exposed_length_m is not None
            else sparse.csr_matrix(es.intensity.shape, dtype=np.float32)
            for es in eventsets]).tocsr()
    events = pd.concat([es.events for es in eventsets], ignore_index=True)
    return EventSet(intensity, ids, events, exposed, {"parts": len(eventsets)})


def build_eventset(scenario: RiskScenario, region: Region, *, max_events: int | None = None
                   ) -> EventSet:
    """The multi-hazard event table of a risk scenario, one row per event.

    Each entry draws from its own generator, ``SeedSequence(seed)`` spawned per
    entry. max_events: cap a stochastic catalogue's n_events (quick runs; the
    Gutenberg-Richter rates are redistributed over the fewer events).
    """
    seeds = np.random.SeedSequence(scenario.risk.seed).spawn(len(scenario.event_sets))
    parts = []
    for i, (entry, entry_id, seed) in enumerate(zip(scenario.event_sets, scenario.entry_ids(),
                                                    seeds, strict=True)):
        if max_events is not None and entry.generator == "stochastic":
            entry = entry.model_copy(update={"n_events": min(int(entry.n_events or 0),
                                                             max_events)})
        parts.append(_entry_eventset(entry, entry_id, scenario, region,
                                     np.random.default_rng(seed), i))
    es = stack_eventsets(parts)
    es.events["source"] = np.repeat(scenario.entry_ids(), [p.n_events for p in parts])
    if es.events["event_id"].duplicated().any():
        es.events["event_id"] = [f"{s}:{e}" for s, e in zip(es.events["source"],
                                                             es.events["event_id"], strict=True)]
    return es
