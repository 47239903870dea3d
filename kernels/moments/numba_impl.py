"""Paired moments in one pass with Numba: blocked two-pass + Chan merging, float64 accumulation.

The data is read once from memory in blocks of ``BLOCK`` pairs. Each block (which sits in
L1 cache) gets an exact two-pass treatment — block means first, then the centred sums
Σ(x−x̄_b)², Σ(y−ȳ_b)², Σ(x−x̄_b)(y−ȳ_b), Σ((x−y)−d̄_b)², Σ|x−y| — and is merged into the
running state with Chan's update (see ``reference.merge``). Means are kept relative to
the first pair (x₀, y₀) until the end, so a large common offset costs no precision. Inputs of any float dtype are
widened to float64 element by element.

``fastmath`` enables only re-association (so LLVM may vectorise the block sums) and
contraction; NaN/inf semantics are kept (no ``nnan``/``ninf``), so NaN propagates.
"""
from __future__ import annotations

import numpy as np
from numba import njit

BLOCK = 1024
_FLAGS = {"reassoc", "contract", "nsz"}


@njit(cache=True, fastmath=_FLAGS)
def _paired_moments(x, y, block):
    n = x.shape[0]
    out = np.zeros(9, dtype=np.float64)
    if n == 0:
        return out
    # work in a frame shifted by the first pair, so that a large common offset (1e8 plus
    # small noise) never enters the block means or Chan's deltas; added back at the end
    kx = np.float64(x[0])
    ky = np.float64(y[0])
    na = 0.0
    mx = my = m2x = m2y = cxy = md = m2d = sabs = 0.0
    for start in range(0, n, block):
        # slicing first lets LLVM see two unit-stride (or fixed-stride) block loops
        xs = x[start:start + block]
        ys = y[start:start + block]
        m = xs.shape[0]
        nb = float(m)
        sx = 0.0
        sy = 0.0
        sd = 0.0
        for i in range(m):
            xi = np.float64(xs[i])
            yi = np.float64(ys[i])
            sx += xi - kx
            sy += yi - ky
            sd += xi - yi
        bx = sx / nb
        by = sy / nb
        bd = sd / nb
        qx = qy = qc = qd = sa = 0.0
        for i in range(m):
            xi = np.float64(xs[i])
            yi = np.float64(ys[i])
            dx = (xi - kx) - bx
            dy = (yi - ky) - by
            di = xi - yi
            dd = di - bd
            qx += dx * dx
            qy += dy * dy
            qc += dx * dy
            qd += dd * dd
            sa += abs(di)
        if na == 0.0:
            na, mx, my, m2x, m2y, cxy, md, m2d, sabs = nb, bx, by, qx, qy, qc, bd, qd, sa
            continue
        nt = na + nb
        f = na * nb / nt
        ex = bx - mx
        ey = by - my
        ed = bd - md
        mx += ex * nb / nt
        my += ey * nb / nt
        md += ed * nb / nt
        m2x += qx + ex * ex * f
        m2y += qy + ey * ey * f
        cxy += qc + ex * ey * f
        m2d += qd + ed * ed * f
        sabs += sa
        na = nt
    out[0] = na
    out[1] = kx + mx
    out[2] = ky + my
    out[3] = m2x
    out[4] = m2y
    out[5] = cxy
    out[6] = md
    out[7] = m2d
    out[8] = sabs
    return out


def paired_moments(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return _paired_moments(x, y, BLOCK)
