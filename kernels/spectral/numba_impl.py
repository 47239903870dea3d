"""The spectral front-end on the CPU, in Numba, in blocks of frames spread over threads.

For power-of-two n_fft up to ``MAX_LANE_NFFT`` with float64 frames (the default), a
block runs start to finish in one Numba call (``_lane_fft_block``), ``GROUP`` (16) frames
at a time:

1. ``_frames_packed`` windows the frames (``constant``/``edge``/``reflect``/``symmetric``
   centre padding by index arithmetic, so the padded signal is never materialised) and
   packs each as z[n] = x[2n] + i·x[2n+1], one frame per vector lane;
2. the lane FFT transforms the 16 lanes at once (a Stockham FFT whose butterflies are
   AVX2 loops over frames) and unpacks |X[k]|^power straight into the bin-major (n_bins,
   16) layout the mel product wants;
3. ``_mel_group`` applies the mel filterbank as a banded product (each filter touches
   only its own bins, ~2 filters per bin instead of n_mels), 16 frames per vector
   accumulator set, then the log (``_log_sums``: a vectorised float64 ln, ~2× libm's
   scalar ``log``), and stores the group's columns.

Otherwise (other sizes, ``fft_precision="float32"``, or ``AFFREPRO_NUMBA_FFT=pocketfft``)
``_frame_block`` frames a block, pocketfft transforms it (NumPy >= 2's ``np.fft.rfft``
into a reused buffer for float64 frames, ``scipy.fft.rfft`` for float32), and
``_mel_block`` / ``_power_block`` transpose the powers and apply the same mel and log.

Log-mel with ``ref="max"`` or ``top_db`` then runs ``_finish_db``: subtract the
per-signal peak and apply the floor; ``_to_db`` does all of it for ``power_to_db``.

Blocks of all signals in a batch are spread over a thread pool: every Numba function is
``nogil`` and pocketfft releases the GIL, so the threads run truly in parallel without
Numba's own threading layer, and the extra memory does not grow with the signal.
By default (``float64_fft``) float32 input is framed, transformed and summed in float64
and only the output is float32; with ``fft_precision="float32"`` the frames, FFT and
powers stay float32 while the mel sums and logs still accumulate in float64. Float64
input stays float64 throughout.
"""
from __future__ import annotations

import contextlib
import functools
import itertools
import math
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numba import njit


BLOCK_BYTES = 1 << 20  # frames per block: ~1 MB of float64 frames per thread
LANE_BLOCK_FRAMES = 512  # frames per call of the lane-FFT path
# beyond this the lane FFT's 16 frames (4·n_fft/2·16 doubles) outgrow a 512 KB L2 and it
# measured no faster than pocketfft (n_fft 4096, workload (b): 0.90-1.06x, 2-core EPYC)
MAX_LANE_NFFT = 2048
GROUP = 16  # frames per group in the banded mel product (= accumulators in _band_sums)
# re-association lets LLVM vectorise the band sums; NaN/inf semantics are kept
_FLAGS = {"reassoc", "contract", "nsz"}

_NUMPY_FFT_OUT = np.lib.NumpyVersion(np.__version__) >= "2.0.0"  # rfft(..., out=)

PAD_CODES = {"constant": 0, "edge": 1, "reflect": 2, "symmetric": 3}


@njit(cache=True, nogil=True, inline="always")
def _src_index(i, n, mode):
    """Index into y (length n) of padded-coordinate sample i (np.pad semantics); -1 = zero."""
    if 0 <= i < n:
        return i
    if mode == 0:
        return -1
    if mode == 1:
        return 0 if i < 0 else n - 1
    if mode == 2:
        if n == 1:
            return 0
        p = 2 * (n - 1)
        r = i % p
        return p - r if r >= n else r
    p = 2 * n
    r = i % p
    return p - 1 - r if r >= n else r


@njit(cache=True, nogil=True)
def _frame_block(y, t0, nt, hop, pad, mode, window, out):
    """out[f, :] = window * padded_y[(t0 + f) * hop : ... + n_fft] for f < nt."""
    n = y.shape[0]
    n_fft = window.shape[0]
    for f in range(nt):
        s = (t0 + f) * hop - pad
        row = out[f]
        if s >= 0 and s + n_fft <= n:
            for k in range(n_fft):
                row[k] = y[s + k] * window[k]
        else:
            for k in range(n_fft):
                j = _src_index(s + k, n, mode)
                row[k] = y[j] * window[k] if j >= 0 else 0.0


@njit(cache=True, nogil=True, fastmath=_FLAGS, inline="always")
def _band_sums(pt, s, n, w):
    """Σ_j w[j]·pt[s + j, f] for the GROUP (16) frames f of ``pt``, each frame in its own
    scalar accumulator: LLVM packs them into four vector registers, enough independent
    FMA chains to hide the FMA latency (an accumulator array would instead round-trip
    through memory on every bin)."""
    a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = a8 = a9 = a10 = a11 = a12 = a13 = a14 = a15 = 0.0
    for j in range(n):
        wj = w[j]
        k = s + j
        a0 += wj * pt[k, 0]
        a1 += wj * pt[k, 1]
        a2 += wj * pt[k, 2]
        a3 += wj * pt[k, 3]
        a4 += wj * pt[k, 4]
        a5 += wj * pt[k, 5]
        a6 += wj * pt[k, 6]
        a7 += wj * pt[k, 7]
        a8 += wj * pt[k, 8]
        a9 += wj * pt[k, 9]
        a10 += wj * pt[k, 10]
        a11 += wj * pt[k, 11]
        a12 += wj * pt[k, 12]
        a13 += wj * pt[k, 13]
        a14 += wj * pt[k, 14]
        a15 += wj * pt[k, 15]
    return (a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15)


assert GROUP == 16, "_band_sums returns exactly 16 accumulators: pt would be read past its end"


_SMALLEST_NORMAL = 2.2250738585072014e-308
_LN2 = math.log(2.0)
_SQRT_HALF_BITS = 0x3FE6A09E667F3BCD  # the IEEE-754 bits of √½
_MANTISSA = 0x000FFFFFFFFFFFFF


@njit(cache=True, nogil=True, fastmath={"contract", "nsz"}, error_model="numpy")
def _ln_block(x, scratch, n, out):
    """out[i] = ln(x[i]) for i < n, where every x[i] is positive, normal and finite.

    Written so that LLVM vectorises it (libm's scalar ``log`` is not), with ``scratch``
    (same length as x) holding the mantissas. Split x = 2^k · m with m in [√½, √2), by
    subtracting the bits of √½ (k = the shifted exponent field, m = the remaining
    mantissa over √½'s exponent); then with s = (m − 1)/(m + 1), |s| ≤ 0.1716:

        ln x = k·ln 2 + 2·atanh(s) = k·ln 2 + 2(s + s³/3 + s⁵/5 + … + s¹⁵/15)

    The first omitted term, 2s¹⁷/17, is below 1.2e-14."""
    xi = x.view(np.int64)
    mi = scratch.view(np.int64)
    for i in range(n):
        b = xi[i] - _SQRT_HALF_BITS
        mi[i] = (b & _MANTISSA) + _SQRT_HALF_BITS
        f = scratch[i] - 1.0
        s = f / (2.0 + f)
        z = s * s
        p = 1.0 / 15.0
        p = p * z + 1.0 / 13.0
        p = p * z + 1.0 / 11.0
        p = p * z + 1.0 / 9.0
        p = p * z + 1.0 / 7.0
        p = p * z + 1.0 / 5.0
        p = p * z + 1.0 / 3.0
        out[i] = float(b >> 52) * _LN2 + 2.0 * s * (1.0 + z * p)


@njit(cache=True, nogil=True)
def _log_sums(sums, n, log_scale, amin, log_ref, clamped, scratch, logs):
    """sums[i] = log_scale·ln(max(amin, sums[i])) − log_ref for i < n; NaN and +inf kept.

    ``_ln_block`` when amin is a finite normal number (so every clamped value is one),
    libm's log otherwise."""
    for i in range(n):
        v = sums[i]
        c = v if v > amin else amin
        clamped[i] = c if v < np.inf else 1.0  # NaN, +inf: placeholders, restored below
    if _SMALLEST_NORMAL <= amin < np.inf:
        _ln_block(clamped, scratch, n, logs)
    else:
        for i in range(n):
            logs[i] = math.log(clamped[i])
    for i in range(n):
        v = sums[i]
        sums[i] = log_scale * logs[i] - log_ref if v < np.inf else v


@njit(cache=True, nogil=True, inline="always")
def _mel_work(n_mels):
    """_mel_group's work space: sums, clamped, scratch, logs (n_mels·GROUP each)."""
    nv = n_mels * GROUP
    return np.empty(nv), np.empty(nv), np.empty(nv), np.empty(nv)


@njit(cache=True, nogil=True, fastmath=_FLAGS)
def _mel_group(pt, gn, o, starts, lengths, weights, out, log_scale, amin, log_ref, sums,
               clamped, scratch, logs):
    """out[m, o + f] = Σ_j weights[m, j] pt[starts[m] + j, f] for f < gn, then the log
    (``log_scale > 0``); sums/clamped/scratch/logs: n_mels·GROUP float64 work space."""
    n_mels = starts.shape[0]
    for m in range(n_mels):
        acc = _band_sums(pt, starts[m], lengths[m], weights[m])
        for f in range(GROUP):
            sums[m * GROUP + f] = acc[f]
    if log_scale > 0.0:
        _log_sums(sums, n_mels * GROUP, log_scale, amin, log_ref, clamped, scratch, logs)
    for m in range(n_mels):
        orow = out[m]
        for f in range(gn):
            orow[o + f] = sums[m * GROUP + f]


@njit(cache=True, nogil=True, fastmath=_FLAGS)
def _mel_block(spec, nt, starts, lengths, weights, power, pt, out, t0, log_scale, amin,
               log_ref):
    """out[m, t0 + f] = Σ_j weights[m, j] |spec[f, starts[m] + j]|^power (banded product).

    ``GROUP`` frames at a time: their powers go to ``pt`` (n_bins, GROUP) — transposed,
    so that each filter's band sum runs across frames in vector registers — then every
    filter sums over its own band only (~2 filters per bin instead of n_mels).
    ``log_scale > 0`` applies scale·ln(max(amin, S)) − log_ref (NaN and +inf kept) to the
    group's sums before they are stored, in one vectorised pass (``_log_sums``)."""
    n_mels = starts.shape[0]
    n_bins = spec.shape[1]
    sums, clamped, scratch, logs = _mel_work(n_mels)
    for g0 in range(0, nt, GROUP):
        gn = min(GROUP, nt - g0)
        # bin-major: each row of pt is written whole and the gn spectrum rows are read
        # as gn sequential streams (frame-major wrote pt one strided element at a time)
        if power == 2.0 and gn == GROUP:
            for k in range(n_bins):
                for f in range(GROUP):
                    z = spec[g0 + f, k]
                    pt[k, f] = z.real * z.real + z.imag * z.imag
        else:
            for k in range(n_bins):
                for f in range(gn):
                    z = spec[g0 + f, k]
                    p = z.real * z.real + z.imag * z.imag
                    pt[k, f] = p if power == 2.0 else math.sqrt(p) ** power
                for f in range(gn, GROUP):  # keep the unused lanes finite and quiet
                    pt[k, f] = 0.0
        _mel_group(pt, gn, t0 + g0, starts, lengths, weights, out, log_scale, amin,
                   log_ref, sums, clamped, scratch, logs)


@njit(cache=True, nogil=True)
def _power_block(spec, nt, power, out, t0):
    n_bins = spec.shape[1]
    for f in range(nt):
        row = spec[f]
        for k in range(n_bins):
            z = row[k]
            p = z.real * z.real + z.imag * z.imag
            if power != 2.0:
                p = math.sqrt(p) ** power
            out[k, t0 + f] = p


# ------------------------------------------------------------ the lane FFT
# Here, not in a module of its own: Numba's cache does not notice a change in a jitted
# function imported from another file, so _lane_fft_block's cached machine code would
# go on running an old FFT (Numba's documentation, "Cache" notes).
#
# A real FFT in Numba that transforms ``lanes`` frames at once, for power-of-two n_fft.
#
# pocketfft (NumPy's FFT) transforms one frame at a time in scalar code. Here the frames
# of a group are the vector lanes instead: every array is (bins, lanes) flattened, so each
# butterfly runs over ``lanes`` (and, in later stages, more) contiguous doubles that LLVM
# turns into AVX2 instructions, and the output is bin-major, the layout the banded mel
# product wants, with no transpose.
#
# For a real frame x of length N = 2M:
#
# 1. pack z[n] = x[2n] + i·x[2n+1] (n < M) while framing (``_frames_packed``);
# 2. Z = DFT_M(z) by a Stockham autosort FFT (``stockham``): radix-4 stages, then one
#    radix-2 stage if log2 M is odd. With L = M / (r·m) groups of r·m points, stage
#    (r, m) maps, for j < L, k < m, q < r:
#
#        out[r·j·m + q·m + k] = w^(q·j) · Σ_p in[j·m + k + p·L·m] · e^(−2πi·p·q/r),
#        w = e^(−2πi / (r·L))
#
#    and m grows by r each stage (m = 1 first); out and in swap between stages;
# 3. X[k] = E[k] + e^(−2πik/N)·O[k] with E = (Z[k] + conj Z[M−k]) / 2 and
#    O = −i·(Z[k] − conj Z[M−k]) / 2 (indices mod M), for k = 0..M, and the power
#    |X[k]|^p is written to ``pt[k, lane]`` (``packed_power``).
#
# Twiddles are computed once per size in float64 by NumPy (``lane_fft_plan``); the rounding
# error is that of any float64 FFT, ~1e-16 of the frame's energy.
# Non-finite input stays in its own frames (lanes never mix), but a frame holding ±inf
# comes out NaN in every bin, since step 3 forms Z[k] ± conj Z[M−k] = inf − inf;
# pocketfft gives +inf in most of its bins. Both mark the same frames non-finite.


def lane_fft_supported(n_fft: int) -> bool:
    """Power-of-two sizes from 8 up (M = n_fft / 2 ≥ 4)."""
    return n_fft >= 8 and n_fft & (n_fft - 1) == 0


@functools.lru_cache(maxsize=16)
def lane_fft_plan(n_fft: int) -> tuple:
    """(radices, stage offsets, twiddles re/im (Σ L, 3): column q − 1 holds w^(q·j),
    post-twiddles re/im (M + 1,))."""
    if not lane_fft_supported(n_fft):
        raise ValueError(f"n_fft must be a power of two >= 8 for the lane FFT, got {n_fft}")
    m = n_fft // 2
    # radix 8 (fewer passes) measured 2-3x slower: its 16 operand views are more than
    # LLVM checks for overlap at run time, so its loop stays scalar
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
def _post_pair(ar, ai, br, bi, cr, ci, out_k, out_mk):
    """|X[k]|² into out_k and |X[M − k]|² into out_mk from rows Z[k] (a) and Z[M − k] (b).

    With E = (Z[k] + conj Z[M−k])/2 and O = −i(Z[k] − conj Z[M−k])/2, X[k] = E + c·O and,
    as c[M − k] = −conj c[k], X[M − k] = conj(E − c·O): both from one E and one c·O."""
    for v in range(ar.shape[0]):
        er = 0.5 * (ar[v] + br[v])
        ei = 0.5 * (ai[v] - bi[v])
        o_r = 0.5 * (ai[v] + bi[v])
        o_i = -0.5 * (ar[v] - br[v])
        pr = cr * o_r - ci * o_i
        pi = cr * o_i + ci * o_r
        out_k[v] = (er + pr) * (er + pr) + (ei + pi) * (ei + pi)
        out_mk[v] = (er - pr) * (er - pr) + (ei - pi) * (ei - pi)


@njit(cache=True, nogil=True, fastmath=_FLAGS)
def packed_power(zr, zi, lanes, post_r, post_i, power, pt):
    """pt[k, :lanes] = |X[k]|^power for k = 0..M, from the packed transform Z (step 3),
    bins k and M − k together (for k = M/2 both are the same bin)."""
    m = zr.shape[0] // lanes
    for k in range(m // 2 + 1):
        a = k * lanes
        b = ((m - k) % m) * lanes
        _post_pair(zr[a:a + lanes], zi[a:a + lanes], zr[b:b + lanes], zi[b:b + lanes],
                   post_r[k], post_i[k], pt[k, :lanes], pt[m - k, :lanes])
    if power != 2.0:
        for k in range(m + 1):
            for v in range(lanes):
                pt[k, v] = math.sqrt(pt[k, v]) ** power


@njit(cache=True, nogil=True)
def _frames_packed(y, t0, nt, hop, pad, mode, window, zr, zi):
    """Frames t0 .. t0 + nt − 1, windowed, packed for the lane FFT: lane f holds
    z[n] = x[2n] + i·x[2n + 1] at zr/zi[n·GROUP + f]; lanes f ≥ nt are zero."""
    n = y.shape[0]
    n_fft = window.shape[0]
    half = n_fft // 2
    s0 = t0 * hop - pad
    if nt == GROUP and s0 >= 0 and s0 + (GROUP - 1) * hop + n_fft <= n:
        # sample-major: each lane row of zr/zi is written whole (frame-major would store
        # one element per cache line), reading GROUP sequential streams of y
        for i in range(half):
            w0 = window[2 * i]
            w1 = window[2 * i + 1]
            rr = zr[i * GROUP:(i + 1) * GROUP]
            ri = zi[i * GROUP:(i + 1) * GROUP]
            for f in range(GROUP):
                j = s0 + f * hop + 2 * i
                rr[f] = y[j] * w0
                ri[f] = y[j + 1] * w1
        return
    # a group at the signal's edges (rare): frame it as the pocketfft path does, then pack
    frames = np.zeros((GROUP, n_fft), dtype=zr.dtype)
    _frame_block(y, t0, nt, hop, pad, mode, window, frames)
    for i in range(half):
        for f in range(GROUP):
            zr[i * GROUP + f] = frames[f, 2 * i]
            zi[i * GROUP + f] = frames[f, 2 * i + 1]


@njit(cache=True, nogil=True)
def _lane_fft_block(y, t0, nt, hop, pad, mode, window, radices, offsets, twr, twi, post_r,
                    post_i, power, mel, starts, lengths, weights, out, log_scale, amin,
                    log_ref):
    """Frames t0 .. t0 + nt − 1 of one signal, start to finish in Numba: framing, the lane
    FFT, |X|^power, then the banded mel product and log (``mel``; out has n_mels rows,
    possibly none) or the power rows (out has n_fft/2 + 1 rows) into out[:, t0:t0 + nt].

    The work space is allocated here, not passed in: LLVM then knows that the buffers
    do not overlap and vectorises the FFT without run-time overlap checks (~20% faster)."""
    half = window.shape[0] // 2
    n_bins = half + 1
    zr = np.empty(half * GROUP)
    zi = np.empty(half * GROUP)
    wr = np.empty(half * GROUP)
    wi = np.empty(half * GROUP)
    pt = np.empty((n_bins, GROUP))
    sums, clamped, scratch, logs = _mel_work(starts.shape[0])
    for g0 in range(0, nt, GROUP):
        gn = min(GROUP, nt - g0)
        _frames_packed(y, t0 + g0, gn, hop, pad, mode, window, zr, zi)
        if stockham(zr, zi, wr, wi, GROUP, radices, offsets, twr, twi):
            packed_power(wr, wi, GROUP, post_r, post_i, power, pt)
        else:
            packed_power(zr, zi, GROUP, post_r, post_i, power, pt)
        if mel:
            _mel_group(pt, gn, t0 + g0, starts, lengths, weights, out, log_scale, amin,
                       log_ref, sums, clamped, scratch, logs)
        else:
            for k in range(n_bins):
                orow = out[k]
                for f in range(gn):
                    orow[t0 + g0 + f] = pt[k, f]


@njit(cache=True, nogil=True)
def _to_db(S, scale, amin, ref_mode, ref_value, top_db):
    """In place on one signal's (rows, frames) array: scale·ln(max(amin, S)) − ref, floor.

    ref_mode 0: subtract scale·ln(max(amin, ref_value)); 1: subtract the peak.
    top_db < 0 means no floor. NaN propagates (into the peak and hence everywhere, as
    librosa's ``power_to_db`` does)."""
    rows, cols = S.shape
    if rows * cols == 0:
        return
    peak = -np.inf
    has_nan = False
    for i in range(rows):
        for j in range(cols):
            v = S[i, j]
            if v != v:
                has_nan = True
                lv = v
            else:
                lv = scale * math.log(max(amin, float(v)))
            S[i, j] = lv
            if lv > peak:
                peak = lv
    if has_nan:
        peak = np.nan
    off = scale * math.log(max(amin, ref_value)) if ref_mode == 0 else peak
    floor = peak - off - top_db
    for i in range(rows):
        for j in range(cols):
            v = S[i, j] - off
            if top_db >= 0.0:
                if floor != floor:
                    v = np.nan
                elif v < floor:
                    v = floor
            S[i, j] = v


@njit(cache=True, nogil=True)
def _matmul_rows(d, x, out):
    """out[k, t] = Σ_m d[k, m] x[m, t] (a small DCT along the mel axis)."""
    K, M = d.shape
    T = x.shape[1]
    for k in range(K):
        for t in range(T):
            out[k, t] = 0.0
        for m in range(M):
            c = d[k, m]
            for t in range(T):
                out[k, t] += c * x[m, t]


def banded(fb: np.ndarray):
    """The non-zero band of each filter: starts, lengths, (n_mels, max_len) weights."""
    n_mels = fb.shape[0]
    starts = np.zeros(n_mels, dtype=np.int64)
    lengths = np.zeros(n_mels, dtype=np.int64)
    for m in range(n_mels):
        nz = np.flatnonzero(fb[m])
        if nz.size:
            starts[m] = nz[0]
            lengths[m] = nz[-1] + 1 - nz[0]
    width = max(int(lengths.max(initial=0)), 1)
    w = np.zeros((n_mels, width), dtype=np.float64)
    for m in range(n_mels):
        w[m, :lengths[m]] = fb[m, starts[m]:starts[m] + lengths[m]]
    return starts, lengths, w


_LOCAL = threading.local()


@contextlib.contextmanager
def thread_limit(n: int):
    """Use at most ``n`` threads per call in this thread (callers that are already
    parallel over files, e.g. ``affrepro features extract --jobs``, pass 1)."""
    old = getattr(_LOCAL, "limit", None)
    _LOCAL.limit = max(1, int(n))
    try:
        yield
    finally:
        _LOCAL.limit = old


def default_threads() -> int:
    """Threads per call: ``thread_limit``, else ``AFFREPRO_NUM_THREADS``, else the CPUs
    this process may use."""
    limit = getattr(_LOCAL, "limit", None)
    if limit is not None:
        return limit
    env = os.environ.get("AFFREPRO_NUM_THREADS", "").strip()
    if env:
        try:
            n = int(env)
        except ValueError:
            n = 0
        if n < 1:
            raise ValueError(f"AFFREPRO_NUM_THREADS must be a whole number >= 1, got {env!r}")
        return n
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def spectrogram(y2d: np.ndarray, n_fft: int, hop: int, window: np.ndarray, center: bool,
                pad_mode: str, power: float, n_out_frames: int, fb_band=None,
                threads: int | None = None, block_frames: int | None = None,
                float64_fft: bool = True, log: tuple | None = None) -> np.ndarray:
    """(batch, samples) -> (batch, rows, n_frames) in y2d's float dtype.

    rows = n_mels when ``fb_band`` (starts, lengths, weights) is given, else n_fft//2 + 1.
    ``log`` = (scale, amin, log_ref) applies the logarithm in the same pass (mel only).
    ``float64_fft`` (default) frames, transforms and sums float32 signals in float64 too:
    a float32 FFT's error is relative to the frame's energy, so mel bands 60 dB below the
    frame's peak would be off by ~5e-4 dB; in float64 they stay within ~1e-6 dB.
    """
    fft_choice = fft_backend()  # a bad AFFREPRO_NUMBA_FFT fails whatever the input
    dtype = y2d.dtype
    wdtype = np.float64 if float64_fft else dtype
    batch = y2d.shape[0]
    rows = fb_band[0].shape[0] if fb_band is not None else n_fft // 2 + 1
    out = np.empty((batch, rows, n_out_frames), dtype=dtype)
    if batch == 0 or n_out_frames == 0:
        return out
    lanes = (fft_choice == "lanes" and wdtype == np.float64 and lane_fft_supported(n_fft)
             and n_fft <= MAX_LANE_NFFT)
    if block_frames is None:
        # the lane FFT's work space does not grow with the block: larger blocks only
        # spread its allocation over more frames
        block_frames = LANE_BLOCK_FRAMES if lanes else min(512, max(16, BLOCK_BYTES // (8 * n_fft)))
    win = window.astype(wdtype)
    wts = fb_band[2].astype(wdtype) if fb_band is not None else None
    pad = n_fft // 2 if center else 0
    mode = PAD_CODES[pad_mode]
    lg = (float(log[0]), float(log[1]), float(log[2])) if log is not None else (0.0, 1.0, 0.0)
    tasks = [(b, t0, min(block_frames, n_out_frames - t0))
             for b in range(batch) for t0 in range(0, n_out_frames, block_frames)]
    threads = default_threads() if threads is None else threads
    threads = max(1, min(threads, len(tasks)))

    counter = itertools.count()  # dynamic scheduling: next() is atomic under the GIL

    if lanes:
        plan = lane_fft_plan(n_fft)
        if fb_band is not None:
            starts, lengths = fb_band[0], fb_band[1]
        else:
            starts, lengths, wts = _NO_BANDS, _NO_BANDS, np.zeros((0, 1))

        def work_lanes():
            while True:
                i = next(counter)
                if i >= len(tasks):
                    return
                b, t0, nt = tasks[i]
                _lane_fft_block(y2d[b], t0, nt, hop, pad, mode, win, *plan, float(power),
                                fb_band is not None, starts, lengths, wts, out[b], *lg)

        _run_workers(work_lanes, threads)
        return out

    # NumPy >= 2 transforms into a reused buffer (pocketfft, as SciPy); SciPy would
    # allocate ~1 MB per block, i.e. fresh pages and page faults every time
    reuse_out = wdtype == np.float64 and _NUMPY_FFT_OUT
    if not reuse_out:
        from scipy import fft as sfft  # 0.2 s to import: only where it is used

    def work():
        rows_max = min(block_frames, n_out_frames)
        buf = np.empty((rows_max, n_fft), dtype=wdtype)
        sbuf = np.empty((rows_max, n_fft // 2 + 1), dtype=np.complex128) if reuse_out else None
        pbuf = np.empty((n_fft // 2 + 1, GROUP), dtype=wdtype)
        while True:
            i = next(counter)
            if i >= len(tasks):
                return
            b, t0, nt = tasks[i]
            _frame_block(y2d[b], t0, nt, hop, pad, mode, win, buf)
            if sbuf is not None:
                spec = np.fft.rfft(buf[:nt], axis=-1, out=sbuf[:nt])
            else:
                spec = sfft.rfft(buf[:nt], axis=-1, workers=1, overwrite_x=True)
            if fb_band is not None:
                _mel_block(spec, nt, fb_band[0], fb_band[1], wts, float(power),
                           pbuf, out[b], t0, *lg)
            else:
                _power_block(spec, nt, float(power), out[b], t0)

    _run_workers(work, threads)
    return out


def _run_workers(work, threads: int) -> None:
    """Run ``work`` on ``threads`` threads (the caller's own when 1); each takes the next
    block when it is free, so a thread slowed by other processes on a shared machine
    does not leave the others waiting at the end."""
    if threads == 1:
        work()
        return
    with ThreadPoolExecutor(threads) as pool:
        for f in [pool.submit(work) for _ in range(threads)]:
            f.result()


_NO_BANDS = np.zeros(0, dtype=np.int64)


def fft_backend() -> str:
    """``AFFREPRO_NUMBA_FFT``: "lanes" (default: the lane FFT, 16 frames at once, for
    power-of-two n_fft up to MAX_LANE_NFFT and float64 frames) or "pocketfft" (NumPy's,
    one frame at a time)."""
    choice = os.environ.get("AFFREPRO_NUMBA_FFT", "").strip() or "lanes"
    if choice not in ("lanes", "pocketfft"):
        raise ValueError(f"AFFREPRO_NUMBA_FFT must be 'lanes' or 'pocketfft', got {choice!r}")
    return choice


@njit(cache=True, nogil=True)
def _finish_db(L, subtract_peak, top_db):
    """In place on one signal's logged (rows, frames): subtract the peak (ref="max") and
    floor at peak − top_db (top_db < 0: none). NaN anywhere makes the peak NaN."""
    rows, cols = L.shape
    if rows * cols == 0:
        return
    peak = -np.inf
    for i in range(rows):
        for j in range(cols):
            v = L[i, j]
            if v != v:
                peak = np.nan
                break
            if v > peak:
                peak = v
        if peak != peak:
            break
    off = peak if subtract_peak else 0.0
    floor = peak - off - top_db
    for i in range(rows):
        for j in range(cols):
            v = L[i, j] - off
            if top_db >= 0.0:
                if floor != floor:
                    v = np.nan
                elif v < floor:
                    v = floor
            L[i, j] = v


def finish_db(L3: np.ndarray, ref, top_db) -> np.ndarray:
    """After ``spectrogram(..., log=...)``: the per-signal peak steps, in place."""
    if ref != "max" and top_db is None:
        return L3
    td = -1.0 if top_db is None else float(top_db)
    for b in range(L3.shape[0]):
        _finish_db(L3[b], ref == "max", td)
    return L3


def log_params(scale: float, amin: float, ref) -> tuple[float, float, float]:
    """(scale, amin, log_ref) for the fused log (ref="max" is subtracted afterwards)."""
    log_ref = 0.0 if ref == "max" else scale * math.log(max(amin, abs(float(ref))))
    return (scale, amin, log_ref)


def to_db(S3: np.ndarray, scale: float, amin: float, ref, top_db) -> np.ndarray:
    """In place on (batch, rows, frames); ``top_db`` is in dB whatever the log's scale."""
    ref_mode, ref_value = (1, 1.0) if ref == "max" else (0, abs(float(ref)))
    td = -1.0 if top_db is None else float(top_db) * scale * math.log(10.0) / 10.0
    for b in range(S3.shape[0]):
        _to_db(S3[b], scale, amin, ref_mode, ref_value, td)
    return S3


def cepstrum(L3: np.ndarray, d: np.ndarray) -> np.ndarray:
    out = np.empty((L3.shape[0], d.shape[0], L3.shape[2]), dtype=L3.dtype)
    d = d.astype(np.float64)
    for b in range(L3.shape[0]):
        _matmul_rows(d, L3[b], out[b])
    return out
