"""`cascada customs …`: train, score, evaluate, rules. Parses arguments and calls the library.

Wire into the main CLI with ``app.add_typer(customs_app, name="customs")``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.table import Table

from cascada.cli_support import clear_errors, console
from cascada.datafile import atomic_file
from cascada.errors import CascadaInputError

customs_app = typer.Typer(help="Customs risk targeting: rank declarations for inspection.",
                          no_args_is_help=True)
rules_app = typer.Typer(help="Auditable risk rules that always select.", no_args_is_help=True)
customs_app.add_typer(rules_app, name="rules")

DEFAULT_RULES = Path("customs-rules.toml")




def parse_budgets(text: str) -> tuple[float, ...]:
    """``'1%,2%,5%'`` or ``'0.01,0.05'`` → shares."""
    out = []
    for part in text.split(","):
        part = part.strip()
        try:
            value = float(part.rstrip("%")) / (100.0 if part.endswith("%") else 1.0)
        except ValueError:
            raise CascadaInputError(f"not a budget: {part!r}", field="budget",
                                    hint="e.g. 5% or 0.05") from None
        if not 0 < value <= 1:
            raise CascadaInputError(f"budget out of range: {part!r}", field="budget",
                                    hint="between 0 and 100 %")
        out.append(value)
    return tuple(out)


@customs_app.command("train")
@clear_errors
def train(
    declarations: Annotated[Path, typer.Argument(help="training declarations (CSV or Parquet)")],
    output: Annotated[Path, typer.Option("--output", "-o", help="model folder to write")],
    target: Annotated[str | None, typer.Option(
        help="fraud label column (default: the schema's)")] = None,
    model: Annotated[str, typer.Option(help="model family (only 'lgbm')")] = "lgbm",
    schema: Annotated[Path | None, typer.Option(
        help="column mapping TOML (default: the benchmark dataset's columns)")] = None,
    calibration: Annotated[str, typer.Option(help="isotonic or platt")] = "isotonic",
    trees: Annotated[int, typer.Option(help="boosting rounds")] = 300,
    critical_weight: Annotated[float, typer.Option(
        help="value of a critical fraud in ordinary frauds (ranking by expected value)")] = 1.0,
    seed: Annotated[int, typer.Option(help="random seed")] = 0,
    overwrite: Annotated[bool, typer.Option(help="replace an existing folder")] = False,
) -> None:
    """Train the fraud and critical-fraud models on a past period (chronological)."""
    from dataclasses import replace

    from cascada.customs.model import ModelConfig, train_model
    from cascada.customs.schema import load_schema, read_declarations
    from cascada.datafile import sha256_file

    if model != "lgbm":
        raise CascadaInputError(f"unknown model {model!r}", field="model", hint="use lgbm")
    mapping = load_schema(schema)
    if target is not None:
        mapping = replace(mapping, fraud_column=target)
    table = read_declarations(declarations, mapping, require_target=True)
    config = ModelConfig(calibration=calibration, n_estimators=trees,
                         critical_weight=critical_weight, seed=seed)
    trained = train_model(table, mapping, config,
                          data_sha256={declarations.name: sha256_file(declarations)})
    trained.save(output, overwrite=overwrite)
    cal = trained.metadata["calibration_slice"]
    console.print(
        f"trained on {len(table):,} declarations {trained.metadata['training_dates'][0]} → "
        f"{trained.metadata['training_dates'][1]}; calibration slice "
        f"{trained.metadata['calibration_dates'][0]} → "
        f"{trained.metadata['calibration_dates'][1]}: precision@5% "
        f"{cal['precision_at_5pct']:.3f}; model → {output}", highlight=False)


@customs_app.command("score")
@clear_errors
def score(
    model_dir: Annotated[Path, typer.Argument(help="model folder from `customs train`")],
    declarations: Annotated[Path, typer.Argument(help="declarations to score")],
    output: Annotated[Path, typer.Option("--output", "-o", help="selected declarations CSV")],
    budget: Annotated[str, typer.Option(help="share to inspect, e.g. 5%")] = "5%",
    exploration: Annotated[float, typer.Option(
        help="share of the budget drawn at random (exact)")] = 0.1,
    rules: Annotated[Path | None, typer.Option(
        help="rules TOML (default: ./customs-rules.toml if it exists)")] = None,
    sensors: Annotated[Path | None, typer.Option(
        help="CSV of sensor readings: declaration id column + radiation_alarm, "
             "xray_anomaly_score (fused by likelihood ratios)")] = None,
    top_reasons: Annotated[int, typer.Option(help="reasons per declaration")] = 3,
    seed: Annotated[int, typer.Option(help="seed of the exploration draw")] = 0,
    all_rows: Annotated[bool, typer.Option(
        "--all", help="also write every declaration's score to <output>.all.csv")] = False,
) -> None:
    """Rank declarations and select a budget: rules + model + exploration, with reasons."""
    from cascada.customs.explain import explain
    from cascada.customs.fusion import fuse
    from cascada.customs.model import CustomsModel
    from cascada.customs.schema import read_declarations
    from cascada.customs.select import load_rules, rule_hits, select_declarations

    (share,) = parse_budgets(budget)
    trained = CustomsModel.load(model_dir)
    table = read_declarations(declarations, trained.schema)
    trained.check_columns(table, file=declarations)
    x = trained.features(table)
    predictions = trained.predict(table, features=x)
    if sensors is not None:
        predictions = _fuse_sensors(predictions, sensors, fuse)
    rules_path = rules if rules is not None else (DEFAULT_RULES if DEFAULT_RULES.exists()
                                                  else None)
    hits = rule_hits(table, load_rules(rules_path)) if rules_path is not None else None
    selected = select_declarations(predictions, share, exploration_share=exploration,
                                   seed=seed, rules=hits)
    rows = selected.attrs["positions"]
    selected["reasons"] = explain(trained, x.iloc[rows], top=top_reasons).to_numpy()
    output.parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(output) as tmp:
        selected.to_csv(tmp, index=False)
    if all_rows:
        predictions.to_csv(output.with_suffix(".all.csv"), index=False)
    counts = selected["selected_by"].value_counts()
    console.print(
        f"{len(selected):,} of {len(table):,} declarations selected "
        f"(rules {counts.get('rule', 0)}, model {counts.get('model', 0)}, "
        f"exploration {counts.get('exploration', 0)}) → {output}", highlight=False)


def _fuse_sensors(predictions: pd.DataFrame, path: Path, fuse: Callable) -> pd.DataFrame:
    if not path.exists():
        raise CascadaInputError("sensor file not found", file=path)
    readings = pd.read_csv(path, dtype={0: str})
    key = readings.columns[0]
    readings = readings.set_index(key).reindex(predictions["declaration_id"].astype(str))
    out = predictions.copy()
    fused = fuse(out["fraud_probability"].to_numpy(), readings.reset_index(drop=True))
    ratio = fused / out["fraud_probability"].clip(lower=1e-9).to_numpy()
    out["fraud_probability"] = fused
    out["expected_value"] = out["expected_value"].to_numpy() * ratio
    return out


@customs_app.command("evaluate")
@clear_errors
def evaluate(
    model_dir: Annotated[Path, typer.Argument(help="model folder from `customs train`")],
    declarations: Annotated[Path, typer.Argument(help="labelled declarations of a later period")],
    budget: Annotated[str, typer.Option(help="budgets, e.g. 1%,2%,5%,10%")] = "1%,2%,5%,10%",
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="folder for metrics.csv, drift.csv, precision.png")] = None,
    critical_weight: Annotated[float | None, typer.Option(
        help="override the model's critical-fraud weight")] = None,
) -> None:
    """Precision, recall, critical and revenue captured vs random and a rule; drift."""
    from cascada.customs.evaluate import evaluate_model, write_evaluation
    from cascada.customs.model import CustomsModel
    from cascada.customs.schema import read_declarations

    budgets = parse_budgets(budget)
    trained = CustomsModel.load(model_dir)
    table = read_declarations(declarations, trained.schema, require_target=True)
    trained.check_columns(table, file=declarations)
    result = evaluate_model(trained, table, budgets, critical_weight=critical_weight)
    view = Table(title=f"{declarations.name}: {len(table):,} declarations, "
                       f"fraud rate {table['fraud'].mean():.3f}")
    for col in ("method", "budget", "precision", "recall", "critical", "revenue"):
        view.add_column(col, justify="left" if col == "method" else "right")
    for r in result.metrics.itertuples():
        view.add_row(r.method, f"{r.budget_pct:g}%", f"{r.precision:.3f}", f"{r.recall:.3f}",
                     f"{r.critical_captured:.3f}", f"{r.revenue_captured:.3f}")
    console.print(view)
    large = result.drift[result.drift["shift"] == "large"]
    console.print(f"drift: {len(large)} features with PSI > 0.25"
                  + (f" (largest: {large.iloc[0].feature} {large.iloc[0].psi:.2f})"
                     if len(large) else ""), highlight=False)
    if output is not None:
        write_evaluation(result, output)
        console.print(f"→ {output}", highlight=False)


@rules_app.command("add")
@clear_errors
def rules_add(
    rules_file: Annotated[Path, typer.Argument(help="TOML with [[rule]] tables to add")],
    store: Annotated[Path, typer.Option(help="rules store")] = DEFAULT_RULES,
) -> None:
    """Add rules (each with name, author, reason, criteria) to the rules store."""
    from cascada.customs.select import add_rules

    rules = add_rules(store, rules_file)
    console.print(f"{len(rules)} rules in {store}", highlight=False)


@rules_app.command("list")
@clear_errors
def rules_list(
    store: Annotated[Path, typer.Option(help="rules store")] = DEFAULT_RULES,
) -> None:
    """List the rules with author, reason and criteria."""
    from cascada.customs.select import load_rules

    view = Table(title=f"rules in {store}")
    for col in ("name", "author", "reason", "criteria"):
        view.add_column(col)
    for rule in load_rules(store):
        view.add_row(rule.name, rule.author, rule.reason,
                     "; ".join(f"{k} in {', '.join(v)}" for k, v in rule.where.items()))
    console.print(view)
