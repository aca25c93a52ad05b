"""Selection under inspection capacity: rules, model ranking and exploration.

With ``N`` declarations and a budget share ``b`` the office inspects
``n = ceil(b · N)`` of them:

1. every declaration matched by an auditable **rule** is selected, whatever the
   model says (if rules alone exceed ``n`` they are all still selected and the
   overflow is reported);
2. ``n_explore = round(exploration_share · n)`` declarations — exactly — are
   drawn at random (seeded) from those not otherwise selected, so the model keeps
   receiving labels on consignments it would never pick: labels from
   model-selected inspections alone are biased towards what the model already
   believes. Each explored row carries its ``selection_probability`` so later
   training can weight it (inverse propensity);
3. the remaining ``n − n_rules − n_explore`` places go to the highest
   ``expected_value`` (probability × severity).

Rules are data (TOML), each with an author and a reason::

    [[rule]]
    name = "tobacco-by-sea-from-XX"
    author = "Risk analysis unit, J. Doe"
    reason = "Intelligence report 2021/17: undervalued cigarettes"
    [rule.where]
    origin_country = ["XX"]
    hs6_code = ["2402"]          # HS codes match by prefix
    transport_mode = ["10"]

A rule matches a declaration when every listed field takes one of the listed
values.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from cascada.customs.schema import FIELD_KINDS
from cascada.errors import CascadaInputError

EXPLORATION_MODES = ("random", "uncertainty")


@dataclass(frozen=True)
class Rule:
    """An auditable risk criterion that always selects what it matches."""

    name: str
    author: str
    reason: str
    where: dict[str, tuple[str, ...]]

    def matches(self, table: pd.DataFrame) -> np.ndarray:
        """Boolean per row of a validated declaration table."""
        hit = np.ones(len(table), dtype=bool)
        for name, values in self.where.items():
            if name not in table.columns:
                raise CascadaInputError(f"rule {self.name!r} needs a field the declarations "
                                        "lack", field=name)
            column = pd.Series(np.asarray(table[name], dtype=object)).astype(str)
            if FIELD_KINDS.get(name) == "hs":
                ok = np.zeros(len(table), dtype=bool)
                for prefix in values:
                    ok |= column.str.startswith(prefix).to_numpy()
            else:
                ok = column.isin(values).to_numpy()
            hit &= ok
        return hit


def parse_rules(data: dict, *, file: str | Path | None = None) -> list[Rule]:
    """Rules from a parsed TOML mapping (``[[rule]]`` tables)."""
    entries = data.get("rule", [])
    if not isinstance(entries, list):
        raise CascadaInputError("rules must be [[rule]] tables", file=file, field="rule")
    rules = []
    for i, entry in enumerate(entries, start=1):
        for key in ("name", "author", "reason"):
            if not str(entry.get(key, "")).strip():
                raise CascadaInputError(f"rule needs a non-empty {key}", file=file,
                                        row=f"rule {i}", field=key,
                                        hint="every rule is kept with its author and reason")
        where = entry.get("where")
        if not isinstance(where, dict) or not where:
            raise CascadaInputError("rule needs a [rule.where] table of criteria", file=file,
                                    row=f"rule {i}", field="where")
        criteria: dict[str, tuple[str, ...]] = {}
        for name, values in where.items():
            if name not in FIELD_KINDS or FIELD_KINDS[name] in ("id", "date", "amount"):
                raise CascadaInputError(
                    "unknown or unsupported criterion field", file=file, row=f"rule {i}",
                    field=name, hint="use category fields or hs6_code",
                )
            if isinstance(values, str | int):
                values = [values]
            if not isinstance(values, list) or not values:
                raise CascadaInputError("criterion needs a list of values", file=file,
                                        row=f"rule {i}", field=name)
            criteria[name] = tuple(str(v) for v in values)
        rules.append(Rule(str(entry["name"]), str(entry["author"]), str(entry["reason"]),
                          criteria))
    names = [r.name for r in rules]
    for name in names:
        if names.count(name) > 1:
            raise CascadaInputError(f"duplicate rule name {name!r}", file=file, field="name")
    return rules


def load_rules(path: str | Path) -> list[Rule]:
    """Read a rules TOML file (missing file → error)."""
    path = Path(path)
    if not path.exists():
        raise CascadaInputError("rules file not found", file=path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise CascadaInputError(f"not valid TOML ({exc})", file=path) from None
    return parse_rules(data, file=path)


def _toml_string(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def rules_to_toml(rules: list[Rule]) -> str:
    """TOML text that :func:`load_rules` reads back to the same rules."""
    lines = ["# cascada customs risk rules: each always selects what it matches", ""]
    for rule in rules:
        lines += ["[[rule]]", f"name = {_toml_string(rule.name)}",
                  f"author = {_toml_string(rule.author)}",
                  f"reason = {_toml_string(rule.reason)}", "[rule.where]"]
        for name, values in rule.where.items():
            lines.append(f"{name} = [{', '.join(_toml_string(v) for v in values)}]")
        lines.append("")
    return "\n".join(lines)


def add_rules(store: str | Path, new_rules: str | Path) -> list[Rule]:
    """Append the rules of ``new_rules`` to the rules store (created if absent).

    A name already in the store is an error (rules are never silently replaced).
    The store is rewritten atomically. Returns every rule in the store.
    """
    store = Path(store)
    existing = load_rules(store) if store.exists() else []
    added = load_rules(new_rules)
    known = {r.name for r in existing}
    for rule in added:
        if rule.name in known:
            raise CascadaInputError(f"rule {rule.name!r} is already in the store", file=store,
                                    field="name", hint="give the new rule another name")
    rules = existing + added
    store.parent.mkdir(parents=True, exist_ok=True)
    tmp = store.with_name(f".{store.name}.tmp")
    tmp.write_text(rules_to_toml(rules), encoding="utf-8")
    tmp.replace(store)
    return rules


def rule_hits(table: pd.DataFrame, rules: list[Rule]) -> pd.Series:
    """Per row, the names of the matching rules joined by ``;`` ('' if none)."""
    names = np.full(len(table), "", dtype=object)
    for rule in rules:
        hit = rule.matches(table)
        names[hit] = np.where(names[hit] == "", rule.name, names[hit] + ";" + rule.name)
    return pd.Series(names, index=table.index, name="rules")


def ranking_order(predictions: pd.DataFrame) -> np.ndarray:
    """Row positions by descending ``expected_value``, ties by descending ``fraud_score``.

    Isotonic calibration is a step function: many top rows share one
    probability, and the raw score orders them.
    """
    ev = np.asarray(predictions["expected_value"], dtype=np.float64)
    if "fraud_score" in predictions.columns:
        raw = np.asarray(predictions["fraud_score"], dtype=np.float64)
        return np.lexsort((-raw, -ev))
    return np.argsort(-ev, kind="stable")


def ranking_score(predictions: pd.DataFrame) -> np.ndarray:
    """A score whose descending order is :func:`ranking_order` (N for the first row)."""
    order = ranking_order(predictions)
    score = np.empty(len(order), dtype=np.float64)
    score[order] = np.arange(len(order), 0, -1)
    return score


def budget_count(n_rows: int, budget: float) -> int:
    """Inspections for a budget share: ``ceil(budget · n_rows)`` (0 < budget ≤ 1)."""
    if not 0 < budget <= 1:
        raise CascadaInputError(f"budget must be in (0, 100 %], got {budget:g}",
                                field="budget")
    return min(n_rows, int(np.ceil(budget * n_rows - 1e-9)))


def select_declarations(
    predictions: pd.DataFrame,
    budget: float,
    *,
    exploration_share: float = 0.1,
    seed: int = 0,
    rules: pd.Series | None = None,
    exploration: str = "random",
) -> pd.DataFrame:
    """Choose declarations to inspect (see module docstring).

    predictions: one row per declaration with ``declaration_id``,
    ``expected_value`` and ``fraud_probability`` (:meth:`CustomsModel.predict`).
    rules: matching rule names per row (:func:`rule_hits`), aligned with
    ``predictions``. exploration: ``random`` (uniform) or ``uncertainty``
    (drawn with weight p·(1 − p)).
    Returns the selected rows, ranked (``attrs['positions']``: their row positions
    in ``predictions``), with ``selected_by`` (rule / model /
    exploration), ``rules`` and ``selection_probability``.
    """
    if not 0 <= exploration_share <= 1:
        raise CascadaInputError("exploration share must be in [0, 1]",
                                field="exploration_share")
    if exploration not in EXPLORATION_MODES:
        raise CascadaInputError(f"unknown exploration {exploration!r}", field="exploration",
                                hint="random or uncertainty")
    n = len(predictions)
    n_total = budget_count(n, budget)
    n_explore = int(np.floor(exploration_share * n_total + 0.5))
    hits = (np.zeros(n, dtype=bool) if rules is None
            else (np.asarray(rules, dtype=object) != ""))
    rule_names = (np.full(n, "", dtype=object) if rules is None
                  else np.asarray(rules, dtype=object))
    ev = np.asarray(predictions["expected_value"], dtype=np.float64)
    n_model = max(0, n_total - int(hits.sum()) - n_explore)
    order = ranking_order(predictions)
    model_pick = order[~hits[order]][:n_model]
    taken = hits.copy()
    taken[model_pick] = True
    pool = np.flatnonzero(~taken)
    n_explore = min(n_explore, len(pool))
    rng = np.random.default_rng(seed)
    if exploration == "uncertainty":
        p = np.asarray(predictions["fraud_probability"], dtype=np.float64)[pool]
        weight = p * (1 - p) + 1e-12
        explore_pick = rng.choice(pool, size=n_explore, replace=False, p=weight / weight.sum())
        # first-order inclusion probability (approximate for weighted draws)
        inclusion = np.minimum(1.0, n_explore * weight / weight.sum())
        prob = dict(zip(pool.tolist(), inclusion.tolist(), strict=True))
        explore_prob = np.array([prob[i] for i in explore_pick])
    else:
        explore_pick = rng.choice(pool, size=n_explore, replace=False)
        explore_prob = np.full(n_explore, n_explore / max(1, len(pool)))
    rule_rows = np.flatnonzero(hits)
    rule_rows = rule_rows[np.argsort(-ev[rule_rows], kind="stable")]
    rows = np.concatenate([rule_rows, model_pick, np.sort(explore_pick)]).astype(np.int64)
    selected_by = (["rule"] * len(rule_rows) + ["model"] * len(model_pick)
                   + ["exploration"] * n_explore)
    probability = np.concatenate([np.ones(len(rule_rows) + len(model_pick)),
                                  explore_prob[np.argsort(explore_pick)]])
    out = predictions.iloc[rows].copy()
    out.insert(0, "rank", np.arange(1, len(rows) + 1))
    out["selected_by"] = selected_by
    out["rules"] = rule_names[rows]
    out["selection_probability"] = probability
    out = out.reset_index(drop=True)
    out.attrs["budget_count"] = n_total
    out.attrs["rule_overflow"] = max(0, int(hits.sum()) - (n_total - n_explore))
    out.attrs["positions"] = rows
    return out
