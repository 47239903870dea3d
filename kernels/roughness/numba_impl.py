"""Numba backend of the Daniel & Weber roughness: the per-bin / per-channel loops
(excitation spectra of the 47 channels, envelope rectification, modulation depth and
channel correlation) compiled. The FFTs, most of the time, are library calls batched
over frames and channels (ducc0 in the driver; SciPy in the issue-7 :mod:`.baseline`).
Same steps and constants as :mod:`.reference`.

Serial and ``nogil``: the driver parallelises over blocks of frames with Python threads
(each block's FFTs on one FFT thread), not with ``parallel=True``: an OpenMP pool
spinning between Numba calls while the FFT threads run made two threads slower than
one on the shared 2-core machine."""
from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

N_CHANNELS = 47
_LN10_20 = math.log(10.0) / 20.0  # 10^(v / 20) = exp(_LN10_20 v)


@njit(cache=True)
def excitation_spectra(spec, a0, threshold, bark, s2_base, ch_low, ch_high, min_excit,
                       s_low, ex, active):
    """(F, nb) frame spectra -> ``ex`` (F, 47, nb + 1): each channel's one-sided excitation
    spectrum, bins >= 1 halved for the half-spectrum inverse FFT; ``active`` (F, 47) marks
    channels with any excitation.

    Walking away from a component its slope level only falls, so the walk stops once it
    is below the lowest threshold of any channel (the reference tests every channel)."""
    nf, nb = spec.shape
    floor = min_excit.min()
    for f in range(nf):
        for c in range(N_CHANNELS):
            active[f, c] = False
            for k in range(nb + 1):
                ex[f, c, k] = 0.0
        for k in range(nb):
            x = a0[k] * spec[f, k]
            m = abs(x)
            if m == 0.0:
                continue
            lv = 20.0 * math.log10(m / 2e-5)
            if not lv > threshold[k]:
                continue
            b = bark[k]
            lo = ch_low[k]
            hi = ch_high[k]
            half = 1.0 if k == 0 else 0.5
            for c in (lo, hi):  # the channels holding the component
                if 0 <= c < N_CHANNELS:
                    ex[f, c, k] = x * half
                    active[f, c] = True
            # lower channels c < lo: the lower slope evaluated at channel c + 1
            for c in range(min(lo, N_CHANNELS) - 1, -1, -1):
                sl = (s_low * (b - (c + 2) * 0.5)) + lv
                if sl <= floor:
                    break
                if sl > min_excit[c + 1]:
                    ex[f, c, k] = ((math.pow(10.0, 0.05 * sl) * 2e-5 / m) * x) * half
                    active[f, c] = True
            # higher channels c > hi: the upper slope evaluated at channel c - 1
            s2 = min(s2_base[k] + 0.2 * lv, 0.0)
            for c in range(max(hi + 1, 0), N_CHANNELS):
                sl = (s2 * (c * 0.5 - b)) + lv
                if sl <= floor:
                    break
                if sl > min_excit[c - 1]:
                    ex[f, c, k] = ((math.pow(10.0, 0.05 * sl) * 2e-5 / m) * x) * half
                    active[f, c] = True


@njit(cache=True, nogil=True)
def rectify_center(env):
    """In place over (M, n): ``e = |e| - mean|e|``; returns the means h0 (M,)."""
    m, n = env.shape
    h0 = np.empty(m)
    for r in range(m):
        s = 0.0
        for t in range(n):
            v = abs(env[r, t])
            env[r, t] = v
            s += v
        mean = s / n
        h0[r] = mean
        for t in range(n):
            env[r, t] -= mean
    return h0


@njit(cache=True, nogil=True)
def combine(g_spec, hweight, h0, n, gz, c_r, mod_floor):
    """(F, 47, h_last) envelope spectra (unweighted), their h0 (F, 47) -> R (F,) and
    R'(z) (F, 47), with modulation depth and correlation via Parseval."""
    nf = g_spec.shape[0]
    nh = g_spec.shape[2]
    r = np.empty(nf)
    rs = np.empty((nf, N_CHANNELS))
    for f in range(nf):
        g = np.empty((N_CHANNELS, nh), dtype=np.complex128)
        power = np.empty(N_CHANNELS)
        depth = np.empty(N_CHANNELS)
        modulated = np.empty(N_CHANNELS, dtype=np.bool_)
        for c in range(N_CHANNELS):
            p = 0.0
            for j in range(nh):
                v = g_spec[f, c, j] * hweight[c, j]
                g[c, j] = v
                p += v.real * v.real + v.imag * v.imag
            power[c] = p
            rms = math.sqrt(2.0 * p) / n
            modulated[c] = rms > mod_floor * h0[f, c]
            if h0[f, c] > 0.0:
                depth[c] = min(rms / h0[f, c], 1.0)
            else:
                depth[c] = 0.0
        kk = np.ones(N_CHANNELS + 2)
        for c in range(N_CHANNELS - 2):
            if modulated[c] and modulated[c + 2]:
                s = 0.0
                for j in range(nh):
                    s += (g[c, j] * np.conj(g[c + 2, j])).real
                kk[c + 2] = s / math.sqrt(power[c] * power[c + 2])
            else:
                kk[c + 2] = 0.0
        tot = 0.0
        for c in range(N_CHANNELS):
            v = depth[c] * kk[c] * kk[c + 2]
            rs[f, c] = gz[c] * v * v
            tot += rs[f, c]
        r[f] = c_r * tot
    return r, rs


# ---------------------------------------------------------------------------------------
# Issue 24: the same steps, parallel over frames, with fewer costs per frame:
# - the slope gains 10^(sl/20) 20 uPa / |X_k| of one component fall (rise) by a constant
#   factor per channel (the slope in dB/Bark times 0.5 Bark), so each component takes
#   one power per side and a product per channel instead of a power per channel (the
#   product drifts by about one rounding per channel: ~1e-15 relative);
# - the (F, 47, nb + 1) excitation buffer is zeroed once per call; afterwards only the
#   bins a row was given are cleared again (a channel's excitation spans ~5 % of them);
# - the gain 10^(sl/20) 20 uPa / |X_k| at a component's first channel simplifies, with
#   L = 20 log10(|X_k| / 20 uPa), to 10^(slope * distance / 20): |X_k| cancels, so on the
#   lower side it depends on the bin alone (a table made once per call), and on the upper
#   side it is one exp of the level-dependent slope;
# - a bin whose power is clearly under its threshold skips the logarithm.
# The threshold tests use the slope levels computed exactly as above.
# ---------------------------------------------------------------------------------------
@njit(cache=True, nogil=True)
def _excite_frame(spec, a0, threshold, bark, s2_base, ch_low, ch_high, min_excit, s_low,
                  q_low, low_gain, p_audible, ex, kmin, kmax, active):
    nb = spec.shape[0]
    floor = min_excit.min()
    for c in range(N_CHANNELS):  # clear what the previous frame in these rows wrote
        for k in range(kmin[c], kmax[c] + 1):
            ex[c, k] = 0.0
        kmin[c] = nb + 1
        kmax[c] = -1
        active[c] = False
    for k in range(nb):
        x = a0[k] * spec[k]
        if not x.real * x.real + x.imag * x.imag > p_audible[k]:
            continue  # clearly below the threshold: no logarithm needed
        m = abs(x)
        lv = 20.0 * math.log10(m / 2e-5)
        if not lv > threshold[k]:
            continue
        b = bark[k]
        lo = ch_low[k]
        hi = ch_high[k]
        xh = x * (1.0 if k == 0 else 0.5)
        for c in (lo, hi):
            if 0 <= c < N_CHANNELS:
                ex[c, k] = xh
                active[c] = True
                kmin[c] = min(kmin[c], k)
                kmax[c] = k
        top = min(lo, N_CHANNELS) - 1
        if top >= 0:
            amp = low_gain[k]
            for c in range(top, -1, -1):
                sl = (s_low * (b - (c + 2) * 0.5)) + lv
                if sl <= floor:
                    break
                if sl > min_excit[c + 1]:
                    ex[c, k] = amp * xh
                    active[c] = True
                    kmin[c] = min(kmin[c], k)
                    kmax[c] = k
                amp *= q_low
        first = max(hi + 1, 0)
        if first < N_CHANNELS:
            s2 = min(s2_base[k] + 0.2 * lv, 0.0)
            amp = math.exp(_LN10_20 * (s2 * (first * 0.5 - b)))
            q_up = math.exp(0.5 * _LN10_20 * s2)
            for c in range(first, N_CHANNELS):
                sl = (s2 * (c * 0.5 - b)) + lv
                if sl <= floor:
                    break
                if sl > min_excit[c - 1]:
                    ex[c, k] = amp * xh
                    active[c] = True
                    kmin[c] = min(kmin[c], k)
                    kmax[c] = k
                amp *= q_up


@njit(cache=True, nogil=True)
def bin_tables(threshold, bark, ch_low, s_low):
    """Per spectrum bin, once per call of the driver: the slope gain at the first channel
    below a component in that bin, and the power |X_k|^2 under which the bin is clearly
    (1e-9 relative) below its threshold."""
    nb = threshold.shape[0]
    low_gain = np.empty(nb)
    p_audible = np.empty(nb)
    for k in range(nb):
        top = min(ch_low[k], N_CHANNELS) - 1
        low_gain[k] = math.exp(_LN10_20 * (s_low * (bark[k] - (top + 2) * 0.5)))
        p_audible[k] = (2e-5 * math.pow(10.0, 0.05 * threshold[k])) ** 2 * (1.0 - 1e-9)
    return low_gain, p_audible


@njit(cache=True, nogil=True)
def excitation_block(spec, a0, threshold, bark, s2_base, ch_low, ch_high, min_excit, s_low,
                     low_gain, p_audible, ex, kmin, kmax, active):
    """(F, nb) frame spectra -> ``ex`` (F * 47, nb + 1) one-sided excitation spectra
    (bins >= 1 halved), ``active`` (F * 47). ``ex`` must hold zeros except rows' bins
    kmin..kmax from the previous call (cleared here first); ``low_gain`` and
    ``p_audible`` from :func:`bin_tables`. Serial and without the GIL: the driver runs
    one block of frames per Python thread (no OpenMP pool spinning while the FFTs run)."""
    q_low = math.pow(10.0, 0.025 * s_low)
    for f in range(spec.shape[0]):
        r0 = f * N_CHANNELS
        r1 = r0 + N_CHANNELS
        _excite_frame(spec[f], a0, threshold, bark, s2_base, ch_low, ch_high, min_excit,
                      s_low, q_low, low_gain, p_audible, ex[r0:r1], kmin[r0:r1],
                      kmax[r0:r1], active[r0:r1])
