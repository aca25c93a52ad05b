"""A plain, one-sample-at-a-time cascade: the yardstick the fast kernel is tested against.

Same semantics as :mod:`cascada.cascade.propagate`, written for clarity, not
speed: every hour starts from "every intact asset works" and sweeps all
consumers until nothing changes (the greatest fixed point), then charges one
hour of backup to every unsatisfied group (see :mod:`cascada.cascade.propagate`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from cascada.cascade.graph import CompiledGraph

# One group: (consumer position, k, whole backup hours, supplier positions)
Group = tuple[int, int, int, list[int]]


def _groups_from_table(dependencies: pd.DataFrame, asset_ids: Sequence[str]) -> list[Group]:
    position = {asset_id: i for i, asset_id in enumerate(asset_ids)}
    group_column = "group" if "group" in dependencies.columns else "kind"
    groups: dict[tuple[int, str], Group] = {}
    for row in dependencies.itertuples(index=False):
        consumer = position[row.consumer]
        key = (consumer, str(getattr(row, group_column)))
        k = int(getattr(row, "k", 1))
        backup = float(getattr(row, "backup_hours", 0.0))
        if key not in groups:
            groups[key] = (consumer, k, 0 if math.isnan(backup) else math.floor(backup), [])
        groups[key][3].append(position[row.supplier])
    return list(groups.values())


def _groups_from_graph(graph: CompiledGraph) -> list[Group]:
    return [
        (
            int(graph.group_consumer[g]),
            int(graph.group_k[g]),
            int(graph.group_backup_hours[g]),
            [int(s) for s in graph.group_supplier[graph.group_ptr[g] : graph.group_ptr[g + 1]]],
        )
        for g in range(graph.n_groups)
    ]


def propagate_reference(
    dependencies: pd.DataFrame | CompiledGraph,
    repair_hours: np.ndarray,
    hours: int,
    *,
    asset_ids: Sequence[str] | None = None,
    onset_hours: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Working and on-backup flags of one sample, hour by hour.

    dependencies: the dependency table (then ``asset_ids`` gives the column
        order) or a :class:`CompiledGraph`.
    repair_hours: float [n_assets], hour at which each asset is intact again
        (0 = undamaged, inf = never within the horizon).
    onset_hours: float [n_assets], hour at which the damage happens (default
        0); an asset is out of repair in hour t iff onset <= t < repair.
    Returns: (working, on_backup), each bool [hours, n_assets].
    """
    if isinstance(dependencies, CompiledGraph):
        groups = _groups_from_graph(dependencies)
    else:
        if asset_ids is None:
            raise ValueError("asset_ids is needed with a dependency table")
        groups = _groups_from_table(dependencies, asset_ids)
    repair = [float(r) for r in np.asarray(repair_hours, dtype=np.float32)]
    n_assets = len(repair)
    onset = ([0.0] * n_assets if onset_hours is None
             else [float(o) for o in np.asarray(onset_hours, dtype=np.float32)])
    groups_of: list[list[int]] = [[] for _ in range(n_assets)]
    for g, (consumer, _, _, _) in enumerate(groups):
        groups_of[consumer].append(g)
    used = [0] * len(groups)
    working = np.zeros((hours, n_assets), dtype=bool)
    on_backup = np.zeros((hours, n_assets), dtype=bool)

    for t in range(hours):
        intact = [r <= t or t < o for r, o in zip(repair, onset, strict=True)]
        works = list(intact)

        def satisfied(g: int, works: list[bool] = works) -> bool:
            _, k, _, suppliers = groups[g]
            return sum(works[s] for s in suppliers) >= k

        changed = True
        while changed:
            changed = False
            for a in range(n_assets):
                if not works[a]:
                    continue
                for g in groups_of[a]:
                    if not satisfied(g) and used[g] >= groups[g][2]:
                        works[a] = False
                        changed = True
                        break
        for a in range(n_assets):
            working[t, a] = works[a]
            on_backup[t, a] = works[a] and any(not satisfied(g) for g in groups_of[a])
        for g, (_, _, backup, _) in enumerate(groups):
            if not satisfied(g) and used[g] < backup:
                used[g] += 1
    return working, on_backup
