"""Built-in metrics, registered through ``register_metrics``.

The functions live in submodules (their docstrings carry the formulas and the choices
made where libraries differ) and are imported on first call, so that loading plugins
does not import NumPy. Each metric also has a streaming form (update/merge/compute) in
the same submodule; both forms run the same code:

- ``regression``: ccc, pearson, spearman, mse, rmse, mae (on ``affrepro.kernels.moments``)
- ``classification``: accuracy, uar, f1_macro, f1_weighted, f1_micro, cohen_kappa,
  per-class P/R/F1 and the confusion matrix
- ``reliability``: icc, cronbach_alpha
- ``distribution``: wasserstein_1d, kl_divergence, js_divergence
- ``bootstrap``: ``bootstrap_ci(metric_fn, y_true, y_pred, *, n_resamples, confidence, seed)``
"""
from __future__ import annotations

from affrepro import hookimpl
from affrepro.components import Metric
from affrepro.lazy import lazy

# name, module, function, higher_is_better, description, formula
BUILTIN_METRICS: tuple[tuple[str, str, str, bool, str, str], ...] = (
    ("accuracy", "classification", "accuracy", True, "accuracy (weighted accuracy, WA)",
     "WA = Σ_c TP_c / N"),
    ("f1_macro", "classification", "f1_macro", True, "macro-averaged F1",
     "macro F1 = (1/K) Σ_c 2·TP_c/(2·TP_c + FP_c + FN_c)"),
    ("f1_weighted", "classification", "f1_weighted", True, "support-weighted F1",
     "weighted F1 = Σ_c (n_c/N)·F1_c"),
    ("f1_micro", "classification", "f1_micro", True, "micro-averaged F1",
     "micro F1 = 2·ΣTP / (2·ΣTP + ΣFP + ΣFN)"),
    ("uar", "classification", "unweighted_average_recall", True,
     "unweighted average recall (UA)", "UAR = (1/K) Σ_c TP_c / n_c"),
    ("cohen_kappa", "classification", "cohen_kappa", True, "Cohen's kappa",
     "κ = (p_o − p_e)/(1 − p_e)"),
    ("ccc", "regression", "ccc", True, "concordance correlation coefficient (Lin)",
     "CCC = 2·s_xy / (s_x² + s_y² + (x̄ − ȳ)²)"),
    ("pearson", "regression", "pearson", True, "Pearson correlation r",
     "r = Σ(x−x̄)(y−ȳ) / √(Σ(x−x̄)²·Σ(y−ȳ)²)"),
    ("spearman", "regression", "spearman", True, "Spearman rank correlation ρ",
     "ρ = Pearson r of the average ranks"),
    ("mse", "regression", "mse", False, "mean squared error", "MSE = (1/n) Σ (x − y)²"),
    ("rmse", "regression", "rmse", False, "root mean squared error",
     "RMSE = √((1/n) Σ (x − y)²)"),
    ("mae", "regression", "mae", False, "mean absolute error", "MAE = (1/n) Σ |x − y|"),
    ("icc", "reliability", "icc", True, "intraclass correlation (default ICC(3,1))",
     "ICC(3,1) = (MSR − MSE)/(MSR + (k−1)·MSE)"),
    ("cronbach_alpha", "reliability", "cronbach_alpha", True, "Cronbach's alpha",
     "α = k/(k−1)·(1 − Σ_j s_j² / s_T²)"),
    ("wasserstein_1d", "distribution", "wasserstein_1d", False,
     "1-D Wasserstein (earth mover's) distance between two response samples",
     "W1 = ∫ |U(t) − V(t)| dt"),
    ("kl_divergence", "distribution", "kl_divergence", False, "Kullback–Leibler divergence",
     "KL(p‖q) = Σ p_i log(p_i/q_i)"),
    ("js_divergence", "distribution", "js_divergence", False, "Jensen–Shannon divergence",
     "JS = ½KL(p‖m) + ½KL(q‖m), m = (p+q)/2"),
)


# metric name -> its streaming class (update/merge/compute) in the same module
STREAMING: dict[str, str] = {
    "accuracy": "Accuracy", "f1_macro": "F1Macro", "f1_weighted": "F1Weighted", "f1_micro": "F1Micro",
    "uar": "UAR", "cohen_kappa": "CohenKappa", "ccc": "CCC", "pearson": "Pearson",
    "spearman": "Spearman", "mse": "MSE", "rmse": "RMSE", "mae": "MAE", "icc": "ICC",
    "cronbach_alpha": "CronbachAlpha", "wasserstein_1d": "Wasserstein1D",
    "kl_divergence": "KLDivergence", "js_divergence": "JSDivergence",
}



@hookimpl
def register_metrics(register):
    for name, module, fn, higher, description, formula in BUILTIN_METRICS:
        where = f"affrepro.plugins.metrics.{module}"
        doc = (f"{formula}\n\nSee {where}.{fn} for the options and the conventions on "
               "degenerate input.")
        register(Metric(name, lazy(f"{where}:{fn}", doc), higher, description,
                        streaming=lazy(f"{where}:{STREAMING[name]}")))
