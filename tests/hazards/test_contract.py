"""The contract every registered hazard model passes (as geopandas runs pandas' suite).

Each model provides ``example``: valid parameters for Malta. The checks: EventSet
shape (events × assets), unit, finite non-negative intensities, same seed → same
EventSet, a larger size parameter never lowers intensity at any asset (same seed),
unknown parameter names → CascadaInputError.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

import cascada.hazards  # noqa: F401  (registers the models)
from cascada.errors import CascadaInputError
from cascada.hazards.eventset import HAZARD_UNITS, EventSet
from cascada.hazards.registry import HazardModel, hazard_models

MODELS = hazard_models()


def example_parameters(model: HazardModel) -> dict:
    """The model's example parameters for Malta (class attribute ``example``)."""
    example = getattr(model, "example", None)
    if example is None:
        pytest.fail(f"hazard model {model.name!r} has no `example` parameters for Malta")
    return dict(example() if callable(example) else example)


def bigger(model: HazardModel, values: dict) -> dict:
    """The same parameters with a larger size parameter (+0.5 for magnitudes, else ×1.2)."""
    key = model.size_parameter
    out = dict(values)
    out[key] = values[key] + 0.5 if "magnitude" in key else values[key] * 1.2
    return out


@pytest.fixture(params=sorted(MODELS), ids=str)
def model(request) -> HazardModel:
    return MODELS[request.param]


class HazardContract:
    """Checks every hazard plug-in must pass; subclass and provide a ``model`` fixture."""

    def build(self, model: HazardModel, assets, values: dict, seed: int = 7) -> EventSet:
        return model.event_set(assets, model.parameters(values), np.random.default_rng(seed))

    def test_declares_name_unit_parameters(self, model):
        assert HAZARD_UNITS[model.name] == model.unit
        assert model.description
        if model.size_parameter is not None:
            assert model.size_parameter in model.Parameters.model_fields
        for name, field in model.Parameters.model_fields.items():
            assert field.description, f"{model.name}.{name} needs a description (CLI help)"

    def test_shape_unit_and_values(self, model, tiny_region):
        assets = tiny_region.assets
        es = self.build(model, assets, example_parameters(model))
        assert isinstance(es, EventSet)
        assert es.intensity.shape == (es.n_events, len(assets)) and es.n_events >= 1
        assert list(es.asset_ids) == list(assets["asset_id"])
        assert (es.events["hazard"] == model.name).all()
        assert all(es.unit(i) == model.unit for i in range(es.n_events))
        data = es.intensity.data
        assert np.all(np.isfinite(data)) and np.all(data >= 0)
        assert np.all(es.events["annual_rate"] >= 0)

    def test_same_seed_same_eventset(self, model, tiny_region):
        values = example_parameters(model)
        a = self.build(model, tiny_region.assets, values, seed=3)
        b = self.build(model, tiny_region.assets, values, seed=3)
        assert (a.intensity != b.intensity).nnz == 0
        assert a.events.equals(b.events)

    def test_larger_size_never_lowers_intensity(self, model, tiny_region):
        if model.size_parameter is None:
            pytest.skip("no size parameter")
        values = example_parameters(model)
        small = self.build(model, tiny_region.assets, values).intensity.toarray()
        large = self.build(model, tiny_region.assets, bigger(model, values)).intensity.toarray()
        assert small.shape == large.shape
        assert np.all(large >= small - 1e-6)

    def test_unknown_parameter_is_an_error(self, model):
        values = {**example_parameters(model), "no_such_parameter_xyz": 1}
        with pytest.raises(CascadaInputError, match="no_such_parameter_xyz"):
            model.parameters(values)

    def test_malta_scenario_in_seconds(self, model, malta_region):
        start = time.perf_counter()
        es = self.build(model, malta_region.assets, example_parameters(model))
        elapsed = time.perf_counter() - start
        assert es.intensity.shape[1] == len(malta_region.assets)
        assert elapsed < 30, f"{model.name} took {elapsed:.1f} s on Malta (target 10 s)"


class TestRegisteredHazards(HazardContract):
    """Every model in the registry."""
