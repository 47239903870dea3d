"""Statistics metrics shared by several papers: relative gains and improvements,
percentages, counts, means, Cohen's d.

Loaded through the ``affrepro`` entry point ``stats`` (like a third-party plugin); the
functions live in ``functions.py`` (formulas in their docstrings) and are imported on
first call, so loading plugins does not import NumPy or SciPy.
"""
from __future__ import annotations

from affrepro import hookimpl
from affrepro.components import Metric
from affrepro.lazy import lazy

METRICS = (  # name, function, higher is better, description, formula
    ("relative_gain_percent", "relative_gain_percent", True, "relative gain of a score in percent",
     "gain = 100·(treated − base)/|base|"),
    ("relative_improvement_percent", "relative_improvement_percent", True,
     "relative reduction of a distance or error in percent", "improvement = 100·(base − new)/base"),
    ("percent", "percent", True, "share of true items in percent", "percent = 100·Σflags/n"),
    ("count", "count", True, "number of items", "count = n"),
    ("mean", "mean", True, "arithmetic mean", "mean = Σx/n"),
    ("cohens_d", "cohens_d", True, "Cohen's d with the pooled (ddof=1) standard deviation",
     "d = (mean(a) − mean(b))/s_p, s_p = sqrt(((n_a − 1)·s_a² + (n_b − 1)·s_b²)/(n_a + n_b − 2))"),
)


@hookimpl
def register_metrics(register):
    for name, fn, hib, desc, formula in METRICS:
        register(Metric(name, lazy(f"affrepro.plugins.stats.functions:{fn}",
                                  f"Formula: {formula}\n\nSee affrepro.plugins.stats.functions.{fn}."),
                        hib, f"{desc}: {formula}"))
