"""Classification metrics, all computed from one confusion matrix.

All take label sequences ``y_true`` and ``y_pred`` (any hashable labels; the class set is
the sorted union of both unless ``labels`` is given). The streaming form
(:class:`ConfusionMatrix` and the metric classes built on it) keeps the count of every
(true, predicted) pair seen, so it merges exactly across batches and processes.

With C[i, j] = #samples of true class i predicted as j, TP_c = C[c, c],
FP_c = Σ_i C[i, c] − TP_c, FN_c = Σ_j C[c, j] − TP_c, n_c = Σ_j C[c, j], N = Σ C:

- accuracy (WA)   Σ_c TP_c / N
- UAR (UA)        (1/K) Σ_c TP_c / n_c over the K classes present in y_true
- P_c, R_c, F1_c  TP_c/(TP_c+FP_c),  TP_c/n_c,  2·TP_c/(2·TP_c + FP_c + FN_c)
- macro F1        mean of F1_c over the classes whose F1 is defined
- weighted F1     Σ_c (n_c/N)·F1_c
- micro F1        2·ΣTP / (2·ΣTP + ΣFP + ΣFN)  (= accuracy for single-label data)
- Cohen's κ       (p_o − p_e)/(1 − p_e); weighted κ_w = 1 − Σ w_ij C_ij / Σ w_ij E_ij,
                  E = outer(row sums, column sums)/N, w_ij = |i−j| (linear) or (i−j)²

Conventions, stated because libraries differ (sklearn's ``zero_division`` counts an
undefined value as 0 with a warning):
- A class that occurs but is never predicted: its precision is undefined — per-class
  precision is NaN with a warning; its F1 is still 2·TP/(2·TP+FP+FN) = 0, which is
  defined, and counts in the macro average (as in sklearn), with the same warning.
- A class in ``labels`` that neither occurs nor is predicted: its F1 is undefined (0/0);
  it is left out of the macro average with a warning (sklearn would count a 0).
- A class in ``labels`` absent from y_true: its recall is undefined; UAR leaves it out
  with a warning. No class present, or κ with p_e = 1: warns and returns NaN.
"""
from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any, Literal

from affrepro.lazy import lazy_module
from affrepro.plugins.metrics._base import StreamingMetric, degenerate

np = lazy_module("numpy")  # imported on first use: loading the plugins stays NumPy-free

__all__ = ["ConfusionMatrix", "confusion_matrix", "per_class_f1", "per_class_prf", "accuracy",
           "f1_macro", "f1_weighted", "f1_micro", "unweighted_average_recall", "cohen_kappa",
           "Accuracy", "UAR", "F1Macro", "F1Weighted", "F1Micro", "CohenKappa"]


def _labels_1d(y: Any, what: str) -> np.ndarray:
    a = np.asarray(y)
    if a.ndim != 1:
        raise ValueError(f"{what} must be 1-D, got shape {a.shape}")
    return a


class ConfusionMatrix(StreamingMetric):
    """Streaming confusion matrix: counts of (true, predicted) label pairs; mergeable.

    ``compute()`` returns ``(C, classes)`` with C[i, j] = #(true classes[i], predicted
    classes[j]); ``classes`` is ``labels`` when given, else the sorted union seen.
    """

    name = "confusion_matrix"

    def __init__(self, *, labels: Sequence | None = None):
        self._opts = {"labels": None if labels is None else list(labels)}
        self.labels = self._opts["labels"]
        self.counts: dict[tuple[Any, Any], int] = {}

    def update(self, y_true: Any, y_pred: Any) -> ConfusionMatrix:
        yt = _labels_1d(y_true, "y_true")
        yp = _labels_1d(y_pred, "y_pred")
        if yt.shape != yp.shape:
            raise ValueError(f"y_true and y_pred must be 1-D of equal length, got {yt.shape} "
                             f"and {yp.shape}")
        if yt.size == 0:
            return self
        tu, ti = np.unique(yt, return_inverse=True)
        pu, pi = np.unique(yp, return_inverse=True)
        pairs = np.bincount(ti.reshape(-1) * len(pu) + pi.reshape(-1),
                            minlength=len(tu) * len(pu))
        tl, pl = tu.tolist(), pu.tolist()
        for k in np.flatnonzero(pairs):
            key = (tl[k // len(pu)], pl[k % len(pu)])
            self.counts[key] = self.counts.get(key, 0) + int(pairs[k])
        if self.labels is not None:
            unknown = ({t for t, _ in self.counts} | {p for _, p in self.counts}) - set(self.labels)
            if unknown:
                raise ValueError(f"labels {sorted(unknown, key=repr)!r} are not in "
                                 f"labels={self.labels!r}")
        return self

    def _merge_state(self, other: ConfusionMatrix) -> None:
        for key, c in other.counts.items():
            self.counts[key] = self.counts.get(key, 0) + c

    def compute(self) -> tuple[np.ndarray, list]:
        if self.labels is not None:
            classes = list(self.labels)
        else:
            classes = sorted({t for t, _ in self.counts} | {p for _, p in self.counts})
        index = {c: i for i, c in enumerate(classes)}
        k = len(classes)
        cm = np.zeros((k, k), dtype=np.int64)
        for (t, p), c in self.counts.items():
            cm[index[t], index[p]] += c
        return cm, classes


def confusion_matrix(y_true: Sequence, y_pred: Sequence, labels: Sequence | None = None
                     ) -> tuple[np.ndarray, list]:
    """C[i, j] = number of samples with true class labels[i] predicted as labels[j]."""
    cm, classes = ConfusionMatrix(labels=labels).update(y_true, y_pred).compute()
    if cm.sum() == 0:
        raise ValueError("y_true and y_pred are empty")
    return cm, classes


def per_class_f1(cm: np.ndarray) -> np.ndarray:
    """F1_c = 2·TP_c / (2·TP_c + FP_c + FN_c); NaN where the denominator is 0."""
    return _prf(cm)[2]


def _prf(cm: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    tp = np.diag(cm).astype(float)
    predicted = cm.sum(axis=0).astype(float)
    support = cm.sum(axis=1).astype(float)
    fp, fn = predicted - tp, support - tp
    denom = 2 * tp + fp + fn
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(predicted > 0, tp / np.where(predicted > 0, predicted, 1), np.nan)
        recall = np.where(support > 0, tp / np.where(support > 0, support, 1), np.nan)
        f1 = np.where(denom > 0, 2 * tp / np.where(denom > 0, denom, 1), np.nan)
    return precision, recall, f1, support


def _warn_never_predicted(cm: np.ndarray, classes: list) -> None:
    never = [c for c, p, s in zip(classes, cm.sum(axis=0), cm.sum(axis=1)) if p == 0 and s > 0]
    if never:
        warnings.warn(f"classes {never!r} occur in y_true but are never predicted: their "
                      "precision is undefined (NaN) and their F1 is 0", RuntimeWarning,
                      stacklevel=4)


def per_class_prf(y_true: Sequence, y_pred: Sequence, labels: Sequence | None = None
                  ) -> dict[Any, dict[str, float]]:
    """{class: {precision, recall, f1, support}} with P/R/F1 as in the module docstring."""
    cm, classes = confusion_matrix(y_true, y_pred, labels)
    _warn_never_predicted(cm, classes)
    p, r, f, s = _prf(cm)
    return {c: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]),
                "support": int(s[i])} for i, c in enumerate(classes)}


class _CMMetric(StreamingMetric):
    """A scalar metric of the streaming confusion matrix."""

    def __init__(self, *, labels: Sequence | None = None):
        self._opts = {"labels": None if labels is None else list(labels)}
        self.cm = ConfusionMatrix(labels=labels)

    def update(self, y_true: Any, y_pred: Any) -> _CMMetric:
        self.cm.update(y_true, y_pred)
        return self

    def _merge_state(self, other: _CMMetric) -> None:
        self.cm.merge(other.cm)

    def compute(self) -> float:
        cm, classes = self.cm.compute()
        if cm.sum() == 0:
            return degenerate(self.name, "no samples")
        return self._from_cm(cm, classes)

    def _from_cm(self, cm: np.ndarray, classes: list) -> float:  # pragma: no cover
        raise NotImplementedError


class Accuracy(_CMMetric):
    """Accuracy (weighted accuracy, WA) = Σ_c TP_c / N; higher is better."""

    name = "accuracy"
    description = "accuracy (weighted accuracy, WA)"
    formula = "WA = Σ_c TP_c / N"

    def _from_cm(self, cm, classes):
        return float(np.trace(cm) / cm.sum())


class UAR(_CMMetric):
    """UAR (UA) = (1/K) Σ_c TP_c / n_c over the K classes present in y_true."""

    name = "uar"
    description = "unweighted average recall (UA)"
    formula = "UAR = (1/K) Σ_c TP_c / n_c"
    function = "unweighted_average_recall"

    def _from_cm(self, cm, classes):
        support = cm.sum(axis=1)
        present = support > 0
        absent = [c for c, ok in zip(classes, present) if not ok]
        if absent:
            warnings.warn(f"classes {absent!r} never occur in y_true: recall undefined, left "
                          "out of UAR", RuntimeWarning, stacklevel=3)
        return float((np.diag(cm)[present] / support[present]).mean())


class F1Macro(_CMMetric):
    """Macro F1 = (1/K) Σ_c F1_c over the K classes whose F1 is defined."""

    name = "f1_macro"
    description = "macro-averaged F1"
    formula = "macro F1 = (1/K) Σ_c 2·TP_c/(2·TP_c + FP_c + FN_c)"

    def _from_cm(self, cm, classes):
        _warn_never_predicted(cm, classes)
        f1 = _prf(cm)[2]
        undefined = [c for c, v in zip(classes, f1) if np.isnan(v)]
        if undefined:
            warnings.warn(f"F1 undefined for classes {undefined!r} (absent from y_true and "
                          "y_pred); left out of the macro average", RuntimeWarning, stacklevel=3)
        defined = f1[~np.isnan(f1)]
        return float(defined.mean()) if defined.size else degenerate(self.name, "no class")


class F1Weighted(_CMMetric):
    """Weighted F1 = Σ_c (n_c / N) F1_c, with n_c the number of true samples of class c."""

    name = "f1_weighted"
    description = "support-weighted F1"
    formula = "weighted F1 = Σ_c (n_c/N)·F1_c"

    def _from_cm(self, cm, classes):
        _warn_never_predicted(cm, classes)
        f1 = np.nan_to_num(_prf(cm)[2])
        support = cm.sum(axis=1)
        return float((f1 * support).sum() / support.sum())


class F1Micro(_CMMetric):
    """Micro F1 = 2·ΣTP / (2·ΣTP + ΣFP + ΣFN) over all classes (= accuracy, single-label)."""

    name = "f1_micro"
    description = "micro-averaged F1"
    formula = "micro F1 = 2·ΣTP / (2·ΣTP + ΣFP + ΣFN)"

    def _from_cm(self, cm, classes):
        tp = np.trace(cm)
        fp = cm.sum() - tp  # every error is one FP (for its predicted class) and one FN
        return float(2 * tp / (2 * tp + 2 * fp))


class CohenKappa(_CMMetric):
    """Cohen's κ = (p_o − p_e) / (1 − p_e); weighted: κ_w = 1 − Σ w·C / Σ w·E.

    p_o = Σ_c C_cc / N, p_e = Σ_c (n_c/N)(m_c/N) with m_c the predicted count;
    ``weights``: None, "linear" (w_ij = |i − j|) or "quadratic" ((i − j)²) over the
    class order (``labels``, else sorted). Range [−1, 1]; higher is better.
    """

    name = "cohen_kappa"
    description = "Cohen's kappa"
    formula = "κ = (p_o − p_e)/(1 − p_e)"

    def __init__(self, *, labels: Sequence | None = None,
                 weights: Literal["linear", "quadratic"] | None = None):
        super().__init__(labels=labels)
        if weights not in (None, "linear", "quadratic"):
            raise ValueError(f"weights must be None, 'linear' or 'quadratic', got {weights!r}")
        self._opts["weights"] = weights
        self.weights = weights

    def _from_cm(self, cm, classes):
        k = cm.shape[0]
        n = cm.sum()
        expected = np.outer(cm.sum(axis=1), cm.sum(axis=0)) / n
        i, j = np.indices((k, k))
        if self.weights is None:
            w = (i != j).astype(float)
        elif self.weights == "linear":
            w = np.abs(i - j).astype(float)
        else:
            w = ((i - j) ** 2).astype(float)
        denom = (w * expected).sum()
        if denom <= 0:
            return degenerate(self.name, "chance agreement is 1 (both raters use one and the "
                                         "same class)")
        return float(1.0 - (w * cm).sum() / denom)


def accuracy(y_true: Sequence, y_pred: Sequence, labels: Sequence | None = None) -> float:
    """Accuracy (weighted accuracy, WA) = Σ_c TP_c / N."""
    return Accuracy(labels=labels).update(y_true, y_pred).compute()


def f1_macro(y_true: Sequence, y_pred: Sequence, labels: Sequence | None = None) -> float:
    """Macro F1 = (1/K) Σ_c F1_c over the K classes whose F1 is defined."""
    return F1Macro(labels=labels).update(y_true, y_pred).compute()


def f1_weighted(y_true: Sequence, y_pred: Sequence, labels: Sequence | None = None) -> float:
    """Weighted F1 = Σ_c (n_c / N) F1_c, with n_c the number of true samples of class c."""
    return F1Weighted(labels=labels).update(y_true, y_pred).compute()


def f1_micro(y_true: Sequence, y_pred: Sequence, labels: Sequence | None = None) -> float:
    """Micro F1 = 2·ΣTP / (2·ΣTP + ΣFP + ΣFN)."""
    return F1Micro(labels=labels).update(y_true, y_pred).compute()


def unweighted_average_recall(y_true: Sequence, y_pred: Sequence,
                              labels: Sequence | None = None) -> float:
    """UAR (UA) = (1/K) Σ_c TP_c / n_c over the K classes present in y_true."""
    return UAR(labels=labels).update(y_true, y_pred).compute()


def cohen_kappa(y_true: Sequence, y_pred: Sequence, labels: Sequence | None = None,
                weights: Literal["linear", "quadratic"] | None = None) -> float:
    """Cohen's κ = (p_o − p_e)/(1 − p_e) (weighted: 1 − Σ w·C / Σ w·E); see CohenKappa."""
    return CohenKappa(labels=labels, weights=weights).update(y_true, y_pred).compute()
