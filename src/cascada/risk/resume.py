"""Finished blocks of a risk run on disk, so an interrupted run can resume.

A run writing to ``RUN`` keeps its finished event blocks in ``RUN.partial/``::

    RUN.partial/run.json                 what the run was asked (to resume it) and
                                         a fingerprint of its inputs and settings
    RUN.partial/blocks/block-00012.npz   one finished block (written atomically)

``RUN`` itself appears only when the whole run is written (the atomic rename of
:func:`cascada.store.runfolder.atomic_folder`), after which ``RUN.partial`` is
removed; so an interrupted run never looks complete, and resuming it runs only
the blocks that are missing. Block results are keyed by event, so the resumed
run equals an uninterrupted one exactly.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np

from cascada.datafile import atomic_file, atomic_write_text
from cascada.errors import CascadaInputError
from cascada.hazards.eventset import EventSet
from cascada.risk.montecarlo import BlockResult

PARTIAL_SUFFIX = ".partial"


def partial_folder(run: str | Path) -> Path:
    """``RUN.partial`` beside the run folder ``RUN``."""
    run = Path(run)
    return run.with_name(run.name + PARTIAL_SUFFIX)


def eventset_digest(eventset: EventSet) -> str:
    """SHA-256 of an event set's numbers (intensity, exposed length, event table)."""
    h = hashlib.sha256()
    for matrix in (eventset.intensity, eventset.exposed_length_m):
        if matrix is None:
            h.update(b"none")
            continue
        m = matrix.tocsr()
        for part in (np.asarray(m.shape), m.indptr, m.indices, m.data):
            h.update(np.ascontiguousarray(part).tobytes())
    events = eventset.events
    h.update(events[["hazard", "annual_rate", "time_offset_hours"]]
             .to_csv(index=False).encode())
    return h.hexdigest()


class BlockFolder:
    """A :class:`cascada.risk.montecarlo.BlockStore` in ``RUN.partial/blocks``.

    fingerprint: what makes blocks reusable (seed, samples, hours,
    events_per_block, input digests); a folder written with another one is
    refused. request: how the run was asked for (stored for ``--resume``).
    """

    def __init__(self, folder: str | Path, fingerprint: dict, request: dict | None = None
                 ) -> None:
        self.folder = Path(folder)
        self.blocks = self.folder / "blocks"
        meta = self.folder / "run.json"
        if meta.is_file():
            stored = json.loads(meta.read_text(encoding="utf-8"))
            if stored.get("fingerprint") != json.loads(json.dumps(fingerprint)):
                raise CascadaInputError(
                    "the unfinished run was started with other inputs or settings",
                    file=meta, field="fingerprint",
                    hint="resume with the same scenario and options, or remove the folder")
        else:
            self.blocks.mkdir(parents=True, exist_ok=True)
            atomic_write_text(meta, json.dumps({"fingerprint": fingerprint,
                                                "request": request or {}},
                                               indent=2, sort_keys=True) + "\n")
        self.blocks.mkdir(parents=True, exist_ok=True)

    def load(self) -> dict[int, BlockResult]:
        """The finished blocks: {block index: result}."""
        out = {}
        for path in sorted(self.blocks.glob("block-*.npz")):
            with np.load(path) as arrays:
                result = BlockResult.from_arrays(arrays)
            out[result.index] = result
        return out

    def save(self, result: BlockResult) -> None:
        """Write one finished block (atomically: a reader never sees half a file)."""
        with atomic_file(self.blocks / f"block-{result.index:05d}.npz") as tmp:
            np.savez(tmp, **result.arrays())

    def remove(self) -> None:
        """Delete the folder (once the run folder is complete)."""
        shutil.rmtree(self.folder, ignore_errors=True)


def read_request(run: str | Path) -> dict:
    """How an unfinished run was asked for (``RUN.partial/run.json``)."""
    meta = partial_folder(run) / "run.json"
    if not meta.is_file():
        raise CascadaInputError("no unfinished run to resume here", file=partial_folder(run),
                                hint="check the run folder name (without .partial)")
    return json.loads(meta.read_text(encoding="utf-8")).get("request", {})
