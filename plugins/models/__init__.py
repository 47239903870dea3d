"""Reusable baseline models: ``label-mean`` and ``elasticnet``.

Each is a :class:`affrepro.components.Model` whose factory returns an object with
``fit(X, y)`` and ``predict(X)``. Heavy imports happen when a model is built.
"""
from __future__ import annotations

from affrepro import hookimpl
from affrepro.components import Model


def _label_mean(**params):
    from affrepro.plugins.models.baselines import LabelMean

    return LabelMean(**params)


def _elasticnet(**params):
    from affrepro.plugins.models.baselines import make_elasticnet

    return make_elasticnet(**params)


LABEL_MEAN = Model(
    name="label-mean",
    factory=_label_mean,
    description="Predicts the mean training label for every input (ŷ = (1/n) Σ y_i); "
                "the no-information baseline",
)
ELASTICNET = Model(
    name="elasticnet",
    factory=_elasticnet,
    description="scikit-learn ElasticNet, linear regression with L1+L2 penalty; defaults "
                "alpha=1.0, l1_ratio=0.5, fit_intercept=True, no feature scaling",
)


@hookimpl
def register_models(register):
    register(LABEL_MEAN)
    register(ELASTICNET)
