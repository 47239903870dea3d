"""Numba CPU kernels of the GGUF packed-weight linear layer (``@njit(cache=True)``,
parallel over groups of 8 output rows with ``prange``; ``numba.get_num_threads()``
threads).

The codes are the file's bytes, interleaved by :func:`affrepro.kernels.gguf_linear.pack`
so that 8 consecutive output rows sit side by side: byte j of block k of rows 8g..8g+7 is
``qs[((g·nblk + k)·C + j)·8 + r]`` (C = 16 bytes per Q4_1 block, 32 per Q8_0 block), and
the fp16 scales (and Q4_1 minimums), converted exactly to float32, are ``d[(g·nblk + k)·8 + r]``.
For input row b and output row o = 8g + r:

    Q4_1  y[b, o] = Σ_k d[o,k] · Σ_{j<16} (x[b, 32k+j] · lo_j + x[b, 32k+16+j] · hi_j)
                    + m[o,k] · Σ_{j<32} x[b, 32k+j]        (hi_j = ⌊c_j/16⌋, lo_j = c_j − 16·hi_j)
    Q8_0  y[b, o] = Σ_k d[o,k] · Σ_{j<32} x[b, 32k+j] · c_j   (c_j signed)

The 8 rows of a group are 8 independent scalar chains in the source, which LLVM's SLP
vectorizer turns into one 8-lane AVX2 register each (unpack, convert, FMA); a group's codes
(nblk·128 or nblk·256 bytes) stay in L1 while every input row of the call passes over them.
Sums are float32, in a fixed order that does not depend on the batch (so a row's output
is the same alone or in a batch); NaN/inf propagate as in the formula.
"""
from __future__ import annotations

import numba as nb
import numpy as np

_FM = {"reassoc", "contract"}
_OPTS = dict(cache=True, nogil=True, fastmath=_FM)
_F16 = np.float32(16.0)
_INV16 = np.float32(0.0625)  # c/16 and ⌊·⌋ are exact in float32 for c < 256


@nb.njit(parallel=True, **_OPTS)
def q4_1_matmul(x, d, m, qs, y):  # pragma: no cover - compiled
    n_in, nblk = x.shape[0], x.shape[1] // 32
    xsum = np.empty((n_in, nblk), np.float32)  # Σ_j x[b, 32k+j], shared by every output row
    for b in range(n_in):
        for k in range(nblk):
            t = np.float32(0.0)
            for j in range(32):
                t += x[b, 32 * k + j]
            xsum[b, k] = t
    for g in nb.prange(d.shape[0] // (8 * nblk)):
        for b in range(n_in):
            a0 = np.float32(0.0)
            a1 = np.float32(0.0)
            a2 = np.float32(0.0)
            a3 = np.float32(0.0)
            a4 = np.float32(0.0)
            a5 = np.float32(0.0)
            a6 = np.float32(0.0)
            a7 = np.float32(0.0)
            for k in range(nblk):
                s0 = np.float32(0.0)
                s1 = np.float32(0.0)
                s2 = np.float32(0.0)
                s3 = np.float32(0.0)
                s4 = np.float32(0.0)
                s5 = np.float32(0.0)
                s6 = np.float32(0.0)
                s7 = np.float32(0.0)
                for j in range(16):
                    xl = x[b, 32 * k + j]
                    xh = x[b, 32 * k + 16 + j]
                    base = ((g * nblk + k) * 16 + j) * 8
                    f0 = np.float32(qs[base + 0]); h0 = np.floor(f0 * _INV16); s0 += xl * (f0 - _F16 * h0) + xh * h0
                    f1 = np.float32(qs[base + 1]); h1 = np.floor(f1 * _INV16); s1 += xl * (f1 - _F16 * h1) + xh * h1
                    f2 = np.float32(qs[base + 2]); h2 = np.floor(f2 * _INV16); s2 += xl * (f2 - _F16 * h2) + xh * h2
                    f3 = np.float32(qs[base + 3]); h3 = np.floor(f3 * _INV16); s3 += xl * (f3 - _F16 * h3) + xh * h3
                    f4 = np.float32(qs[base + 4]); h4 = np.floor(f4 * _INV16); s4 += xl * (f4 - _F16 * h4) + xh * h4
                    f5 = np.float32(qs[base + 5]); h5 = np.floor(f5 * _INV16); s5 += xl * (f5 - _F16 * h5) + xh * h5
                    f6 = np.float32(qs[base + 6]); h6 = np.floor(f6 * _INV16); s6 += xl * (f6 - _F16 * h6) + xh * h6
                    f7 = np.float32(qs[base + 7]); h7 = np.floor(f7 * _INV16); s7 += xl * (f7 - _F16 * h7) + xh * h7
                db = (g * nblk + k) * 8
                xs = xsum[b, k]
                a0 += d[db + 0] * s0 + m[db + 0] * xs
                a1 += d[db + 1] * s1 + m[db + 1] * xs
                a2 += d[db + 2] * s2 + m[db + 2] * xs
                a3 += d[db + 3] * s3 + m[db + 3] * xs
                a4 += d[db + 4] * s4 + m[db + 4] * xs
                a5 += d[db + 5] * s5 + m[db + 5] * xs
                a6 += d[db + 6] * s6 + m[db + 6] * xs
                a7 += d[db + 7] * s7 + m[db + 7] * xs
            y[b, 8 * g + 0] = a0
            y[b, 8 * g + 1] = a1
            y[b, 8 * g + 2] = a2
            y[b, 8 * g + 3] = a3
            y[b, 8 * g + 4] = a4
            y[b, 8 * g + 5] = a5
            y[b, 8 * g + 6] = a6
            y[b, 8 * g + 7] = a7


@nb.njit(parallel=True, **_OPTS)
def q8_0_matmul(x, d, qs, y):  # pragma: no cover - compiled
    n_in, nblk = x.shape[0], x.shape[1] // 32
    for g in nb.prange(d.shape[0] // (8 * nblk)):
        for b in range(n_in):
            a0 = np.float32(0.0)
            a1 = np.float32(0.0)
            a2 = np.float32(0.0)
            a3 = np.float32(0.0)
            a4 = np.float32(0.0)
            a5 = np.float32(0.0)
            a6 = np.float32(0.0)
            a7 = np.float32(0.0)
            for k in range(nblk):
                s0 = np.float32(0.0)
                s1 = np.float32(0.0)
                s2 = np.float32(0.0)
                s3 = np.float32(0.0)
                s4 = np.float32(0.0)
                s5 = np.float32(0.0)
                s6 = np.float32(0.0)
                s7 = np.float32(0.0)
                for j in range(32):
                    xj = x[b, 32 * k + j]
                    base = ((g * nblk + k) * 32 + j) * 8
                    s0 += xj * np.float32(qs[base + 0])
                    s1 += xj * np.float32(qs[base + 1])
                    s2 += xj * np.float32(qs[base + 2])
                    s3 += xj * np.float32(qs[base + 3])
                    s4 += xj * np.float32(qs[base + 4])
                    s5 += xj * np.float32(qs[base + 5])
                    s6 += xj * np.float32(qs[base + 6])
                    s7 += xj * np.float32(qs[base + 7])
                db = (g * nblk + k) * 8
                a0 += d[db + 0] * s0
                a1 += d[db + 1] * s1
                a2 += d[db + 2] * s2
                a3 += d[db + 3] * s3
                a4 += d[db + 4] * s4
                a5 += d[db + 5] * s5
                a6 += d[db + 6] * s6
                a7 += d[db + 7] * s7
            y[b, 8 * g + 0] = a0
            y[b, 8 * g + 1] = a1
            y[b, 8 * g + 2] = a2
            y[b, 8 * g + 3] = a3
            y[b, 8 * g + 4] = a4
            y[b, 8 * g + 5] = a5
            y[b, 8 * g + 6] = a6
            y[b, 8 * g + 7] = a7
