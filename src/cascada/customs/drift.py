"""Feature drift between periods: the population stability index (PSI).

PSI = Σ (a − e) · ln(a / e) over ten bins at the reference period's deciles plus
a missing-value bin (shares floored at 1e-4); by convention < 0.1 stable,
0.1–0.25 moderate, > 0.25 large shift.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

PSI_FLOOR = 1e-4


def feature_reference(features: pd.DataFrame, bins: int = 10) -> dict:
    """Per feature: decile edges and the share of rows in each bin (+ a NaN bin)."""
    ref = {}
    for name in features.columns:
        v = features[name].to_numpy(dtype=np.float64)
        finite = v[np.isfinite(v)]
        edges = (np.unique(np.quantile(finite, np.linspace(0, 1, bins + 1)[1:-1]))
                 if len(finite) else np.zeros(0))
        ref[name] = {"edges": edges.tolist(), "shares": _shares(v, edges).tolist()}
    return ref


def _shares(v: np.ndarray, edges: np.ndarray) -> np.ndarray:
    finite = np.isfinite(v)
    counts = np.bincount(np.searchsorted(edges, v[finite], side="right"),
                         minlength=len(edges) + 1).astype(np.float64)
    counts = np.append(counts, (~finite).sum())
    return counts / max(len(v), 1)


def psi(expected: np.ndarray, actual: np.ndarray) -> float:
    """Population stability index between two share vectors (floored at 1e-4)."""
    e = np.maximum(np.asarray(expected, dtype=np.float64), PSI_FLOOR)
    a = np.maximum(np.asarray(actual, dtype=np.float64), PSI_FLOOR)
    return float(np.sum((a - e) * np.log(a / e)))


def drift_report(reference: dict, features: pd.DataFrame) -> pd.DataFrame:
    """PSI per feature of ``features`` against a :func:`feature_reference`, largest first."""
    rows = []
    for name, ref in reference.items():
        if name not in features.columns:
            continue
        shares = _shares(features[name].to_numpy(dtype=np.float64), np.asarray(ref["edges"]))
        value = psi(ref["shares"], shares)
        rows.append({"feature": name, "psi": value,
                     "shift": "large" if value > 0.25 else
                     "moderate" if value > 0.1 else "stable"})
    return (pd.DataFrame(rows, columns=["feature", "psi", "shift"])
            .sort_values(["psi", "feature"], ascending=[False, True]).reset_index(drop=True))
