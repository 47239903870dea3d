"""Numba backend of the ISO 532-1 upper-slope spreading (the sequential part of Zwicker
loudness): many core-loudness vectors (e.g. one per time segment) in parallel."""
from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(cache=True)
def _slopes_one(nm, zup_t, rns, usl, ns):
    total = 0.0
    z = 0.1
    z1 = 0.0
    n1 = 0.0
    iz = 0
    j = 0
    for i in range(21):
        zup = zup_t[i] + 0.0001
        ig = min(max(i - 1, 0), 7)
        while True:
            if n1 > nm[i]:
                n2 = max(rns[j], nm[i])
                dz = (n1 - n2) / usl[j, ig]
                z2 = z1 + dz
                if z2 > zup:
                    z2 = zup
                    dz = z2 - z1
                    n2 = n1 - dz * usl[j, ig]
                total += dz * (n1 + n2) / 2.0
                while z < z2 and iz < 240:
                    ns[iz] = n1 - (z - z1) * usl[j, ig]
                    iz += 1
                    z = (iz + 1) * 0.1  # the exact grid, no drift from adding 0.1
            else:
                if n1 < nm[i]:
                    j = 0
                    while j < 17 and rns[j] > nm[i]:
                        j += 1
                z2 = zup
                n2 = nm[i]
                total += n2 * (z2 - z1)
                while z < z2 and iz < 240:
                    ns[iz] = n2
                    iz += 1
                    z = (iz + 1) * 0.1  # the exact grid, no drift from adding 0.1
            while j < 17 and n2 <= rns[j]:
                j += 1
            n1 = n2
            z1 = z2
            if z1 >= zup:
                break
    return total


@njit(cache=True, parallel=True)
def slopes_2d(nm, zup, rns, usl):
    """(M, 21) core loudness -> unrounded totals (M,) and N'(z) (M, 240)."""
    m = nm.shape[0]
    tot = np.empty(m)
    spec = np.zeros((m, 240))
    for k in prange(m):
        tot[k] = _slopes_one(nm[k], zup, rns, usl, spec[k])
    return tot, spec
