"""Execution backends: where the blocks of a risk run are computed.

One small protocol, ``Backend.map(fn, blocks)``: an iterator of
``(position in blocks, fn(block))`` pairs in the order the blocks finish, so a
caller can save and add up each result as it arrives (and resume a run from
the saved ones). Random numbers are keyed by event, not by worker, so every
backend gives bit-identical results.

- :class:`SerialBackend`: this process, one block after another.
- :class:`ProcessBackend`: a local process pool (``spawn`` start method).
- :class:`DaskBackend`: a Dask ``LocalCluster`` of worker processes, or an
  existing cluster by scheduler address (``--scheduler`` or the
  ``CASCADA_SCHEDULER`` environment variable). Needs ``cascada[dask]``.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any, Protocol

from cascada.errors import require

Progress = Callable[[int, int], None]

SCHEDULER_ENV = "CASCADA_SCHEDULER"

#: glibc malloc settings for the Dask workers this package starts. Dask's default
#: (MALLOC_TRIM_THRESHOLD_=65536) also fixes glibc's mmap threshold, so every
#: array over 128 KiB is a fresh mmap: a block then costs ~1.5× its CPU time in
#: page faults. Workers of an existing cluster benefit from the same variables.
WORKER_MALLOC_ENV = {"MALLOC_TRIM_THRESHOLD_": 268435456, "MALLOC_MMAP_THRESHOLD_": 33554432}


class Backend(Protocol):
    """Maps a function over blocks; yields (position, result) as blocks finish."""

    def map(self, fn: Callable[[Any], Any], blocks: Sequence[Any],
            progress: Progress | None = None) -> Iterator[tuple[int, Any]]: ...


class SerialBackend:
    """Run every block in this process, in order."""

    def map(self, fn: Callable[[Any], Any], blocks: Sequence[Any],
            progress: Progress | None = None) -> Iterator[tuple[int, Any]]:
        for i, block in enumerate(blocks):
            result = fn(block)
            if progress:
                progress(i + 1, len(blocks))
            yield i, result


class ProcessBackend:
    """A pool of ``workers`` local processes (spawn: no inherited state, no fork issues)."""

    def __init__(self, workers: int = 2) -> None:
        if workers < 1:
            raise ValueError("workers must be >= 1")
        self.workers = workers

    def map(self, fn: Callable[[Any], Any], blocks: Sequence[Any],
            progress: Progress | None = None) -> Iterator[tuple[int, Any]]:
        if not blocks:
            return
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(self.workers, mp_context=context) as pool:
            futures = {pool.submit(fn, block): i for i, block in enumerate(blocks)}
            try:
                for done, future in enumerate(as_completed(futures), 1):
                    result = future.result()
                    if progress:
                        progress(done, len(blocks))
                    yield futures[future], result
            finally:  # the caller stopped early (an error): drop what has not started
                pool.shutdown(wait=True, cancel_futures=True)


class DaskBackend:
    """Dask distributed: a LocalCluster of ``workers`` processes, or an existing
    cluster at ``scheduler`` (e.g. ``tcp://host:8786``).

    The function (with its compiled region) is scattered once and each block is
    one task. A LocalCluster's workers get :data:`WORKER_MALLOC_ENV`. Use as a
    context manager, or call :meth:`close`, to stop a LocalCluster this backend
    started.
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
                dask = require("dask", "dask")
                environ = {**dask.config.get("distributed.nanny.pre-spawn-environ", {}),
                           **WORKER_MALLOC_ENV}
                with dask.config.set({"distributed.nanny.pre-spawn-environ": environ}):
                    self._cluster = distributed.LocalCluster(
                        n_workers=self.workers or 2, threads_per_worker=1, processes=True,
                        dashboard_address=None, silence_logs=40)
                self._client = distributed.Client(self._cluster)
        return self._client

    def map(self, fn: Callable[[Any], Any], blocks: Sequence[Any],
            progress: Progress | None = None) -> Iterator[tuple[int, Any]]:
        if not blocks:
            return
        distributed = require("dask.distributed", "dask")
        client = self._connect()
        remote_fn = client.scatter(fn, broadcast=True)
        futures = [client.submit(_call, remote_fn, block, pure=False) for block in blocks]
        index = {f.key: i for i, f in enumerate(futures)}
        try:
            for done, future in enumerate(distributed.as_completed(futures), 1):
                result = future.result()
                future.release()
                if progress:
                    progress(done, len(blocks))
                yield index[future.key], result
        finally:
            for future in futures:
                future.cancel()
            remote_fn.release()

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
