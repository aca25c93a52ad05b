"""EventSet: validation and the Parquet round trip."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from cascada.errors import CascadaInputError
from cascada.hazards.eventset import EventSet, read_eventset, write_eventset


def _eventset() -> EventSet:
    intensity = sparse.csr_matrix(np.array([[0.0, 0.3, 0.0], [0.0, 0.0, 0.0], [1.2, 0, 0.1]]))
    events = pd.DataFrame({"event_id": ["eq", "quiet", "ts"],
                           "hazard": ["earthquake", "earthquake", "tsunami"],
                           "annual_rate": [0.01, 0.02, 0.0], "parent": [-1, -1, 0],
                           "time_offset_hours": [0.0, 0.0, 0.5]})
    return EventSet(intensity, np.array(["a", "b", "c"], dtype=object), events)


def test_round_trip_keeps_empty_events(tmp_path):
    es = _eventset()
    path = write_eventset(es, tmp_path / "es.parquet")
    back = read_eventset(path)
    assert (back.intensity != es.intensity).nnz == 0
    pd.testing.assert_frame_equal(back.events, es.events, check_dtype=False)
    assert list(back.asset_ids) == ["a", "b", "c"]
    assert back.n_events == 3 and back.exposed_assets(1).size == 0
    assert [p.name for p in tmp_path.iterdir()] == ["es.parquet"]


def test_nan_intensity_is_an_error():
    es = _eventset()
    bad = es.intensity.copy()
    bad.data[0] = np.nan
    with pytest.raises(CascadaInputError, match="NaN"):
        EventSet(bad, es.asset_ids, es.events)


def test_unknown_hazard_names_the_row():
    es = _eventset()
    events = es.events.copy()
    events.loc[2, "hazard"] = "meteor"
    with pytest.raises(CascadaInputError, match=r"row 2.*meteor"):
        EventSet(es.intensity, es.asset_ids, events)


def test_not_an_eventset(tmp_path):
    path = tmp_path / "plain.parquet"
    pd.DataFrame({"x": [1]}).to_parquet(path)
    with pytest.raises(CascadaInputError, match="not a cascada event set"):
        read_eventset(path)
