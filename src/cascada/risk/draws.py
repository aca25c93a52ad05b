"""Counter-based random numbers keyed by (run, event, asset, sample, stream).

Every uniform of a risk run is a pure function of the run key (from the seed),
the event's position in the event set, the asset's position, the sample and
the stream (0: damage state, 1: repair time): a SplitMix64 stream seeded per
(event, asset). So a run draws only for the exposed assets of an event
(O(exposed × samples), not O(assets × samples)), and its numbers do not depend
on the backend, the number of workers or the size of the event blocks; sample
s of an event is the same whether a run has 64 or 1000 samples.
"""

from __future__ import annotations

import numba as nb
import numpy as np

DAMAGE_STREAM = 0
REPAIR_STREAM = 1

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_ASSET = np.uint64(0xD1B54A32D192ED03)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_TO_UNIT = 1.0 / 9007199254740992.0  # 2**-53


@nb.njit(cache=True)
def _mix(z):
    """SplitMix64 finaliser (a bijection of uint64 with full avalanche)."""
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


@nb.njit(cache=True)
def _keyed_uniforms(key, event, assets, n_samples, stream, out):
    ev = _mix(key + np.uint64(event + 1) * _GOLDEN)
    for j in range(assets.shape[0]):
        base = _mix(ev ^ _mix(np.uint64(assets[j] + 1) * _ASSET))
        for s in range(n_samples):
            z = _mix(base + np.uint64(2 * s + stream + 1) * _GOLDEN)
            out[s, j] = np.float64(z >> np.uint64(11)) * _TO_UNIT


def run_key(seed: int) -> int:
    """The 64-bit key of a run's random numbers, from its seed."""
    return int(np.random.SeedSequence(seed).generate_state(1, np.uint64)[0])


def keyed_uniforms(key: int, event: int, assets: np.ndarray, n_samples: int,
                   stream: int = DAMAGE_STREAM) -> np.ndarray:
    """Uniforms in [0, 1) for one event: float64 [n_samples, len(assets)].

    key: :func:`run_key` of the seed; event: position in the event set;
    assets: int positions; stream: DAMAGE_STREAM or REPAIR_STREAM.
    """
    assets = np.ascontiguousarray(np.asarray(assets, dtype=np.int64).reshape(-1))
    out = np.empty((n_samples, len(assets)), dtype=np.float64)
    _keyed_uniforms(np.uint64(key), np.int64(event), assets, n_samples, np.int64(stream), out)
    return out
