"""Built-in metrics, registered through ``register_metrics``.

Each metric is a streaming class (update/merge/compute) in a submodule that declares its
name, direction, description and formula once; the functional form beside it runs the same
code (the docstrings carry the formulas and the choices made where libraries differ). The
submodules import NumPy on first use, so loading plugins does not import it:

- ``regression``: ccc, pearson, spearman, mse, rmse, mae (on ``affrepro.kernels.moments``)
- ``classification``: accuracy, uar, f1_macro, f1_weighted, f1_micro, cohen_kappa,
  per-class P/R/F1 and the confusion matrix
- ``reliability``: icc, cronbach_alpha
- ``distribution``: wasserstein_1d, kl_divergence, js_divergence
- ``bootstrap``: ``bootstrap_ci(metric_fn, y_true, y_pred, *, n_resamples, confidence, seed)``
"""
from __future__ import annotations

from affrepro import hookimpl


@hookimpl
def register_metrics(register):
    # each metric declares its name, direction, description and formula on its class; the
    # modules import NumPy only when a metric first computes
    from affrepro.plugins.metrics import classification, distribution, regression, reliability
    from affrepro.plugins.metrics._base import declared_metrics

    for module in (classification, regression, reliability, distribution):
        for cls in declared_metrics(module):
            register(cls.metric())
