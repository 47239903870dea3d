"""The paper's folds, shared by the baselines (``protocol.py``) and the CNN (``cnn.py``)."""
from __future__ import annotations

from typing import Any

from affrepro.reproductions.araus_2022 import columns as C

SPLITS = ("train", "val", "test")


def fold_split(frame: Any, k: int) -> tuple[Any, Any, Any]:
    """(train, val, test) for validation fold k, exactly as the authors' notebooks.

    test: fold 0 grouped by (soundscape, masker, smr), numeric columns averaged.
    """
    if k not in C.CV_FOLDS:
        raise ValueError(f"validation fold must be one of {C.CV_FOLDS}, got {k}")
    fold = frame["fold_r"]
    train = frame[(fold != k) & (fold > 0)]
    val = frame[fold == k]
    test = (frame[fold == C.FOLD_TEST].groupby(["soundscape", "masker", "smr"], sort=True)
            .mean(numeric_only=True).reset_index())
    return train, val, test
