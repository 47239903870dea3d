"""Argument checks shared by the audio kernels: clear errors naming the argument."""
from __future__ import annotations

import math


def real_signal(x, name: str = "signal"):
    """``x`` as a NumPy array of real numbers with samples on the last axis."""
    import numpy as np

    x = np.asarray(x)
    if x.dtype.kind not in "fiu":
        raise TypeError(f"{name} must be real numbers, got dtype {x.dtype}")
    if x.ndim == 0:
        raise ValueError(f"{name} must have at least one dimension (samples last)")
    return x


def sample_rate(fs, name: str = "fs (sample rate)") -> float:
    """``fs`` as a finite positive float."""
    try:
        ok = math.isfinite(float(fs)) and float(fs) > 0
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(f"{name} must be a positive number, got {fs!r}")
    return float(fs)
