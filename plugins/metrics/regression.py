"""Continuous-affect metrics: CCC, Pearson r, Spearman ρ, MSE, RMSE, MAE.

All but Spearman are computed from one :class:`affrepro.kernels.moments.Moments` state
(one pass, float64, Welford/Chan merging; see ``affrepro.kernels.moments``), so the
streaming form merges exactly across batches and processes. With x = y_true, y = y_pred,
d = x − y, x̄, ȳ the means, M2x = Σ(x−x̄)², M2y = Σ(y−ȳ)², Cxy = Σ(x−x̄)(y−ȳ):

- CCC (Lin 1989)      ρ_c = 2·s_xy / (s_x² + s_y² + (x̄ − ȳ)²), with s = M/(n − ddof)
- Pearson r           r = Cxy / √(M2x·M2y)
- MSE, RMSE, MAE      MSE = Σd²/n = M2d/n + d̄²,  RMSE = √MSE,  MAE = Σ|d|/n

Choices, stated because libraries differ:
- CCC uses population variances (``ddof=0``) by default, as Lin (1989) and the AVEC /
  OMG-Empathy / ABAW challenge scripts do; ``ddof=1`` gives torchmetrics'
  ``concordance_corrcoef`` (sample variances with an unscaled mean difference).
- Constant y_true or y_pred (s_x = 0 or s_y = 0, up to float resolution: s ≤ 8·ε·|mean|):
  Pearson and Spearman are undefined (scipy also returns NaN). CCC's formula would give 0
  there; by default (``on_constant="nan"``) it warns and returns NaN instead, so a model
  that predicts a constant is never silently scored; ``on_constant="formula"`` returns the
  formula's value (0 unless both are the same constant, which is NaN either way) — the
  challenge scripts' behaviour. torchmetrics returns NaN (or 0 for CCC) with a warning.
- Fewer than 2 pairs: CCC/r/ρ warn and return NaN; MSE/RMSE/MAE need at least 1.
- NaN in the input: ``nan_policy="propagate"`` (default) warns and returns NaN;
  ``"omit"`` drops every pair with a NaN on either side; ``"raise"`` raises ValueError.
"""
from __future__ import annotations

import math
from typing import Any, Literal

from affrepro.kernels.moments import Moments, merge, paired_moments
from affrepro.lazy import lazy_module
from affrepro.plugins.metrics._base import StreamingMetric, degenerate

np = lazy_module("numpy")  # imported on first use: loading the plugins stays NumPy-free

NanPolicy = Literal["propagate", "omit", "raise"]
_EPS = 2.0 ** -52  # np.finfo(np.float64).eps

__all__ = ["CCC", "Pearson", "Spearman", "MSE", "RMSE", "MAE", "ccc", "pearson", "spearman",
           "mse", "rmse", "mae", "rankdata"]


def _is_constant(m2: float, n: float, mean: float) -> bool:
    return m2 <= 0.0 or math.sqrt(m2 / n) <= 8 * _EPS * abs(mean)


def _prepare(y_true: Any, y_pred: Any, nan_policy: str, name: str):
    if nan_policy not in ("propagate", "omit", "raise"):
        raise ValueError(f"nan_policy must be 'propagate', 'omit' or 'raise', got {nan_policy!r}")
    if nan_policy == "propagate":
        return y_true, y_pred
    x = np.asarray(y_true, dtype=np.float64).reshape(-1)
    y = np.asarray(y_pred, dtype=np.float64).reshape(-1)
    if x.shape != y.shape:
        raise ValueError(f"y_true and y_pred must have the same shape, got {x.shape} and {y.shape}")
    bad = np.isnan(x) | np.isnan(y)
    if bad.any():
        if nan_policy == "raise":
            raise ValueError(f"{name}: {int(bad.sum())} pairs contain NaN (first at index "
                             f"{int(np.flatnonzero(bad)[0])})")
        return x[~bad], y[~bad]
    return x, y


class _MomentsMetric(StreamingMetric):
    """A metric of the paired moments; ``backend`` picks the kernel (see the kernel docs)."""

    min_n = 2

    def __init__(self, *, nan_policy: NanPolicy = "propagate", backend: str = "auto"):
        self._opts = {"nan_policy": nan_policy, "backend": backend}
        self.nan_policy, self.backend = nan_policy, backend
        self.moments = Moments()

    def update(self, y_true: Any, y_pred: Any) -> _MomentsMetric:
        x, y = _prepare(y_true, y_pred, self.nan_policy, self.name)
        self.moments = merge(self.moments, paired_moments(x, y, backend=self.backend))
        return self

    def _merge_state(self, other: _MomentsMetric) -> None:
        self.moments = merge(self.moments, other.moments)

    def compute(self) -> float:
        m = self.moments
        if m.n < self.min_n:
            return degenerate(self.name, f"needs at least {self.min_n} pairs, got {int(m.n)}")
        if m.has_nan:
            return degenerate(self.name, "the input contains NaN (nan_policy='propagate')")
        return self._from_moments(m)

    def _from_moments(self, m: Moments) -> float:  # pragma: no cover
        raise NotImplementedError


class CCC(_MomentsMetric):
    """Concordance correlation coefficient (Lin 1989).

    ρ_c = 2·s_xy / (s_x² + s_y² + (x̄ − ȳ)²), s_xy = Cxy/(n−ddof), s_x² = M2x/(n−ddof).
    Range [−1, 1], higher is better. ``on_constant``: see the module docstring.
    """

    name = "ccc"
    description = "concordance correlation coefficient (Lin)"
    formula = "CCC = 2·s_xy / (s_x² + s_y² + (x̄ − ȳ)²)"
    higher_is_better = True

    def __init__(self, *, ddof: int = 0, on_constant: Literal["nan", "formula"] = "nan",
                 nan_policy: NanPolicy = "propagate", backend: str = "auto"):
        super().__init__(nan_policy=nan_policy, backend=backend)
        if on_constant not in ("nan", "formula"):
            raise ValueError(f"on_constant must be 'nan' or 'formula', got {on_constant!r}")
        if ddof not in (0, 1):
            raise ValueError(f"ddof must be 0 or 1, got {ddof!r}")
        self._opts.update(ddof=ddof, on_constant=on_constant)
        self.ddof, self.on_constant = ddof, on_constant

    def _from_moments(self, m: Moments) -> float:
        cx = _is_constant(m.m2_x, m.n, m.mean_x)
        cy = _is_constant(m.m2_y, m.n, m.mean_y)
        if (cx or cy) and self.on_constant == "nan":
            which = "y_true and y_pred are" if cx and cy else ("y_true is" if cx else "y_pred is")
            return degenerate(self.name, f"{which} constant (on_constant='nan'; the formula "
                                         "would give 0)")
        dof = m.n - self.ddof
        vx = 0.0 if cx else m.m2_x / dof
        vy = 0.0 if cy else m.m2_y / dof
        cov = 0.0 if (cx or cy) else m.c_xy / dof
        dm = m.mean_x - m.mean_y
        denom = vx + vy + dm * dm
        if denom <= 0.0:
            return degenerate(self.name, "y_true and y_pred are the same constant (0/0)")
        return float(min(1.0, max(-1.0, 2.0 * cov / denom)))


class Pearson(_MomentsMetric):
    """Pearson correlation r = Cxy / √(M2x·M2y) ∈ [−1, 1]; higher is better.

    Undefined (warns, NaN) for constant y_true or y_pred and for n < 2.
    """

    name = "pearson"
    description = "Pearson correlation r"
    formula = "r = Σ(x−x̄)(y−ȳ) / √(Σ(x−x̄)²·Σ(y−ȳ)²)"
    higher_is_better = True

    def _from_moments(self, m: Moments) -> float:
        cx = _is_constant(m.m2_x, m.n, m.mean_x)
        cy = _is_constant(m.m2_y, m.n, m.mean_y)
        if cx or cy:
            which = "y_true and y_pred are" if cx and cy else ("y_true is" if cx else "y_pred is")
            return degenerate(self.name, f"{which} constant")
        return float(min(1.0, max(-1.0, m.c_xy / math.sqrt(m.m2_x * m.m2_y))))


class MSE(_MomentsMetric):
    """Mean squared error MSE = (1/n) Σ (x_i − y_i)² = M2d/n + d̄²; lower is better."""

    name = "mse"
    description = "mean squared error"
    formula = "MSE = (1/n) Σ (x − y)²"
    higher_is_better = False
    min_n = 1

    def _from_moments(self, m: Moments) -> float:
        return float(m.m2_d / m.n + m.mean_d * m.mean_d)


class RMSE(MSE):
    """Root mean squared error RMSE = √MSE = √((1/n) Σ (x_i − y_i)²); lower is better."""

    name = "rmse"
    description = "root mean squared error"
    formula = "RMSE = √((1/n) Σ (x − y)²)"

    def _from_moments(self, m: Moments) -> float:
        return math.sqrt(super()._from_moments(m))


class MAE(_MomentsMetric):
    """Mean absolute error MAE = (1/n) Σ |x_i − y_i|; lower is better."""

    name = "mae"
    description = "mean absolute error"
    formula = "MAE = (1/n) Σ |x − y|"
    higher_is_better = False
    min_n = 1

    def _from_moments(self, m: Moments) -> float:
        return float(m.sum_abs_d / m.n)


def rankdata(a: Any) -> np.ndarray:
    """Average ranks 1..n (ties get the mean of their ranks), as scipy's ``rankdata``."""
    a = np.asarray(a, dtype=np.float64).reshape(-1)
    order = np.argsort(a, kind="mergesort")
    sorted_a = a[order]
    n = a.size
    if n == 0:
        return np.empty(0)
    starts = np.flatnonzero(np.r_[True, sorted_a[1:] != sorted_a[:-1]])
    ends = np.r_[starts[1:], n]
    avg = (starts + ends + 1) / 2.0  # mean of ranks start+1 .. end
    ranks = np.empty(n, dtype=np.float64)
    ranks[order] = np.repeat(avg, ends - starts)
    return ranks


class Spearman(StreamingMetric):
    """Spearman ρ = Pearson r of the average ranks of x and y; higher is better.

    Ranks need all the data: the streaming form keeps the values (O(n) memory) and merges
    by concatenation, so it is exact, not approximate. Ties get average ranks (scipy's
    default). Constant input (all ranks tied) and n < 2 warn and return NaN.
    """

    name = "spearman"
    description = "Spearman rank correlation ρ"
    formula = "ρ = Pearson r of the average ranks"
    higher_is_better = True

    def __init__(self, *, nan_policy: NanPolicy = "propagate"):
        self._opts = {"nan_policy": nan_policy}
        self.nan_policy = nan_policy
        self.x: list[np.ndarray] = []
        self.y: list[np.ndarray] = []

    def update(self, y_true: Any, y_pred: Any) -> Spearman:
        x, y = _prepare(y_true, y_pred, self.nan_policy, self.name)
        x = np.asarray(x, dtype=np.float64).reshape(-1)
        y = np.asarray(y, dtype=np.float64).reshape(-1)
        if x.shape != y.shape:
            raise ValueError(f"y_true and y_pred must have the same shape, got {x.shape} and "
                             f"{y.shape}")
        self.x.append(x.copy())
        self.y.append(y.copy())
        return self

    def _merge_state(self, other: Spearman) -> None:
        self.x.extend(a.copy() for a in other.x)
        self.y.extend(a.copy() for a in other.y)

    def compute(self) -> float:
        x = np.concatenate(self.x) if self.x else np.empty(0)
        y = np.concatenate(self.y) if self.y else np.empty(0)
        if x.size < 2:
            return degenerate(self.name, f"needs at least 2 pairs, got {x.size}")
        if np.isnan(x).any() or np.isnan(y).any():
            return degenerate(self.name, "the input contains NaN (nan_policy='propagate')")
        m = paired_moments(rankdata(x), rankdata(y), backend="reference")
        if m.m2_x <= 0 or m.m2_y <= 0:
            return degenerate(self.name, "y_true or y_pred is constant (all ranks tied)")
        return float(min(1.0, max(-1.0, m.c_xy / math.sqrt(m.m2_x * m.m2_y))))


def ccc(y_true: Any, y_pred: Any, **options: Any) -> float:
    """CCC ρ_c = 2·s_xy / (s_x² + s_y² + (x̄ − ȳ)²); options as :class:`CCC`."""
    return CCC(**options).update(y_true, y_pred).compute()


def pearson(y_true: Any, y_pred: Any, **options: Any) -> float:
    """Pearson r = Σ(x−x̄)(y−ȳ) / √(Σ(x−x̄)²·Σ(y−ȳ)²); options as :class:`Pearson`."""
    return Pearson(**options).update(y_true, y_pred).compute()


def spearman(y_true: Any, y_pred: Any, **options: Any) -> float:
    """Spearman ρ = Pearson r of average ranks; options as :class:`Spearman`."""
    return Spearman(**options).update(y_true, y_pred).compute()


def mse(y_true: Any, y_pred: Any, **options: Any) -> float:
    """MSE = (1/n) Σ (y_true − y_pred)²; options as :class:`MSE`."""
    return MSE(**options).update(y_true, y_pred).compute()


def rmse(y_true: Any, y_pred: Any, **options: Any) -> float:
    """RMSE = √((1/n) Σ (y_true − y_pred)²); options as :class:`RMSE`."""
    return RMSE(**options).update(y_true, y_pred).compute()


def mae(y_true: Any, y_pred: Any, **options: Any) -> float:
    """MAE = (1/n) Σ |y_true − y_pred|; options as :class:`MAE`."""
    return MAE(**options).update(y_true, y_pred).compute()
