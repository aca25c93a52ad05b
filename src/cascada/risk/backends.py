"""Execution backends: where the blocks of a risk run are computed.

One small protocol, ``Backend.map(fn, blocks) -> list``: results come back in
the order of ``blocks``. Random numbers are seeded per block, so every backend
gives bit-identical results.

- :class:`SerialBackend`: this process, one block after another.
- :class:`ProcessBackend`: a local process pool (``spawn`` start method).
- :class:`DaskBackend`: a Dask ``LocalCluster`` of worker processes, or an
  existing cluster by scheduler address (``--scheduler`` or the
  ``CASCADA_SCHEDULER`` environment variable). Needs ``cascada[dask]``.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any, Protocol

from cascada.errors import require

Progress = Callable[[int, int], None]

SCHEDULER_ENV = "CASCADA_SCHEDULER"


class Backend(Protocol):
    """Maps a function over blocks; returns the results in the order of the blocks."""

    def map(self, fn: Callable[[Any], Any], blocks: Sequence[Any],
            progress: Progress | None = None) -> list: ...


class SerialBackend:
    """Run every block in this process, in order."""

    def map(self, fn: Callable[[Any], Any], blocks: Sequence[Any],
            progress: Progress | None = None) -> list:
        out = []
        for i, block in enumerate(blocks):
            out.append(fn(block))
            if progress:
                progress(i + 1, len(blocks))
        return out


class ProcessBackend:
    """A pool of ``workers`` local processes (spawn: no inherited state, no fork issues)."""

    def __init__(self, workers: int = 2) -> None:
        if workers < 1:
            raise ValueError("workers must be >= 1")
        self.workers = workers

    def map(self, fn: Callable[[Any], Any], blocks: Sequence[Any],
            progress: Progress | None = None) -> list:
        context = multiprocessing.get_context("spawn")
        out: list = [None] * len(blocks)
        with ProcessPoolExecutor(self.workers, mp_context=context) as pool:
            futures = {pool.submit(fn, block): i for i, block in enumerate(blocks)}
            for done, future in enumerate(as_completed(futures), 1):
                out[futures[future]] = future.result()
                if progress:
                    progress(done, len(blocks))
        return out


class DaskBackend:
    """Dask distributed: a LocalCluster of ``workers`` processes, or an existing
    cluster at ``scheduler`` (e.g. ``tcp://host:8786``).

    The function (with its compiled region) is scattered once and each block is
    one task. Use as a context manager, or call :meth:`close`, to stop a
    LocalCluster this backend started.
    """

    def __init__(self, workers: int | None = None, scheduler: str | None = None) -> None:
        self.workers = workers
        self.scheduler = scheduler
        self._client = None
        self._cluster = None

    def _connect(self):
        if self._client is None:
            distributed = require("dask.distributed", "dask")
            if self.scheduler:
                self._client = distributed.Client(self.scheduler)
            else:
                self._cluster = distributed.LocalCluster(
                    n_workers=self.workers or 2, threads_per_worker=1, processes=True,
                    dashboard_address=None, silence_logs=40)
                self._client = distributed.Client(self._cluster)
        return self._client

    def map(self, fn: Callable[[Any], Any], blocks: Sequence[Any],
            progress: Progress | None = None) -> list:
        distributed = require("dask.distributed", "dask")
        client = self._connect()
        remote_fn = client.scatter(fn, broadcast=True)
        futures = [client.submit(_call, remote_fn, block, pure=False) for block in blocks]
        index = {f.key: i for i, f in enumerate(futures)}
        out: list = [None] * len(blocks)
        for done, future in enumerate(distributed.as_completed(futures), 1):
            out[index[future.key]] = future.result()
            future.release()
            if progress:
                progress(done, len(blocks))
        return out

    def close(self) -> None:
        """Close the client and any LocalCluster this backend started."""
        if self._client is not None:
            self._client.close()
        if self._cluster is not None:
            self._cluster.close()
        self._client = self._cluster = None

    def __enter__(self) -> DaskBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _call(fn: Callable[[Any], Any], block: Any) -> Any:
    return fn(block)


def make_backend(workers: int = 1, scheduler: str | None = None,
                 kind: str | None = None) -> Backend:
    """The backend the CLI asks for.

    scheduler (or ``CASCADA_SCHEDULER``): Dask cluster at that address.
    kind: "serial", "processes" or "dask"; default: serial for 1 worker, else Dask
    LocalCluster with ``workers`` processes.
    """
    scheduler = scheduler or os.environ.get(SCHEDULER_ENV) or None
    if scheduler:
        return DaskBackend(scheduler=scheduler)
    kind = kind or ("serial" if workers <= 1 else "dask")
    if kind == "serial":
        return SerialBackend()
    if kind == "processes":
        return ProcessBackend(workers)
    if kind == "dask":
        return DaskBackend(workers=workers)
    raise ValueError(f"unknown backend {kind!r}: serial, processes or dask")


def close_backend(backend: Backend) -> None:
    """Release what a backend holds (a Dask cluster); a no-op for the others."""
    close = getattr(backend, "close", None)
    if close is not None:
        close()
