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


def state_coefficients(sos3):
    """(3, 6) sections -> (3, 5) rows (b0, c1, c2, a1, a2) of the state update below,
    c1 = b1 - a1 b0, c2 = b2 - a2 b0."""
    k = np.empty((3, 5))
    for j in range(3):
        b0, b1, b2, _, a1, a2 = sos3[j]
        k[j] = (b0, b1 - a1 * b0, b2 - a2 * b0, a1, a2)
    return k


@njit(inline="always")
def _biquad(v, b0, c1, c2, a1, a2, z1, z2):
    # transposed direct form II with y substituted into the state update:
    #   y = b0 v + z1,  z1' = c1 v + z2 - a1 z1,  z2' = c2 v - a2 z1
    # (the state no longer waits for y: one multiply-add per sample on the recursion's
    # critical path instead of three dependent operations)
    return b0 * v + z1, c1 * v + z2 - a1 * z1, c2 * v - a2 * z1


@njit(cache=True, nogil=True, fastmath={"contract"}, error_model="numpy")
def _two_channels(x, out, p, q, k, a, n0):
    # channels p and q side by side in one loop: two independent recursions keep the
    # floating-point pipeline busy where one waits on its own latency
    n = x.shape[1]
    b = 1.0 - a
    b00, c01, c02, a01, a02 = k[0, 0], k[0, 1], k[0, 2], k[0, 3], k[0, 4]
    b10, c11, c12, a11, a12 = k[1, 0], k[1, 1], k[1, 2], k[1, 3], k[1, 4]
    b20, c21, c22, a21, a22 = k[2, 0], k[2, 1], k[2, 2], k[2, 3], k[2, 4]
    z0 = z1 = z2 = z3 = z4 = z5 = 0.0
    w0 = w1 = w2 = w3 = w4 = w5 = 0.0
    acc_p = 0.0
    acc_q = 0.0
    for i in range(n0):  # warm-up: the weighted squares of the first n0 samples
        y, z0, z1 = _biquad(x[p, i], b00, c01, c02, a01, a02, z0, z1)
        y, z2, z3 = _biquad(y, b10, c11, c12, a11, a12, z2, z3)
        y, z4, z5 = _biquad(y, b20, c21, c22, a21, a22, z4, z5)
        u, w0, w1 = _biquad(x[q, i], b00, c01, c02, a01, a02, w0, w1)
        u, w2, w3 = _biquad(u, b10, c11, c12, a11, a12, w2, w3)
        u, w4, w5 = _biquad(u, b20, c21, c22, a21, a22, w4, w5)
        out[p, i] = y * y
        out[q, i] = u * u
        acc_p += y * y
        acc_q += u * u
    m_p = acc_p / n0
    m_q = acc_q / n0
    for i in range(n0):
        m_p = a * m_p + b * out[p, i]
        out[p, i] = m_p
        m_q = a * m_q + b * out[q, i]
        out[q, i] = m_q
    for i in range(n0, n):
        y, z0, z1 = _biquad(x[p, i], b00, c01, c02, a01, a02, z0, z1)
        y, z2, z3 = _biquad(y, b10, c11, c12, a11, a12, z2, z3)
        y, z4, z5 = _biquad(y, b20, c21, c22, a21, a22, z4, z5)
        u, w0, w1 = _biquad(x[q, i], b00, c01, c02, a01, a02, w0, w1)
        u, w2, w3 = _biquad(u, b10, c11, c12, a11, a12, w2, w3)
        u, w4, w5 = _biquad(u, b20, c21, c22, a21, a22, w4, w5)
        m_p = a * m_p + b * (y * y)
        out[p, i] = m_p
        m_q = a * m_q + b * (u * u)
        out[q, i] = m_q


@njit(cache=True, nogil=True, fastmath={"contract"}, error_model="numpy")
def _one_channel(x, out, p, k, a, n0):
    n = x.shape[1]
    b = 1.0 - a
    b00, c01, c02, a01, a02 = k[0, 0], k[0, 1], k[0, 2], k[0, 3], k[0, 4]
    b10, c11, c12, a11, a12 = k[1, 0], k[1, 1], k[1, 2], k[1, 3], k[1, 4]
    b20, c21, c22, a21, a22 = k[2, 0], k[2, 1], k[2, 2], k[2, 3], k[2, 4]
    z0 = z1 = z2 = z3 = z4 = z5 = 0.0
    acc = 0.0
    for i in range(n0):
        y, z0, z1 = _biquad(x[p, i], b00, c01, c02, a01, a02, z0, z1)
        y, z2, z3 = _biquad(y, b10, c11, c12, a11, a12, z2, z3)
        y, z4, z5 = _biquad(y, b20, c21, c22, a21, a22, z4, z5)
        out[p, i] = y * y
        acc += y * y
    m = acc / n0
    for i in range(n0):
        m = a * m + b * out[p, i]
        out[p, i] = m
    for i in range(n0, n):
        y, z0, z1 = _biquad(x[p, i], b00, c01, c02, a01, a02, z0, z1)
        y, z2, z3 = _biquad(y, b10, c11, c12, a11, a12, z2, z3)
        y, z4, z5 = _biquad(y, b20, c21, c22, a21, a22, z4, z5)
        m = a * m + b * (y * y)
        out[p, i] = m


@njit(cache=True, nogil=True)
def _channel_task(x, out, t, k, a, n0):
    p = 2 * t
    if p + 1 < x.shape[0]:
        _two_channels(x, out, p, p + 1, k, a, n0)
    else:
        _one_channel(x, out, p, k, a, n0)


@njit(cache=True, nogil=True)
def mean_square_pairs_serial(x, k, a, n0):
    """:func:`mean_square_pairs` on the calling thread (one or two channels: one task,
    no thread pool to wake)."""
    out = np.empty(x.shape, dtype=np.float64)
    for t in range((x.shape[0] + 1) // 2):
        _channel_task(x, out, t, k, a, n0)
    return out


@njit(cache=True, parallel=True)
def mean_square_pairs(x, k, a, n0):
    """(C, n) input -> (C, n) mean square as :func:`mean_square_fused` (issue 24, second
    pass): the same per-sample pass, with the section state updated as
    ``z1' = c1 v + z2 - a1 z1``, ``z2' = c2 v - a2 z1`` (``k`` from
    :func:`state_coefficients`; one multiply-add on the recursion's critical path) and
    two channels per task side by side; pairs of channels in parallel. Agrees with SciPy's
    ``sosfilt`` + ``lfilter`` to ~1e-13 relative (the rounding of the substituted
    coefficients)."""
    out = np.empty(x.shape, dtype=np.float64)
    for t in prange((x.shape[0] + 1) // 2):
        _channel_task(x, out, t, k, a, n0)
    return out


@njit(cache=True, parallel=True)
def periodogram_2d(spec, n, wpow):
    """(C, n // 2 + 1) rfft of n samples -> the one-sided Parseval-scaled power per bin
    (as ``reference.periodogram``) times the weighting power ``wpow`` per bin, in one
    pass; channels in parallel."""
    n_ch, nbin = spec.shape
    out = np.empty((n_ch, nbin))
    scale = 1.0 / (float(n) * float(n))
    double_to = (n + 1) // 2  # bins 1 .. double_to - 1 count twice (not DC, Nyquist)
    for c in prange(n_ch):
        for k in range(nbin):
            v = spec[c, k]
            p = (v.real * v.real + v.imag * v.imag) * scale
            if 0 < k < double_to:
                p *= 2.0
            out[c, k] = p * wpow[k]
    return out


_FAST = {"reassoc", "nsz", "arcp", "contract"}


@njit(cache=True, fastmath=_FAST, error_model="numpy")
def _response3(fk, ifk, hk, fm, qd):
    # |H|^2 = 1 / (1 + Omega^6) of a third-order band on a chunk of bins (vectorises:
    # error_model="numpy" drops the per-division zero check that blocks it)
    ifm = 1.0 / fm
    for k in range(fk.shape[0]):
        om = qd * (fk[k] * ifm - fm * ifk[k])
        o2 = om * om
        hk[k] = 1.0 / (1.0 + o2 * o2 * o2)


@njit(cache=True, fastmath=_FAST, error_model="numpy")
def _response_n(fk, ifk, hk, fm, qd, order):
    ifm = 1.0 / fm
    for k in range(fk.shape[0]):
        om = qd * (fk[k] * ifm - fm * ifk[k])
        o2 = om * om
        on = 1.0
        for _ in range(order):
            on *= o2
        hk[k] = 1.0 / (1.0 + on)


@njit(cache=True, fastmath=_FAST, error_model="numpy")
def _dot(a, b):
    acc = 0.0
    for k in range(a.shape[0]):
        acc += a[k] * b[k]
    return acc


@njit(cache=True, parallel=True)
def band_powers_fast(pw, df, fms, qd, order, lo, hi, chunk):
    """(C, n_bins) weighted periodogram -> (C, n_bands) band powers; band b sums bins
    lo[b]:hi[b] (outside them |H|^2 < 1e-30) with the Butterworth response computed on
    the fly instead of a (n_bands, n_bins) matrix (the sums reassociated). The bins are
    cut into chunks of ``chunk``; each task takes one chunk, computes f = k df and 1/f
    there once, and for every band whose range [lo, hi) meets the chunk its response
    (one division per bin) once for all channels, then a dot product per channel: the
    spectrum is read from memory once instead of once per band, and the loops over bins
    vectorise. Bin 0 (f = 0, response 0) is skipped. Per-chunk partial sums are added
    at the end."""
    n_ch, nbin = pw.shape
    nb = fms.shape[0]
    n_chunks = (nbin + chunk - 1) // chunk
    part = np.zeros((n_chunks, n_ch, nb), dtype=np.float64)
    for q in prange(n_chunks):
        k0 = max(q * chunk, 1)
        k1 = min((q + 1) * chunk, nbin)
        if k1 <= k0:
            continue
        m = k1 - k0
        fk = np.empty(m)
        ifk = np.empty(m)
        for i in range(m):
            fk[i] = (k0 + i) * df
            ifk[i] = 1.0 / fk[i]
        hk = np.empty(m)
        for b in range(nb):
            a = max(lo[b], k0)
            e = min(hi[b], k1)
            if e <= a:
                continue
            if order == 3:
                _response3(fk[a - k0:e - k0], ifk[a - k0:e - k0], hk[a - k0:e - k0],
                           fms[b], qd)
            else:
                _response_n(fk[a - k0:e - k0], ifk[a - k0:e - k0], hk[a - k0:e - k0],
                            fms[b], qd, order)
            for c in range(n_ch):
                part[q, c, b] = _dot(pw[c, a:e], hk[a - k0:e - k0])
    out = np.zeros((n_ch, nb), dtype=np.float64)
    for q in range(n_chunks):
        for c in range(n_ch):
            for b in range(nb):
                out[c, b] += part[q, c, b]
    return out


@njit(cache=True, parallel=True, error_model="numpy")
def mean_square_fused(x, sos3, a, n0):
    """(C, n) input -> (C, n) mean square as :func:`mean_square_2d`, in one pass (issue
    24): the three weighting sections (``sos3`` (3, 6); unused ones are identities),
    the square and the exponential average per sample with all state in registers, so the
    sections' recursions overlap in the pipeline instead of running one after another
    over the whole channel. The warm start needs the first ``n0`` weighted squares before
    the average starts: they are filtered first into the output row, then averaged in
    place, and the filters continue from there. Channels in parallel."""
    n_ch, n = x.shape
    out = np.empty((n_ch, n), dtype=np.float64)
    b00, b01, b02, a01, a02 = sos3[0, 0], sos3[0, 1], sos3[0, 2], sos3[0, 4], sos3[0, 5]
    b10, b11, b12, a11, a12 = sos3[1, 0], sos3[1, 1], sos3[1, 2], sos3[1, 4], sos3[1, 5]
    b20, b21, b22, a21, a22 = sos3[2, 0], sos3[2, 1], sos3[2, 2], sos3[2, 4], sos3[2, 5]
    b = 1.0 - a
    for c in prange(n_ch):
        z0 = z1 = z2 = z3 = z4 = z5 = 0.0
        acc = 0.0
        for i in range(n0):  # warm-up: the weighted squares of the first n0 samples
            v = x[c, i]
            y = b00 * v + z0
            z0 = b01 * v - a01 * y + z1
            z1 = b02 * v - a02 * y
            v = y
            y = b10 * v + z2
            z2 = b11 * v - a11 * y + z3
            z3 = b12 * v - a12 * y
            v = y
            y = b20 * v + z4
            z4 = b21 * v - a21 * y + z5
            z5 = b22 * v - a22 * y
            sq = y * y
            out[c, i] = sq
            acc += sq
        m = acc / n0 if n0 > 0 else 0.0
        for i in range(n0):
            m = a * m + b * out[c, i]
            out[c, i] = m
        for i in range(n0, n):
            v = x[c, i]
            y = b00 * v + z0
            z0 = b01 * v - a01 * y + z1
            z1 = b02 * v - a02 * y
            v = y
            y = b10 * v + z2
            z2 = b11 * v - a11 * y + z3
            z3 = b12 * v - a12 * y
            v = y
            y = b20 * v + z4
            z4 = b21 * v - a21 * y + z5
            z5 = b22 * v - a22 * y
            m = a * m + b * (y * y)
            out[c, i] = m
    return out
