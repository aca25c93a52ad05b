"""Customs targeting: schema checks, leakage, selection, rules, fusion, end to end."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cascada.customs.calibration import fit_calibrator
from cascada.customs.drift import drift_report, feature_reference, psi
from cascada.customs.evaluate import budget_metrics, evaluate_model, write_evaluation
from cascada.customs.explain import explain
from cascada.customs.features import FeatureEncoder
from cascada.customs.fusion import Sensor, fuse
from cascada.customs.model import CustomsModel, ModelConfig, chronological_split, train_model
from cascada.customs.schema import Schema, load_schema, read_declarations
from cascada.customs.select import (
    Rule,
    add_rules,
    load_rules,
    rule_hits,
    select_declarations,
)
from cascada.errors import CascadaInputError

DATA = Path(__file__).resolve().parents[2] / "data" / "customs"
TINY = ModelConfig(n_estimators=25, num_leaves=15, threads=1, seed=3)


@pytest.fixture(scope="module")
def raw_train() -> pd.DataFrame:
    raw = pd.read_csv(DATA / "df_syn_train_eng.csv", dtype=str)
    return raw.iloc[::12].reset_index(drop=True)          # ~3,100 rows over all of 2020


@pytest.fixture(scope="module")
def raw_valid() -> pd.DataFrame:
    raw = pd.read_csv(DATA / "df_syn_valid_eng.csv", dtype=str)
    return raw.iloc[::8].reset_index(drop=True)           # ~1,000 rows of 2021-Q1


@pytest.fixture(scope="module")
def files(tmp_path_factory, raw_train, raw_valid) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("customs")
    paths = {"train": folder / "train.csv", "valid": folder / "valid.csv"}
    raw_train.to_csv(paths["train"], index=False)
    raw_valid.to_csv(paths["valid"], index=False)
    return paths


@pytest.fixture(scope="module")
def train(files) -> pd.DataFrame:
    return read_declarations(files["train"], require_target=True)


@pytest.fixture(scope="module")
def valid(files) -> pd.DataFrame:
    return read_declarations(files["valid"], require_target=True)


@pytest.fixture(scope="module")
def model(train) -> CustomsModel:
    return train_model(train, config=TINY)


def _write(tmp_path: Path, frame: pd.DataFrame, name: str = "bad.csv") -> Path:
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return path


# ---------------------------------------------------------------------- bad input


def test_reads_the_benchmark_files(train, valid):
    assert {"importer_id", "hs6_code", "net_mass_kg", "fraud", "critical_fraud"} <= set(train)
    assert train["date"].max() < valid["date"].min()
    assert set(np.unique(train["critical_fraud"])) <= {0, 1}


def test_missing_target_column(tmp_path, raw_train):
    path = _write(tmp_path, raw_train.drop(columns=["Fraud"]))
    with pytest.raises(CascadaInputError, match="missing target column") as err:
        read_declarations(path, require_target=True)
    assert err.value.field == "Fraud"


def test_unknown_column(tmp_path, raw_train):
    path = _write(tmp_path, raw_train.assign(Remarks="x"))
    with pytest.raises(CascadaInputError, match="unknown column") as err:
        read_declarations(path)
    assert err.value.field == "Remarks"


def test_unparseable_date_names_row(tmp_path, raw_train):
    frame = raw_train.copy()
    frame.loc[7, "Date"] = "31/02/yesterday"
    with pytest.raises(CascadaInputError, match="date does not parse") as err:
        read_declarations(_write(tmp_path, frame))
    assert (err.value.row, err.value.field) == (9, "Date")     # header is line 1


@pytest.mark.parametrize("column", ["Net Mass", "Item Price"])
def test_negative_mass_or_price(tmp_path, raw_train, column):
    frame = raw_train.copy()
    frame.loc[3, column] = "-5"
    with pytest.raises(CascadaInputError, match="negative") as err:
        read_declarations(_write(tmp_path, frame))
    assert (err.value.row, err.value.field) == (5, column)


def test_empty_file(tmp_path, raw_train):
    with pytest.raises(CascadaInputError, match="empty"):
        read_declarations(_write(tmp_path, raw_train.iloc[:0]))
    (tmp_path / "zero.csv").write_text("")
    with pytest.raises(CascadaInputError, match="empty"):
        read_declarations(tmp_path / "zero.csv")


def test_scoring_file_with_other_columns_than_the_model(tmp_path, raw_valid, model):
    path = _write(tmp_path, raw_valid.drop(columns=["Seller ID"]))
    with pytest.raises(CascadaInputError) as err:
        read_declarations(path, model.schema)
    assert err.value.field == "Seller ID"
    # a narrower schema reads the file, but the model needs the seller
    narrower = Schema(columns={k: v for k, v in model.schema.columns.items()
                               if k != "seller_id"})
    table = read_declarations(path, narrower)
    with pytest.raises(CascadaInputError, match="trained with this column") as err:
        model.check_columns(table)
    assert err.value.field == "Seller ID"


def test_other_office_schema(tmp_path, raw_train):
    renamed = raw_train.rename(columns={"Importer ID": "IMP", "Date": "ACCEPT"})
    renamed["NOTE"] = "n"
    schema_file = tmp_path / "schema.toml"
    columns = {**Schema().columns, "importer_id": "IMP", "date": "ACCEPT"}
    schema_file.write_text(
        "[columns]\n" + "".join(f'{k} = "{v}"\n' for k, v in columns.items())
        + '[target]\nfraud = "Fraud"\ncritical_fraud = "Critical Fraud"\n'
        + '[ignore]\ncolumns = ["NOTE"]\n')
    table = read_declarations(_write(tmp_path, renamed, "office.csv"), load_schema(schema_file),
                              require_target=True)
    assert table["importer_id"].iloc[0] == raw_train["Importer ID"].iloc[0]


# ---------------------------------------------------------------------- no leakage


def test_chronological_split_is_strictly_later(train):
    earlier, later = chronological_split(train, 0.2)
    assert train["date"].iloc[earlier].max() < train["date"].iloc[later].min()
    assert 0.1 < len(later) / len(train) < 0.3


def test_encoders_never_see_validation_rows(train, valid):
    encoder = FeatureEncoder(seed=1)
    encoder.fit(train)
    before = encoder.transform(valid)
    # the encoder's state comes from the training rows alone
    assert encoder.n_fitted == len(train)
    valid_ids = set(valid["declaration_id"])
    assert not valid_ids & set(train["declaration_id"])
    refit = FeatureEncoder(seed=1).fit(train)
    assert refit.to_json() == encoder.to_json()
    # changing the validation labels (or dropping them) changes nothing
    flipped = valid.assign(fraud=1 - valid["fraud"], critical_fraud=0)
    pd.testing.assert_frame_equal(encoder.transform(flipped), before)
    pd.testing.assert_frame_equal(encoder.transform(valid.drop(columns=["fraud"])), before)


def test_training_rows_target_encoding_is_out_of_fold(train):
    encoder = FeatureEncoder(seed=2)
    x = encoder.fit_transform(train)
    # flipping one row's label never changes that row's own target encodings
    flipped = train.copy()
    flipped.loc[10, "fraud"] = 1 - flipped.loc[10, "fraud"]
    x2 = FeatureEncoder(seed=2).fit_transform(flipped)
    rate_columns = [c for c in x.columns if c.startswith("fraud_rate__")]
    np.testing.assert_array_equal(x.loc[10, rate_columns], x2.loc[10, rate_columns])


def test_model_is_trained_only_on_its_period(model, train):
    assert model.metadata["training_rows"] == len(train)
    assert model.metadata["calibration_dates"][0] > model.metadata["training_dates"][0]


# ---------------------------------------------------------------------- selection


def _predictions(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    p = rng.random(n)
    return pd.DataFrame({"declaration_id": [f"d{i}" for i in range(n)],
                         "fraud_probability": p, "expected_value": p})


@settings(max_examples=40, deadline=None)
@given(n=st.integers(10, 3000), budget=st.floats(0.005, 1.0),
       share=st.floats(0.0, 1.0), seed=st.integers(0, 2**31))
def test_exploration_share_is_exact(n, budget, share, seed):
    selected = select_declarations(_predictions(n), budget, exploration_share=share, seed=seed)
    n_total = int(np.ceil(budget * n - 1e-9))
    assert len(selected) == n_total
    explored = (selected["selected_by"] == "exploration").sum()
    assert explored == int(np.floor(share * n_total + 0.5))
    assert selected["declaration_id"].is_unique


def test_selection_is_deterministic_with_a_seed():
    pred = _predictions(2000)
    a = select_declarations(pred, 0.05, exploration_share=0.2, seed=7)
    b = select_declarations(pred, 0.05, exploration_share=0.2, seed=7)
    c = select_declarations(pred, 0.05, exploration_share=0.2, seed=8)
    pd.testing.assert_frame_equal(a, b)
    assert set(a["declaration_id"]) != set(c["declaration_id"])


def test_model_part_takes_the_highest_expected_value():
    pred = _predictions(1000)
    selected = select_declarations(pred, 0.1, exploration_share=0.0)
    assert set(selected["declaration_id"]) == set(
        pred.nlargest(100, "expected_value")["declaration_id"])


def test_rules_always_select(valid):
    origin = valid["origin_country"].value_counts().index[0]
    rule = Rule("origin-watch", "unit A", "test", {"origin_country": (origin,)})
    hits = rule_hits(valid, [rule])
    pred = _predictions(len(valid))
    pred["expected_value"] = 0.0 + (hits == "").to_numpy()      # the model dislikes them
    for budget in (0.01, 0.05):
        selected = select_declarations(pred, budget, rules=hits, exploration_share=0.1)
        chosen = set(selected.loc[selected["selected_by"] == "rule", "declaration_id"])
        assert chosen == set(pred.loc[(hits != "").to_numpy(), "declaration_id"])
        assert (selected["selected_by"] == "exploration").sum() == round(
            0.1 * int(np.ceil(budget * len(valid))))


def test_rules_store_round_trip_and_validation(tmp_path):
    new = tmp_path / "new.toml"
    new.write_text('[[rule]]\nname = "tobacco"\nauthor = "J. Doe"\nreason = "report 17"\n'
                   '[rule.where]\nhs6_code = ["2402"]\norigin_country = ["CN", "VN"]\n')
    store = tmp_path / "store.toml"
    add_rules(store, new)
    rules = load_rules(store)
    assert rules[0].where == {"hs6_code": ("2402",), "origin_country": ("CN", "VN")}
    with pytest.raises(CascadaInputError, match="already in the store"):
        add_rules(store, new)
    bad = tmp_path / "bad.toml"
    bad.write_text('[[rule]]\nname = "x"\nauthor = ""\nreason = "r"\n'
                   '[rule.where]\nhs6_code = ["1"]\n')
    with pytest.raises(CascadaInputError, match="author"):
        load_rules(bad)


# ---------------------------------------------------------------------- fusion, calibration


def test_fusion_is_bayesian_odds_multiplication():
    alarm = Sensor("portal", "alarm", "alarm", sensitivity=0.9, specificity=0.98)
    p = np.array([0.2, 0.2, 0.2])
    out = fuse(p, pd.DataFrame({"alarm": [1.0, 0.0, np.nan]}), (alarm,))
    odds = 0.25
    np.testing.assert_allclose(out[0] / (1 - out[0]), odds * 0.9 / 0.02)
    np.testing.assert_allclose(out[1] / (1 - out[1]), odds * 0.1 / 0.98)
    assert out[2] == pytest.approx(0.2)


@pytest.mark.parametrize("method", ["isotonic", "platt"])
def test_calibration_is_monotone_and_calibrated(method):
    rng = np.random.default_rng(0)
    score = rng.normal(size=5000)
    label = (rng.random(5000) < 1 / (1 + np.exp(-2 * score))).astype(float)
    cal = fit_calibrator(score, label, method)
    p = cal(np.sort(score))
    assert np.all(np.diff(p) >= -1e-12)
    assert abs(cal(score).mean() - label.mean()) < 0.02


def test_psi_is_zero_for_the_same_distribution_and_grows_with_shift():
    rng = np.random.default_rng(1)
    a = pd.DataFrame({"v": rng.normal(size=4000)})
    ref = feature_reference(a)
    same = drift_report(ref, a)
    shifted = drift_report(ref, a + 1.0)
    assert same["psi"].iloc[0] == pytest.approx(0.0, abs=1e-9)
    assert shifted["psi"].iloc[0] > 0.25
    assert psi([0.5, 0.5], [0.5, 0.5]) == 0.0


# ---------------------------------------------------------------------- end to end


def test_end_to_end_on_a_sample(tmp_path, model, valid):
    folder = model.save(tmp_path / "model")
    loaded = CustomsModel.load(folder)
    a = model.predict(valid)
    b = loaded.predict(valid)
    np.testing.assert_allclose(a["fraud_probability"], b["fraud_probability"], rtol=1e-6)
    assert a["fraud_probability"].between(0, 1).all()
    metrics = budget_metrics(a["expected_value"].to_numpy(), valid)
    # far better than random inspection (fraud rate ≈ 0.21) at 5 %
    assert metrics.loc[metrics.budget_pct == 5, "precision"].item() > 0.5
    evaluation = evaluate_model(loaded, valid)
    assert set(evaluation.metrics["method"]) == {"cascada", "rule: riskiest HS6 codes",
                                                 "random"}
    out = write_evaluation(evaluation, tmp_path / "eval")
    assert (out / "precision.png").stat().st_size > 1000
    x = loaded.features(valid.iloc[:5])
    reasons = explain(loaded, x)
    assert len(reasons) == 5 and all(isinstance(r, str) and r for r in reasons)


def test_training_is_deterministic_with_a_seed(train, valid, model):
    again = train_model(train, config=TINY)
    pd.testing.assert_frame_equal(model.predict(valid), again.predict(valid))
