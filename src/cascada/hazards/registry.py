"""Hazard families registered by name, so the CLI, TOML files and dashboard can list them.

A hazard model turns parameters (a pydantic model whose field names carry
their units: ``magnitude_mw``, ``depth_km``, ``wind_speed_m_s``) into an
:class:`~cascada.hazards.eventset.EventSet` over a region's assets::

    @register
    class Earthquake(HazardModel):
        name = "earthquake"
        unit = "pga_g"
        description = "ground shaking from a rupture (pygmm GMM)"
        Parameters = EarthquakeParameters

        def event_set(self, assets, parameters, rng): ...

Every registered model passes the contract tests in
``tests/hazards/test_contract.py`` (shapes, units, non-negative
intensities, monotone in its size parameter, deterministic with a seed).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar

import geopandas as gpd
import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationError

from cascada.errors import CascadaInputError
from cascada.hazards.eventset import HAZARD_UNITS, EventSet


class HazardParameters(BaseModel):
    """Base of every hazard's parameters: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class HazardModel(ABC):
    """One hazard family: its name, intensity unit, parameters and event-set builder."""

    name: ClassVar[str]
    unit: ClassVar[str]
    description: ClassVar[str]
    Parameters: ClassVar[type[HazardParameters]]
    #: the parameter that measures the event's size (magnitude, mass, rainfall ...):
    #: more of it never gives less intensity (checked by the contract tests).
    size_parameter: ClassVar[str | None] = None

    def parameters(self, values: Mapping[str, Any], *, source: str = "<parameters>"
                   ) -> HazardParameters:
        """Validate raw parameters (from TOML, CLI or JSON) into ``Parameters``."""
        try:
            return self.Parameters.model_validate(dict(values))
        except ValidationError as exc:
            err = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")[0]
            field = ".".join(str(p) for p in err["loc"])
            message = "unknown parameter" if err["type"] == "extra_forbidden" else err["msg"]
            allowed = ", ".join(self.Parameters.model_fields)
            raise CascadaInputError(
                f"{self.name}: {message}", file=source, field=field,
                hint=f"parameters of {self.name}: {allowed}",
            ) from exc

    @abstractmethod
    def event_set(
        self, assets: gpd.GeoDataFrame, parameters: HazardParameters, rng: np.random.Generator
    ) -> EventSet:
        """Intensity at every asset (events × assets), in ``unit``.

        assets: the region's asset table (EPSG:4326); the EventSet's columns
        follow its row order. rng: the only source of randomness.
        """


    def people_exposed(
        self, people: gpd.GeoDataFrame, assets: gpd.GeoDataFrame, parameters: HazardParameters
    ) -> dict[str, float] | None:
        """People exposed by level (e.g. AEGL-1/2/3), for hazards that harm people directly.

        people: the region's population points; assets: its asset table.
        Returns {level: people} or None when the hazard has no such measure.
        """
        return None


_REGISTRY: dict[str, HazardModel] = {}


def register(cls: type[HazardModel]) -> type[HazardModel]:
    """Class decorator: register a hazard model under its ``name``."""
    if cls.unit != HAZARD_UNITS.get(cls.name):
        raise ValueError(
            f"hazard {cls.name!r} must use the unit {HAZARD_UNITS.get(cls.name)!r}, "
            f"declared in cascada.hazards.eventset.HAZARD_UNITS"
        )
    _REGISTRY[cls.name] = cls()
    return cls


def hazard_model(name: str) -> HazardModel:
    """The registered model of a hazard family, or a clear error listing them."""
    if name not in _REGISTRY:
        raise CascadaInputError(
            f"no hazard model {name!r}", field="hazard",
            hint=f"registered: {', '.join(sorted(_REGISTRY)) or 'none'}",
        )
    return _REGISTRY[name]


def hazard_models() -> dict[str, HazardModel]:
    """All registered hazard models, by name."""
    return dict(sorted(_REGISTRY.items()))
