"""Why a declaration was selected: top feature contributions in plain words.

Contributions are LightGBM's own SHAP values (``pred_contrib=True``) of the
fraud model, in log-odds; the largest positive ones are the reasons.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cascada.customs.features import feature_label
from cascada.customs.model import CustomsModel


def contributions(model: CustomsModel, features: pd.DataFrame) -> pd.DataFrame:
    """SHAP contributions (log-odds) per row × feature, plus ``bias``."""
    values = model.fraud_booster.predict(features.to_numpy(), pred_contrib=True,
                                         num_threads=model.config.threads)
    return pd.DataFrame(values, columns=[*features.columns, "bias"], index=features.index)


def _value_text(model: CustomsModel, name: str, value: float) -> str:
    if name.startswith("code__"):
        levels = model.encoder.levels.get(name[len("code__"):])
        if levels is not None and 0 <= value < len(levels):
            return str(levels[int(value)])
        return "unseen in training"
    if not np.isfinite(value):
        return "unknown"
    if name.startswith(("fraud_rate__", "critical_rate__")):
        return f"{value:.0%}"
    if name.startswith("count__"):
        return f"{value:,.0f}"
    if name.startswith("log_"):
        return f"{np.expm1(value):,.0f}"
    if name == "importer_new":
        return "yes" if value > 0.5 else "no"
    return f"{value:.2f}"


def explain(model: CustomsModel, features: pd.DataFrame, *, top: int = 3) -> pd.Series:
    """One line per row: the ``top`` features that raised its fraud score most.

    Example: ``past fraud rate of this HS subheading × country of origin = 64 %
    (+1.9); price per kg against goods of the same HS code and origin = -2.31
    (+0.8)``. Contributions are in log-odds of the fraud model.
    """
    contrib = contributions(model, features).drop(columns="bias")
    names = np.asarray(contrib.columns)
    values = contrib.to_numpy()
    raw = features.to_numpy()
    lines = []
    for i in range(len(contrib)):
        order = np.argsort(-values[i], kind="stable")[:top]
        parts = [f"{feature_label(names[j])} = {_value_text(model, names[j], raw[i, j])} "
                 f"({values[i, j]:+.2f})" for j in order if values[i, j] > 0]
        lines.append("; ".join(parts) if parts else "no feature raised the score")
    return pd.Series(lines, index=features.index, name="reasons")
