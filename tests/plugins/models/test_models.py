"""The label-mean and elasticnet model plugins."""
from __future__ import annotations

import numpy as np
import pytest


def test_both_models_are_registered(registries):
    assert {"label-mean", "elasticnet"} <= set(registries.models.names())


def test_label_mean_predicts_the_training_mean(registries):
    m = registries.models.get("label-mean").factory().fit(np.zeros((4, 2)), [1.0, 2.0, 3.0, 6.0])
    assert m.predict(np.zeros((3, 2))).tolist() == [3.0, 3.0, 3.0]
    with pytest.raises(ValueError, match="NaN"):
        registries.models.get("label-mean").factory().fit(np.zeros((2, 1)), [1.0, float("nan")])
    with pytest.raises(RuntimeError, match="fit"):
        registries.models.get("label-mean").factory().predict(np.zeros((1, 1)))


def test_elasticnet_has_scikit_learn_defaults(registries):
    from sklearn.linear_model import ElasticNet

    m = registries.models.get("elasticnet").factory()
    assert m.get_params() == ElasticNet().get_params()
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 5))
    y = X @ [3.0, 0, 0, -2.0, 0] + rng.normal(0, 0.1, 200)
    np.testing.assert_allclose(m.fit(X, y).predict(X), ElasticNet().fit(X, y).predict(X), atol=1e-12)
