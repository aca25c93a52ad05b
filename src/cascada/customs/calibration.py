"""Probability calibration with NumPy/SciPy: isotonic regression or Platt scaling.

Both map a model's raw score (log-odds) to a probability and are fitted on a
held-out slice that comes *after* the model's training rows in time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import isotonic_regression, minimize
from scipy.special import expit

from cascada.errors import CascadaInputError

METHODS = ("isotonic", "platt")


@dataclass
class Calibrator:
    """A monotone map from raw score to probability.

    method: ``"isotonic"`` (pool-adjacent-violators step function, linearly
    interpolated between block centres) or ``"platt"`` (``expit(a·s + b)``).
    """

    method: str
    x: np.ndarray     # isotonic: knot scores (increasing); platt: [a, b]
    y: np.ndarray     # isotonic: knot probabilities; platt: empty

    def __call__(self, score: np.ndarray) -> np.ndarray:
        score = np.asarray(score, dtype=np.float64)
        if self.method == "platt":
            return expit(self.x[0] * score + self.x[1])
        return np.interp(score, self.x, self.y)

    def to_json(self) -> dict:
        """Plain JSON form."""
        return {"method": self.method, "x": self.x.tolist(), "y": self.y.tolist()}

    @classmethod
    def from_json(cls, data: dict) -> Calibrator:
        """Inverse of :meth:`to_json`."""
        return cls(data["method"], np.asarray(data["x"], dtype=np.float64),
                   np.asarray(data["y"], dtype=np.float64))


def fit_calibrator(score: np.ndarray, label: np.ndarray, method: str = "isotonic") -> Calibrator:
    """Fit ``method`` on held-out raw scores and 0/1 labels."""
    if method not in METHODS:
        raise CascadaInputError(f"unknown calibration {method!r}", field="calibration",
                                hint="choose isotonic or platt")
    score = np.asarray(score, dtype=np.float64)
    label = np.asarray(label, dtype=np.float64)
    if len(score) == 0:
        raise CascadaInputError("no rows to calibrate on", field="calibration")
    if method == "platt":
        # Platt's targets avoid 0/1 to keep the fit finite
        n_pos, n_neg = label.sum(), len(label) - label.sum()
        target = np.where(label > 0, (n_pos + 1) / (n_pos + 2), 1 / (n_neg + 2))

        def loss(ab: np.ndarray) -> tuple[float, np.ndarray]:
            z = ab[0] * score + ab[1]
            p = expit(z)
            nll = np.sum(np.logaddexp(0, z) - target * z)
            g = p - target
            return float(nll), np.array([np.sum(g * score), np.sum(g)])

        result = minimize(loss, np.array([1.0, 0.0]), jac=True, method="L-BFGS-B")
        return Calibrator("platt", np.asarray(result.x, dtype=np.float64), np.zeros(0))
    order = np.argsort(score, kind="stable")
    s, y = score[order], label[order]
    fitted = isotonic_regression(y, increasing=True).x
    # one knot per block of equal fitted value: its mean score → its probability
    change = np.r_[True, np.diff(fitted) != 0]
    block = np.cumsum(change) - 1
    counts = np.bincount(block)
    knots_x = np.bincount(block, weights=s) / counts
    knots_y = fitted[change]
    return Calibrator("isotonic", knots_x, np.clip(knots_y, 0.0, 1.0))
