"""Fraud and critical-fraud models: LightGBM, chronologically calibrated, saved as a folder.

Training (:func:`train_model`) on one period of declarations:

1. Sort by date. The latest ``calibration_share`` of the rows (whole days) is
   the *calibration slice*; the earlier rows are the *fitting slice*.
2. Fit the feature encoders and a LightGBM fraud model on the fitting slice
   only; fit the calibrator (isotonic or Platt) on the model's raw scores of
   the calibration slice, which lies strictly later in time.
3. With ``refit=True`` (default) refit encoders and model, same settings, on
   the whole period and keep the calibrator of step 2 (the refitted model's
   out-of-sample scores are assumed to be distributed like those of step 2's
   model on its later slice; the metadata records the calibration slice's
   figures).
4. A second LightGBM model, trained on the fraud rows, gives
   P(critical | fraud); P(critical) = P(fraud) · P(critical | fraud).

Expected value of inspecting a declaration, in units of one ordinary fraud::

    expected_value = P(fraud) · (1 + (critical_weight − 1) · P(critical | fraud))
"""

from __future__ import annotations

import json
import platform
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from cascada.customs.calibration import Calibrator, fit_calibrator
from cascada.customs.drift import feature_reference
from cascada.customs.features import FeatureEncoder
from cascada.customs.schema import FIELD_KINDS, Schema
from cascada.errors import CascadaInputError, require
from cascada.store.runfolder import atomic_folder, write_json

MODEL_FORMAT = "cascada-customs-model/1"


@dataclass(frozen=True)
class ModelConfig:
    """Training settings (the defaults are the documented default model).

    n_estimators: boosting rounds. learning_rate, num_leaves, min_child_samples,
    colsample_bytree, subsample: LightGBM's. smoothing: target-encoding m.
    calibration: ``isotonic`` or ``platt``. calibration_share: fraction of the
    latest training rows held out to calibrate. critical_weight: value of a
    critical fraud in ordinary frauds. threads: LightGBM threads (0 = all).
    """

    n_estimators: int = 300
    learning_rate: float = 0.05
    num_leaves: int = 31
    min_child_samples: int = 20
    colsample_bytree: float = 0.8
    subsample: float = 1.0
    smoothing: float = 20.0
    calibration: str = "isotonic"
    calibration_share: float = 0.2
    critical_weight: float = 1.0
    refit: bool = True
    seed: int = 0
    threads: int = 0

    def lightgbm_params(self) -> dict:
        """Parameters for ``lightgbm.train``."""
        return {
            "objective": "binary", "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves, "min_child_samples": self.min_child_samples,
            "colsample_bytree": self.colsample_bytree, "subsample": self.subsample,
            "subsample_freq": 1 if self.subsample < 1 else 0, "seed": self.seed,
            "deterministic": True, "force_row_wise": True, "num_threads": self.threads,
            "verbosity": -1,
        }


def chronological_split(table: pd.DataFrame, later_share: float) -> tuple[np.ndarray, np.ndarray]:
    """Row positions of the earlier and the later slice (whole days; later ≈ share).

    Every row of the later slice has a date strictly after every row of the earlier.
    """
    days = np.asarray(table["date"], dtype="datetime64[D]")
    unique = np.unique(days)
    if len(unique) < 2:
        raise CascadaInputError("training rows span a single day; a chronological split "
                                "needs at least two", field="date")
    cut = np.quantile(days.astype(np.int64), 1.0 - later_share, method="higher")
    cut_day = np.datetime64(int(cut), "D")
    if cut_day <= unique[0]:
        cut_day = unique[1]
    later = days >= cut_day
    return np.flatnonzero(~later), np.flatnonzero(later)


@dataclass
class CustomsModel:
    """A trained customs targeting model (see module docstring)."""

    schema: Schema
    encoder: FeatureEncoder
    fraud_booster: object
    critical_booster: object | None
    calibrator: Calibrator
    config: ModelConfig
    metadata: dict = field(default_factory=dict)
    feature_reference: dict = field(default_factory=dict)

    @property
    def feature_names(self) -> list[str]:
        """Columns of the feature matrix, in model order."""
        return self.encoder.feature_names

    def check_columns(self, table: pd.DataFrame, file: str | Path | None = None) -> None:
        """Raise if ``table`` lacks a field the model was trained on."""
        for name in self.encoder.fields:
            if name not in table.columns:
                raise CascadaInputError(
                    "the model was trained with this column and the file lacks it", file=file,
                    field=self.schema.columns.get(name, name),
                    hint="score files must have the training file's columns",
                )

    def features(self, table: pd.DataFrame) -> pd.DataFrame:
        """Feature matrix of scoring rows."""
        self.check_columns(table)
        return self.encoder.transform(table)

    def predict(self, table: pd.DataFrame, *, features: pd.DataFrame | None = None,
                critical_weight: float | None = None) -> pd.DataFrame:
        """Per declaration: calibrated ``fraud_probability``, ``critical_probability``,
        ``expected_value`` (in ordinary frauds) and the raw ``fraud_score`` (log-odds).

        critical_weight: overrides the configured value of a critical fraud.
        """
        weight = self.config.critical_weight if critical_weight is None else critical_weight
        x = self.features(table) if features is None else features
        raw = self.fraud_booster.predict(x.to_numpy(), raw_score=True,
                                         num_threads=self.config.threads)
        p_fraud = self.calibrator(raw)
        if self.critical_booster is not None:
            q = self.critical_booster.predict(x.to_numpy(), num_threads=self.config.threads)
        else:
            q = np.zeros(len(x))
        ev = p_fraud * (1.0 + (weight - 1.0) * q)
        return pd.DataFrame({
            "declaration_id": np.asarray(table["declaration_id"]),
            "fraud_score": raw.astype(np.float64),
            "fraud_probability": p_fraud,
            "critical_probability": p_fraud * q,
            "expected_value": ev,
        }, index=table.index)

    # ------------------------------------------------------------------ persistence

    def save(self, folder: str | Path, *, overwrite: bool = False) -> Path:
        """Write the model folder atomically.

        Files: ``fraud_model.txt`` and ``critical_model.txt`` (LightGBM text
        models), ``encoders.json``, ``calibration.json``, ``schema.json``,
        ``config.json``, ``feature_reference.json`` (training
        deciles for drift) and ``metadata.json`` (data hashes, sizes, date range,
        calibration-slice figures, versions; no timestamps or paths).
        """
        with atomic_folder(folder, overwrite=overwrite) as tmp:
            self.fraud_booster.save_model(str(tmp / "fraud_model.txt"))
            if self.critical_booster is not None:
                self.critical_booster.save_model(str(tmp / "critical_model.txt"))
            self.encoder.save(tmp / "encoders.json")
            write_json(tmp / "calibration.json", self.calibrator.to_json())
            write_json(tmp / "schema.json", self.schema.to_dict())
            write_json(tmp / "config.json", asdict(self.config))
            write_json(tmp / "metadata.json", {"format": MODEL_FORMAT, **self.metadata})
            write_json(tmp / "feature_reference.json", self.feature_reference)
        return Path(folder)

    @classmethod
    def load(cls, folder: str | Path) -> CustomsModel:
        """Read a folder written by :meth:`save`."""
        lgb = require("lightgbm", "customs")
        folder = Path(folder)
        meta_path = folder / "metadata.json"
        if not meta_path.exists():
            raise CascadaInputError("not a customs model folder (no metadata.json)", file=folder)
        metadata = json.loads(meta_path.read_text(encoding="utf-8"))
        if metadata.get("format") != MODEL_FORMAT:
            raise CascadaInputError(f"unsupported model format {metadata.get('format')!r}",
                                    file=meta_path)
        metadata.pop("format")
        config = ModelConfig(**json.loads((folder / "config.json").read_text()))
        critical_path = folder / "critical_model.txt"
        return cls(
            schema=Schema.from_dict(json.loads((folder / "schema.json").read_text())),
            encoder=FeatureEncoder.load(folder / "encoders.json"),
            fraud_booster=lgb.Booster(model_file=str(folder / "fraud_model.txt")),
            critical_booster=(lgb.Booster(model_file=str(critical_path))
                              if critical_path.exists() else None),
            calibrator=Calibrator.from_json(json.loads((folder / "calibration.json").read_text())),
            config=config,
            metadata=metadata,
            feature_reference=json.loads((folder / "feature_reference.json").read_text()),
        )


def _fit_booster(x: pd.DataFrame, y: np.ndarray, config: ModelConfig, rounds: int):
    lgb = require("lightgbm", "customs")
    data = lgb.Dataset(x.to_numpy(), label=y, feature_name=list(x.columns),
                       params={"verbosity": -1}, free_raw_data=True)
    return lgb.train(config.lightgbm_params(), data, num_boost_round=rounds)


def _fit_pair(table: pd.DataFrame, config: ModelConfig):
    """Encoder, fraud booster, critical booster fitted on ``table`` only."""
    encoder = FeatureEncoder(smoothing=config.smoothing, seed=config.seed)
    x = encoder.fit_transform(table)
    y = np.asarray(table["fraud"], dtype=np.float64)
    if y.min() == y.max():
        raise CascadaInputError("training rows need both frauds and clean declarations",
                                field="fraud")
    fraud_booster = _fit_booster(x, y, config, config.n_estimators)
    critical_booster = None
    if "critical_fraud" in table.columns:
        is_fraud = y > 0
        yc = np.asarray(table["critical_fraud"], dtype=np.float64)[is_fraud]
        if 0 < yc.sum() < len(yc):
            critical_booster = _fit_booster(x[is_fraud], yc, config,
                                            max(50, config.n_estimators // 3))
    return encoder, fraud_booster, critical_booster


def train_model(
    table: pd.DataFrame,
    schema: Schema | None = None,
    config: ModelConfig | None = None,
    *,
    data_sha256: dict[str, str] | None = None,
) -> CustomsModel:
    """Train the default customs model on one period (see module docstring).

    table: validated declarations (:func:`~cascada.customs.schema.read_declarations`)
    with ``fraud`` and, optionally, ``critical_fraud``.
    data_sha256: file name → hash of the input files, recorded in the metadata.
    """
    require("lightgbm", "customs")
    schema = schema or Schema()
    config = config or ModelConfig()
    if "fraud" not in table.columns:
        raise CascadaInputError("missing target column", field=schema.fraud_column)
    return _train(table, schema, config, data_sha256 or {})


def _train(table: pd.DataFrame, schema: Schema, config: ModelConfig,
           data_sha256: dict[str, str]) -> CustomsModel:
    order = np.argsort(np.asarray(table["date"], dtype="datetime64[ns]"), kind="stable")
    table = table.iloc[order].reset_index(drop=True)
    earlier, later = chronological_split(table, config.calibration_share)
    fit_part, cal_part = table.iloc[earlier], table.iloc[later]
    encoder, fraud_booster, critical_booster = _fit_pair(fit_part, config)
    cal_x = encoder.transform(cal_part)
    raw = fraud_booster.predict(cal_x.to_numpy(), raw_score=True, num_threads=config.threads)
    y_cal = np.asarray(cal_part["fraud"], dtype=np.float64)
    calibrator = fit_calibrator(raw, y_cal, config.calibration)
    cal_metrics = _slice_metrics(raw, y_cal, calibrator)
    if config.refit:
        encoder, fraud_booster, critical_booster = _fit_pair(table, config)
    dates = np.asarray(table["date"], dtype="datetime64[D]")
    cal_dates = np.asarray(cal_part["date"], dtype="datetime64[D]")
    lgb = require("lightgbm", "customs")
    metadata = {
        "data_sha256": dict(sorted(data_sha256.items())),
        "training_rows": len(table),
        "training_dates": [str(dates.min()), str(dates.max())],
        "training_fraud_rate": float(table["fraud"].mean()),
        "calibration_dates": [str(cal_dates.min()), str(cal_dates.max())],
        "calibration_rows": len(cal_part),
        "calibration_slice": cal_metrics,
        "fields": [f for f in FIELD_KINDS if f in encoder.fields],
        "n_features": len(encoder.feature_names),
        "versions": {"lightgbm": lgb.__version__, "numpy": np.__version__,
                     "pandas": pd.__version__, "python": platform.python_version()},
    }
    reference = feature_reference(encoder.transform(table))
    return CustomsModel(schema, encoder, fraud_booster, critical_booster, calibrator, config,
                        metadata, reference)


def _slice_metrics(raw: np.ndarray, label: np.ndarray, calibrator: Calibrator) -> dict:
    """Figures on the calibration slice (model fitted on the earlier slice)."""
    p = calibrator(raw)
    order = np.argsort(-raw, kind="stable")
    out = {"fraud_rate": float(label.mean()),
           "mean_probability": float(p.mean()),
           "brier": float(np.mean((p - label) ** 2))}
    for share in (0.01, 0.02, 0.05, 0.10):
        n = max(1, int(np.ceil(share * len(label))))
        out[f"precision_at_{round(share * 100)}pct"] = float(label[order[:n]].mean())
    return out
