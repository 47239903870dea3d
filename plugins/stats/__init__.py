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

METRICS = (
    ("relative_gain_percent", "relative_gain_percent", True,
     "relative gain of a score in percent: 100·(treated − base)/|base|"),
    ("relative_improvement_percent", "relative_improvement_percent", True,
     "relative reduction of a distance or error in percent: 100·(base − new)/base"),
    ("percent", "percent", True, "share of true items in percent: 100·Σflags/n"),
    ("count", "count", True, "number of items"),
    ("mean", "mean", True, "arithmetic mean"),
    ("cohens_d", "cohens_d", True, "Cohen's d with the pooled (ddof=1) standard deviation"),
)


@hookimpl
def register_metrics(register):
    for name, fn, hib, desc in METRICS:
        register(Metric(name, lazy(f"affrepro.plugins.stats.functions:{fn}",
                                  f"See affrepro.plugins.stats.functions.{fn} for the formula."),
                        hib, desc))
