"""compile_graph: CSR layout and clear errors on bad tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cascada.cascade import compile_graph
from cascada.errors import CascadaInputError

IDS = ["plant", "sub", "tel", "hosp"]


def _deps(rows: list[tuple[str, str, str, int, float]]) -> pd.DataFrame:
    return pd.DataFrame(
        rows, columns=["consumer", "supplier", "group", "k", "backup_hours"]
    ).assign(kind=lambda d: d["group"])


def test_csr_layout() -> None:
    deps = _deps(
        [
            ("hosp", "sub", "power", 1, 6.7),
            ("hosp", "tel", "telecom", 1, 0.0),
            ("sub", "plant", "power", 1, 0.0),
            ("tel", "sub", "power", 1, 4.0),
            ("sub", "tel", "scada", 1, 0.0),
        ]
    )
    graph = compile_graph(deps, IDS)
    assert graph.n_assets == 4
    assert graph.n_groups == 5
    assert graph.n_edges == 5
    # groups sorted by consumer position, then group name
    assert graph.group_consumer.tolist() == [1, 1, 2, 3, 3]
    assert graph.group_name.tolist() == ["power", "scada", "power", "power", "telecom"]
    assert graph.group_backup_hours.tolist() == [0, 0, 4, 6, 0]
    assert graph.asset_group_ptr.tolist() == [0, 0, 2, 3, 5]
    suppliers = [
        graph.group_supplier[graph.group_ptr[g] : graph.group_ptr[g + 1]].tolist()
        for g in range(graph.n_groups)
    ]
    assert suppliers == [[0], [2], [1], [1], [2]]
    # reverse CSR: the groups each asset supplies
    supplies = [
        sorted(graph.supplier_group[graph.supplier_group_ptr[a] : graph.supplier_group_ptr[a + 1]])
        for a in range(4)
    ]
    assert supplies == [[0], [2, 3], [1, 4], []]
    for array, dtype in (
        (graph.group_consumer, np.int32),
        (graph.group_k, np.int32),
        (graph.group_ptr, np.int64),
        (graph.group_supplier, np.int32),
        (graph.supplier_group_ptr, np.int64),
        (graph.supplier_group, np.int32),
    ):
        assert array.dtype == dtype


def test_empty_table() -> None:
    graph = compile_graph(_deps([]), IDS)
    assert graph.n_groups == 0
    assert graph.supplier_group_ptr.tolist() == [0, 0, 0, 0, 0]


@pytest.mark.parametrize(
    ("rows", "field"),
    [
        ([("hosp", "nowhere", "power", 1, 0.0)], "supplier"),
        ([("hosp", "sub", "power", 2, 0.0)], "k"),
        ([("hosp", "sub", "power", 1, 0.0), ("hosp", "tel", "power", 1, 3.0)], "backup_hours"),
        ([("hosp", "sub", "power", 1, 0.0), ("hosp", "sub", "power", 1, 0.0)], "supplier"),
    ],
)
def test_bad_tables_name_the_field(rows, field) -> None:
    with pytest.raises(CascadaInputError) as error:
        compile_graph(_deps(rows), IDS)
    assert error.value.field == field
