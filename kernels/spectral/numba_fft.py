"""A real FFT in Numba that transforms ``lanes`` frames at once, for power-of-two n_fft.

pocketfft (NumPy's FFT) transforms one frame at a time in scalar code. Here the frames
of a group are the vector lanes instead: every array is (bins, lanes) flattened, so each
butterfly runs over ``lanes`` (and, in later stages, more) contiguous doubles that LLVM
turns into AVX2 instructions, and the output is bin-major, the layout the banded mel
product wants, with no transpose.

For a real frame x of length N = 2M:

1. pack z[n] = x[2n] + i·x[2n+1] (n < M) while framing (``frames_packed``);
2. Z = DFT_M(z) by a Stockham autosort FFT (``stockham``): radix-4 stages, then one
   radix-2 stage if log2 M is odd. With L = M / (r·m) groups of r·m points, stage
   (r, m) maps, for j < L, k < m, q < r:

       out[r·j·m + q·m + k] = w^(q·j) · Σ_p in[j·m + k + p·L·m] · e^(−2πi·p·q/r),
       w = e^(−2πi / (r·L))

   and m grows by r each stage (m = 1 first); out and in swap between stages;
3. X[k] = E[k] + e^(−2πik/N)·O[k] with E = (Z[k] + conj Z[M−k]) / 2 and
   O = −i·(Z[k] − conj Z[M−k]) / 2 (indices mod M), for k = 0..M, and the power
   |X[k]|^p is written to ``pt[k, lane]`` (``packed_power``).

Twiddles are computed once per size in float64 by NumPy (``fft_plan``); the rounding
error is that of any float64 FFT, ~1e-16 of the frame's energy.
"""
from __future__ import annotations

import functools
import math

import numpy as np
from numba import njit

_FLAGS = {"reassoc", "contract", "nsz"}


def is_supported(n_fft: int) -> bool:
    """Power-of-two sizes from 8 up (M = n_fft / 2 ≥ 4)."""
    return n_fft >= 8 and n_fft & (n_fft - 1) == 0


@functools.lru_cache(maxsize=16)
def fft_plan(n_fft: int) -> tuple:
    """(radices, stage offsets, twiddles re/im (Σ L, 3), post-twiddles re/im (M + 1,))."""
    if not is_supported(n_fft):
        raise ValueError(f"n_fft must be a power of two >= 8 for the lane FFT, got {n_fft}")
    m = n_fft // 2
    radices = [4] * (int(math.log2(m)) // 2) + [2] * (int(math.log2(m)) % 2)
    offsets, rows = [], []
    groups = m
    for r in radices:
        groups //= r
        offsets.append(sum(len(x) for x in rows))
        j = np.arange(groups)
        rows.append(np.stack([np.exp(-2j * np.pi * q * j / (r * groups)) for q in (1, 2, 3)],
                             axis=1))
    tw = np.concatenate(rows)
    post = np.exp(-2j * np.pi * np.arange(m + 1) / n_fft)
    plan = (np.array(radices, dtype=np.int64), np.array(offsets, dtype=np.int64),
            np.ascontiguousarray(tw.real), np.ascontiguousarray(tw.imag),
            np.ascontiguousarray(post.real), np.ascontiguousarray(post.imag))
    for a in plan:
        a.setflags(write=False)
    return plan


# The butterflies take one 1-D view per operand and a run length known only at run
# time: with computed offsets into one array (negative-index wrap-around) or a constant
# trip count (full unrolling), LLVM does not vectorise them.
@njit(cache=True, nogil=True, fastmath=_FLAGS, inline="always")
def _radix4(s0r, s0i, s1r, s1i, s2r, s2i, s3r, s3i, o0r, o0i, o1r, o1i, o2r, o2i, o3r, o3i,
            w1r, w1i, w2r, w2i, w3r, w3i):
    for u in range(s0r.shape[0]):
        d0r = s0r[u] + s2r[u]
        d0i = s0i[u] + s2i[u]
        d1r = s0r[u] - s2r[u]
        d1i = s0i[u] - s2i[u]
        d2r = s1r[u] + s3r[u]
        d2i = s1i[u] + s3i[u]
        er = s1r[u] - s3r[u]
        ei = s1i[u] - s3i[u]
        o0r[u] = d0r + d2r
        o0i[u] = d0i + d2i
        y1r = d1r + ei  # d1 − i·e
        y1i = d1i - er
        y2r = d0r - d2r
        y2i = d0i - d2i
        y3r = d1r - ei  # d1 + i·e
        y3i = d1i + er
        o1r[u] = w1r * y1r - w1i * y1i
        o1i[u] = w1r * y1i + w1i * y1r
        o2r[u] = w2r * y2r - w2i * y2i
        o2i[u] = w2r * y2i + w2i * y2r
        o3r[u] = w3r * y3r - w3i * y3i
        o3i[u] = w3r * y3i + w3i * y3r


@njit(cache=True, nogil=True, fastmath=_FLAGS, inline="always")
def _radix2(s0r, s0i, s1r, s1i, o0r, o0i, o1r, o1i, w1r, w1i):
    for u in range(s0r.shape[0]):
        o0r[u] = s0r[u] + s1r[u]
        o0i[u] = s0i[u] + s1i[u]
        er = s0r[u] - s1r[u]
        ei = s0i[u] - s1i[u]
        o1r[u] = w1r * er - w1i * ei
        o1i[u] = w1r * ei + w1i * er


@njit(cache=True, nogil=True, fastmath=_FLAGS)
def stockham(xr, xi, yr, yi, lanes, radices, offsets, twr, twi):
    """DFT_M along the bin axis of (M, lanes) arrays flattened; x is overwritten.

    Returns True when the result is in y, False when in x."""
    groups = xr.shape[0] // lanes
    m = 1
    in_y = False
    for s in range(radices.shape[0]):
        if in_y:
            sr, si, dr, di = yr, yi, xr, xi
        else:
            sr, si, dr, di = xr, xi, yr, yi
        r = radices[s]
        groups //= r
        o = offsets[s]
        run = m * lanes
        span = groups * run
        for j in range(groups):
            a = j * run
            b = r * j * run
            if r == 4:
                _radix4(sr[a:a + run], si[a:a + run],
                        sr[a + span:a + span + run], si[a + span:a + span + run],
                        sr[a + 2 * span:a + 2 * span + run], si[a + 2 * span:a + 2 * span + run],
                        sr[a + 3 * span:a + 3 * span + run], si[a + 3 * span:a + 3 * span + run],
                        dr[b:b + run], di[b:b + run],
                        dr[b + run:b + 2 * run], di[b + run:b + 2 * run],
                        dr[b + 2 * run:b + 3 * run], di[b + 2 * run:b + 3 * run],
                        dr[b + 3 * run:b + 4 * run], di[b + 3 * run:b + 4 * run],
                        twr[o + j, 0], twi[o + j, 0], twr[o + j, 1], twi[o + j, 1],
                        twr[o + j, 2], twi[o + j, 2])
            else:
                _radix2(sr[a:a + run], si[a:a + run],
                        sr[a + span:a + span + run], si[a + span:a + span + run],
                        dr[b:b + run], di[b:b + run], dr[b + run:b + 2 * run],
                        di[b + run:b + 2 * run], twr[o + j, 0], twi[o + j, 0])
        m *= r
        in_y = not in_y
    return in_y


@njit(cache=True, nogil=True, fastmath=_FLAGS, inline="always")
def _post_row(ar, ai, br, bi, cr, ci, out):
    for v in range(ar.shape[0]):
        # A = Z[k], B = conj Z[M − k]: E = (A + B)/2, O = −i(A − B)/2, X = E + c·O
        er = 0.5 * (ar[v] + br[v])
        ei = 0.5 * (ai[v] - bi[v])
        o_r = 0.5 * (ai[v] + bi[v])
        o_i = -0.5 * (ar[v] - br[v])
        xr = er + cr * o_r - ci * o_i
        xi = ei + cr * o_i + ci * o_r
        out[v] = xr * xr + xi * xi


@njit(cache=True, nogil=True, fastmath=_FLAGS)
def packed_power(zr, zi, lanes, post_r, post_i, power, pt):
    """pt[k, :lanes] = |X[k]|^power for k = 0..M, from the packed transform Z (step 3)."""
    m = zr.shape[0] // lanes
    for k in range(m + 1):
        a = (k % m) * lanes
        b = ((m - k) % m) * lanes
        row = pt[k, :lanes]
        _post_row(zr[a:a + lanes], zi[a:a + lanes], zr[b:b + lanes], zi[b:b + lanes],
                  post_r[k], post_i[k], row)
        if power != 2.0:
            for v in range(lanes):
                row[v] = math.sqrt(row[v]) ** power
