"""Numba CPU kernel: one pass per row (log-likelihoods, max, log-sum-exp), rows in parallel."""
from __future__ import annotations

import math

import numba as nb
import numpy as np

_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


@nb.njit(cache=True, parallel=True, fastmath=False)
def _log_posterior(x, mu, sd, out):  # pragma: no cover - compiled
    n, d = x.shape
    k = mu.shape[0]
    log_norm = np.empty(k)
    for j in range(k):
        s = 0.0
        for c in range(d):
            s += math.log(sd[j, c])
        log_norm[j] = -s - d * _HALF_LOG_2PI
    for i in nb.prange(n):
        m = -math.inf
        has_nan = False
        for j in range(k):
            acc = 0.0
            for c in range(d):
                z = (x[i, c] - mu[j, c]) / sd[j, c]
                acc += z * z
            ll = -0.5 * acc + log_norm[j]
            if ll != ll:
                has_nan = True
            elif ll > m:
                m = ll
            out[i, j] = ll
        if has_nan or m == -math.inf:
            for j in range(k):
                out[i, j] = math.nan
            continue
        total = 0.0
        for j in range(k):
            total += math.exp(out[i, j] - m)
        lse = m + math.log(total)
        for j in range(k):
            out[i, j] -= lse


def log_posterior(x: np.ndarray, means: np.ndarray, stds: np.ndarray) -> np.ndarray:
    x64 = np.ascontiguousarray(x, dtype=np.float64)
    out = np.empty((x64.shape[0], means.shape[0]), dtype=np.float64)
    _log_posterior(x64, np.ascontiguousarray(means, np.float64), np.ascontiguousarray(stds, np.float64), out)
    return out
