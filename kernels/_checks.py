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


def sample_rate(fs, name: str = "fs (sample rate)", minimum: float = 0.0,
                why: str = "") -> float:
    """``fs`` as a finite float above 0 (and at least ``minimum``); text is refused."""
    try:
        value = float(fs) if not isinstance(fs, (str, bytes)) else math.nan
    except (TypeError, ValueError):
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive number, got {fs!r}")
    if value < minimum:
        hint = "; is it in kHz?" if value * 1000 >= minimum else ""
        raise ValueError(f"{name} must be at least {minimum:g} Hz{why}, got {fs!r}{hint}")
    return value


def host_array(x):
    """``x`` itself, or a torch tensor's values as a NumPy array on the host (what the CPU
    backends take when :func:`affrepro.kernels._dispatch.dispatch` runs them for a
    tensor: an explicit CPU backend, or ``auto`` falling back from Triton)."""
    mod = type(x).__module__
    if mod.startswith("torch") and hasattr(x, "detach"):
        return x.detach().cpu().numpy()
    return x
