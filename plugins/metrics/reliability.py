"""Reliability: intraclass correlation (ICC) and Cronbach's α.

Both take a ratings matrix X of n rows (targets / respondents) × k columns (raters /
items) — or ``(y_true, y_pred)`` as two columns — and are computed from one mergeable
state: the row count n, the column means m_j and the co-moment matrix
C = Σ_i (x_i − m)(x_i − m)ᵀ (k × k), accumulated over rows with Chan's update. With
g = mean(m), 1 the ones vector:

    SS_rows = (1/k)·1ᵀC1,  SS_cols = n·Σ_j (m_j − g)²,  SS_err = tr(C) − (1/k)·1ᵀC1
    MSR = SS_rows/(n−1),  MSC = SS_cols/(k−1),  MSE = SS_err/((n−1)(k−1)),
    MSW = (SS_cols + SS_err)/(n(k−1))

ICC forms (Shrout & Fleiss 1979; McGraw & Wong 1996 names in brackets):

    ICC(1,1) = (MSR − MSW)/(MSR + (k−1)·MSW)              [one-way random, single]
    ICC(2,1) = (MSR − MSE)/(MSR + (k−1)·MSE + k(MSC − MSE)/n)  [two-way random, absolute agreement]
    ICC(3,1) = (MSR − MSE)/(MSR + (k−1)·MSE)              [two-way mixed, consistency]
    ICC(1,k) = (MSR − MSW)/MSR,  ICC(2,k) = (MSR − MSE)/(MSR + (MSC − MSE)/n),
    ICC(3,k) = (MSR − MSE)/MSR                            [averages of k raters]

Cronbach's α = k/(k−1)·(1 − Σ_j s_j² / s_T²) = k/(k−1)·(1 − tr(C)/1ᵀC1), s_T² the
variance of the row totals. Higher is better for both. Degenerate input (n < 2, k < 2,
a zero denominator such as all-identical ratings, NaN) warns and returns NaN. The
default ICC form is ICC(3,1), as in pingouin's table "ICC3"; values match pingouin's.
"""
from __future__ import annotations

from typing import Any

from affrepro.lazy import lazy_module
from affrepro.plugins.metrics._base import StreamingMetric, degenerate

np = lazy_module("numpy")  # imported on first use: loading the plugins stays NumPy-free

__all__ = ["ICC", "CronbachAlpha", "icc", "cronbach_alpha", "ICC_KINDS"]

ICC_KINDS = ("ICC(1,1)", "ICC(2,1)", "ICC(3,1)", "ICC(1,k)", "ICC(2,k)", "ICC(3,k)")


def _as_matrix(ratings: Any, y_pred: Any = None) -> np.ndarray:
    if y_pred is not None:
        a = np.asarray(ratings, dtype=np.float64).reshape(-1)
        b = np.asarray(y_pred, dtype=np.float64).reshape(-1)
        if a.shape != b.shape:
            raise ValueError(f"y_true and y_pred must have the same length, got {a.size} "
                             f"and {b.size}")
        return np.stack([a, b], axis=1)
    x = np.asarray(ratings, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"ratings must be a 2-D (n targets × k raters) matrix, got shape "
                         f"{x.shape}")
    return x


class _ColumnMoments(StreamingMetric):
    """Rows of a k-column matrix: n, column means, co-moment matrix (Chan-mergeable)."""

    def __init__(self):
        self._opts = {}
        self.n = 0
        self.mean: np.ndarray | None = None
        self.comoment: np.ndarray | None = None

    def update(self, y_true: Any, y_pred: Any = None) -> _ColumnMoments:
        x = _as_matrix(y_true, y_pred)
        if x.shape[0] == 0:
            return self
        mb = x.mean(axis=0)
        c = x - mb
        self._add(x.shape[0], mb, c.T @ c)
        return self

    def _add(self, nb: int, mb: np.ndarray, cb: np.ndarray) -> None:
        if self.mean is not None and self.mean.shape != mb.shape:
            raise ValueError(f"expected {self.mean.size} columns, got {mb.size}")
        if self.n == 0:
            self.n, self.mean, self.comoment = nb, mb.copy(), cb.copy()
            return
        n = self.n + nb
        delta = mb - self.mean
        self.comoment = self.comoment + cb + np.outer(delta, delta) * (self.n * nb / n)
        self.mean = self.mean + delta * (nb / n)
        self.n = n

    def _merge_state(self, other: _ColumnMoments) -> None:
        if other.n:
            self._add(other.n, other.mean, other.comoment)

    def _check(self) -> str | None:
        if self.n < 2:
            return f"needs at least 2 rows, got {self.n}"
        k = self.mean.size
        if k < 2:
            return f"needs at least 2 columns (raters/items), got {k}"
        if np.isnan(self.comoment).any() or np.isnan(self.mean).any():
            return "the input contains NaN"
        return None


class ICC(_ColumnMoments):
    """Intraclass correlation; ``kind`` one of ICC_KINDS (default ICC(3,1)); see module."""

    name = "icc"
    description = "intraclass correlation (default ICC(3,1))"
    formula = "ICC(3,1) = (MSR − MSE)/(MSR + (k−1)·MSE)"

    def __init__(self, *, kind: str = "ICC(3,1)"):
        super().__init__()
        if kind not in ICC_KINDS:
            raise ValueError(f"kind must be one of {ICC_KINDS}, got {kind!r}")
        self._opts = {"kind": kind}
        self.kind = kind

    def mean_squares(self) -> dict[str, float]:
        n, k, c = self.n, self.mean.size, self.comoment
        total = c.sum()
        ss_rows = total / k
        ss_cols = n * float(((self.mean - self.mean.mean()) ** 2).sum())
        ss_err = float(np.trace(c)) - total / k
        return {"MSR": ss_rows / (n - 1), "MSC": ss_cols / (k - 1),
                "MSE": ss_err / ((n - 1) * (k - 1)), "MSW": (ss_cols + ss_err) / (n * (k - 1))}

    def compute(self) -> float:
        why = self._check()
        if why:
            return degenerate(self.name, why)
        n, k = self.n, self.mean.size
        ms = self.mean_squares()
        msr, msc, mse, msw = ms["MSR"], ms["MSC"], ms["MSE"], ms["MSW"]
        num, den = {
            "ICC(1,1)": (msr - msw, msr + (k - 1) * msw),
            "ICC(2,1)": (msr - mse, msr + (k - 1) * mse + k * (msc - mse) / n),
            "ICC(3,1)": (msr - mse, msr + (k - 1) * mse),
            "ICC(1,k)": (msr - msw, msr),
            "ICC(2,k)": (msr - mse, msr + (msc - mse) / n),
            "ICC(3,k)": (msr - mse, msr),
        }[self.kind]
        if den == 0:
            return degenerate(self.name, f"{self.kind} has a zero denominator (no variance)")
        return float(num / den)


class CronbachAlpha(_ColumnMoments):
    """Cronbach's α = k/(k−1)·(1 − Σ_j s_j²/s_T²) over k item columns; higher is better."""

    name = "cronbach_alpha"
    description = "Cronbach's alpha"
    formula = "α = k/(k−1)·(1 − Σ_j s_j² / s_T²)"

    def compute(self) -> float:
        why = self._check()
        if why:
            return degenerate(self.name, why)
        k = self.mean.size
        total = float(self.comoment.sum())
        if total <= 0:
            return degenerate(self.name, "the row totals have zero variance")
        return float(k / (k - 1) * (1.0 - float(np.trace(self.comoment)) / total))


def icc(ratings: Any, y_pred: Any = None, *, kind: str = "ICC(3,1)") -> float:
    """ICC of an n × k ratings matrix (or of y_true, y_pred as two raters); see module."""
    return ICC(kind=kind).update(ratings, y_pred).compute()


def cronbach_alpha(items: Any, y_pred: Any = None) -> float:
    """Cronbach's α = k/(k−1)·(1 − Σ s_j²/s_T²) of an n × k item matrix (or two columns)."""
    return CronbachAlpha().update(items, y_pred).compute()
