"""Customs risk targeting: rank import declarations for inspection.

Read declarations through a declared schema, encode features on the training
period only, train a chronologically calibrated LightGBM fraud model (plus a
critical-fraud model), select a budget with rules and an exact exploration
share, explain each selection, fuse sensor signals, evaluate and report drift.
LightGBM is the ``customs`` extra; importing this package does not need it.
"""

from cascada.customs.calibration import Calibrator, fit_calibrator
from cascada.customs.drift import drift_report, feature_reference, psi
from cascada.customs.evaluate import (
    Evaluation,
    budget_metrics,
    evaluate_model,
    random_metrics,
    rule_baseline_score,
    write_evaluation,
)
from cascada.customs.explain import contributions, explain
from cascada.customs.features import FeatureEncoder, feature_label
from cascada.customs.fusion import DEFAULT_SENSORS, Sensor, fuse
from cascada.customs.model import CustomsModel, ModelConfig, chronological_split, train_model
from cascada.customs.schema import Schema, load_schema, read_declarations, validate_declarations
from cascada.customs.select import (
    Rule,
    add_rules,
    load_rules,
    ranking_order,
    rule_hits,
    select_declarations,
)

__all__ = [
    "DEFAULT_SENSORS",
    "Calibrator",
    "CustomsModel",
    "Evaluation",
    "FeatureEncoder",
    "ModelConfig",
    "Rule",
    "Schema",
    "Sensor",
    "add_rules",
    "budget_metrics",
    "chronological_split",
    "contributions",
    "drift_report",
    "evaluate_model",
    "explain",
    "feature_label",
    "feature_reference",
    "fit_calibrator",
    "fuse",
    "load_rules",
    "load_schema",
    "psi",
    "random_metrics",
    "ranking_order",
    "read_declarations",
    "rule_baseline_score",
    "rule_hits",
    "select_declarations",
    "train_model",
    "validate_declarations",
    "write_evaluation",
]
