"""Percentile-bootstrap confidence intervals for any metric.

``bootstrap_ci(metric_fn, y_true, y_pred)`` resamples the *pairs* (y_true[i], y_pred[i])
with replacement ``n_resamples`` times, evaluates ``metric_fn`` on each resample, and
returns the ``(1 - confidence)/2`` and ``(1 + confidence)/2`` percentiles of those values
(the percentile bootstrap of Efron & Tibshirani, 1993, §13.3)::

    θ*_b = metric_fn(y_true[I_b], y_pred[I_b]),  I_b ~ Uniform{0..n-1}^n,  b = 1..B
    CI   = ( q_{α/2}(θ*), q_{1-α/2}(θ*) ),      α = 1 - confidence

Percentiles use NumPy's default (linear) interpolation. The resampling is reproducible:
the indices come from ``numpy.random.default_rng(seed)``.

Choices, stated because libraries differ:
- Percentile, not BCa or basic: simple, transformation-respecting, and what most
  affective-computing papers report. ``scipy.stats.bootstrap(method="percentile")``
  gives the same interval up to resampling noise.
- Resamples whose metric is NaN (e.g. a resample with constant predictions for CCC)
  are dropped with a warning saying how many; if all are NaN the interval is (nan, nan).
- Fewer than two pairs: warns and returns (nan, nan).
"""
from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["bootstrap_ci", "bootstrap_distribution"]


def bootstrap_distribution(metric_fn: Callable[..., float], y_true: Any, y_pred: Any, *,
                           n_resamples: int = 1000, seed: int = 0) -> np.ndarray:
    """The B bootstrap replicates θ*_b of ``metric_fn`` (float64, NaN kept)."""
    yt = np.asarray(y_true)
    yp = np.asarray(y_pred)
    if yt.shape[:1] != yp.shape[:1]:
        raise ValueError(f"y_true and y_pred must have the same length, got {yt.shape[0]} "
                         f"and {yp.shape[0]}")
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be >= 1, got {n_resamples}")
    n = yt.shape[0]
    rng = np.random.default_rng(seed)
    out = np.empty(n_resamples, dtype=np.float64)
    with warnings.catch_warnings():
        # a degenerate resample warns inside metric_fn; report them once, below
        warnings.simplefilter("ignore", RuntimeWarning)
        for b in range(n_resamples):
            idx = rng.integers(0, n, size=n)
            out[b] = float(metric_fn(yt[idx], yp[idx]))
    return out


def bootstrap_ci(metric_fn: Callable[..., float], y_true: Any, y_pred: Any, *,
                 n_resamples: int = 1000, confidence: float = 0.95,
                 seed: int = 0) -> tuple[float, float]:
    """Percentile-bootstrap CI of ``metric_fn(y_true, y_pred)`` over resampled pairs.

    Returns ``(low, high)`` = the α/2 and 1 − α/2 percentiles of B = ``n_resamples``
    replicates, α = 1 − ``confidence``. See the module docstring for the NaN policy.
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    n = np.asarray(y_true).shape[0] if np.ndim(y_true) else 0
    if n < 2:
        warnings.warn(f"bootstrap_ci needs at least 2 pairs, got {n}; returning (nan, nan)",
                      RuntimeWarning, stacklevel=2)
        return float("nan"), float("nan")
    reps = bootstrap_distribution(metric_fn, y_true, y_pred, n_resamples=n_resamples, seed=seed)
    finite = reps[~np.isnan(reps)]
    if finite.size < reps.size:
        warnings.warn(f"{reps.size - finite.size} of {reps.size} bootstrap resamples gave NaN "
                      "(degenerate resample) and were dropped", RuntimeWarning, stacklevel=2)
    if finite.size == 0:
        return float("nan"), float("nan")
    alpha = 1.0 - confidence
    low, high = np.percentile(finite, [100 * alpha / 2, 100 * (1 - alpha / 2)])
    return float(low), float(high)
