"""The asset-type catalogue: every asset type the engine knows, with its defaults.

The catalogue is data (``data/asset_types.csv``), one row per asset type:

asset_type (``sector.kind``), sector, label, geometry (point | line),
value_eur with value_basis (``asset``: EUR per asset; ``km``: EUR per km of
line), backup_hours (hours of own backup power: generator fuel, batteries),
repair_hours_ds1..ds4 (mean time to restore function after slight, moderate,
extensive, complete damage, hours), repair_sd_hours_ds1..ds4 (its standard
deviation, hours), damage_ratio_ds1..ds4 (repair cost / replacement value),
and a source for every default: source_value, source_backup, source_repair,
source_damage_ratio ("assumption: ..." where it is one).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from cascada.datafile import read_catalogue_csv, version_line
from cascada.errors import CascadaInputError

DAMAGE_STATES = ("none", "slight", "moderate", "extensive", "complete")
N_DAMAGE_STATES = len(DAMAGE_STATES)

_DS = range(1, N_DAMAGE_STATES)
REQUIRED_COLUMNS = [
    "asset_type",
    "sector",
    "label",
    "geometry",
    "value_eur",
    "value_basis",
    "backup_hours",
    *[f"repair_hours_ds{i}" for i in _DS],
    *[f"repair_sd_hours_ds{i}" for i in _DS],
    *[f"damage_ratio_ds{i}" for i in _DS],
    "source_value",
    "source_backup",
    "source_repair",
    "source_damage_ratio",
]
_NUMERIC = [
    c for c in REQUIRED_COLUMNS if c.startswith(("value_eur", "backup", "repair", "damage_ratio"))
]


@dataclass(frozen=True)
class AssetTypeCatalogue:
    """Asset types and their defaults; ``table`` is indexed by asset_type."""

    table: pd.DataFrame
    version: str
    path: str

    @property
    def types(self) -> list[str]:
        return list(self.table.index)

    def repair_hours(self, asset_types: pd.Series | np.ndarray) -> np.ndarray:
        """Mean repair time per damage state: assets × 5 (ds0 = 0), hours, float32."""
        cols = [f"repair_hours_ds{i}" for i in _DS]
        values = self.table.loc[np.asarray(asset_types), cols].to_numpy(dtype=np.float32)
        return np.hstack([np.zeros((len(values), 1), np.float32), values])

    def repair_sd_hours(self, asset_types: pd.Series | np.ndarray) -> np.ndarray:
        """Standard deviation of repair time per damage state: assets × 5, hours."""
        cols = [f"repair_sd_hours_ds{i}" for i in _DS]
        values = self.table.loc[np.asarray(asset_types), cols].to_numpy(dtype=np.float32)
        return np.hstack([np.zeros((len(values), 1), np.float32), values])

    def damage_ratio(self, asset_types: pd.Series | np.ndarray) -> np.ndarray:
        """Repair cost over replacement value per damage state: assets × 5 (ds0 = 0)."""
        cols = [f"damage_ratio_ds{i}" for i in _DS]
        values = self.table.loc[np.asarray(asset_types), cols].to_numpy(dtype=np.float64)
        return np.hstack([np.zeros((len(values), 1)), values])


def read_asset_types(path: str | Path) -> AssetTypeCatalogue:
    """Read and check an asset-type catalogue CSV (see the module docstring)."""
    path = Path(path)
    table, data_lines, lines = read_catalogue_csv(path, "asset-type catalogue")
    line_of = data_lines[1:]
    missing = [c for c in REQUIRED_COLUMNS if c not in table.columns]
    if missing:
        raise CascadaInputError(f"missing column(s) {', '.join(missing)}", file=path,
                                row=data_lines[0], field=missing[0])
    for column in _NUMERIC:
        values = pd.to_numeric(table[column], errors="coerce")
        bad = np.flatnonzero(values.isna() | (values < 0))
        if len(bad):
            raise CascadaInputError(
                f"must be a number >= 0, got {table[column].iloc[bad[0]]!r}",
                file=path, row=line_of[int(bad[0])], field=column,
            )
        table[column] = values.astype(float)
    for column in (c for c in REQUIRED_COLUMNS if c not in _NUMERIC):
        table[column] = table[column].str.strip()
    for column in ("value_basis", "geometry"):
        allowed = {"value_basis": {"asset", "km"}, "geometry": {"point", "line"}}[column]
        bad = np.flatnonzero(~table[column].isin(allowed))
        if len(bad):
            raise CascadaInputError(
                f"must be one of {sorted(allowed)}", file=path, row=line_of[int(bad[0])],
                field=column,
            )
    sector_prefix = table["asset_type"].str.split(".").str[0]
    bad = np.flatnonzero(sector_prefix != table["sector"])
    if len(bad):
        raise CascadaInputError("asset_type must start with its sector and a dot",
                                file=path, row=line_of[int(bad[0])], field="asset_type")
    dup = np.flatnonzero(table["asset_type"].duplicated())
    if len(dup):
        raise CascadaInputError("duplicate asset type", file=path, row=line_of[int(dup[0])],
                                field="asset_type")
    version = version_line(lines)
    return AssetTypeCatalogue(table.set_index("asset_type"), version, str(path))


@lru_cache(maxsize=1)
def load_asset_types() -> AssetTypeCatalogue:
    """The default catalogue shipped with cascada."""
    path = resources.files("cascada.region") / "data" / "asset_types.csv"
    return read_asset_types(Path(str(path)))
