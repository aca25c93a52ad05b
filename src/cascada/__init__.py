"""cascada: an all-hazards risk and resilience engine.

One model of a place — its assets, what depends on what, and the people they
serve — is hit by hazards; failures cascade across sectors hour by hour; the
consequence is counted in people, hours and euros.

The pipeline, each stage a function of plain columnar data::

    Region → EventSet → damage → cascade → impact → (risk, measures)
"""

from importlib import import_module as _import_module
from importlib import metadata as _metadata

#: public name → module that defines it; imported on first use (PEP 562), so
#: ``import cascada`` and ``cascada --help`` stay fast
_EXPORTS = {
    "CascadeState": "cascada.cascade",
    "CompiledGraph": "cascada.cascade",
    "compile_graph": "cascada.cascade",
    "propagate": "cascada.cascade",
    "CascadaInputError": "cascada.errors",
    "MissingExtraError": "cascada.errors",
    "HAZARD_UNITS": "cascada.hazards.eventset",
    "EventSet": "cascada.hazards.eventset",
    "footprint_eventset": "cascada.hazards.footprint",
    "ServiceLinks": "cascada.impact.people",
    "people_without_service": "cascada.impact.people",
    "AssetTypeCatalogue": "cascada.region.catalogue",
    "load_asset_types": "cascada.region.catalogue",
    "read_region": "cascada.region.io",
    "write_region": "cascada.region.io",
    "Region": "cascada.region.model",
    "Scenario": "cascada.risk.config",
    "read_scenario": "cascada.risk.config",
    "ScenarioResult": "cascada.risk.scenario",
    "run_scenario": "cascada.risk.scenario",
    "write_run": "cascada.store.runfolder",
    "FragilityCatalogue": "cascada.vulnerability",
    "load_fragility": "cascada.vulnerability",
    "sample_damage_states": "cascada.vulnerability",
    "sample_repair_hours": "cascada.vulnerability",
}


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'cascada' has no attribute {name!r}")
    value = getattr(_import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


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
