"""Numba backends: the time-weighted mean square (weighting sections, squaring and the
exponential average over each channel in place, channels in parallel) and the
one-third-octave band sums. Float64 throughout."""
from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(cache=True)
def _section(buf, b0, b1, b2, a1, a2):
    # one biquad over the whole channel in place (transposed direct form II), its
    # coefficients and state in registers
    z1 = 0.0
    z2 = 0.0
    for i in range(buf.shape[0]):
        v = buf[i]
        y = b0 * v + z1
        z1 = b1 * v - a1 * y + z2
        z2 = b2 * v - a2 * y
        buf[i] = y


@njit(cache=True, parallel=True)
def mean_square_2d(x, sos, a, n0):
    """(C, n) input -> (C, n) frequency- and time-weighted mean square: the sections run
    one after another over each channel (tight scalar loops), then squaring and the
    exponential average in one pass; channels in parallel."""
    n_ch, n = x.shape
    out = np.empty((n_ch, n), dtype=np.float64)
    for c in prange(n_ch):
        buf = out[c]
        for i in range(n):
            buf[i] = x[c, i]
        for s in range(sos.shape[0]):
            _section(buf, sos[s, 0], sos[s, 1], sos[s, 2], sos[s, 4], sos[s, 5])
        # warm start: the mean square of the first n0 weighted samples
        acc = 0.0
        for i in range(n0):
            acc += buf[i] * buf[i]
        m = acc / n0 if n0 > 0 else 0.0
        b = 1.0 - a
        for i in range(n):
            m = a * m + b * (buf[i] * buf[i])
            buf[i] = m
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
