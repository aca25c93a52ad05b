"""`cascada customs …` commands: help everywhere, a small run, one-line errors."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.main import get_command
from typer.testing import CliRunner

from cascada.customs.cli import customs_app, parse_budgets

DATA = Path(__file__).resolve().parents[2] / "data" / "customs"
runner = CliRunner()


def _commands(group, prefix=()):
    for name, cmd in getattr(group, "commands", {}).items():
        yield (*prefix, name), cmd
        yield from _commands(cmd, (*prefix, name))


ALL = list(_commands(get_command(customs_app)))


def test_commands_exist_and_have_help():
    names = {" ".join(p) for p, _ in ALL}
    assert {"train", "score", "evaluate", "rules", "rules add", "rules list"} <= names
    for path, cmd in ALL:
        result = runner.invoke(customs_app, [*path, "--help"])
        assert result.exit_code == 0, path
        assert (cmd.help or "").strip(), path


def test_parse_budgets():
    assert parse_budgets("1%,2%, 5%,0.1") == (0.01, 0.02, 0.05, 0.1)


def test_train_score_evaluate_rules(tmp_path):
    train = pd.read_csv(DATA / "df_syn_train_eng.csv", dtype=str).iloc[::15]
    valid = pd.read_csv(DATA / "df_syn_valid_eng.csv", dtype=str).iloc[::10]
    train.to_csv(tmp_path / "train.csv", index=False)
    valid.to_csv(tmp_path / "valid.csv", index=False)
    incoming = valid.drop(columns=["Fraud", "Critical Fraud"])
    incoming.to_csv(tmp_path / "incoming.csv", index=False)
    result = runner.invoke(customs_app, [
        "train", str(tmp_path / "train.csv"), "--target", "Fraud", "--model", "lgbm",
        "--trees", "20", "-o", str(tmp_path / "model")])
    assert result.exit_code == 0, result.output
    (tmp_path / "rules.toml").write_text(
        '[[rule]]\nname = "hs-watch"\nauthor = "unit A"\nreason = "test"\n'
        f'[rule.where]\nhs6_code = ["{incoming["HS6 Code"].iloc[0][:4]}"]\n')
    store = tmp_path / "store.toml"
    result = runner.invoke(customs_app, ["rules", "add", str(tmp_path / "rules.toml"),
                                         "--store", str(store)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(customs_app, ["rules", "list", "--store", str(store)])
    assert "hs-watch" in result.output
    sensors = pd.DataFrame({"id": incoming["Declaration ID"].iloc[:3],
                            "radiation_alarm": [1, 0, 1]})
    sensors.to_csv(tmp_path / "sensors.csv", index=False)
    result = runner.invoke(customs_app, [
        "score", str(tmp_path / "model"), str(tmp_path / "incoming.csv"), "--budget", "5%",
        "--rules", str(store), "--sensors", str(tmp_path / "sensors.csv"),
        "-o", str(tmp_path / "selected.csv")])
    assert result.exit_code == 0, result.output
    selected = pd.read_csv(tmp_path / "selected.csv", dtype={"declaration_id": str})
    assert {"rule", "model", "exploration"} <= set(selected["selected_by"])
    assert selected["reasons"].str.len().min() > 0
    result = runner.invoke(customs_app, [
        "evaluate", str(tmp_path / "model"), str(tmp_path / "valid.csv"),
        "--budget", "1%,2%,5%,10%", "-o", str(tmp_path / "eval")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "eval" / "precision.png").exists()
    # the scoring file lacks a column the model was trained on: one line, exit 2
    incoming.drop(columns=["Seller ID"]).to_csv(tmp_path / "narrow.csv", index=False)
    result = runner.invoke(customs_app, [
        "score", str(tmp_path / "model"), str(tmp_path / "narrow.csv"),
        "-o", str(tmp_path / "x.csv")])
    assert result.exit_code == 2
    assert "Seller ID" in result.output


@pytest.mark.parametrize("args", [["train", "nope.csv", "-o", "m"],
                                  ["score", "nomodel", "x.csv", "-o", "y.csv"]])
def test_bad_input_is_one_line_exit_2(args, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(customs_app, args)
    assert result.exit_code == 2
    assert "error:" in result.output
