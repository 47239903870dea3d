"""Every registered built-in metric carries its streaming form, and two merged batches
give what the functional form gives on their concatenation."""
from __future__ import annotations

import numpy as np
import pytest

from affrepro.plugins.metrics import classification, distribution, regression, reliability
from affrepro.plugins.metrics._base import declared_metrics

RNG = np.random.default_rng(11)


def data_for(name: str):
    if name in ("accuracy", "f1_macro", "f1_weighted", "f1_micro", "uar", "cohen_kappa"):
        y = RNG.integers(0, 3, 60)
        return y, np.where(RNG.random(60) < 0.7, y, RNG.integers(0, 3, 60))
    if name in ("icc", "cronbach_alpha"):
        base = RNG.normal(size=(60, 1))
        return base + 0.3 * RNG.normal(size=(60, 3)), None
    if name in ("kl_divergence", "js_divergence"):
        p, q = RNG.random((60, 4)) + 0.1, RNG.random((60, 4)) + 0.1
        return p / p.sum(1, keepdims=True), q / q.sum(1, keepdims=True)
    if name == "wasserstein_1d":
        return RNG.integers(1, 6, 60).astype(float), RNG.integers(1, 6, 60).astype(float)
    x = RNG.normal(size=60)
    return x, x + 0.5 * RNG.normal(size=60)


# what the metrics plugin registers: every metric class that declares itself
BUILTIN_METRICS = [cls.name for module in (classification, regression, reliability, distribution)
                   for cls in declared_metrics(module)]


@pytest.mark.parametrize("name", BUILTIN_METRICS)
def test_streaming_form_is_registered_and_merges_to_the_functional_value(registries, name):
    metric = registries.metrics.get(name)
    assert metric.streaming is not None
    a, b = data_for(name)
    args = (a,) if b is None else (a, b)
    whole = metric(*args)

    def part(rows: slice):  # the item-by-rater metrics take one matrix and no second argument
        return (a[rows], None) if b is None else (a[rows], b[rows])

    first, second = metric.streaming(), metric.streaming()
    first.update(*part(slice(0, 25)))
    second.update(*part(slice(25, None)))
    assert first.merge(second).compute() == pytest.approx(whole, rel=1e-9, abs=1e-12)


def test_each_metric_is_declared_once_on_its_class(registries):
    assert len(BUILTIN_METRICS) == len(set(BUILTIN_METRICS)) == 17
    for module in (classification, regression, reliability, distribution):
        for cls in declared_metrics(module):
            metric = registries.metrics.get(cls.name)
            assert metric.streaming is cls and metric.higher_is_better is cls.higher_is_better
            assert metric.description == cls.description and cls.formula in metric.fn.__doc__
