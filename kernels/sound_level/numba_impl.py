"""Numba backend of the time-weighted level: the weighting cascade, the squaring and the
exponential average fused into one pass per channel (the reference makes three passes
through SciPy), channels in parallel. Float64 state throughout."""
from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(cache=True, inline="always")
def _cascade(v, sos, state):
    # transposed direct form II, one sample through every section
    for s in range(sos.shape[0]):
        y = sos[s, 0] * v + state[s, 0]
        state[s, 0] = sos[s, 1] * v - sos[s, 4] * y + state[s, 1]
        state[s, 1] = sos[s, 2] * v - sos[s, 5] * y
        v = y
    return v


@njit(cache=True, parallel=True)
def mean_square_2d(x, sos, a, n0):
    """(C, n) input -> (C, n) frequency- and time-weighted mean square."""
    n_ch, n = x.shape
    out = np.empty((n_ch, n), dtype=np.float64)
    for c in prange(n_ch):
        state = np.zeros((sos.shape[0], 2), dtype=np.float64)
        # warm start: the mean square of the first n0 weighted samples
        acc = 0.0
        for i in range(n0):
            v = _cascade(np.float64(x[c, i]), sos, state)
            out[c, i] = v * v
            acc += v * v
        m = acc / n0 if n0 > 0 else 0.0
        b = 1.0 - a
        for i in range(n0):
            m = a * m + b * out[c, i]
            out[c, i] = m
        for i in range(n0, n):
            v = _cascade(np.float64(x[c, i]), sos, state)
            m = a * m + b * (v * v)
            out[c, i] = m
    return out


@njit(cache=True, parallel=True)
def band_powers_2d(pw, f, fms, qd, order, lo, hi):
    """(C, n_bins) weighted periodogram -> (C, n_bands) band powers; band b sums bins
    lo[b]:hi[b] (outside them |H|^2 < 1e-30) with the Butterworth response computed on
    the fly instead of a (n_bands, n_bins) matrix."""
    n_ch = pw.shape[0]
    nb = fms.shape[0]
    out = np.zeros((n_ch, nb), dtype=np.float64)
    for b in prange(nb):
        fm = fms[b]
        acc = np.zeros(n_ch, dtype=np.float64)
        for k in range(lo[b], hi[b]):
            fk = f[k]
            if fk <= 0.0:
                continue
            om = qd * (fk / fm - fm / fk)
            o2 = om * om
            on = 1.0
            for _ in range(order):
                on *= o2
            h2 = 1.0 / (1.0 + on)
            for c in range(n_ch):
                acc[c] += pw[c, k] * h2
        for c in range(n_ch):
            out[c, b] = acc[c]
    return out
