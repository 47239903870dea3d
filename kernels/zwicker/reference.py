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




# ---------------------------------------------------------------------------------------
# Time-varying loudness, ISO 532-1:2017 clause 6 (and DIN 45692 sharpness over time)
# ---------------------------------------------------------------------------------------
TV_FS = 48000  # the filter bank of ISO 532-1 Annex A is specified at 48 kHz
LEVEL_RATE = 2000  # band levels and core loudness: 0.5 ms steps
OUT_RATE = 500  # the output: 2 ms steps
LEVEL_DECIMATION = TV_FS // LEVEL_RATE  # 24
OUT_DECIMATION = LEVEL_RATE // OUT_RATE  # 4
INNER_STEPS = 24  # virtual up-sampling of the nonlinear decay and the temporal weighting
SHARPNESS_MIN_LOUDNESS = 0.1  # sone; below it S(t) is set to 0 (as MoSQITo)

# ISO 532-1 Table A.1: the reference second-order sections (b0 b1 b2 a0 a1 a2) of the
# one-third-octave filters, each band being three such sections ...
TV_SOS_REFERENCE = np.array([[1.0, 2.0, 1.0, 1.0, -2.0, 1.0],
                             [1.0, 0.0, -1.0, 1.0, -2.0, 1.0],
                             [1.0, -2.0, 1.0, 1.0, -2.0, 1.0]])
# ... minus, per band (25 Hz .. 12.5 kHz) and section, these differences in (a1, a2)
# (Table A.2; the b's and a0 never differ) ...
TV_SOS_DIFF_A = np.array([
    [[-6.70260e-4, 6.59453e-4], [-3.75071e-4, 3.61926e-4], [-3.06523e-4, 2.97634e-4]],
    [[-8.47258e-4, 8.30131e-4], [-4.76448e-4, 4.55616e-4], [-3.88773e-4, 3.74685e-4]],
    [[-1.07210e-3, 1.04496e-3], [-6.06567e-4, 5.73553e-4], [-4.94004e-4, 4.71677e-4]],
    [[-1.35836e-3, 1.31535e-3], [-7.74327e-4, 7.22007e-4], [-6.29154e-4, 5.93771e-4]],
    [[-1.72380e-3, 1.65564e-3], [-9.91780e-4, 9.08866e-4], [-8.03529e-4, 7.47455e-4]],
    [[-2.19188e-3, 2.08388e-3], [-1.27545e-3, 1.14406e-3], [-1.02976e-3, 9.40900e-4]],
    [[-2.79386e-3, 2.62274e-3], [-1.64828e-3, 1.44006e-3], [-1.32520e-3, 1.18438e-3]],
    [[-3.57182e-3, 3.30071e-3], [-2.14252e-3, 1.81258e-3], [-1.71397e-3, 1.49082e-3]],
    [[-4.58305e-3, 4.15355e-3], [-2.80413e-3, 2.28135e-3], [-2.23006e-3, 1.87646e-3]],
    [[-5.90655e-3, 5.22622e-3], [-3.69947e-3, 2.87118e-3], [-2.92205e-3, 2.36178e-3]],
    [[-7.65243e-3, 6.57493e-3], [-4.92540e-3, 3.61318e-3], [-3.86007e-3, 2.97240e-3]],
    [[-1.00023e-2, 8.29610e-3], [-6.63788e-3, 4.55999e-3], [-5.15982e-3, 3.75306e-3]],
    [[-1.31230e-2, 1.04220e-2], [-9.02274e-3, 5.73132e-3], [-6.94543e-3, 4.71734e-3]],
    [[-1.73693e-2, 1.30947e-2], [-1.24176e-2, 7.20526e-3], [-9.46002e-3, 5.93145e-3]],
    [[-2.31934e-2, 1.64308e-2], [-1.73009e-2, 9.04761e-3], [-1.30358e-2, 7.44926e-3]],
    [[-3.13292e-2, 2.06370e-2], [-2.44342e-2, 1.13731e-2], [-1.82108e-2, 9.36778e-3]],
    [[-4.28261e-2, 2.59325e-2], [-3.49619e-2, 1.43046e-2], [-2.57855e-2, 1.17912e-2]],
    [[-5.91733e-2, 3.25054e-2], [-5.06072e-2, 1.79513e-2], [-3.69401e-2, 1.48094e-2]],
    [[-8.26348e-2, 4.05894e-2], [-7.40348e-2, 2.24476e-2], [-5.34977e-2, 1.85371e-2]],
    [[-1.17018e-1, 5.08116e-2], [-1.09516e-1, 2.81387e-2], [-7.85097e-2, 2.32872e-2]],
    [[-1.67714e-1, 6.37872e-2], [-1.63378e-1, 3.53729e-2], [-1.16419e-1, 2.93723e-2]],
    [[-2.42528e-1, 7.98576e-2], [-2.45161e-1, 4.43370e-2], [-1.73972e-1, 3.70015e-2]],
    [[-3.53142e-1, 9.96330e-2], [-3.69163e-1, 5.53535e-2], [-2.61399e-1, 4.65428e-2]],
    [[-5.16316e-1, 1.24177e-1], [-5.55473e-1, 6.89403e-2], [-3.93998e-1, 5.86715e-2]],
    [[-7.56635e-1, 1.55023e-1], [-8.34281e-1, 8.58123e-2], [-5.94547e-1, 7.43960e-2]],
    [[-1.10165e0, 1.91713e-1], [-1.23939e0, 1.05243e-1], [-8.91666e-1, 9.40354e-2]],
    [[-1.58477e0, 2.39049e-1], [-1.80505e0, 1.28794e-1], [-1.32500e0, 1.21333e-1]],
    [[-2.50630e0, 1.42308e-1], [-2.19464e0, 2.76470e-1], [-1.90231e0, 1.47304e-1]],
])
# ... and a gain per band applied to the cascade's output (Table A.2).
TV_GAIN = np.array([
    4.30764e-11, 8.59340e-11, 1.71424e-10, 3.41944e-10, 6.82035e-10, 1.36026e-9, 2.71261e-9,
    5.40870e-9, 1.07826e-8, 2.14910e-8, 4.28228e-8, 8.54316e-8, 1.70009e-7, 3.38215e-7,
    6.71990e-7, 1.33531e-6, 2.65172e-6, 5.25477e-6, 1.03780e-5, 2.04870e-5, 4.05198e-5,
    7.97914e-5, 1.56511e-4, 3.04954e-4, 5.99157e-4, 1.16544e-3, 2.27488e-3, 3.91006e-3])
LEVEL_FLOOR = 1e-12  # Pa^2 added before the logarithm (no -inf for silence)
# nonlinear temporal decay (ISO 532-1 6.5): the time constants of its RC network
T_SHORT, T_LONG, T_VAR = 0.005, 0.015, 0.075
# temporal weighting of the total loudness (ISO 532-1 6.6)
TW_TAUS = (3.5e-3, 70e-3)
TW_WEIGHTS = (0.47, 0.53)


def tv_filterbank_sos() -> np.ndarray:
    """(28, 3, 6) second-order sections of the ISO 532-1 one-third-octave bands at 48
    kHz (Table A.1 minus Table A.2; their gains are :data:`TV_GAIN`)."""
    sos = np.repeat(TV_SOS_REFERENCE[None], N_BANDS, axis=0)
    sos[:, :, 4:6] -= TV_SOS_DIFF_A
    return sos


def tv_smoothing_coefficients() -> np.ndarray:
    """(28,) pole a of the three first-order low-passes smoothing each squared band:
    tau = 2 / (3 fm) up to fm = 1 kHz, 2/3 ms above (fm = 1000 * 10^(x/10))."""
    fm = 1000.0 * 10.0 ** (BAND_INDICES / 10.0)
    tau = np.where(fm <= 1000.0, 2.0 / (3.0 * fm), 2.0 / 3000.0)
    return np.exp(-1.0 / (TV_FS * tau))


def nl_coefficients(rate: float = LEVEL_RATE * INNER_STEPS) -> np.ndarray:
    """B0 .. B5 of the nonlinear decay network discretised at ``rate`` Hz: a two-stage
    RC network (time constants T_SHORT, T_LONG, T_VAR) whose eigenvalues l1, l2 solve
    l^2 + P l + Q = 0, P = (T_VAR + T_LONG) / (T_VAR T_SHORT), Q = 1 / (T_SHORT T_VAR)."""
    dt = 1.0 / rate
    p = (T_VAR + T_LONG) / (T_VAR * T_SHORT)
    q = 1.0 / (T_SHORT * T_VAR)
    l1 = -p / 2.0 + np.sqrt(p * p / 4.0 - q)
    l2 = -p / 2.0 - np.sqrt(p * p / 4.0 - q)
    den = T_VAR * (l1 - l2)
    e1, e2 = np.exp(l1 * dt), np.exp(l2 * dt)
    return np.array([
        (e1 - e2) / den,
        ((T_VAR * l2 + 1.0) * e1 - (T_VAR * l1 + 1.0) * e2) / den,
        ((T_VAR * l1 + 1.0) * e1 - (T_VAR * l2 + 1.0) * e2) / den,
        (T_VAR * l1 + 1.0) * (T_VAR * l2 + 1.0) * (e1 - e2) / den,
        np.exp(-dt / T_LONG),
        np.exp(-dt / T_VAR),
    ])


def tv_band_levels(x48) -> np.ndarray:
    """(..., n) signal at 48 kHz in Pa -> (..., ceil(n / 24), 28) band levels in dB at 2
    kHz (ISO 532-1 6.3): each band is the Table A.1/A.2 cascade times its gain, squared,
    smoothed by three first-order low-passes, sampled every 24th sample (from the first),
    10 log10((ms + 1e-12) / (20 uPa)^2)."""
    from scipy.signal import lfilter, sosfilt

    x = np.asarray(x48, dtype=np.float64)
    sos = tv_filterbank_sos()
    smooth = tv_smoothing_coefficients()
    n_steps = -(-x.shape[-1] // LEVEL_DECIMATION)
    out = np.empty(x.shape[:-1] + (n_steps, N_BANDS))
    for b in range(N_BANDS):
        y = TV_GAIN[b] * sosfilt(sos[b], x, axis=-1)
        y = y * y
        a = smooth[b]
        for _ in range(3):
            y = lfilter([1.0 - a], [1.0, -a], y, axis=-1)
        out[..., b] = 10.0 * np.log10((y[..., ::LEVEL_DECIMATION] + LEVEL_FLOOR) / 4e-10)
    return out


def _interpolated(u: np.ndarray) -> np.ndarray:
    """(..., T) -> (..., T * 24): each step's value followed by 23 points linearly
    interpolated towards the next step's (the last step goes towards 0)."""
    nxt = np.concatenate([u[..., 1:], np.zeros(u.shape[:-1] + (1,))], axis=-1)
    k = np.arange(INNER_STEPS) / INNER_STEPS
    return (u[..., None] + (nxt - u)[..., None] * k).reshape(u.shape[:-1] + (-1,))


def nonlinear_decay(core) -> np.ndarray:
    """ISO 532-1 6.5: the nonlinear temporal decay of each critical band's core loudness
    (..., T, 21) at 2 kHz, run at 24 x 2 kHz on linearly interpolated input, keeping the
    output of each step's first inner sample. With the network state (uo, u2), starting
    from (0, 0), and input ui, per inner sample:

    - ui < uo (decay): if uo > u2, u2' = B0 uo - B1 u2 and uo' = max(B2 uo - B3 u2, ui),
      u2' = min(u2', uo'); otherwise uo' = max(B4 uo, ui), u2' = uo';
    - ui >= uo (attack): uo' = ui and u2' = B5 (u2 - ui) + ui, except u2' = ui when
      |ui - uo| < 1e-5 and ui <= u2.
    """
    c = np.asarray(core, dtype=np.float64)
    b = nl_coefficients()
    ui_all = _interpolated(np.moveaxis(c, -2, -1))  # (..., 21, T * 24)
    uo = np.zeros(ui_all.shape[:-1])
    u2 = np.zeros(ui_all.shape[:-1])
    out = np.empty(c.shape[:-2] + (c.shape[-1], c.shape[-2]))
    for j in range(ui_all.shape[-1]):
        ui = ui_all[..., j]
        falling = ui < uo
        fast = uo > u2
        uo_fast = np.maximum(b[2] * uo - b[3] * u2, ui)
        u2_fast = np.minimum(b[0] * uo - b[1] * u2, uo_fast)
        uo_slow = np.maximum(b[4] * uo, ui)
        same = (np.abs(ui - uo) < 1e-5) & (ui <= u2)
        u2_attack = np.where(same, ui, b[5] * (u2 - ui) + ui)
        new_uo = np.where(falling, np.where(fast, uo_fast, uo_slow), ui)
        u2 = np.where(falling, np.where(fast, u2_fast, uo_slow), u2_attack)
        uo = new_uo
        if j % INNER_STEPS == 0:
            out[..., j // INNER_STEPS] = uo
    return np.moveaxis(out, -1, -2)


def _lowpass_interpolated(u: np.ndarray, tau: float) -> np.ndarray:
    from scipy.signal import lfilter

    a = np.exp(-1.0 / (LEVEL_RATE * INNER_STEPS * tau))
    y = lfilter([1.0 - a], [1.0, -a], _interpolated(u), axis=-1)
    return y[..., ::INNER_STEPS]


def temporal_weighting(total) -> np.ndarray:
    """ISO 532-1 6.6: N(t) = 0.47 LP_3.5ms(N) + 0.53 LP_70ms(N) of the total loudness
    (..., T) at 2 kHz, each first-order low-pass run at 24 x 2 kHz on linearly
    interpolated input from rest, sampled at each step's first inner sample."""
    n = np.asarray(total, dtype=np.float64)
    return sum(w * _lowpass_interpolated(n, tau) for w, tau in zip(TW_WEIGHTS, TW_TAUS))


def time_varying_loudness(x48: np.ndarray, field: str = "free"
                          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(N(t) (..., T), N'(z, t) (..., T, 240), t (T,) in s) of a 48 kHz signal (..., n)
    in Pa: band levels -> core loudness -> nonlinear decay -> slopes (total rounded as
    ISO 532-1 prescribes) -> temporal weighting of the total -> every 4th step (2 ms)."""
    _check_field(field)
    levels = tv_band_levels(x48)
    core = nonlinear_decay(core_loudness(levels, field))
    flat = core.reshape(-1, 21)
    tot = np.empty(len(flat))
    spec = np.empty((len(flat), 240))
    for k, row in enumerate(flat):
        tot[k], spec[k] = _slopes_one(row)
    tot = round_loudness(tot).reshape(core.shape[:-1])
    spec = spec.reshape(core.shape[:-1] + (240,))
    n = temporal_weighting(tot)[..., ::OUT_DECIMATION]
    spec = spec[..., ::OUT_DECIMATION, :]
    return n, spec, np.arange(n.shape[-1]) / OUT_RATE


def sharpness_din_tv(n: np.ndarray, n_specific: np.ndarray) -> np.ndarray:
    """DIN 45692 sharpness over time (acum): 0.11 sum_z N'(z, t) g(z) z 0.1 / N(t) with
    N(t) the temporally weighted loudness; 0 where N(t) < 0.1 sone."""
    z = BARK
    g = np.where(z > 15.8, 0.15 * np.exp(0.42 * (z - 15.8)) + 0.85, 1.0)
    num = 0.11 * (np.asarray(n_specific, dtype=np.float64) @ (g * z * 0.1))
    n = np.asarray(n, dtype=np.float64)
    ok = n >= SHARPNESS_MIN_LOUDNESS
    return np.where(ok, num / np.where(ok, n, 1.0), 0.0)
