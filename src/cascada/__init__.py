"""cascada: an all-hazards risk and resilience engine.

One model of a place — its assets, what depends on what, and the people they
serve — is hit by hazards; failures cascade across sectors hour by hour; the
consequence is counted in people, hours and euros.

The pipeline, each stage a function of plain columnar data::

    Region → EventSet → damage → cascade → impact → (risk, measures)
"""

from importlib import metadata as _metadata

from cascada.cascade import CascadeState, CompiledGraph, compile_graph, propagate
from cascada.errors import CascadaInputError, MissingExtraError
from cascada.hazards.eventset import HAZARD_UNITS, EventSet
from cascada.hazards.footprint import footprint_eventset
from cascada.impact.people import ServiceLinks, people_without_service
from cascada.region.catalogue import AssetTypeCatalogue, load_asset_types
from cascada.region.io import read_region, write_region
from cascada.region.model import Region
from cascada.risk.config import Scenario, read_scenario
from cascada.risk.scenario import ScenarioResult, run_scenario
from cascada.store.runfolder import write_run
from cascada.vulnerability import (
    FragilityCatalogue,
    load_fragility,
    sample_damage_states,
    sample_repair_hours,
)

try:
    __version__ = _metadata.version("cascada")
except _metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = [
    "HAZARD_UNITS",
    "AssetTypeCatalogue",
    "CascadaInputError",
    "CascadeState",
    "CompiledGraph",
    "EventSet",
    "FragilityCatalogue",
    "MissingExtraError",
    "Region",
    "Scenario",
    "ScenarioResult",
    "ServiceLinks",
    "__version__",
    "compile_graph",
    "footprint_eventset",
    "load_asset_types",
    "load_fragility",
    "people_without_service",
    "propagate",
    "read_region",
    "read_scenario",
    "run_scenario",
    "sample_damage_states",
    "sample_repair_hours",
    "write_region",
    "write_run",
]
