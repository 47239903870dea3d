"""Numba backend of the Daniel & Weber roughness: the per-bin / per-channel loops
(excitation spectra of the 47 channels, envelope rectification, modulation depth and
channel correlation) compiled, frames in parallel. The FFTs stay in NumPy (batched over
frames and channels). Same steps and constants as :mod:`.reference`."""
from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

N_CHANNELS = 47


@njit(cache=True, parallel=True)
def excitation_spectra(spec, a0, threshold, bark, s2_base, ch_low, ch_high, min_excit,
                       s_low, ex, active):
    """(F, nb) frame spectra -> ``ex`` (F, 47, nb + 1): each channel's one-sided excitation
    spectrum, bins >= 1 halved for the half-spectrum inverse FFT; ``active`` (F, 47) marks
    channels with any excitation."""
    nf, nb = spec.shape
    for f in prange(nf):
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
            s2 = min(s2_base[k] + 0.2 * lv, 0.0)
            half = 1.0 if k == 0 else 0.5
            for c in range(N_CHANNELS):
                if c == lo or c == hi:
                    g = 1.0
                elif c < lo:  # lower slope, evaluated at channel c + 1
                    sl = (s_low * (b - (c + 2) * 0.5)) + lv
                    if sl > min_excit[c + 1]:
                        g = math.pow(10.0, 0.05 * sl) * 2e-5 / m
                    else:
                        continue
                else:  # upper slope, evaluated at channel c - 1
                    sl = (s2 * (c * 0.5 - b)) + lv
                    if sl > min_excit[c - 1]:
                        g = math.pow(10.0, 0.05 * sl) * 2e-5 / m
                    else:
                        continue
                ex[f, c, k] = (g * x) * half
                active[f, c] = True


@njit(cache=True, parallel=True)
def rectify_center(env):
    """In place over (M, n): ``e = |e| - mean|e|``; returns the means h0 (M,)."""
    m, n = env.shape
    h0 = np.empty(m)
    for r in prange(m):
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


@njit(cache=True, parallel=True)
def combine(g_spec, hweight, h0, n, gz, c_r, mod_floor):
    """(F, 47, h_last) envelope spectra (unweighted), their h0 (F, 47) -> R (F,) and
    R'(z) (F, 47), with modulation depth and correlation via Parseval."""
    nf = g_spec.shape[0]
    nh = g_spec.shape[2]
    r = np.empty(nf)
    rs = np.empty((nf, N_CHANNELS))
    for f in prange(nf):
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
