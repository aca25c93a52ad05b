"""The dependency table compiled into flat CSR arrays for the cascade kernels.

A *group* is one (consumer, group name) pair of the dependency table: the
consumer needs at least ``k`` of the group's suppliers to work, or the group's
backup reserve (``backup_hours``) to be not yet used up. Groups are numbered in
order of consumer position, then group name, so the groups of one consumer are
contiguous.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cascada.errors import CascadaInputError

#: Backup reserves are capped here (hours); far beyond any simulated horizon.
MAX_BACKUP_HOURS = 1_000_000


@dataclass(frozen=True)
class CompiledGraph:
    """Dependencies as CSR arrays (positions index the region's asset table).

    n_assets: number of assets (columns of the damage / repair matrices).
    group_consumer: int32 [n_groups], position of the consumer of each group.
    group_k: int32 [n_groups], suppliers needed (1 = any, group size = all).
    group_backup_hours: int32 [n_groups], whole hours of reserve (floored,
        capped at :data:`MAX_BACKUP_HOURS`).
    group_ptr: int64 [n_groups + 1]; suppliers of group g are
        ``group_supplier[group_ptr[g]:group_ptr[g + 1]]``.
    group_supplier: int32 [n_edges], supplier positions.
    asset_group_ptr: int64 [n_assets + 1]; groups of consumer a are
        ``asset_group[asset_group_ptr[a]:asset_group_ptr[a + 1]]``.
    asset_group: int32 [n_groups].
    supplier_group_ptr: int64 [n_assets + 1]; groups that asset a supplies are
        ``supplier_group[supplier_group_ptr[a]:supplier_group_ptr[a + 1]]``.
    supplier_group: int32 [n_edges].
    asset_ids: object [n_assets], the asset ids in column order.
    group_name: object [n_groups], the group name of each group.
    max_k: largest ``k`` of any group (0 when there are no groups).
    """

    n_assets: int
    group_consumer: np.ndarray
    group_k: np.ndarray
    group_backup_hours: np.ndarray
    group_ptr: np.ndarray
    group_supplier: np.ndarray
    asset_group_ptr: np.ndarray
    asset_group: np.ndarray
    supplier_group_ptr: np.ndarray
    supplier_group: np.ndarray
    asset_ids: np.ndarray
    group_name: np.ndarray
    max_k: int

    @property
    def n_groups(self) -> int:
        return len(self.group_k)

    @property
    def n_edges(self) -> int:
        return len(self.group_supplier)


def _csr_ptr(keys: np.ndarray, n: int) -> np.ndarray:
    """Row pointer (int64 [n + 1]) for rows ``keys`` sorted ascending."""
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(keys, minlength=n), out=ptr[1:])
    return ptr


def compile_graph(
    dependencies: pd.DataFrame, asset_ids: Sequence[str], *, source: str = "<dependencies>"
) -> CompiledGraph:
    """Compile the dependency table (see :mod:`cascada.region.model`) into CSR arrays.

    dependencies: columns consumer, supplier, group, k, backup_hours (``kind``
        is not needed here; ``group`` defaults to ``kind`` when absent).
    asset_ids: the asset ids in column order (the region's asset table order).
    Raises CascadaInputError on unknown assets, duplicate suppliers in a
    group, k outside 1..group size, or k / backup_hours varying in a group.
    """
    ids = pd.Index(pd.Series(list(asset_ids), dtype=object))
    if not ids.is_unique:
        raise CascadaInputError("asset ids are not unique", file=source, field="asset_id")
    n_assets = len(ids)
    group_col = "group" if "group" in dependencies.columns else "kind"
    for column in ("consumer", "supplier", group_col):
        if column not in dependencies.columns:
            raise CascadaInputError(f"missing column {column}", file=source, field=column)

    consumer = ids.get_indexer(dependencies["consumer"].astype(object))
    supplier = ids.get_indexer(dependencies["supplier"].astype(object))
    for column, pos in (("consumer", consumer), ("supplier", supplier)):
        if (pos < 0).any():
            row = int(np.flatnonzero(pos < 0)[0])
            raise CascadaInputError(
                f"unknown asset {dependencies[column].iloc[row]!r}",
                file=source,
                row=row,
                field=column,
            )
    n_edges = len(consumer)
    k = (
        dependencies["k"].to_numpy(dtype=np.int64)
        if "k" in dependencies.columns
        else np.ones(n_edges, dtype=np.int64)
    )
    backup = (
        np.nan_to_num(dependencies["backup_hours"].to_numpy(dtype=np.float64), nan=0.0)
        if "backup_hours" in dependencies.columns
        else np.zeros(n_edges)
    )
    if (backup < 0).any():
        row = int(np.flatnonzero(backup < 0)[0])
        raise CascadaInputError("backup_hours < 0", file=source, row=row, field="backup_hours")

    name_code, names = pd.factorize(dependencies[group_col].astype(object), sort=True)
    n_names = max(len(names), 1)
    key = consumer.astype(np.int64) * n_names + name_code
    group_key, edge_group = np.unique(key, return_inverse=True)
    edge_group = edge_group.astype(np.int64).ravel()
    n_groups = len(group_key)
    group_consumer = (group_key // n_names).astype(np.int32)
    group_name = np.asarray(names, dtype=object)[group_key % n_names]

    dup = pd.Series(edge_group * max(n_assets, 1) + supplier).duplicated().to_numpy()
    if dup.any():
        row = int(np.flatnonzero(dup)[0])
        raise CascadaInputError(
            f"supplier {dependencies['supplier'].iloc[row]!r} appears twice in one group",
            file=source,
            row=row,
            field="supplier",
        )

    order = np.argsort(edge_group, kind="stable")
    group_ptr = _csr_ptr(edge_group, n_groups)
    group_size = np.diff(group_ptr)
    first = order[group_ptr[:-1]] if n_groups else np.zeros(0, dtype=np.int64)
    group_k = k[first] if n_groups else np.zeros(0, dtype=np.int64)
    group_backup = backup[first] if n_groups else np.zeros(0)
    for column, values, per_group in (("k", k, group_k), ("backup_hours", backup, group_backup)):
        bad = values != per_group[edge_group]
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise CascadaInputError(
                f"{column} differs between rows of one (consumer, group)",
                file=source,
                row=row,
                field=column,
            )
    bad = (group_k < 1) | (group_k > group_size)
    if bad.any():
        row = int(order[group_ptr[int(np.flatnonzero(bad)[0])]])
        raise CascadaInputError(
            "k must be between 1 and the number of suppliers in the group",
            file=source,
            row=row,
            field="k",
        )

    reverse = np.argsort(supplier, kind="stable")
    return CompiledGraph(
        n_assets=n_assets,
        group_consumer=group_consumer,
        group_k=group_k.astype(np.int32),
        group_backup_hours=np.minimum(np.floor(group_backup), MAX_BACKUP_HOURS).astype(np.int32),
        group_ptr=group_ptr,
        group_supplier=supplier[order].astype(np.int32),
        asset_group_ptr=_csr_ptr(group_consumer, n_assets),
        asset_group=np.arange(n_groups, dtype=np.int32),
        supplier_group_ptr=_csr_ptr(supplier[reverse], n_assets),
        supplier_group=edge_group[reverse].astype(np.int32),
        asset_ids=np.asarray(ids, dtype=object),
        group_name=group_name,
        max_k=int(group_k.max()) if n_groups else 0,
    )
