"""Distances between distributions: 1-D Wasserstein, KL and Jensen–Shannon divergence.

**wasserstein_1d(u, v)** — u and v are two samples of (ordinal or real) responses, e.g.
Likert ratings of humans vs. of an LLM persona, optionally weighted. With U, V their
empirical CDFs and t_1 < … < t_m the sorted union of observed values (or the category
positions 0..K−1 when ``categories`` is given, i.e. unit spacing between ordered levels):

    W1(u, v) = ∫ |U(t) − V(t)| dt = Σ_i |U(t_i) − V(t_i)|·(t_{i+1} − t_i)

Same value as ``scipy.stats.wasserstein_distance``. Streaming state: a weighted histogram
of each sample (value → weight), merged by addition. Lower is better.

**kl_divergence(p, q)**, **js_divergence(p, q)** — p and q are distributions over the
same K categories, given as probabilities or counts (each is normalised to sum 1):

    KL(p‖q) = Σ_i p_i·log(p_i/q_i)    (0·log(0/q) = 0)
    JS(p, q) = ½·KL(p‖m) + ½·KL(q‖m),  m = (p + q)/2     (0 ≤ JS ≤ log 2)

Natural log unless ``base`` is given. JS is the divergence, not scipy's Jensen–Shannon
*distance* (its square root). Streaming state: the running sums of p and q (histogram
accumulation: pass counts per batch). Lower is better.

Degenerate input: an empty sample, all-zero weights or NaN warn and return NaN. KL with
q_i = 0 < p_i is +∞ (the true value, as scipy's ``entropy``) and warns; ``smoothing``
adds a pseudo-count to every category first when that is not wanted. Negative
probabilities or weights raise ValueError.
"""
from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

from affrepro.lazy import lazy_module
from affrepro.plugins.metrics._base import StreamingMetric, degenerate

np = lazy_module("numpy")  # imported on first use: loading the plugins stays NumPy-free

__all__ = ["Wasserstein1D", "KLDivergence", "JSDivergence", "wasserstein_1d", "kl_divergence",
           "js_divergence"]


def _weighted_hist(values: Any, weights: Any, categories: list | None, what: str
                   ) -> dict[Any, float]:
    v = np.asarray(values).reshape(-1)
    if categories is None:
        v = v.astype(np.float64)
    w = np.ones(v.size) if weights is None else np.asarray(weights, dtype=np.float64).reshape(-1)
    if w.shape != v.shape:
        raise ValueError(f"{what} weights must match its values, got {w.size} and {v.size}")
    if (w < 0).any():
        raise ValueError(f"{what} weights must be non-negative")
    if categories is not None:
        unknown = set(v.tolist()) - set(categories)
        if unknown:
            raise ValueError(f"{what} holds values {sorted(unknown, key=repr)!r} not in "
                             f"categories={categories!r}")
    out: dict[Any, float] = {}
    if v.size == 0:
        return out
    uniq, inv = np.unique(v, return_inverse=True)
    sums = np.bincount(inv.reshape(-1), weights=w, minlength=uniq.size)
    for val, s in zip(uniq.tolist(), sums.tolist()):
        out[val] = out.get(val, 0.0) + s
    return out


def _add_hist(a: dict, b: dict) -> None:
    for k, w in b.items():
        a[k] = a.get(k, 0.0) + w


class Wasserstein1D(StreamingMetric):
    """W1(u, v) = Σ_i |U(t_i) − V(t_i)|·(t_{i+1} − t_i); lower is better.

    ``update(u_values, v_values, u_weights=None, v_weights=None)``; ``categories``: the
    ordered levels of an ordinal scale (positions 0..K−1 are used as coordinates).
    """

    name = "wasserstein_1d"
    description = "1-D Wasserstein (earth mover's) distance between two response samples"
    formula = "W1 = ∫ |U(t) − V(t)| dt"
    higher_is_better = False

    def __init__(self, *, categories: Sequence | None = None):
        self._opts = {"categories": None if categories is None else list(categories)}
        self.categories = self._opts["categories"]
        self.u: dict[Any, float] = {}
        self.v: dict[Any, float] = {}

    def update(self, y_true: Any, y_pred: Any, u_weights: Any = None,
               v_weights: Any = None) -> Wasserstein1D:
        _add_hist(self.u, _weighted_hist(y_true, u_weights, self.categories, "u"))
        _add_hist(self.v, _weighted_hist(y_pred, v_weights, self.categories, "v"))
        return self

    def _merge_state(self, other: Wasserstein1D) -> None:
        _add_hist(self.u, other.u)
        _add_hist(self.v, other.v)

    def compute(self) -> float:
        tu, tv = sum(self.u.values()), sum(self.v.values())
        if tu <= 0 or tv <= 0:
            return degenerate(self.name, "a sample is empty (or has zero total weight)")
        if self.categories is not None:
            pos = {c: float(i) for i, c in enumerate(self.categories)}
            u = {pos[k]: w for k, w in self.u.items()}
            v = {pos[k]: w for k, w in self.v.items()}
        else:
            u, v = self.u, self.v
        if any(math.isnan(k) for k in list(u) + list(v)):
            return degenerate(self.name, "the input contains NaN")
        support = np.array(sorted(set(u) | set(v)), dtype=np.float64)
        if np.isinf(support).any():
            return degenerate(self.name, "the input contains inf")
        pu = np.array([u.get(t, 0.0) for t in support.tolist()]) / tu
        pv = np.array([v.get(t, 0.0) for t in support.tolist()]) / tv
        cdf_gap = np.abs(np.cumsum(pu) - np.cumsum(pv))[:-1]
        return float((cdf_gap * np.diff(support)).sum())


class _DivergenceMetric(StreamingMetric):
    higher_is_better = False

    def __init__(self, *, base: float | None = None, smoothing: float = 0.0):
        if smoothing < 0:
            raise ValueError(f"smoothing must be >= 0, got {smoothing}")
        self._opts = {"base": base, "smoothing": smoothing}
        self.base, self.smoothing = base, smoothing
        self.p: np.ndarray | None = None
        self.q: np.ndarray | None = None

    def update(self, y_true: Any, y_pred: Any) -> _DivergenceMetric:
        p = np.asarray(y_true, dtype=np.float64)
        q = np.asarray(y_pred, dtype=np.float64)
        if p.shape != q.shape or p.ndim not in (1, 2):
            raise ValueError(f"p and q must be 1-D distributions (or 2-D batches of them, "
                             f"summed) of the same shape, got {p.shape} and {q.shape}")
        if p.ndim == 2:
            p, q = p.sum(axis=0), q.sum(axis=0)
        if (p < 0).any() or (q < 0).any():
            raise ValueError("probabilities/counts must be non-negative")
        if self.p is not None and self.p.shape != p.shape:
            raise ValueError(f"expected {self.p.size} categories, got {p.size}")
        self.p = p.copy() if self.p is None else self.p + p
        self.q = q.copy() if self.q is None else self.q + q
        return self

    def _merge_state(self, other: _DivergenceMetric) -> None:
        if other.p is None:
            return
        if self.p is None:
            self.p, self.q = other.p.copy(), other.q.copy()
        else:
            self.p, self.q = self.p + other.p, self.q + other.q

    def _normalised(self) -> tuple[np.ndarray, np.ndarray] | str:
        if self.p is None or self.p.size == 0:
            return "no categories"
        if np.isnan(self.p).any() or np.isnan(self.q).any():
            return "the input contains NaN"
        p, q = self.p + self.smoothing, self.q + self.smoothing
        if p.sum() <= 0 or q.sum() <= 0:
            return "p or q sums to 0"
        return p / p.sum(), q / q.sum()

    def _log(self, a: np.ndarray) -> np.ndarray:
        return np.log(a) / (math.log(self.base) if self.base else 1.0)

    def _kl(self, p: np.ndarray, q: np.ndarray) -> float:
        nz = p > 0
        if (q[nz] == 0).any():
            warnings.warn(f"{self.name}: q is 0 where p > 0, so KL(p‖q) = inf (use smoothing= "
                          "for a finite value)", RuntimeWarning, stacklevel=4)
            return float("inf")
        return float((p[nz] * self._log(p[nz] / q[nz])).sum())


class KLDivergence(_DivergenceMetric):
    """KL(p‖q) = Σ p_i log(p_i/q_i), p = y_true, q = y_pred normalised; lower is better."""

    name = "kl_divergence"
    description = "Kullback–Leibler divergence"
    formula = "KL(p‖q) = Σ p_i log(p_i/q_i)"

    def compute(self) -> float:
        pq = self._normalised()
        if isinstance(pq, str):
            return degenerate(self.name, pq)
        return max(0.0, self._kl(*pq))


class JSDivergence(_DivergenceMetric):
    """JS(p, q) = ½KL(p‖m) + ½KL(q‖m), m = (p+q)/2; in [0, log 2]; lower is better."""

    name = "js_divergence"
    description = "Jensen–Shannon divergence"
    formula = "JS = ½KL(p‖m) + ½KL(q‖m), m = (p+q)/2"

    def compute(self) -> float:
        pq = self._normalised()
        if isinstance(pq, str):
            return degenerate(self.name, pq)
        p, q = pq
        m = (p + q) / 2
        return max(0.0, 0.5 * self._kl(p, m) + 0.5 * self._kl(q, m))


def wasserstein_1d(y_true: Any, y_pred: Any, u_weights: Any = None, v_weights: Any = None, *,
                   categories: Sequence | None = None) -> float:
    """W1 = ∫|U − V| between the samples y_true and y_pred; see Wasserstein1D."""
    return Wasserstein1D(categories=categories).update(y_true, y_pred, u_weights,
                                                       v_weights).compute()


def kl_divergence(y_true: Any, y_pred: Any, *, base: float | None = None,
                  smoothing: float = 0.0) -> float:
    """KL(p‖q) = Σ p_i log(p_i/q_i) of two distributions (or counts); see KLDivergence."""
    return KLDivergence(base=base, smoothing=smoothing).update(y_true, y_pred).compute()


def js_divergence(y_true: Any, y_pred: Any, *, base: float | None = None,
                  smoothing: float = 0.0) -> float:
    """JS(p, q) = ½KL(p‖m) + ½KL(q‖m), m = (p+q)/2; see JSDivergence."""
    return JSDivergence(base=base, smoothing=smoothing).update(y_true, y_pred).compute()
