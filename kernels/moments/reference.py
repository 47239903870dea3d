"""Reference paired moments: plain NumPy in float64, corrected two-pass (the source of truth).

For pairs (x_i, y_i), i = 1..n, and d_i = x_i − y_i, the state is the 9-vector

    [n, x̄, ȳ, M2x, M2y, Cxy, d̄, M2d, S|d|]
    M2x = Σ (x_i − x̄)²,  M2y = Σ (y_i − ȳ)²,  Cxy = Σ (x_i − x̄)(y_i − ȳ)
    M2d = Σ (d_i − d̄)²,  S|d| = Σ |d_i|

Each centred sum uses the corrected two-pass algorithm (Chan, Golub & LeVeque 1983):
Σ(v − v̄)² − (Σ(v − v̄))²/n, which removes the first-order rounding error of v̄.
An empty input gives n = 0 and zeros; NaN anywhere propagates into every moment.
"""
from __future__ import annotations

import numpy as np

NFIELDS = 9


def paired_moments(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    n = x.shape[0]
    out = np.zeros(NFIELDS, dtype=np.float64)
    if n == 0:
        return out
    # inf/NaN input gives inf/NaN moments, as the Numba and Triton kernels do, silently
    # (inf - inf inside the centring would otherwise warn from NumPy's internals)
    with np.errstate(invalid="ignore", over="ignore"):
        d = x - y
        mx, my, md = x.mean(), y.mean(), d.mean()
        cx, cy, cd = x - mx, y - my, d - md
        ex, ey, ed = cx.sum(), cy.sum(), cd.sum()
        out[0] = n
        out[1] = mx + ex / n
        out[2] = my + ey / n
        out[3] = (cx * cx).sum() - ex * ex / n
        out[4] = (cy * cy).sum() - ey * ey / n
        out[5] = (cx * cy).sum() - ex * ey / n
        out[6] = md + ed / n
        out[7] = (cd * cd).sum() - ed * ed / n
        out[8] = np.abs(d).sum()
    return out


def merge(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Chan et al. (1979) pairwise update: the moments of the concatenation of two parts.

    n = na + nb, δ = v̄b − v̄a:  v̄ = v̄a + δ·nb/n,  M2 = M2a + M2b + δ²·na·nb/n,
    Cxy = Cxy_a + Cxy_b + δx·δy·na·nb/n,  S|d| = S|d|a + S|d|b.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    na, nb = a[0], b[0]
    if nb == 0:
        return a.copy()
    if na == 0:
        return b.copy()
    n = na + nb
    f = na * nb / n
    dx, dy, dd = b[1] - a[1], b[2] - a[2], b[6] - a[6]
    return np.array([
        n,
        a[1] + dx * nb / n,
        a[2] + dy * nb / n,
        a[3] + b[3] + dx * dx * f,
        a[4] + b[4] + dy * dy * f,
        a[5] + b[5] + dx * dy * f,
        a[6] + dd * nb / n,
        a[7] + b[7] + dd * dd * f,
        a[8] + b[8],
    ])
