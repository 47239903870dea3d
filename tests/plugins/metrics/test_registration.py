import subprocess
import sys

import pytest

REQUIRED = {"accuracy", "f1_macro", "f1_weighted", "uar", "ccc", "pearson", "spearman", "mse",
            "rmse", "mae", "wasserstein_1d", "kl_divergence", "js_divergence", "cohen_kappa",
            "icc", "cronbach_alpha", "f1_micro"}


def test_registered_names_and_direction(registries):
    names = set(registries.metrics.names())
    assert REQUIRED <= names
    lower = {"mse", "rmse", "mae", "wasserstein_1d", "kl_divergence", "js_divergence"}
    for name in REQUIRED:
        metric = registries.metrics.get(name)
        assert metric.higher_is_better is (name not in lower), name
        assert "=" in metric.fn.__doc__, name  # the formula


def test_registered_metrics_compute(registries):
    m = registries.metrics
    assert m.get("ccc")([1.0, 2, 3], [1.0, 2, 3]) == pytest.approx(1.0)
    assert m.get("uar")([0, 1, 1], [0, 1, 0]) == pytest.approx(0.75)
    assert m.get("icc")([1.0, 2, 3, 4], [1.0, 2, 3, 4]) == pytest.approx(1.0)


def test_loading_plugins_does_not_import_numpy():
    import os

    # the built-in metrics (always loaded) and the evaluate plugin (datasets + command)
    env = dict(os.environ, AFFREPRO_LOAD_PLUGINS="evaluate")
    code = ("import sys; from affrepro.plugin_manager import get_registries; "
            "r = get_registries(); r.metrics.get('ccc'); r.datasets.get('omg-empathy'); "
            "print('numpy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env=env)
    assert out.stdout.strip() == "False"
