"""Features for customs targeting, fitted on training rows only.

:class:`FeatureEncoder` learns, from the training period alone,

- label codes of every category (unknown later → -1),
- frequency and smoothed target encodings (fraud rate and critical-fraud rate)
  of single fields, HS chapters (HS2/HS4/HS6) and a few combinations
  (HS6 × origin, route = departure × origin × transport mode, importer × HS2 ...),
- the distribution of log unit value (price per kg) per HS6 × origin, with
  fall-backs to HS6, HS4, HS2 and all goods, for a robust z-score anomaly,
- importer history: first-seen date and number of declarations.

Target encodings are smoothed towards the training fraud rate:
``(frauds + m · prior) / (declarations + m)`` with ``m = smoothing``. On the
training rows themselves they are computed out of fold (each row's encoding
comes from the other folds), so a row's own label never enters its features;
rows scored later use the statistics of the whole training period. Nothing
about rows outside the fitted table is stored: :attr:`fitted_ids_sha256`
records which declarations the encoder saw.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from cascada.customs.schema import FIELD_KINDS, FIELD_LABELS
from cascada.errors import CascadaInputError

DERIVED_LABELS = {"hs2": "HS chapter (2 digits)", "hs4": "HS heading (4 digits)",
                  "hs6": "HS subheading (6 digits)"}

#: combinations encoded as one group (only those whose fields a schema has).
COMBINATIONS: tuple[tuple[str, ...], ...] = (
    ("hs6", "origin_country"),
    ("hs4", "origin_country"),
    ("departure_country", "origin_country", "transport_mode"),
    ("importer_id", "hs2"),
    ("declarant_id", "importer_id"),
    ("office_id", "hs2"),
    ("seller_id", "hs4"),
    ("tax_type", "hs4"),
    ("origin_indicator", "origin_country"),
)

UNIT_VALUE_LEVELS: tuple[tuple[str, ...], ...] = (
    ("hs6", "origin_country"), ("hs6",), ("hs4",), ("hs2",),
)
MIN_UNIT_VALUE_COUNT = 5


def _sha(values: np.ndarray) -> str:
    text = "\n".join(sorted(map(str, values)))
    return hashlib.sha256(text.encode()).hexdigest()


def _hs_parts(table: pd.DataFrame) -> dict[str, np.ndarray]:
    """HS2/HS4/HS6 as strings."""
    hs6 = pd.Series(table["hs6_code"], dtype="string")
    return {"hs2": hs6.str.slice(0, 2).to_numpy(dtype=object),
            "hs4": hs6.str.slice(0, 4).to_numpy(dtype=object),
            "hs6": hs6.to_numpy(dtype=object)}


def group_name(group: tuple[str, ...]) -> str:
    """``'hs6_x_origin_country'``."""
    return "_x_".join(group)


@dataclass
class GroupStats:
    """Per-key counts of one encoded group (keys are combined int64 codes)."""

    keys: np.ndarray          # sorted int64
    count: np.ndarray         # declarations per key
    fraud: np.ndarray         # frauds per key
    critical: np.ndarray      # critical frauds per key

    def lookup(self, key: np.ndarray) -> np.ndarray:
        """Index into the stats per row; -1 where the key was not seen."""
        if len(self.keys) == 0:
            return np.full(len(key), -1, dtype=np.int64)
        pos = np.searchsorted(self.keys, key)
        pos = np.minimum(pos, len(self.keys) - 1)
        found = (self.keys[pos] == key) & (key >= 0)
        return np.where(found, pos, -1)


@dataclass
class FeatureEncoder:
    """Feature encoders fitted on a training table (see module docstring).

    smoothing: m of the m-estimate (declarations' worth of prior).
    folds: out-of-fold folds for training rows' target encodings.
    """

    smoothing: float = 20.0
    folds: int = 5
    seed: int = 0
    fields: list[str] = field(default_factory=list)
    levels: dict[str, np.ndarray] = field(default_factory=dict)
    groups: list[tuple[str, ...]] = field(default_factory=list)
    stats: dict[str, GroupStats] = field(default_factory=dict)
    unit_value: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = field(
        default_factory=dict)
    global_unit_value: tuple[float, float] = (0.0, 1.0)
    importer_first_day: GroupStats | None = None
    prior_fraud: float = 0.0
    prior_critical: float = 0.0
    n_fitted: int = 0
    fitted_ids_sha256: str = ""
    last_fitted_day: int = 0
    feature_names: list[str] = field(default_factory=list)

    # ------------------------------------------------------------------ codes

    def _categorical_fields(self) -> list[str]:
        cats = [f for f in self.fields if FIELD_KINDS.get(f) == "category"]
        if "hs6_code" in self.fields:
            cats += ["hs2", "hs4", "hs6"]
        return cats

    def _codes(self, table: pd.DataFrame) -> dict[str, np.ndarray]:
        """Label code per categorical field, -1 for values unseen in training."""
        values: dict[str, np.ndarray] = {}
        if "hs6_code" in self.fields:
            values.update(_hs_parts(table))
        for f in self._categorical_fields():
            if f not in values:
                values[f] = np.asarray(table[f], dtype=object)
        codes = {}
        for f, v in values.items():
            index = pd.Index(self.levels[f])
            codes[f] = index.get_indexer(pd.Index(v)).astype(np.int64)
        return codes

    def _group_key(self, codes: dict[str, np.ndarray], group: tuple[str, ...]) -> np.ndarray:
        key = np.zeros(len(codes[group[0]]), dtype=np.int64)
        unknown = np.zeros(len(key), dtype=bool)
        for f in group:
            c = codes[f]
            unknown |= c < 0
            key = key * (len(self.levels[f]) + 1) + np.maximum(c, 0)
        key[unknown] = -1
        return key

    # ------------------------------------------------------------------ fit

    def fit(self, train: pd.DataFrame) -> FeatureEncoder:
        """Learn every statistic from ``train`` (needs the ``fraud`` label)."""
        if "fraud" not in train.columns:
            raise CascadaInputError("training rows need the fraud label", field="fraud")
        self.fields = [f for f in FIELD_KINDS if f in train.columns]
        self.n_fitted = len(train)
        self.fitted_ids_sha256 = _sha(np.asarray(train["declaration_id"]))
        days = _days(train)
        self.last_fitted_day = int(days.max())
        fraud = np.asarray(train["fraud"], dtype=np.float64)
        critical = _critical(train)
        self.prior_fraud = float(fraud.mean())
        self.prior_critical = float(critical.mean())

        values: dict[str, np.ndarray] = {}
        if "hs6_code" in self.fields:
            values.update(_hs_parts(train))
        for f in self._categorical_fields():
            if f not in values:
                values[f] = np.asarray(train[f], dtype=object)
            self.levels[f] = np.asarray(sorted(set(values[f])), dtype=object)
        codes = self._codes(train)
        cats = self._categorical_fields()
        self.groups = [(f,) for f in cats] + [
            g for g in COMBINATIONS if all(f in cats for f in g)]
        for g in self.groups:
            key = self._group_key(codes, g)
            keys, inverse = np.unique(key, return_inverse=True)
            self.stats[group_name(g)] = GroupStats(
                keys=keys,
                count=np.bincount(inverse, minlength=len(keys)).astype(np.float64),
                fraud=np.bincount(inverse, weights=fraud, minlength=len(keys)),
                critical=np.bincount(inverse, weights=critical, minlength=len(keys)),
            )
        if "importer_id" in cats:
            key = codes["importer_id"]
            order = np.lexsort((days, key))
            k_sorted = key[order]
            first = np.r_[True, k_sorted[1:] != k_sorted[:-1]]
            self.importer_first_day = GroupStats(
                keys=k_sorted[first], count=days[order][first].astype(np.float64),
                fraud=np.zeros(first.sum()), critical=np.zeros(first.sum()))
        if {"hs6_code", "net_mass_kg", "item_price"} <= set(self.fields):
            log_uv = _log_unit_value(train)
            ok = np.isfinite(log_uv)
            med = float(np.median(log_uv[ok])) if ok.any() else 0.0
            mad = float(np.median(np.abs(log_uv[ok] - med))) if ok.any() else 1.0
            self.global_unit_value = (med, 1.4826 * mad + 0.1)
            for g in UNIT_VALUE_LEVELS:
                if not all(f in cats for f in g):
                    continue
                key = self._group_key(codes, g)[ok]
                frame = pd.DataFrame({"key": key, "v": log_uv[ok]})
                grouped = frame.groupby("key")["v"]
                medians = grouped.median()
                mads = (frame["v"] - frame["key"].map(medians)).abs().groupby(frame["key"]).median()
                counts = grouped.size()
                keep = counts.to_numpy() >= MIN_UNIT_VALUE_COUNT
                self.unit_value[group_name(g)] = (
                    medians.index.to_numpy(dtype=np.int64)[keep],
                    medians.to_numpy()[keep], 1.4826 * mads.to_numpy()[keep] + 0.1,
                    counts.to_numpy(dtype=np.float64)[keep])
        self.feature_names = list(self._feature_frame(train.iloc[:1], oof=False).columns)
        return self

    # ------------------------------------------------------------------ transform

    def transform(self, table: pd.DataFrame) -> pd.DataFrame:
        """Features of rows outside the training table (float32, one column each)."""
        return self._feature_frame(table, oof=False)

    def fit_transform(self, train: pd.DataFrame) -> pd.DataFrame:
        """Fit, then features of the training rows with out-of-fold target encodings."""
        self.fit(train)
        return self._feature_frame(train, oof=True)

    def _feature_frame(self, table: pd.DataFrame, *, oof: bool) -> pd.DataFrame:
        n = len(table)
        codes = self._codes(table)
        out: dict[str, np.ndarray] = {}
        for f in self._categorical_fields():
            out[f"code__{f}"] = codes[f]
        fold = None
        if oof:
            rng = np.random.default_rng(self.seed)
            fold = rng.integers(0, self.folds, size=n)
            fraud = np.asarray(table["fraud"], dtype=np.float64)
            critical = _critical(table)
            # the priors, too, come from the other folds only
            fold_n = np.bincount(fold, minlength=self.folds)[fold]
            prior_fraud = ((fraud.sum() - np.bincount(fold, weights=fraud,
                                                      minlength=self.folds)[fold])
                           / np.maximum(n - fold_n, 1))
            prior_critical = ((critical.sum() - np.bincount(fold, weights=critical,
                                                            minlength=self.folds)[fold])
                              / np.maximum(n - fold_n, 1))
        else:
            prior_fraud, prior_critical = self.prior_fraud, self.prior_critical
        m = self.smoothing
        for g in self.groups:
            name = group_name(g)
            st = self.stats[name]
            pos = st.lookup(self._group_key(codes, g))
            seen = pos >= 0
            count = np.where(seen, st.count[pos], 0.0)
            fsum = np.where(seen, st.fraud[pos], 0.0)
            csum = np.where(seen, st.critical[pos], 0.0)
            out[f"count__{name}"] = count - 1.0 if oof else count
            if oof:
                # subtract the row's own fold from the whole-training sums
                key = np.where(seen, pos, 0)
                size = len(st.keys) * self.folds
                flat = fold * len(st.keys) + key
                fc = np.bincount(flat, minlength=size)[flat].astype(np.float64)
                ff = np.bincount(flat, weights=fraud, minlength=size)[flat]
                fcr = np.bincount(flat, weights=critical, minlength=size)[flat]
                count_te, fsum, csum = count - fc, fsum - ff, csum - fcr
            else:
                count_te = count
            out[f"fraud_rate__{name}"] = (fsum + m * prior_fraud) / (count_te + m)
            out[f"critical_rate__{name}"] = (csum + m * prior_critical) / (count_te + m)
        days = _days(table)
        if self.importer_first_day is not None:
            pos = self.importer_first_day.lookup(codes["importer_id"])
            first = np.where(pos >= 0, self.importer_first_day.count[np.maximum(pos, 0)],
                             np.nan)
            since = days - first
            if oof:
                # a training row on its importer's first day stands for a new importer
                since = np.where(since > 0, since, np.nan)
            out["importer_days_known"] = np.where(since >= 0, since, np.nan)
            out["importer_new"] = (~(since >= 0)).astype(np.float64)
        if "tax_rate_pct" in self.fields:
            out["tax_rate_pct"] = np.asarray(table["tax_rate_pct"], dtype=np.float64)
        if "item_price" in self.fields:
            price = np.asarray(table["item_price"], dtype=np.float64)
            out["log_item_price"] = np.log1p(price)
            if "tax_rate_pct" in self.fields:
                out["log_tax_due"] = np.log1p(price * out["tax_rate_pct"] / 100.0)
        if "net_mass_kg" in self.fields:
            out["log_net_mass_kg"] = np.log1p(np.asarray(table["net_mass_kg"], dtype=np.float64))
        if self.unit_value:
            log_uv = _log_unit_value(table)
            out["log_unit_value"] = log_uv
            z = np.full(n, np.nan)
            level = np.full(n, len(UNIT_VALUE_LEVELS), dtype=np.float64)
            for i, g in enumerate(UNIT_VALUE_LEVELS):
                name = group_name(g)
                if name not in self.unit_value:
                    continue
                keys, med, scale, _ = self.unit_value[name]
                st = GroupStats(keys, med, scale, scale)
                pos = st.lookup(self._group_key(codes, g))
                take = np.isnan(z) & (pos >= 0) & np.isfinite(log_uv)
                z[take] = (log_uv[take] - med[pos[take]]) / scale[pos[take]]
                level[take] = i
            rest = np.isnan(z) & np.isfinite(log_uv)
            gm, gs = self.global_unit_value
            z[rest] = (log_uv[rest] - gm) / gs
            out["unit_value_z"] = z
            out["unit_value_abs_z"] = np.abs(z)
            out["unit_value_reference_level"] = level
        if "date" in self.fields:
            out["day_of_week"] = ((days + 3) % 7).astype(np.float64)
        frame = pd.DataFrame({k: np.asarray(v, dtype=np.float32) for k, v in out.items()},
                             index=table.index)
        if self.feature_names:
            frame = frame[self.feature_names]
        return frame

    # ------------------------------------------------------------------ persistence

    def to_json(self) -> dict:
        """Everything needed to transform new rows, as plain JSON."""
        return {
            "smoothing": self.smoothing, "folds": self.folds, "seed": self.seed,
            "fields": self.fields,
            "levels": {f: [str(v) for v in lv] for f, lv in self.levels.items()},
            "groups": [list(g) for g in self.groups],
            "stats": {k: {"keys": s.keys.tolist(), "count": s.count.tolist(),
                          "fraud": s.fraud.tolist(), "critical": s.critical.tolist()}
                      for k, s in self.stats.items()},
            "unit_value": {k: [a.tolist() for a in v] for k, v in self.unit_value.items()},
            "global_unit_value": list(self.global_unit_value),
            "importer_first_day": (None if self.importer_first_day is None else {
                "keys": self.importer_first_day.keys.tolist(),
                "day": self.importer_first_day.count.tolist()}),
            "prior_fraud": self.prior_fraud, "prior_critical": self.prior_critical,
            "n_fitted": self.n_fitted, "fitted_ids_sha256": self.fitted_ids_sha256,
            "last_fitted_day": self.last_fitted_day, "feature_names": self.feature_names,
        }

    @classmethod
    def from_json(cls, data: dict) -> FeatureEncoder:
        """Inverse of :meth:`to_json`."""
        enc = cls(smoothing=data["smoothing"], folds=data["folds"], seed=data["seed"])
        enc.fields = list(data["fields"])
        enc.levels = {f: np.asarray(v, dtype=object) for f, v in data["levels"].items()}
        enc.groups = [tuple(g) for g in data["groups"]]
        enc.stats = {k: GroupStats(np.asarray(s["keys"], dtype=np.int64),
                                   np.asarray(s["count"]), np.asarray(s["fraud"]),
                                   np.asarray(s["critical"]))
                     for k, s in data["stats"].items()}
        enc.unit_value = {k: (np.asarray(v[0], dtype=np.int64), np.asarray(v[1]),
                              np.asarray(v[2]), np.asarray(v[3]))
                          for k, v in data["unit_value"].items()}
        enc.global_unit_value = tuple(data["global_unit_value"])
        first = data["importer_first_day"]
        if first is not None:
            n = len(first["keys"])
            enc.importer_first_day = GroupStats(np.asarray(first["keys"], dtype=np.int64),
                                                np.asarray(first["day"], dtype=np.float64),
                                                np.zeros(n), np.zeros(n))
        enc.prior_fraud = data["prior_fraud"]
        enc.prior_critical = data["prior_critical"]
        enc.n_fitted = data["n_fitted"]
        enc.fitted_ids_sha256 = data["fitted_ids_sha256"]
        enc.last_fitted_day = data["last_fitted_day"]
        enc.feature_names = list(data["feature_names"])
        return enc

    def save(self, path: str | Path) -> None:
        """Write as JSON."""
        Path(path).write_text(json.dumps(self.to_json()), encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> FeatureEncoder:
        """Read what :meth:`save` wrote."""
        return cls.from_json(json.loads(Path(path).read_text(encoding="utf-8")))


def feature_label(name: str) -> str:
    """Plain words for a feature name (``fraud_rate__importer_id`` → ...)."""
    if "__" in name:
        kind, group = name.split("__", 1)
        parts = [FIELD_LABELS.get(f, DERIVED_LABELS.get(f, f)) for f in group.split("_x_")]
        what = " × ".join(parts)
        return {
            "code": f"the {what} itself",
            "count": f"how often this {what} was declared before",
            "fraud_rate": f"past fraud rate of this {what}",
            "critical_rate": f"past critical-fraud rate of this {what}",
        }.get(kind, name)
    return {
        "importer_days_known": "how long the importer has been known",
        "importer_new": "importer not seen before",
        "tax_rate_pct": "tax rate",
        "log_item_price": "declared price",
        "log_tax_due": "tax due",
        "log_net_mass_kg": "net mass",
        "log_unit_value": "price per kg",
        "unit_value_z": "price per kg against goods of the same HS code and origin",
        "unit_value_abs_z": "how unusual the price per kg is for this HS code and origin",
        "unit_value_reference_level": "how specific the price reference is",
        "day_of_week": "day of the week",
    }.get(name, name)


def _days(table: pd.DataFrame) -> np.ndarray:
    """Days since 1970-01-01 (float64)."""
    if "date" not in table.columns:
        return np.zeros(len(table))
    return (np.asarray(table["date"], dtype="datetime64[D]").astype(np.int64)
            .astype(np.float64))


def _critical(table: pd.DataFrame) -> np.ndarray:
    if "critical_fraud" in table.columns:
        return np.asarray(table["critical_fraud"], dtype=np.float64)
    return np.zeros(len(table))


def _log_unit_value(table: pd.DataFrame) -> np.ndarray:
    """log(price per kg); NaN where mass is 0."""
    price = np.asarray(table["item_price"], dtype=np.float64)
    mass = np.asarray(table["net_mass_kg"], dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(mass > 0, np.log1p(price) - np.log(np.where(mass > 0, mass, 1.0)),
                        np.nan)
