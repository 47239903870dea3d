"""Reusable models: the baselines ``label-mean`` and ``elasticnet``, and the fusion models
``tfn``, ``lmf``, ``mult``, ``early-fusion-mlp``, ``early-fusion-lstm`` (torch modules on
affrepro's fusion kernels, wrapped in a seeded fit/predict trainer: plugins/models/fusion.py).

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


def _fusion_factory(cls_name: str):
    def factory(**params):
        from affrepro.plugins.models import fusion

        return fusion.Trainer(getattr(fusion, cls_name), **params)

    return factory


FUSION_MODELS = [
    Model("tfn", _fusion_factory("TFN"),
          "Tensor fusion network: subnets, y = W·vec([1;a]⊗[1;v]⊗[1;t]) + b on the fusion "
          "kernel (never storing the outer product), post-fusion MLP; fit/predict with seed"),
    Model("lmf", _fusion_factory("LMF"),
          "Low-rank multimodal fusion: y = Σ_r w_r Π_m([1;h_m]·F_m[r]) + b on the fusion kernel"),
    Model("mult", _fusion_factory("MulT"),
          "Compact multimodal transformer: each modality attends to the other two through the "
          "cross-modal attention kernel (padding masks), masked mean pooling, linear head"),
    Model("early-fusion-mlp", _fusion_factory("EarlyFusionMLP"),
          "Early fusion (movie-affect-2019): concatenated audio-visual features of a time "
          "step into fully connected layers"),
    Model("early-fusion-lstm", _fusion_factory("EarlyFusionLSTM"),
          "Early fusion (movie-affect-2019): concatenated audio-visual features into an LSTM, "
          "one prediction per time step"),
]


@hookimpl
def register_models(register):
    register(LABEL_MEAN)
    register(ELASTICNET)
    for model in FUSION_MODELS:
        register(model)
