"""Fusing detection-technology signals with the data score (Bayesian odds).

Method: the data model's calibrated probability is the prior; each sensor
reading multiplies the odds by its likelihood ratio

    LR(reading) = P(reading | fraud) / P(reading | clean)

    posterior odds = prior odds · Π_sensors LR_s(reading_s)

which assumes the sensors' readings are independent of each other and of the
declaration data *given* the true class (naive-Bayes independence; correlated
sensors would be over-counted). A missing reading (NaN) has LR = 1.

Sensors are declared with stated characteristics, never fitted silently:

- an **alarm** (radiation portal monitor: 0/1) by its sensitivity and
  specificity: LR+ = sens / (1 − spec), LR− = (1 − sens) / spec;
- a **score** (X-ray image anomaly score in [0, 1]) by bins and one LR per bin.

The defaults below are illustrative placeholders, not measured performance:
an office must replace them with its own equipment's validation figures.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import expit, logit

from cascada.errors import CascadaInputError


@dataclass(frozen=True)
class Sensor:
    """One detection technology and how its readings translate to evidence.

    kind: ``alarm`` (uses sensitivity, specificity) or ``score`` (uses
    bin_edges, an increasing list from low to high, and likelihood_ratios, one
    per bin, len(bin_edges) − 1).
    """

    name: str
    column: str
    kind: str
    sensitivity: float = 0.0
    specificity: float = 0.0
    bin_edges: tuple[float, ...] = ()
    likelihood_ratios: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        if self.kind == "alarm":
            if not (0 < self.sensitivity < 1 and 0 < self.specificity < 1):
                raise CascadaInputError("sensitivity and specificity must be in (0, 1)",
                                        field=self.name)
        elif self.kind == "score":
            if (len(self.bin_edges) != len(self.likelihood_ratios) + 1
                    or np.any(np.diff(self.bin_edges) <= 0)
                    or min(self.likelihood_ratios, default=0) <= 0):
                raise CascadaInputError("score sensor needs increasing bin edges and one "
                                        "positive likelihood ratio per bin", field=self.name)
        else:
            raise CascadaInputError(f"unknown sensor kind {self.kind!r}", field=self.name,
                                    hint="alarm or score")

    def log_likelihood_ratio(self, reading: np.ndarray) -> np.ndarray:
        """ln LR per reading; 0 where the reading is missing."""
        reading = np.asarray(reading, dtype=np.float64)
        out = np.zeros(len(reading))
        known = np.isfinite(reading)
        if self.kind == "alarm":
            positive = np.log(self.sensitivity / (1 - self.specificity))
            negative = np.log((1 - self.sensitivity) / self.specificity)
            out[known] = np.where(reading[known] > 0.5, positive, negative)
        else:
            edges = np.asarray(self.bin_edges)
            index = np.clip(np.searchsorted(edges, reading[known], side="right") - 1,
                            0, len(self.likelihood_ratios) - 1)
            out[known] = np.log(np.asarray(self.likelihood_ratios))[index]
        return out


#: illustrative defaults (replace with the equipment's validation figures)
DEFAULT_SENSORS: tuple[Sensor, ...] = (
    Sensor("radiation portal alarm", "radiation_alarm", "alarm",
           sensitivity=0.9, specificity=0.98),
    Sensor("X-ray image anomaly score", "xray_anomaly_score", "score",
           bin_edges=(0.0, 0.2, 0.5, 0.8, 1.0), likelihood_ratios=(0.5, 1.0, 3.0, 10.0)),
)


def fuse(
    probability: np.ndarray,
    readings: pd.DataFrame,
    sensors: tuple[Sensor, ...] = DEFAULT_SENSORS,
) -> np.ndarray:
    """Posterior fraud probability after the sensor readings present in ``readings``.

    probability: the data model's calibrated P(fraud) per row; readings: the
    same rows, one column per sensor (sensors whose column is absent are
    skipped). Returns an array of the same length.
    """
    p = np.clip(np.asarray(probability, dtype=np.float64), 1e-9, 1 - 1e-9)
    log_odds = logit(p)
    for sensor in sensors:
        if sensor.column in readings.columns:
            log_odds = log_odds + sensor.log_likelihood_ratio(
                readings[sensor.column].to_numpy(dtype=np.float64))
    return expit(log_odds)
