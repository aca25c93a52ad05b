"""EventSet: what each hazard event does at each asset, as arrays.

An EventSet is N events × M assets of intensity in the hazard's physical unit,
plus per-event metadata. Damage, cascade and impact need no hazard-specific
code: they read only these arrays.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from scipy import sparse

from cascada.datafile import atomic_file
from cascada.errors import CascadaInputError

# Physical unit of the intensity of each hazard family (the fragility catalogue's unit).
HAZARD_UNITS = {
    "flood": "depth_m",
    "earthquake": "pga_g",
    "tsunami": "depth_m",
    "wildfire": "burn_fraction",
    "drought": "drought_severity",  # max(0, −SPI or −SPEI): 0 = normal, 2 = extreme
    "chemical": "concentration_mg_m3",
    "attack": "damage_state",
}


@dataclass
class EventSet:
    """N events × M assets of hazard intensity.

    intensity: scipy.sparse CSR, events × assets, float32, in the unit of each
        event's hazard (depth_m for flood, pga_g for earthquake, ...); zero means
        not exposed.
    asset_ids: the M asset ids, in the region's asset-table order.
    events: one row per event: event_id (str), hazard (str), annual_rate
        (events per year; 0 for a scenario), parent (index of the triggering
        event or -1), time_offset_hours (start after the parent, hours).
    exposed_length_m: optional events × assets CSR, metres of a line asset inside
        the footprint (zero for points).
    """

    intensity: sparse.csr_matrix
    asset_ids: np.ndarray
    events: pd.DataFrame
    exposed_length_m: sparse.csr_matrix | None = None
    metadata: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.intensity = sparse.csr_matrix(self.intensity, dtype=np.float32)
        n, m = self.intensity.shape
        if len(self.asset_ids) != m:
            raise CascadaInputError(
                f"intensity has {m} asset columns but {len(self.asset_ids)} asset ids"
            )
        if len(self.events) != n:
            raise CascadaInputError(f"intensity has {n} event rows but {len(self.events)} events")
        data = self.intensity.data
        if not np.all(np.isfinite(data)):
            raise CascadaInputError("intensity contains NaN or infinite values",
                                    field="intensity")
        if np.any(data < 0):
            raise CascadaInputError("intensity must be >= 0", field="intensity")
        events = self.events.reset_index(drop=True).copy()
        defaults = {"annual_rate": 0.0, "parent": -1, "time_offset_hours": 0.0}
        for column, default in defaults.items():
            if column not in events.columns:
                events[column] = default
        if "event_id" not in events.columns:
            events["event_id"] = [f"event-{i}" for i in range(n)]
        unknown = ~events["hazard"].isin(list(HAZARD_UNITS))
        if unknown.any():
            row = int(np.flatnonzero(unknown)[0])
            raise CascadaInputError(
                f"unknown hazard {events['hazard'].iloc[row]!r}", row=row, field="hazard",
                hint=f"known hazards: {', '.join(HAZARD_UNITS)}",
            )
        self.events = events[["event_id", "hazard", "annual_rate", "parent",
                              "time_offset_hours"]]
        self.asset_ids = np.asarray(self.asset_ids, dtype=object)

    @property
    def n_events(self) -> int:
        return self.intensity.shape[0]

    @property
    def n_assets(self) -> int:
        return self.intensity.shape[1]

    def unit(self, event: int) -> str:
        """Intensity unit of one event."""
        return HAZARD_UNITS[self.events["hazard"].iloc[event]]

    def exposed_assets(self, event: int) -> np.ndarray:
        """Column indices of the assets with non-zero intensity in one event."""
        row = self.intensity.getrow(event)
        return row.indices[row.data > 0]

    def to_frame(self) -> pd.DataFrame:
        """Tidy (event_id, hazard, asset_id, intensity) rows of the non-zero entries."""
        coo = self.intensity.tocoo()
        return pd.DataFrame(
            {
                "event_id": self.events["event_id"].to_numpy()[coo.row],
                "hazard": self.events["hazard"].to_numpy()[coo.row],
                "asset_id": self.asset_ids[coo.col],
                "intensity": coo.data,
            }
        )


_META_KEY = b"cascada.eventset"


def write_eventset(eventset: EventSet, path: str | Path) -> Path:
    """Write an EventSet as one Parquet file (tidy non-zero entries + metadata).

    Columns: event (row index), event_id, asset_id, intensity (hazard unit),
    exposed_length_m. The events table and the asset order travel in the
    file's metadata, so events with no exposed asset are kept. Written to a
    temporary name and renamed when complete.
    """
    path = Path(path)
    coo = eventset.intensity.tocoo()
    exposed = np.zeros(len(coo.data), np.float32)
    if eventset.exposed_length_m is not None:
        exposed = np.asarray(eventset.exposed_length_m.tocsr()[coo.row, coo.col]).ravel()
    table = pa.table({
        "event": pa.array(coo.row.astype(np.int32)),
        "event_id": pa.array(eventset.events["event_id"].to_numpy()[coo.row].astype(str)),
        "asset_id": pa.array(eventset.asset_ids[coo.col].astype(str)),
        "intensity": pa.array(coo.data.astype(np.float32)),
        "exposed_length_m": pa.array(exposed.astype(np.float32)),
    })
    meta = {
        "events": eventset.events.to_dict(orient="list"),
        "asset_ids": [str(a) for a in eventset.asset_ids],
        "metadata": eventset.metadata,
    }
    table = table.replace_schema_metadata({_META_KEY: json.dumps(meta, default=str).encode()})
    with atomic_file(path) as tmp:
        pq.write_table(table, tmp)
    return path


def read_eventset(path: str | Path) -> EventSet:
    """Read an EventSet written by :func:`write_eventset`."""
    path = Path(path)
    if not path.exists():
        raise CascadaInputError("event set not found", file=path)
    try:
        table = pq.read_table(path)
    except Exception as exc:
        raise CascadaInputError(f"cannot read as Parquet: {exc}", file=path) from exc
    raw = (table.schema.metadata or {}).get(_META_KEY)
    if raw is None:
        raise CascadaInputError("not a cascada event set (no event metadata)", file=path,
                                hint="write it with `cascada hazard ... -o FILE.parquet`")
    meta = json.loads(raw)
    events = pd.DataFrame(meta["events"])
    asset_ids = np.asarray(meta["asset_ids"], dtype=object)
    column = pd.Index(asset_ids).get_indexer(table.column("asset_id").to_pylist())
    rows = table.column("event").to_numpy()
    shape = (len(events), len(asset_ids))
    intensity = sparse.csr_matrix((table.column("intensity").to_numpy(), (rows, column)),
                                  shape=shape)
    exposed = sparse.csr_matrix((table.column("exposed_length_m").to_numpy(), (rows, column)),
                                shape=shape)
    return EventSet(intensity, asset_ids, events, exposed, meta.get("metadata", {}))
