"""EASI: probability of interruption along one adversary path, analytic and simulated.

EASI (Estimate of Adversary Sequence Interruption; Sandia, Bennett 1977;
Garcia, *Design and Evaluation of Physical Protection Systems*, 2nd ed.,
Butterworth-Heinemann 2008, ch. 14) for a path of n steps with detection
probabilities P_Di, delays with mean μ_i and standard deviation σ_i
(seconds, normal), detection location factors f_i (1 = beginning, 0.5 =
middle, 0 = end of step i), communication probability P_C and response force
time with mean μ_R and standard deviation σ_R (seconds)::

    P_I = Σ_i P_C · P_Di · Π_{j<i} (1 − P_Dj) · Φ((m_i − μ_R) / √(v_i + σ_R²))
    m_i = f_i·μ_i + Σ_{k>i} μ_k                 (mean time left after detection)
    v_i = f_i²·σ_i² + Σ_{k>i} σ_k²              (its variance)

Only the first detection counts (a detection whose alarm is not communicated
is lost). Φ is the standard normal distribution function; where the variance
is zero Φ becomes a step (1 if m_i > μ_R, ½ if equal, 0 otherwise). The
probability of effectiveness is P_E = P_I × P_N.

:func:`simulate_interruption` draws the same model — independent normal step
delays and response time, Bernoulli detections and communication — so its
estimate agrees with :func:`probability_of_interruption` within sampling
error (the analytic value is exact for this model; delays are not truncated
at zero, as in EASI).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import ndtr

__all__ = [
    "PathArrays",
    "SimulationResult",
    "interruption_terms",
    "probability_of_effectiveness",
    "probability_of_interruption",
    "simulate_interruption",
]


@dataclass(frozen=True)
class PathArrays:
    """One path (or a batch of paths, padded) as arrays; last axis = steps.

    p_detection: in [0, 1]; location_factor: 1, 0.5 or 0; delay_mean_s,
    delay_sd_s: seconds. Padding steps have zero detection and delay.
    """

    p_detection: np.ndarray
    location_factor: np.ndarray
    delay_mean_s: np.ndarray
    delay_sd_s: np.ndarray

    @classmethod
    def from_lists(cls, p_detection: ArrayLike, location_factor: ArrayLike,
                   delay_mean_s: ArrayLike, delay_sd_s: ArrayLike) -> PathArrays:
        arrays = np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in
                                       (p_detection, location_factor, delay_mean_s,
                                        delay_sd_s)))
        return cls(*(np.array(a) for a in arrays))


def _reverse_exclusive_cumsum(values: np.ndarray) -> np.ndarray:
    """Σ_{k>i} values_k along the last axis."""
    total = np.cumsum(values[..., ::-1], axis=-1)[..., ::-1]
    return total - values


def interruption_terms(
    p_detection: ArrayLike,
    location_factor: ArrayLike,
    delay_mean_s: ArrayLike,
    delay_sd_s: ArrayLike,
    response_mean_s: ArrayLike,
    response_sd_s: ArrayLike,
    p_communication: ArrayLike = 1.0,
) -> dict[str, np.ndarray]:
    """The EASI terms of each step (see the module docstring).

    Arrays broadcast; the last axis of the step arrays is the path's steps;
    response and communication values broadcast against the leading axes.
    Returns a dict of arrays shaped like the steps: ``p_first_detection``
    (P_Di Π_{j<i}(1 − P_Dj)), ``remaining_mean_s`` (m_i), ``remaining_var_s2``
    (v_i), ``p_timely`` (Φ term) and ``contribution`` (P_C × the two).
    """
    p_detection = np.asarray(p_detection, dtype=float)
    location_factor = np.asarray(location_factor, dtype=float)
    mean = np.asarray(delay_mean_s, dtype=float)
    sd = np.asarray(delay_sd_s, dtype=float)
    response_mean = np.asarray(response_mean_s, dtype=float)[..., None]
    response_sd = np.asarray(response_sd_s, dtype=float)[..., None]
    p_c = np.asarray(p_communication, dtype=float)[..., None]
    p_detection, location_factor, mean, sd = np.broadcast_arrays(
        p_detection, location_factor, mean, sd)
    miss = np.cumprod(1.0 - p_detection, axis=-1)
    miss_before = np.concatenate([np.ones_like(miss[..., :1]), miss[..., :-1]], axis=-1)
    p_first = p_detection * miss_before
    remaining_mean = location_factor * mean + _reverse_exclusive_cumsum(mean)
    remaining_var = (location_factor * sd) ** 2 + _reverse_exclusive_cumsum(sd**2)
    margin = remaining_mean - response_mean
    scale = np.sqrt(remaining_var + response_sd**2)
    with np.errstate(divide="ignore", invalid="ignore"):
        p_timely = np.where(scale > 0, ndtr(margin / np.where(scale > 0, scale, 1.0)),
                            np.where(margin > 0, 1.0, np.where(margin == 0, 0.5, 0.0)))
    contribution = p_c * p_first * p_timely
    return {
        "p_first_detection": p_first,
        "remaining_mean_s": remaining_mean,
        "remaining_var_s2": np.broadcast_to(remaining_var, contribution.shape),
        "p_timely": p_timely,
        "contribution": contribution,
    }


def probability_of_interruption(
    p_detection: ArrayLike,
    location_factor: ArrayLike,
    delay_mean_s: ArrayLike,
    delay_sd_s: ArrayLike,
    response_mean_s: ArrayLike,
    response_sd_s: ArrayLike,
    p_communication: ArrayLike = 1.0,
) -> np.ndarray | float:
    """EASI probability of interruption P_I (Garcia 2008, ch. 14; formula above).

    Step arrays have the path's steps on the last axis (leading axes: a batch
    of paths or of uncertainty samples, padded with zero steps); response
    mean/sd in seconds and P_C broadcast against the leading axes.
    Returns P_I in [0, 1]: a float for one path, else an array of the
    leading shape.
    """
    terms = interruption_terms(p_detection, location_factor, delay_mean_s, delay_sd_s,
                               response_mean_s, response_sd_s, p_communication)
    result = terms["contribution"].sum(axis=-1)
    return float(result) if result.ndim == 0 else result


def probability_of_effectiveness(p_interruption: ArrayLike,
                                 p_neutralisation: ArrayLike | None) -> np.ndarray | float:
    """P_E = P_I × P_N (P_N = 1 when not given)."""
    p_n = 1.0 if p_neutralisation is None else p_neutralisation
    result = np.asarray(p_interruption, dtype=float) * np.asarray(p_n, dtype=float)
    return float(result) if result.ndim == 0 else result


@dataclass(frozen=True)
class SimulationResult:
    """Monte-Carlo estimate of P_I: ``p_interruption`` ± ``standard_error`` (n samples)."""

    p_interruption: float
    standard_error: float
    n_samples: int


def simulate_interruption(
    p_detection: ArrayLike,
    location_factor: ArrayLike,
    delay_mean_s: ArrayLike,
    delay_sd_s: ArrayLike,
    response_mean_s: float,
    response_sd_s: float,
    p_communication: float = 1.0,
    *,
    n_samples: int = 100_000,
    rng: np.random.Generator,
    chunk: int = 65_536,
) -> SimulationResult:
    """Monte-Carlo P_I of one path, vectorised over samples (same model as EASI).

    Each sample draws step delays ~ N(μ_i, σ_i²), detections ~ Bernoulli(P_Di),
    communication ~ Bernoulli(P_C) and the response time ~ N(μ_R, σ_R²). The
    adversary is interrupted when the first detection is communicated and the
    response arrives before the adversary finishes: R < f_i·X_i + Σ_{k>i} X_k.
    rng: a seeded ``numpy.random.Generator`` (the same seed gives the same
    estimate). Returns the estimate and its standard error.
    """
    p_d = np.asarray(p_detection, dtype=float)
    f = np.asarray(location_factor, dtype=float)
    mean = np.asarray(delay_mean_s, dtype=float)
    sd = np.asarray(delay_sd_s, dtype=float)
    p_d, f, mean, sd = np.broadcast_arrays(p_d, f, mean, sd)
    if p_d.ndim != 1:
        raise ValueError("simulate_interruption takes one path (1-D step arrays)")
    n_steps = p_d.shape[0]
    hits = 0
    done = 0
    while done < n_samples:
        size = min(chunk, n_samples - done)
        delays = mean + sd * rng.standard_normal((size, n_steps))
        detected = rng.random((size, n_steps)) < p_d
        communicated = rng.random(size) < p_communication
        response = response_mean_s + response_sd_s * rng.standard_normal(size)
        any_detection = detected.any(axis=1)
        first = np.argmax(detected, axis=1)
        after = _reverse_exclusive_cumsum(delays)
        rows = np.arange(size)
        remaining = f[first] * delays[rows, first] + after[rows, first]
        interrupted = any_detection & communicated & (response < remaining)
        hits += int(interrupted.sum())
        done += size
    estimate = hits / n_samples
    standard_error = float(np.sqrt(max(estimate * (1 - estimate), 1e-12) / n_samples))
    return SimulationResult(estimate, standard_error, n_samples)
