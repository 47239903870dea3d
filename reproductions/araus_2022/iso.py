"""ISO 12913-3 projection of the eight perceived affective qualities (PAQs) onto the
pleasantness and eventfulness axes, normalised to [-1, 1].

With ratings on a 1-5 scale and the PAQs at 45° steps around the circumplex
(pleasant 0°, vibrant 45°, eventful 90°, chaotic 135°, annoying 180°, monotonous 225°,
uneventful 270°, calm 315°):

    P = [(pleasant − annoying) + cos45°·(calm − chaotic) + cos45°·(vibrant − monotonous)] / (4 + √32)
    E = [(eventful − uneventful) + cos45°·(chaotic − calm) + cos45°·(vibrant − monotonous)] / (4 + √32)

This is the ground truth of ARAUS (``ISOPl_weights``/``ISOEv_weights`` in the authors'
notebooks) and the equal-angle case of ``calculate_iso_coords`` in soundscapy:
Σ cos θ_i·x_i / (range/2 · Σ|cos θ_i|), where range/2 · Σ|cos θ_i| = 2·(2 + 4·cos45°) = 4 + √32.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

# The circumplex order and angles (degrees) of ISO/TS 12913-3 (soundscapy's PAQ1..PAQ8).
CIRCUMPLEX: tuple[tuple[str, int], ...] = (
    ("pleasant", 0), ("vibrant", 45), ("eventful", 90), ("chaotic", 135),
    ("annoying", 180), ("monotonous", 225), ("uneventful", 270), ("calm", 315),
)
NORMALISER = 4 + math.sqrt(32)  # = (5 − 1)/2 · Σ|cos θ| = (5 − 1)/2 · Σ|sin θ|
COS45 = math.sqrt(2) / 2

# Weights in the order pleasant, eventful, chaotic, vibrant, uneventful, calm, annoying,
# monotonous (the ARAUS column order), as in the authors' notebooks.
ARAUS_ORDER = ("pleasant", "eventful", "chaotic", "vibrant", "uneventful", "calm", "annoying",
               "monotonous")
PLEASANTNESS_WEIGHTS = {"pleasant": 1.0, "eventful": 0.0, "chaotic": -COS45, "vibrant": COS45,
                        "uneventful": 0.0, "calm": COS45, "annoying": -1.0, "monotonous": -COS45}
EVENTFULNESS_WEIGHTS = {"pleasant": 0.0, "eventful": 1.0, "chaotic": COS45, "vibrant": COS45,
                        "uneventful": -1.0, "calm": -COS45, "annoying": 0.0, "monotonous": -COS45}


def pleasantness_scalar(r: Mapping[str, float]) -> float:
    """P for one response given as a mapping of PAQ name to rating (1-5)."""
    return ((r["pleasant"] - r["annoying"]) + COS45 * (r["calm"] - r["chaotic"])
            + COS45 * (r["vibrant"] - r["monotonous"])) / NORMALISER


def eventfulness_scalar(r: Mapping[str, float]) -> float:
    """E for one response given as a mapping of PAQ name to rating (1-5)."""
    return ((r["eventful"] - r["uneventful"]) + COS45 * (r["chaotic"] - r["calm"])
            + COS45 * (r["vibrant"] - r["monotonous"])) / NORMALISER


def project(ratings: Any, axis: str, angles: Sequence[float] | None = None,
            scale: tuple[float, float] = (1.0, 5.0)):
    """Project PAQ ratings onto ``axis`` ("pleasantness" or "eventfulness").

    ``ratings``: a pandas DataFrame with the eight PAQ columns, or a mapping of PAQ name
    to array. Missing ratings (NaN) give NaN. ``angles`` (degrees, circumplex order)
    defaults to the ISO equal angles; other angles (e.g. the per-language angles of
    Aletta et al. 2024) use the general form Σ cos θ_i·(x_i − mid) / (range/2 · Σ|cos θ_i|).
    """
    import numpy as np

    if axis not in ("pleasantness", "eventfulness"):
        raise ValueError(f"axis must be 'pleasantness' or 'eventfulness', got {axis!r}")
    missing = [name for name, _ in CIRCUMPLEX if name not in ratings]
    if missing:
        raise KeyError(f"ratings lack the PAQ column(s) {', '.join(missing)}")
    deg = [a for _, a in CIRCUMPLEX] if angles is None else list(angles)
    if len(deg) != 8:
        raise ValueError(f"expected 8 angles (one per PAQ), got {len(deg)}")
    trig = np.cos if axis == "pleasantness" else np.sin
    w = trig(np.deg2rad(np.asarray(deg, dtype=np.float64)))
    w[np.abs(w) < 1e-15] = 0.0  # cos 90° is 6e-17, not 0
    lo, hi = scale
    mid, half = (lo + hi) / 2, (hi - lo) / 2
    x = np.column_stack([np.asarray(ratings[name], dtype=np.float64) for name, _ in CIRCUMPLEX])
    return (x - mid) @ w / (half * np.abs(w).sum())


def pleasantness(ratings: Any):
    """ISO pleasantness P ∈ [-1, 1] of every response (see the module docstring)."""
    return project(ratings, "pleasantness")


def eventfulness(ratings: Any):
    """ISO eventfulness E ∈ [-1, 1] of every response (see the module docstring)."""
    return project(ratings, "eventfulness")
