"""NumPy float64 reference of the diagonal-Gaussian class posterior (the source of truth).

    log N(x; μ_k, diag σ_k²) = −½ Σ_d ((x_d − μ_kd)/σ_kd)² − Σ_d log σ_kd − (D/2) log 2π
    log p(k | x) = ℓ_k − (m + log Σ_j exp(ℓ_j − m)),   m = max_j ℓ_j

A row whose log-likelihoods are all −∞ (an infinite coordinate) or NaN has no posterior:
the row is NaN.
"""
from __future__ import annotations

import math

import numpy as np


def log_posterior(x: np.ndarray, means: np.ndarray, stds: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    mu = np.asarray(means, dtype=np.float64)
    sd = np.asarray(stds, dtype=np.float64)
    n, d = x.shape
    with np.errstate(invalid="ignore", over="ignore"):
        z = (x[:, None, :] - mu[None, :, :]) / sd[None, :, :]
        ll = -0.5 * (z * z).sum(-1) - np.log(sd).sum(-1)[None, :] - 0.5 * d * math.log(2 * math.pi)
        m = ll.max(axis=1, keepdims=True) if ll.shape[1] else np.zeros((n, 1))
        out = ll - (m + np.log(np.exp(ll - m).sum(axis=1, keepdims=True)))
    bad = ~np.isfinite(m[:, 0]) | np.isnan(ll).any(axis=1)
    out[bad] = np.nan
    return out
