"""Per-asset and per-facility outcomes of a scenario, from the cascade's bits.

All inputs are bit-packed over Monte-Carlo samples: uint64 [hours, assets]
words, bit s = sample s. Outputs are shares of samples (0..1) and means over
samples.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cascada.cascade import sample_mask

WORST_STATES = ("working", "on backup", "lost supply", "damaged")


def _popcount(words: np.ndarray) -> np.ndarray:
    return np.bitwise_count(words).astype(np.int64)


def any_hour(words: np.ndarray) -> np.ndarray:
    """OR over hours: uint64 [assets], bit set if set in any hour."""
    return np.bitwise_or.reduce(words, axis=0)


def group_satisfied(working: np.ndarray, suppliers: np.ndarray, k: int) -> np.ndarray:
    """Words [hours] with bit s set when at least k of the suppliers work (bit-sliced count).

    working: uint64 [hours, assets]; suppliers: asset positions of one group.
    """
    hours = working.shape[0]
    at_least = [np.full(hours, np.uint64(0xFFFFFFFFFFFFFFFF))] + [
        np.zeros(hours, np.uint64) for _ in range(k)
    ]
    for supplier in suppliers:
        w = working[:, supplier]
        for j in range(k, 0, -1):
            at_least[j] |= at_least[j - 1] & w
    return at_least[k]


def asset_outcomes(
    blocks: list[tuple[np.ndarray, np.ndarray, int]], damage_states: np.ndarray
) -> pd.DataFrame:
    """Per-asset outcome shares and means over all samples.

    blocks: (working, on_backup, n_samples) per block of up to 64 samples, each
    word array uint64 [hours, assets]; damage_states: uint8 [samples, assets].
    Returns a frame (one row per asset, in asset order) with p_damaged,
    mean_damage_state, p_down, mean_down_hours, p_on_backup, worst_state (the
    median over samples of each sample's worst state, ordered working < on
    backup < lost supply < damaged).
    """
    n_assets = damage_states.shape[1]
    total = damage_states.shape[0]
    down_any = np.zeros(n_assets, np.int64)
    down_hours = np.zeros(n_assets, np.int64)
    backup_any = np.zeros(n_assets, np.int64)
    severity_counts = np.zeros((len(WORST_STATES), n_assets), np.int64)
    start = 0
    for working, on_backup, n in blocks:
        mask = sample_mask(n)
        down = ~working & mask
        d_any = any_hour(down)
        b_any = any_hour(on_backup & mask) & ~d_any
        down_any += _popcount(d_any)
        down_hours += _popcount(down).sum(axis=0)
        backup_any += _popcount(any_hour(on_backup & mask))
        damaged_bits = np.zeros(n_assets, np.uint64)
        ds = damage_states[start:start + n]
        for s in range(n):
            damaged_bits |= (ds[s] > 0).astype(np.uint64) << np.uint64(s)
        lost = d_any & ~damaged_bits
        severity_counts[3] += _popcount(damaged_bits)
        severity_counts[2] += _popcount(lost)
        severity_counts[1] += _popcount(b_any & ~damaged_bits)
        start += n
    severity_counts[0] = total - severity_counts[1:].sum(axis=0)
    # Median worst state: the most severe state c with P(worst >= c) >= 0.5.
    at_least = np.cumsum(severity_counts[::-1], axis=0)[::-1] / total
    worst = np.array([max(c for c in range(len(WORST_STATES)) if at_least[c, i] >= 0.5)
                      for i in range(n_assets)], dtype=int) if n_assets else np.zeros(0, int)
    return pd.DataFrame({
        "p_damaged": (damage_states > 0).mean(axis=0),
        "mean_damage_state": damage_states.mean(axis=0),
        "p_down": down_any / total,
        "mean_down_hours": down_hours / total,
        "p_on_backup": backup_any / total,
        "worst_state": np.asarray(WORST_STATES, dtype=object)[worst],
    })


def facility_outcomes(
    blocks: list[tuple[np.ndarray, np.ndarray, int]],
    facilities: pd.DataFrame,
    dependencies: pd.DataFrame,
    asset_index: pd.Index,
) -> pd.DataFrame:
    """Critical facilities: share of samples without grid power / water at some hour.

    facilities: rows of the asset table (asset_id, name, asset_type). A facility
    is "without power" in a sample when its power group has fewer than k
    working suppliers in some hour (it may still run on its generator); likewise
    for water. Also: p_down, mean_down_hours, mean_on_backup_hours.
    """
    total = sum(n for _, _, n in blocks)
    rows = []
    deps = dependencies.set_index("consumer")
    for _, fac in facilities.iterrows():
        i = asset_index.get_loc(fac["asset_id"])
        row = {"asset_id": fac["asset_id"], "name": fac.get("name", ""),
               "asset_type": fac["asset_type"]}
        down_any = down_hours = backup_hours = 0
        for working, on_backup, n in blocks:
            mask = sample_mask(n)
            down = ~working[:, i] & mask
            down_any += int(_popcount(np.bitwise_or.reduce(down)))
            down_hours += int(_popcount(down).sum())
            backup_hours += int(_popcount(on_backup[:, i] & mask).sum())
        row["p_down"] = down_any / total
        row["mean_down_hours"] = down_hours / total
        row["mean_on_backup_hours"] = backup_hours / total
        mine = deps.loc[[fac["asset_id"]]] if fac["asset_id"] in deps.index else deps.iloc[:0]
        for kind in ("power", "water"):
            groups = mine[mine["kind"] == kind]
            lost = 0
            if len(groups):
                for working, _, n in blocks:
                    mask = sample_mask(n)
                    lost_bits = np.uint64(0)
                    for _, g in groups.groupby("group"):
                        sup = asset_index.get_indexer(g["supplier"])
                        ok = group_satisfied(working, sup, int(g["k"].iloc[0]))
                        lost_bits |= np.bitwise_or.reduce(~ok & mask)
                    lost += int(np.bitwise_count(lost_bits))
            row[f"p_without_{kind}"] = lost / total if len(groups) else np.nan
        rows.append(row)
    columns = ["asset_id", "name", "asset_type", "p_down", "mean_down_hours",
               "mean_on_backup_hours", "p_without_power", "p_without_water"]
    return pd.DataFrame(rows, columns=columns)
