"""Built-in metrics, registered through ``register_metrics``.

The functions live in submodules (their docstrings carry the formulas) and are imported
on first call, so that loading plugins does not import NumPy.
"""
from __future__ import annotations

import importlib
from collections.abc import Callable

from affrepro import hookimpl
from affrepro.components import Metric


def _lazy(module: str, name: str) -> Callable[..., float]:
    def call(*args, **kwargs):
        fn = getattr(importlib.import_module(f"affrepro.plugins.metrics.{module}"), name)
        return fn(*args, **kwargs)

    call.__name__ = call.__qualname__ = name
    call.__doc__ = f"See affrepro.plugins.metrics.{module}.{name} for the formula."
    return call


@hookimpl
def register_metrics(register):
    register(Metric("accuracy", _lazy("classification", "accuracy"), True,
                    "accuracy (weighted accuracy, WA)"))
    register(Metric("f1_macro", _lazy("classification", "f1_macro"), True, "macro-averaged F1"))
    register(Metric("f1_weighted", _lazy("classification", "f1_weighted"), True,
                    "support-weighted F1"))
    register(Metric("uar", _lazy("classification", "unweighted_average_recall"), True,
                    "unweighted average recall (UA)"))
