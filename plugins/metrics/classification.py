"""Classification metrics computed from one confusion matrix.

All take label sequences ``y_true`` and ``y_pred`` (any hashable labels; the class set is
the union of both unless ``labels`` is given). Conventions, stated because libraries
differ: a class's F1 is 2·TP / (2·TP + FP + FN); when that denominator is 0 (the class
neither occurs nor is predicted) the class's F1 is undefined, a warning is issued and it
is left out of the macro average rather than counted as 0. A class that occurs but is
never predicted has recall defined and precision undefined; its F1 is then 0 (TP = 0).
"""
from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np


def confusion_matrix(y_true: Sequence, y_pred: Sequence, labels: Sequence | None = None
                     ) -> tuple[np.ndarray, list]:
    """C[i, j] = number of samples with true class labels[i] predicted as labels[j]."""
    yt, yp = np.asarray(y_true), np.asarray(y_pred)
    if yt.shape != yp.shape or yt.ndim != 1:
        raise ValueError(f"y_true and y_pred must be 1-D of equal length, got {yt.shape} and {yp.shape}")
    if yt.size == 0:
        raise ValueError("y_true and y_pred are empty")
    classes = list(labels) if labels is not None else sorted(set(yt.tolist()) | set(yp.tolist()))
    index = {c: i for i, c in enumerate(classes)}
    unknown = (set(yt.tolist()) | set(yp.tolist())) - set(index)
    if unknown:
        raise ValueError(f"labels {sorted(unknown)!r} are not in labels={classes!r}")
    k = len(classes)
    ti = np.fromiter((index[v] for v in yt.tolist()), dtype=np.int64, count=yt.size)
    pi = np.fromiter((index[v] for v in yp.tolist()), dtype=np.int64, count=yp.size)
    cm = np.bincount(ti * k + pi, minlength=k * k).reshape(k, k)
    return cm, classes


def per_class_f1(cm: np.ndarray) -> np.ndarray:
    """F1_c = 2·TP_c / (2·TP_c + FP_c + FN_c); NaN where the denominator is 0."""
    tp = np.diag(cm).astype(float)
    fp = cm.sum(axis=0) - tp
    fn = cm.sum(axis=1) - tp
    denom = 2 * tp + fp + fn
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denom > 0, 2 * tp / np.where(denom > 0, denom, 1), np.nan)


def accuracy(y_true: Sequence, y_pred: Sequence) -> float:
    """Accuracy (weighted accuracy, WA) = Σ_c TP_c / N."""
    cm, _ = confusion_matrix(y_true, y_pred)
    return float(np.trace(cm) / cm.sum())


def f1_macro(y_true: Sequence, y_pred: Sequence, labels: Sequence | None = None) -> float:
    """Macro F1 = (1/K) Σ_c F1_c over the K classes whose F1 is defined."""
    cm, classes = confusion_matrix(y_true, y_pred, labels)
    f1 = per_class_f1(cm)
    undefined = [c for c, v in zip(classes, f1) if np.isnan(v)]
    if undefined:
        warnings.warn(f"F1 undefined for classes {undefined!r} (absent from y_true and y_pred); "
                      "left out of the macro average", RuntimeWarning, stacklevel=2)
    defined = f1[~np.isnan(f1)]
    return float(defined.mean()) if defined.size else float("nan")


def f1_weighted(y_true: Sequence, y_pred: Sequence, labels: Sequence | None = None) -> float:
    """Weighted F1 = Σ_c (n_c / N) F1_c, with n_c the number of true samples of class c."""
    cm, _ = confusion_matrix(y_true, y_pred, labels)
    f1 = np.nan_to_num(per_class_f1(cm))
    support = cm.sum(axis=1)
    return float((f1 * support).sum() / support.sum())


def unweighted_average_recall(y_true: Sequence, y_pred: Sequence) -> float:
    """UAR (UA) = (1/K) Σ_c TP_c / n_c over the K classes present in y_true."""
    cm, _ = confusion_matrix(y_true, y_pred)
    support = cm.sum(axis=1)
    present = support > 0
    return float((np.diag(cm)[present] / support[present]).mean())
