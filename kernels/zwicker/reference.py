"""Reference ISO 532-1 (Zwicker) stationary loudness from one-third-octave band levels,
and DIN 45692 sharpness from the specific loudness. Plain NumPy/Python, float64.

The procedure and its tables are those of ISO 532-1:2017 clause 5 / DIN 45631 (the
numbers below are the standard's tables): low-frequency correction of the 28 band levels
(25 Hz .. 12.5 kHz) along equal-loudness contours (RAP, DLL), merging of the bands up to
250 Hz into the first three critical bands, core loudness per critical band (free-field
transmission A0, diffuse-field DDF, threshold LTQ, band-to-critical-band adaptation DCB),
the correction of the lowest critical band, and the upper slopes (ZUP, RNS, USL) that
spread the core loudness into N'(z) on 0.1 .. 24 Bark in 0.1-Bark steps.
"""
from __future__ import annotations


import numpy as np

BAND_INDICES = np.arange(-16, 12)  # x in fm = 1000 * 10^(x/10): 25 Hz .. 12.5 kHz
N_BANDS = 28
BARK = np.round(np.arange(1, 241) * 0.1, 1)  # 0.1 .. 24.0 Bark

RAP = np.array([45.0, 55.0, 65.0, 71.0, 80.0, 90.0, 100.0, 120.0])
DLL = np.array([
    [-32, -24, -16, -10, -5, 0, -7, -3, 0, -2, 0],
    [-29, -22, -15, -10, -4, 0, -7, -2, 0, -2, 0],
    [-27, -19, -14, -9, -4, 0, -6, -2, 0, -2, 0],
    [-25, -17, -12, -9, -3, 0, -5, -2, 0, -2, 0],
    [-23, -16, -11, -7, -3, 0, -4, -1, 0, -1, 0],
    [-20, -14, -10, -6, -3, 0, -4, -1, 0, -1, 0],
    [-18, -12, -9, -6, -2, 0, -3, -1, 0, -1, 0],
    [-15, -10, -8, -4, -2, 0, -3, -1, 0, -1, 0],
], dtype=np.float64)
LTQ = np.array([30, 18, 12, 8, 7, 6, 5, 4, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3], dtype=np.float64)
A0 = np.array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -0.5, -1.6, -3.2, -5.4, -5.6, -4, -1.5, 2, 5, 12],
              dtype=np.float64)
DDF = np.array([0, 0, 0.5, 0.9, 1.2, 1.6, 2.3, 2.8, 3, 2, 0, -1.4, -2, -1.9, -1, 0.5, 3, 4, 4.3,
                4], dtype=np.float64)
DCB = np.array([-0.25, -0.6, -0.8, -0.8, -0.5, 0, 0.5, 1.1, 1.5, 1.7, 1.8, 1.8, 1.7, 1.6, 1.4,
                1.2, 0.8, 0.5, 0, -0.5], dtype=np.float64)
ZUP = np.array([0.9, 1.8, 2.8, 3.5, 4.4, 5.4, 6.6, 7.9, 9.2, 10.6, 12.3, 13.8, 15.2, 16.7, 18.1,
                19.3, 20.6, 21.8, 22.7, 23.6, 24.0])
RNS = np.array([21.5, 18, 15.1, 11.5, 9, 6.1, 4.4, 3.1, 2.13, 1.36, 0.82, 0.42, 0.30, 0.22,
                0.15, 0.10, 0.035, 0])
USL = np.array([
    [13, 8.2, 6.3, 5.5, 5.5, 5.5, 5.5, 5.5],
    [9, 7.5, 6, 5.1, 4.5, 4.5, 4.5, 4.5],
    [7.8, 6.7, 5.6, 4.9, 4.4, 3.9, 3.9, 3.9],
    [6.2, 5.4, 4.6, 4.0, 3.5, 3.2, 3.2, 3.2],
    [4.5, 3.8, 3.6, 3.2, 2.9, 2.7, 2.7, 2.7],
    [3.7, 3.0, 2.8, 2.35, 2.2, 2.2, 2.2, 2.2],
    [2.9, 2.3, 2.1, 1.9, 1.8, 1.7, 1.7, 1.7],
    [2.4, 1.7, 1.5, 1.35, 1.3, 1.3, 1.3, 1.3],
    [1.95, 1.45, 1.3, 1.15, 1.1, 1.1, 1.1, 1.1],
    [1.5, 1.2, 0.94, 0.86, 0.82, 0.82, 0.82, 0.82],
    [0.72, 0.67, 0.64, 0.63, 0.62, 0.62, 0.62, 0.62],
    [0.59, 0.53, 0.51, 0.50, 0.42, 0.42, 0.42, 0.42],
    [0.40, 0.33, 0.26, 0.24, 0.24, 0.22, 0.22, 0.22],
    [0.27, 0.21, 0.20, 0.18, 0.17, 0.17, 0.17, 0.17],
    [0.16, 0.15, 0.14, 0.12, 0.11, 0.11, 0.11, 0.11],
    [0.12, 0.11, 0.10, 0.08, 0.08, 0.08, 0.08, 0.08],
    [0.09, 0.08, 0.07, 0.06, 0.06, 0.06, 0.06, 0.05],
    [0.06, 0.05, 0.03, 0.02, 0.02, 0.02, 0.02, 0.02],
])


def _check_field(field: str) -> str:
    if field not in ("free", "diffuse"):
        raise ValueError(f"field must be 'free' or 'diffuse', got {field!r}")
    return field


def core_loudness(levels, field: str = "free") -> np.ndarray:
    """(..., 28) band levels (dB, 25 Hz .. 12.5 kHz) -> (..., 21) core loudness per
    critical band (the 21st, above 24 Bark, is 0)."""
    _check_field(field)
    lt = np.asarray(levels, dtype=np.float64)
    if lt.shape[-1] != N_BANDS:
        raise ValueError(f"need {N_BANDS} band levels (25 Hz .. 12.5 kHz), got {lt.shape[-1]}")
    low = lt[..., :11]
    # the first range j whose upper limit RAP[j] - DLL[j, i] the level does not exceed
    above = low[..., None, :] > (RAP[:, None] - DLL)  # (..., 8, 11)
    j = np.minimum(above.sum(axis=-2), 7)
    xp = low + DLL[j, np.arange(11)]
    ti = 10.0 ** (xp / 10.0)
    gi = np.stack([ti[..., 0:6].sum(-1), ti[..., 6:9].sum(-1), ti[..., 9:11].sum(-1)], -1)
    with np.errstate(divide="ignore"):
        lcb = np.where(gi > 0, 10.0 * np.log10(np.where(gi > 0, gi, 1.0)), -np.inf)
    le = np.concatenate([lcb, lt[..., 11:]], axis=-1) - A0
    if field == "diffuse":
        le = le + DDF
    audible = le > LTQ
    le = np.where(audible, le - DCB, le)
    mp1 = 0.0635 * 10.0 ** (0.025 * LTQ)
    with np.errstate(over="ignore", invalid="ignore"):
        mp2 = (1.0 - 0.25 + 0.25 * 10.0 ** ((le - LTQ) / 10.0)) ** 0.25 - 1.0
    nm = np.where(audible, np.maximum(mp1 * mp2, 0.0), 0.0)
    korry = np.minimum(0.4 + 0.32 * nm[..., 0] ** 0.2, 1.0)
    nm[..., 0] *= korry
    return np.concatenate([nm, np.zeros(nm.shape[:-1] + (1,))], axis=-1)


def _slopes_one(nm: np.ndarray):
    """Total loudness (unrounded) and N'(z) (240,) of one core-loudness vector (21,)."""
    ns = np.zeros(240)
    total = 0.0
    z = 0.1
    z1 = 0.0
    n1 = 0.0
    iz = 0
    j = 0
    for i in range(21):
        zup = ZUP[i] + 0.0001
        ig = min(max(i - 1, 0), 7)
        while True:
            if n1 > nm[i]:  # falling: follow the upper slope of range j
                n2 = max(RNS[j], nm[i])
                dz = (n1 - n2) / USL[j, ig]
                z2 = z1 + dz
                if z2 > zup:
                    z2 = zup
                    dz = z2 - z1
                    n2 = n1 - dz * USL[j, ig]
                total += dz * (n1 + n2) / 2.0
                while z < z2 and iz < 240:
                    ns[iz] = n1 - (z - z1) * USL[j, ig]
                    iz += 1
                    z = (iz + 1) * 0.1  # the exact grid, no drift from adding 0.1
            else:  # rising or flat: the band's core loudness up to its upper limit
                if n1 < nm[i]:
                    j = 0
                    while j < 17 and RNS[j] > nm[i]:
                        j += 1
                z2 = zup
                n2 = nm[i]
                total += n2 * (z2 - z1)
                while z < z2 and iz < 240:
                    ns[iz] = n2
                    iz += 1
                    z = (iz + 1) * 0.1  # the exact grid, no drift from adding 0.1
            while j < 17 and n2 <= RNS[j]:
                j += 1
            n1 = n2
            z1 = z2
            if z1 >= zup:
                break
    return total, ns


def round_loudness(n):
    """ISO 532-1 rounding: 3 decimals up to 16 sone, 2 above; negative -> 0."""
    n = np.maximum(np.asarray(n, dtype=np.float64), 0.0)
    return np.where(n <= 16, np.floor(n * 1000 + 0.5) / 1000, np.floor(n * 100 + 0.5) / 100)


def loudness_from_levels(levels, field: str = "free"):
    """(N (...,) in sone, N'(z) (..., 240) in sone/Bark) from (..., 28) band levels."""
    nm = core_loudness(levels, field)
    flat = nm.reshape(-1, 21)
    tot = np.empty(len(flat))
    spec = np.empty((len(flat), 240))
    for k, row in enumerate(flat):
        tot[k], spec[k] = _slopes_one(row)
    return (round_loudness(tot).reshape(nm.shape[:-1]),
            spec.reshape(nm.shape[:-1] + (240,)))


def sharpness_din(n, n_specific) -> np.ndarray:
    """DIN 45692 sharpness (acum): 0.11 * sum(N'(z) g(z) z dz) / N, g = 1 up to 15.8 Bark,
    0.15 exp(0.42 (z - 15.8)) + 0.85 above; 0 where N = 0."""
    z = BARK
    g = np.where(z > 15.8, 0.15 * np.exp(0.42 * (z - 15.8)) + 0.85, 1.0)
    num = 0.11 * np.sum(np.asarray(n_specific) * g * z * 0.1, axis=-1)
    n = np.asarray(n, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(n > 0, num / np.where(n > 0, n, 1.0), 0.0)


def loudness_level(n):
    """Loudness level in phon from loudness in sone (ISO 532-1)."""
    n = np.asarray(n, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(n >= 1, 40.0 + 10.0 * np.log2(np.maximum(n, 1e-300)),
                        40.0 * (n + 0.0005) ** 0.35)


