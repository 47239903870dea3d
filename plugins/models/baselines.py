"""Implementations behind the ``label-mean`` and ``elasticnet`` model plugins."""
from __future__ import annotations

from typing import Any

import numpy as np


class LabelMean:
    """ŷ = mean of the training labels, whatever the input (features are ignored)."""

    def __init__(self) -> None:
        self.mean_: float | None = None

    def fit(self, X: Any, y: Any) -> LabelMean:
        y = np.asarray(y, dtype=np.float64).reshape(-1)
        if y.size == 0:
            raise ValueError("label-mean: cannot fit on zero labels")
        if not np.all(np.isfinite(y)):
            raise ValueError("label-mean: the training labels hold NaN or inf")
        self.mean_ = float(y.mean())
        return self

    def predict(self, X: Any) -> np.ndarray:
        if self.mean_ is None:
            raise RuntimeError("label-mean: call fit() before predict()")
        return np.full(len(X), self.mean_, dtype=np.float64)


def make_elasticnet(**params: Any):
    """``sklearn.linear_model.ElasticNet(**params)``; no params = scikit-learn's defaults."""
    from sklearn.linear_model import ElasticNet

    return ElasticNet(**params)
