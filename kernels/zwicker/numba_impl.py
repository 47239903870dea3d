"""Numba backend of the ISO 532-1 upper-slope spreading (the sequential part of Zwicker
loudness): many core-loudness vectors (e.g. one per time segment) in parallel."""
from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

_LN10_10 = math.log(10.0) / 10.0  # 10^(v / 10) = exp(_LN10_10 v)


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


# ---------------------------------------------------------------------------------------
# Time-varying loudness (ISO 532-1 clause 6); the same steps as reference.py, fused
# ---------------------------------------------------------------------------------------
@njit(cache=True, parallel=True)
def tv_levels_2d(x, sos, gain, smooth, dec, floor, p0sq, n_groups):
    """(C, n) 48 kHz signal -> (C, ceil(n / dec), 28) band levels.

    Per sample and band: three biquads (transposed direct form II), gain, square, three
    one-pole smoothers; a level every ``dec`` samples. Each task runs one channel and a
    group of bands over the samples with the bands innermost: the bands' recursions are
    independent, so that loop vectorises (SIMD) and hides each recursion's latency,
    instead of one latency-bound pass per band. C x ``n_groups`` tasks in parallel."""
    n_ch, n = x.shape
    nb = sos.shape[0]
    n_steps = (n + dec - 1) // dec
    out = np.empty((n_ch, n_steps, nb))
    per = (nb + n_groups - 1) // n_groups
    for task in prange(n_ch * n_groups):
        c = task // n_groups
        lo = (task % n_groups) * per
        hi = min(nb, lo + per)
        m = hi - lo
        if m <= 0:
            continue
        cf = np.empty((15, m))  # b0 b1 b2 a1 a2 of the three sections, band innermost
        for j in range(m):
            for s in range(3):
                cf[5 * s + 0, j] = sos[lo + j, s, 0]
                cf[5 * s + 1, j] = sos[lo + j, s, 1]
                cf[5 * s + 2, j] = sos[lo + j, s, 2]
                cf[5 * s + 3, j] = sos[lo + j, s, 4]
                cf[5 * s + 4, j] = sos[lo + j, s, 5]
        g = gain[lo:hi].copy()
        a = smooth[lo:hi].copy()
        bs = 1.0 - a
        st = np.zeros((9, m))  # z1 z2 of the three sections, then the three smoothers
        k = 0
        row = 0
        for i in range(n):
            v0 = x[c, i]
            for j in range(m):
                y = cf[0, j] * v0 + st[0, j]
                st[0, j] = cf[1, j] * v0 - cf[3, j] * y + st[1, j]
                st[1, j] = cf[2, j] * v0 - cf[4, j] * y
                v = y
                y = cf[5, j] * v + st[2, j]
                st[2, j] = cf[6, j] * v - cf[8, j] * y + st[3, j]
                st[3, j] = cf[7, j] * v - cf[9, j] * y
                v = y
                y = cf[10, j] * v + st[4, j]
                st[4, j] = cf[11, j] * v - cf[13, j] * y + st[5, j]
                st[5, j] = cf[12, j] * v - cf[14, j] * y
                v = g[j] * y
                s1 = bs[j] * (v * v) + a[j] * st[6, j]
                s2 = bs[j] * s1 + a[j] * st[7, j]
                s3 = bs[j] * s2 + a[j] * st[8, j]
                st[6, j] = s1
                st[7, j] = s2
                st[8, j] = s3
            if k == 0:
                for j in range(m):
                    out[c, row, lo + j] = 10.0 * np.log10((st[8, j] + floor) / p0sq)
                row += 1
            k += 1
            if k == dec:
                k = 0
    return out


@njit(cache=True, parallel=True)
def nl_decay_3d(core, bc, inner):
    """(C, T, 21) core loudness -> the same after ISO 532-1's nonlinear temporal decay
    (see reference.nonlinear_decay), the C x 21 (channel, band) pairs in parallel."""
    n_ch, n_t, nz = core.shape
    out = np.empty((n_ch, n_t, nz))
    b0, b1, b2, b3, b4, b5 = bc[0], bc[1], bc[2], bc[3], bc[4], bc[5]
    for task in prange(n_ch * nz):
        c = task // nz
        z = task % nz
        uo = 0.0
        u2 = 0.0
        for t in range(n_t):
            u = core[c, t, z]
            nxt = core[c, t + 1, z] if t + 1 < n_t else 0.0
            d = nxt - u
            for k in range(inner):
                ui = u + d * (k / inner)
                if ui < uo:
                    if uo > u2:
                        uo_new = b2 * uo - b3 * u2
                        if ui > uo_new:
                            uo_new = ui
                        u2_new = b0 * uo - b1 * u2
                        if u2_new > uo_new:
                            u2_new = uo_new
                    else:
                        uo_new = b4 * uo
                        if ui > uo_new:
                            uo_new = ui
                        u2_new = uo_new
                else:
                    uo_new = ui
                    if abs(ui - uo) < 1e-5 and ui <= u2:
                        u2_new = ui
                    else:
                        u2_new = b5 * (u2 - ui) + ui
                uo = uo_new
                u2 = u2_new
                if k == 0:
                    out[c, t, z] = uo
    return out


@njit(cache=True, parallel=True)
def slopes_tv(nm, zup, rns, usl, dec):
    """(C, T, 21) core loudness -> unrounded totals (C, T) at every step and N'(z)
    (C, ceil(T / dec), 240) at every ``dec``-th step; all steps in parallel."""
    n_ch, n_t, _ = nm.shape
    n_out = (n_t + dec - 1) // dec
    tot = np.empty((n_ch, n_t))
    spec = np.zeros((n_ch, n_out, 240))
    for task in prange(n_ch * n_t):
        c = task // n_t
        t = task % n_t
        if t % dec == 0:
            tot[c, t] = _slopes_one(nm[c, t], zup, rns, usl, spec[c, t // dec])
        else:
            tot[c, t] = _slopes_one(nm[c, t], zup, rns, usl, np.empty(240))
    return tot, spec


@njit(cache=True)
def _lowpass_interpolated(u, a, inner, out):
    """First-order low-pass of u (T,) at ``inner`` x its rate on linearly interpolated
    input (towards 0 after the last step), from rest; out[t] = the output at step t's
    first inner sample."""
    n_t = u.shape[0]
    bs = 1.0 - a
    y = 0.0
    for t in range(n_t):
        nxt = u[t + 1] if t + 1 < n_t else 0.0
        d = nxt - u[t]
        for k in range(inner):
            y = bs * (u[t] + d * (k / inner)) + a * y
            if k == 0:
                out[t] = y


@njit(cache=True, parallel=True)
def temporal_weighting_2d(tot, a1, a2, w1, w2, inner, dec):
    """(C, T) rounded total loudness -> (C, ceil(T / dec)) N(t) = w1 LP1 + w2 LP2 at every
    ``dec``-th step; channels in parallel."""
    n_ch, n_t = tot.shape
    n_out = (n_t + dec - 1) // dec
    out = np.empty((n_ch, n_out))
    for c in prange(n_ch):
        y1 = np.empty(n_t)
        y2 = np.empty(n_t)
        _lowpass_interpolated(tot[c], a1, inner, y1)
        _lowpass_interpolated(tot[c], a2, inner, y2)
        for t in range(n_out):
            out[c, t] = w1 * y1[t * dec] + w2 * y2[t * dec]
    return out


@njit(cache=True, parallel=True)
def core_loudness_2d(lt, diffuse, rap, dll, ltq, a0, ddf, dcb):
    """(M, 28) band levels -> (M, 21) core loudness, the reference's ``core_loudness``
    row by row (rows in parallel; no (M, 8, 11) temporaries)."""
    m = lt.shape[0]
    out = np.zeros((m, 21))
    mp1 = np.empty(20)
    for i in range(20):
        mp1[i] = 0.0635 * 10.0 ** (0.025 * ltq[i])
    for r in prange(m):
        gi = np.zeros(3)
        for i in range(11):
            v = lt[r, i]
            j = 0
            for q in range(8):
                if v > rap[q] - dll[q, i]:
                    j += 1
            if j > 7:
                j = 7
            ti = 10.0 ** ((v + dll[j, i]) / 10.0)
            if i < 6:
                gi[0] += ti
            elif i < 9:
                gi[1] += ti
            else:
                gi[2] += ti
        for i in range(20):
            if i < 3:
                le = 10.0 * np.log10(gi[i]) if gi[i] > 0 else -np.inf
            else:
                le = lt[r, i + 8]
            le = le - a0[i]
            if diffuse:
                le = le + ddf[i]
            if le > ltq[i]:
                le = le - dcb[i]
                mp2 = (1.0 - 0.25 + 0.25 * 10.0 ** ((le - ltq[i]) / 10.0)) ** 0.25 - 1.0
                v = mp1[i] * mp2
                out[r, i] = v if v > 0.0 else 0.0
        korry = 0.4 + 0.32 * out[r, 0] ** 0.2
        if korry > 1.0:
            korry = 1.0
        out[r, 0] *= korry
    return out


# ---------------------------------------------------------------------------------------
# Issue 24: the same steps with the state in registers and no allocation per step
# ---------------------------------------------------------------------------------------
@njit(cache=True, parallel=True, error_model="numpy")
def tv_levels_bands(x, sos, gain, smooth, dec, floor, p0sq):
    """:func:`tv_levels_2d` with one task per (channel, band): the three biquads
    (transposed direct form II), the gain, the square and the three one-pole smoothers
    of one band run over the samples with all coefficients and state in registers
    (C x 28 tasks, so both cores stay busy for one binaural file); the mean square is
    kept every ``dec``-th sample and turned into dB at the end."""
    n_ch, n = x.shape
    nb = sos.shape[0]
    n_steps = (n + dec - 1) // dec
    out = np.empty((n_ch, n_steps, nb))
    for task in prange(n_ch * nb):
        c = task // nb
        bd = task % nb
        b00 = sos[bd, 0, 0]
        b01 = sos[bd, 0, 1]
        b02 = sos[bd, 0, 2]
        a01 = sos[bd, 0, 4]
        a02 = sos[bd, 0, 5]
        b10 = sos[bd, 1, 0]
        b11 = sos[bd, 1, 1]
        b12 = sos[bd, 1, 2]
        a11 = sos[bd, 1, 4]
        a12 = sos[bd, 1, 5]
        b20 = sos[bd, 2, 0]
        b21 = sos[bd, 2, 1]
        b22 = sos[bd, 2, 2]
        a21 = sos[bd, 2, 4]
        a22 = sos[bd, 2, 5]
        g = gain[bd]
        a = smooth[bd]
        bs = 1.0 - a
        z0 = z1 = z2 = z3 = z4 = z5 = 0.0
        s1 = s2 = s3 = 0.0
        row = 0
        for i0 in range(0, n, dec):
            for i in range(i0, min(n, i0 + dec)):
                v0 = x[c, i]
                y = b00 * v0 + z0
                z0 = b01 * v0 - a01 * y + z1
                z1 = b02 * v0 - a02 * y
                v = y
                y = b10 * v + z2
                z2 = b11 * v - a11 * y + z3
                z3 = b12 * v - a12 * y
                v = y
                y = b20 * v + z4
                z4 = b21 * v - a21 * y + z5
                z5 = b22 * v - a22 * y
                v = g * y
                s1 = bs * (v * v) + a * s1
                s2 = bs * s1 + a * s2
                s3 = bs * s2 + a * s3
                if i == i0:
                    out[c, row, bd] = s3
            row += 1
    for c in prange(n_ch):
        for r in range(n_steps):
            for bd in range(nb):
                out[c, r, bd] = 10.0 * np.log10((out[c, r, bd] + floor) / p0sq)
    return out


@njit(cache=True, parallel=True)
def core_loudness_rows(lt, diffuse, rap, dll, ltq, a0, ddf, dcb):
    """:func:`core_loudness_2d` without an allocation per row (the three merged low
    critical bands in registers), and 10^(v/10) as exp(v ln 10 / 10), x^(1/4) as two
    square roots: 2.3x faster at 1 thread, within ~5e-15 relative of the powers."""
    m = lt.shape[0]
    out = np.zeros((m, 21))
    mp1 = np.empty(20)
    for i in range(20):
        mp1[i] = 0.0635 * 10.0 ** (0.025 * ltq[i])
    for r in prange(m):
        g0 = 0.0
        g1 = 0.0
        g2 = 0.0
        for i in range(11):
            v = lt[r, i]
            j = 0
            for q in range(8):
                if v > rap[q] - dll[q, i]:
                    j += 1
            if j > 7:
                j = 7
            ti = math.exp(_LN10_10 * (v + dll[j, i]))
            if i < 6:
                g0 += ti
            elif i < 9:
                g1 += ti
            else:
                g2 += ti
        for i in range(20):
            if i < 3:
                gi = g0 if i == 0 else (g1 if i == 1 else g2)
                le = 10.0 * np.log10(gi) if gi > 0 else -np.inf
            else:
                le = lt[r, i + 8]
            le = le - a0[i]
            if diffuse:
                le = le + ddf[i]
            if le > ltq[i]:
                le = le - dcb[i]
                u = 0.75 + 0.25 * math.exp(_LN10_10 * (le - ltq[i]))
                mp2 = math.sqrt(math.sqrt(u)) - 1.0
                v = mp1[i] * mp2
                out[r, i] = v if v > 0.0 else 0.0
        korry = 0.4 + 0.32 * out[r, 0] ** 0.2
        if korry > 1.0:
            korry = 1.0
        out[r, 0] *= korry
    return out


@njit(cache=True)
def _slopes_total(nm, zup_t, rns, usl):
    """The total of :func:`_slopes_one` without filling N'(z) (the same arithmetic)."""
    total = 0.0
    z1 = 0.0
    n1 = 0.0
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
            else:
                if n1 < nm[i]:
                    j = 0
                    while j < 17 and rns[j] > nm[i]:
                        j += 1
                z2 = zup
                n2 = nm[i]
                total += n2 * (z2 - z1)
            while j < 17 and n2 <= rns[j]:
                j += 1
            n1 = n2
            z1 = z2
            if z1 >= zup:
                break
    return total


@njit(cache=True, parallel=True)
def slopes_tv_fast(nm, zup, rns, usl, dec):
    """:func:`slopes_tv` filling N'(z) only at the kept steps (the others give only their
    total) and allocating nothing per step."""
    n_ch, n_t, _ = nm.shape
    n_out = (n_t + dec - 1) // dec
    tot = np.empty((n_ch, n_t))
    spec = np.zeros((n_ch, n_out, 240))
    for task in prange(n_ch * n_t):
        c = task // n_t
        t = task % n_t
        if t % dec == 0:
            tot[c, t] = _slopes_one(nm[c, t], zup, rns, usl, spec[c, t // dec])
        else:
            tot[c, t] = _slopes_total(nm[c, t], zup, rns, usl)
    return tot, spec


@njit(cache=True, parallel=True)
def nl_decay_fast(core, bc, inner):
    """:func:`nl_decay_3d` with the interpolation fractions k / inner from a table (the
    same values) and the output step stored outside the inner loop."""
    n_ch, n_t, nz = core.shape
    out = np.empty((n_ch, n_t, nz))
    b0, b1, b2, b3, b4, b5 = bc[0], bc[1], bc[2], bc[3], bc[4], bc[5]
    frac = np.empty(inner)
    for k in range(inner):
        frac[k] = k / inner
    for task in prange(n_ch * nz):
        c = task // nz
        z = task % nz
        uo = 0.0
        u2 = 0.0
        for t in range(n_t):
            u = core[c, t, z]
            nxt = core[c, t + 1, z] if t + 1 < n_t else 0.0
            d = nxt - u
            for k in range(inner):
                ui = u + d * frac[k]
                if ui < uo:
                    if uo > u2:
                        uo_new = b2 * uo - b3 * u2
                        if ui > uo_new:
                            uo_new = ui
                        u2_new = b0 * uo - b1 * u2
                        if u2_new > uo_new:
                            u2_new = uo_new
                    else:
                        uo_new = b4 * uo
                        if ui > uo_new:
                            uo_new = ui
                        u2_new = uo_new
                else:
                    uo_new = ui
                    if abs(ui - uo) < 1e-5 and ui <= u2:
                        u2_new = ui
                    else:
                        u2_new = b5 * (u2 - ui) + ui
                uo = uo_new
                u2 = u2_new
                if k == 0:
                    out[c, t, z] = uo
    return out


# ---------------------------------------------------------------------------------------
# Issue 24, second pass: the filter bank as one recursion across the 28 bands
# ---------------------------------------------------------------------------------------
TV_BANDS = 28  # a compile-time constant: the band loop's trip count and row offsets
_COEF_ROWS = 18  # b0 b1 b2 a1 a2 of three sections, the band gain, a, 1 - a
_STATE_ROWS = 9  # two per section, three smoothers


def tv_bank_coefficients(sos, gain, smooth):
    """(28, 3, 6) sections, (28,) gains and smoother poles -> the (18 * 28,) table of
    :func:`tv_levels_across_bands`: row r holds coefficient r of every band."""
    sos = np.asarray(sos, dtype=np.float64)
    if sos.shape != (TV_BANDS, 3, 6):
        raise ValueError(f"the ISO 532-1 bank has {TV_BANDS} bands of three sections, got "
                         f"sections of shape {sos.shape}")
    a = np.asarray(smooth, dtype=np.float64)
    rows = [sos[:, s, c] for s in range(3) for c in (0, 1, 2, 4, 5)]
    rows += [np.asarray(gain, dtype=np.float64), a, 1.0 - a]
    return np.ascontiguousarray(np.stack(rows).reshape(-1))


@njit(cache=True, nogil=True, error_model="numpy", boundscheck=False)
def _bank_one_channel(xc, coef, dec, out_c):
    nb = TV_BANDS
    w = np.zeros((_COEF_ROWS + _STATE_ROWS) * nb)  # coefficients, then the state
    w[:_COEF_ROWS * nb] = coef
    s = _COEF_ROWS * nb
    n = xc.shape[0]
    row = 0
    for i0 in range(0, n, dec):
        for i in range(i0, min(n, i0 + dec)):
            v0 = xc[i]
            for j in range(nb):  # independent bands: LLVM runs four a vector instruction
                y = w[j] * v0 + w[s + j]
                w[s + j] = w[nb + j] * v0 - w[3 * nb + j] * y + w[s + nb + j]
                w[s + nb + j] = w[2 * nb + j] * v0 - w[4 * nb + j] * y
                v = y
                y = w[5 * nb + j] * v + w[s + 2 * nb + j]
                w[s + 2 * nb + j] = w[6 * nb + j] * v - w[8 * nb + j] * y + w[s + 3 * nb + j]
                w[s + 3 * nb + j] = w[7 * nb + j] * v - w[9 * nb + j] * y
                v = y
                y = w[10 * nb + j] * v + w[s + 4 * nb + j]
                w[s + 4 * nb + j] = (w[11 * nb + j] * v - w[13 * nb + j] * y
                                     + w[s + 5 * nb + j])
                w[s + 5 * nb + j] = w[12 * nb + j] * v - w[14 * nb + j] * y
                v = w[15 * nb + j] * y
                a = w[16 * nb + j]
                b = w[17 * nb + j]
                s1 = b * (v * v) + a * w[s + 6 * nb + j]
                s2 = b * s1 + a * w[s + 7 * nb + j]
                w[s + 8 * nb + j] = b * s2 + a * w[s + 8 * nb + j]
                w[s + 6 * nb + j] = s1
                w[s + 7 * nb + j] = s2
            if i == i0:
                for j in range(nb):
                    out_c[row, j] = w[s + 8 * nb + j]
        row += 1


@njit(cache=True, parallel=True, error_model="numpy")
def tv_levels_across_bands(x, coef, dec, floor, p0sq):
    """:func:`tv_levels_bands` (the same operations in the same order, so the same
    results to the bit) with the 28 bands of a channel as one recursion: per sample one
    loop over the bands whose coefficients and state sit in one flat table with constant
    row offsets, so LLVM proves the rows apart and vectorises the loop (four bands an AVX2
    instruction) instead of 28 scalar recursions each waiting on its own latency.
    ``coef`` from :func:`tv_bank_coefficients`. Channels in parallel."""
    n_ch, n = x.shape
    nb = TV_BANDS
    n_steps = (n + dec - 1) // dec
    out = np.empty((n_ch, n_steps, nb))
    for c in prange(n_ch):
        _bank_one_channel(x[c], coef, dec, out[c])
        for r in range(n_steps):
            for bd in range(nb):
                out[c, r, bd] = 10.0 * np.log10((out[c, r, bd] + floor) / p0sq)
    return out


NL_BANDS = 21  # core-loudness bands of the nonlinear decay (compile-time, as TV_BANDS)


@njit(cache=True, nogil=True, error_model="numpy", boundscheck=False)
def _nl_decay_channel(core_c, bc, frac, out_c):
    nz = NL_BANDS
    n_t = core_c.shape[0]
    b0, b1, b2, b3, b4, b5 = bc[0], bc[1], bc[2], bc[3], bc[4], bc[5]
    w = np.zeros(4 * nz)  # per band: uo, u2, the step's start u and its rise d
    for t in range(n_t):
        for z in range(nz):
            u = core_c[t, z]
            nxt = core_c[t + 1, z] if t + 1 < n_t else 0.0
            w[2 * nz + z] = u
            w[3 * nz + z] = nxt - u
        for k in range(frac.shape[0]):
            fk = frac[k]
            for z in range(nz):  # every branch computed, the taken one selected: vectorises
                ui = w[2 * nz + z] + w[3 * nz + z] * fk
                uo = w[z]
                u2 = w[nz + z]
                x1 = b2 * uo - b3 * u2  # falling, uo above u2
                x1 = ui if ui > x1 else x1
                y1 = b0 * uo - b1 * u2
                y1 = x1 if y1 > x1 else y1
                x2 = b4 * uo  # falling, uo at or below u2
                x2 = ui if ui > x2 else x2
                y3 = ui if (abs(ui - uo) < 1e-5 and ui <= u2) else b5 * (u2 - ui) + ui
                fall = ui < uo
                above = uo > u2
                w[z] = (x1 if above else x2) if fall else ui
                w[nz + z] = (y1 if above else x2) if fall else y3
            if k == 0:
                for z in range(nz):
                    out_c[t, z] = w[z]


@njit(cache=True, parallel=True)
def nl_decay_across_bands(core, bc, inner):
    """:func:`nl_decay_fast` (the same values to the bit) with the 21 bands of a channel
    as one recursion: per inner step one loop over the bands computing both branches of
    the decay and selecting the taken one, which LLVM vectorises (four bands an
    instruction) where the per-band branches could not be. One channel per thread
    (about 23 ms a channel for 30 s at 1 thread)."""
    n_ch, n_t, nz = core.shape
    if nz != NL_BANDS:
        raise ValueError("the nonlinear decay takes 21 core-loudness bands")
    out = np.empty((n_ch, n_t, nz))
    frac = np.empty(inner)
    for k in range(inner):
        frac[k] = k / inner
    for c in prange(n_ch):
        _nl_decay_channel(core[c], bc, frac, out[c])
    return out
