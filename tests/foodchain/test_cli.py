"""`cascada food …` through typer's CliRunner on the food sub-app."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from cascada.foodchain.cli import food_app

DATA = Path(__file__).resolve().parents[2] / "data" / "foodchain"
FIXTURE = str(DATA / "fixture" / "deliveries.csv")
runner = CliRunner()


def _commands(group, prefix: tuple[str, ...] = ()):
    for name, command in group.commands.items():
        yield (*prefix, name), command
        if hasattr(command, "commands"):
            yield from _commands(command, (*prefix, name))


def test_every_command_has_help():
    root = get_command(food_app)
    names = set()
    for path, command in _commands(root):
        names.add(" ".join(path))
        assert command.help, path
        result = runner.invoke(food_app, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
    assert {"import", "trace forward", "trace backward", "sources", "recall",
            "report"} <= names


@pytest.fixture
def cases(tmp_path):
    path = tmp_path / "cases.csv"
    path.write_text("station,cases\nmarket2,1\nmarket3,2\n", encoding="utf-8")
    return path


def test_import_writes_fcl_and_csv(tmp_path):
    out = tmp_path / "imported"
    result = runner.invoke(food_app, ["import", str(DATA / "fcl" / "bbk.json"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert {p.name for p in out.iterdir()} == {"network.json", "stations.csv", "deliveries.csv",
                                               "relations.csv", "summary.json"}
    assert json.loads((out / "summary.json").read_text())["deliveries"] == 29
    again = runner.invoke(food_app, ["trace", "forward", "-n", str(out), "--from", "S20"])
    assert again.exit_code == 0 and "D29" in again.output


def test_trace_forward_options(tmp_path):
    out = tmp_path / "fwd"
    result = runner.invoke(food_app, ["trace", "forward", "-n", FIXTURE, "--from", "farm3",
                                      "--cross-contamination", "--temporal-order",
                                      "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert {"stations.csv", "deliveries.csv", "summary.json", "report.html"} <= \
        {p.name for p in out.iterdir()}
    killed = runner.invoke(food_app, ["trace", "forward", "-n", FIXTURE, "--from", "farm3",
                                      "--kill-station", "producer2"])
    assert killed.exit_code == 0 and "market3" not in killed.output


def test_trace_backward_with_cases_shows_scores(cases):
    result = runner.invoke(food_app, ["trace", "backward", "-n", FIXTURE, "--cases",
                                      str(cases)])
    assert result.exit_code == 0, result.output
    assert "farm3" in result.output and "0.3333" in result.output


def test_sources_ranked(cases, tmp_path):
    out = tmp_path / "src"
    result = runner.invoke(food_app, ["sources", "-n", FIXTURE, "--cases", str(cases),
                                      "--top", "3", "-o", str(out)])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["top_source"] in {"farm3", "producer2"}
    assert "posterior" in (out / "sources.csv").read_text()


def test_recall_and_report(tmp_path):
    result = runner.invoke(food_app, ["recall", "-n", str(DATA / "fcl" / "bbk.json"),
                                      "--from", "S20", "--lots", "BK_150313"])
    assert result.exit_code == 0, result.output
    assert "D29" in result.output
    page = tmp_path / "r.html"
    result = runner.invoke(food_app, ["report", "-n", FIXTURE, "--from", "farm1", "-o",
                                      str(page)])
    assert result.exit_code == 0 and page.exists()


@pytest.mark.parametrize("args, message", [
    (["trace", "forward", "-n", FIXTURE, "--from", "nowhere"], "unknown station 'nowhere'"),
    (["trace", "forward", "-n", FIXTURE], "nothing to trace"),
    (["recall", "-n", FIXTURE, "--from", "farm1", "--lots", "L17"], "unknown lot 'L17'"),
    (["import", "missing.json"], "file not found"),
    (["sources", "-n", FIXTURE, "--cases", "missing.csv"], "file not found"),
])
def test_bad_input_exits_2_with_one_line(args, message):
    result = runner.invoke(food_app, args)
    assert result.exit_code == 2
    assert message in result.output.replace("\n", " ")


def test_existing_output_is_refused(tmp_path):
    out = tmp_path / "exists"
    out.mkdir()
    result = runner.invoke(food_app, ["import", FIXTURE, "-o", str(out)])
    assert result.exit_code == 2 and "already exists" in result.output
