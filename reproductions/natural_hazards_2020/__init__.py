"""natural-hazards-2020: Meng & Dong, "Natural Hazards Twitter Dataset" (arXiv 2004.14456).

The dataset plugin ``natural-hazards`` (nine public CSVs, pinned and checksummed), a loader
for their real quirks, the dataset-size claims, a label audit against TextBlob and VADER,
and sentiment baselines (TF-IDF + LR/SVM/NB, a fastText-style model) under within-event,
pooled and leave-one-event-out cross-validation.
"""
from __future__ import annotations

from affrepro import hookimpl
from affrepro.components import Metric


def n_records(y_true, y_pred=None) -> float:
    """n = |y_true|: the number of records (for dataset-size claims; y_pred is ignored)."""
    return float(len(y_true))


@hookimpl
def register_datasets(register):
    from affrepro.reproductions.natural_hazards_2020.datasets import NATURAL_HAZARDS

    register(NATURAL_HAZARDS)


@hookimpl
def register_metrics(register):
    register(Metric("n_records", n_records, True, "number of records n = |y_true| (dataset-size claims)"))
