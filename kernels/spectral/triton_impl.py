"""The spectral front-end in ONE Triton kernel: samples -> frames -> DFT -> |.|^p -> mel -> log.

Each program owns ``BLOCK_T`` frames of one signal and walks the spectrum in chunks of
``BLOCK_B`` bins. For each chunk it builds the frames on the fly (the centre padding —
``constant``/``edge``/``reflect``/``symmetric`` — is index arithmetic on the unpadded
signal), multiplies them by the windowed DFT basis (cos and sin tables, window folded
in, ``tl.dot``), squares, and immediately projects the chunk's powers onto the mel
filters (a second ``tl.dot`` into a (BLOCK_T, n_mels) accumulator held in registers).
Neither the frames nor the complex spectrum nor the power spectrum is ever written to
memory: the only store is the (log-)mel tile. Logs (dB or natural, ``amin`` and a fixed
``ref``) are applied in the epilogue; the per-signal peak that ``ref="max"`` and
``top_db`` need is a reduction over the whole output, done afterwards on the device.

The DFT is a dense product with the basis (there is no FFT primitive in Triton), so the
kernel is compute-bound on tensor cores; float32 signals use ``input_precision``
(default ``"tf32x3"``: three TF32 products, float32-level accuracy). Float64 signals are
computed in float64. Under ``TRITON_INTERPRET=1`` the same kernel runs on CPU tensors.
"""
from __future__ import annotations

import functools
import math
import os

import numpy as np
import torch
import triton
import triton.language as tl

from affrepro.kernels._dispatch import triton_interpreting

PAD_CODES = {"constant": 0, "edge": 1, "reflect": 2, "symmetric": 3}
# tl.dot precision for float32 signals ("tf32x3" ~ float32 accuracy; "tf32" is ~3x cheaper
# but leaves quiet mel bands far off; "ieee" avoids tensor cores) and the frame tile:
# environment overrides so that a GPU session can try variants without code changes.
DEFAULT_PRECISION = os.environ.get("AFFREPRO_TRITON_DOT_PRECISION", "tf32x3")
DEFAULT_BLOCK_T = int(os.environ.get("AFFREPRO_TRITON_BLOCK_T", "64"))
# two-stage kernel launch defaults, from sweeps on an H200 (workload (c), tools/gpu/
# sweep_spectral.py, files in benchmarks/results/cuda-nvidia-h200/sweeps/): 8 frames a
# program, 8 k1 values a chunk, 4 warps, mel bands as rows: 3.08 ms, 104 KB of shared
# memory, 2 programs an SM (frames as rows: 3.46 ms, the 8 rows padded to wgmma's 64;
# 16 frames / 16 k1 / 8 warps: 4.81 ms, 200 KB, 1 an SM; 3 real products instead of 4 in
# stage 2, reloading the frames per chunk, or the filters rebuilt from a sparse table: all
# slower)
FFT_BLOCK_T = int(os.environ.get("AFFREPRO_TRITON_FFT_BLOCK_T", "8"))
FFT_NUM_WARPS = int(os.environ.get("AFFREPRO_TRITON_FFT_WARPS", "4"))
FFT_NUM_STAGES = int(os.environ.get("AFFREPRO_TRITON_FFT_STAGES", "1"))
# float32 logs on an NVIDIA GPU through lg2.approx.f32 (2^-22 in log2: 7e-7 dB before the
# result's float32 rounding); 0: libdevice's logf
FAST_LOG = os.environ.get("AFFREPRO_TRITON_FAST_LOG", "1") == "1"


@triton.jit
def _constants(consts_ptr):
    """power, 10/ln 10 (or 1), amin and the log of ref, stored in the signal's dtype (a
    Python float argument would reach the kernel as a float32 scalar)."""
    return (tl.load(consts_ptr + 0), tl.load(consts_ptr + 1), tl.load(consts_ptr + 2),
            tl.load(consts_ptr + 3))


@triton.jit
def _magnitude_power(pw, power, POWER2: tl.constexpr):
    """|X|^power from |X|² (the identity for power 2)."""
    if not POWER2:
        pw = tl.exp(tl.log(tl.sqrt(pw)) * power)
    return pw


@triton.jit
def _log_mel(v, scale, amin, log_ref, LOG: tl.constexpr):
    """scale·ln(max(v, amin)) − log_ref (dB or natural log), NaN kept. LOG 2 (float32 on an
    NVIDIA GPU): ln x = ln 2 · log2 x with the hardware's lg2.approx.f32 (absolute error
    ≤ 2^-22 in log2 x, 7e-7 dB, before the float32 rounding of the result, which alone is
    ~8e-6 dB at −100 dB) instead of libdevice's logf (about 24 instructions)."""
    if LOG == 2:
        lg2 = tl.inline_asm_elementwise("lg2.approx.f32 $0, $1;", "=r,r", [tl.maximum(v, amin)],
                                        dtype=tl.float32, is_pure=True, pack=1)
        v = tl.where(v != v, v, (scale * 0.6931471805599453) * lg2 - log_ref)
    elif LOG:
        v = tl.where(v != v, v, scale * tl.log(tl.maximum(v, amin)) - log_ref)
    return v


@triton.jit
def _padded_index(i, n_samples, PAD_MODE: tl.constexpr):
    """Where padded position i (i < 0 or i >= n_samples in the padding) reads the unpadded
    signal, as numpy.pad's modes: constant (0; reads nothing outside), edge, reflect
    (period 2(n−1), edge not repeated), symmetric (period 2n). Returns (index, reads)."""
    reads = (i >= 0) & (i < n_samples)
    if PAD_MODE == 0:
        src = i  # masked by reads; kept contiguous so that frame loads can be vectorised
    else:
        reads = i == i
        if PAD_MODE == 1:
            src = tl.minimum(tl.maximum(i, 0), n_samples - 1)
        elif PAD_MODE == 2:
            p = tl.maximum(2 * (n_samples - 1), 1)
            r = ((i % p) + p) % p
            src = tl.where(r >= n_samples, p - r, r)
        else:
            p = 2 * n_samples
            r = ((i % p) + p) % p
            src = tl.where(r >= n_samples, p - 1 - r, r)
    return src, reads


@triton.jit
def _spectral_kernel(y_ptr, cos_ptr, sin_ptr, fb_ptr, out_ptr,
                     n_samples, n_frames, hop, pad, n_fft, n_bins, n_rows,
                     stride_yb, stride_yn, stride_ob, stride_or, consts_ptr,
                     PAD_MODE: tl.constexpr, MEL: tl.constexpr, LOG: tl.constexpr,
                     POWER2: tl.constexpr, IS64: tl.constexpr, PRECISION: tl.constexpr,
                     N_BINS_PAD: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_T: tl.constexpr,
                     BLOCK_K: tl.constexpr, BLOCK_B: tl.constexpr):
    pid_t = tl.program_id(0)
    sig = tl.program_id(1).to(tl.int64)
    t = pid_t * BLOCK_T + tl.arange(0, BLOCK_T)
    tmask = t < n_frames
    y_base = y_ptr + sig * stride_yb
    acc_dtype = tl.float64 if IS64 else tl.float32
    power, scale, amin, log_ref = _constants(consts_ptr)
    mel_acc = tl.zeros((BLOCK_T, BLOCK_M), dtype=acc_dtype)
    for b0 in range(0, n_bins, BLOCK_B):
        bins = b0 + tl.arange(0, BLOCK_B)
        re = tl.zeros((BLOCK_T, BLOCK_B), dtype=acc_dtype)
        im = tl.zeros((BLOCK_T, BLOCK_B), dtype=acc_dtype)
        for k0 in range(0, n_fft, BLOCK_K):
            k = k0 + tl.arange(0, BLOCK_K)
            kmask = k < n_fft
            i = t[:, None].to(tl.int64) * hop - pad + k[None, :]
            src, reads = _padded_index(i, n_samples, PAD_MODE)
            valid = tmask[:, None] & kmask[None, :] & reads
            x = tl.load(y_base + src * stride_yn, mask=valid, other=0.0).to(acc_dtype)
            bmask = kmask[:, None] & (bins[None, :] < N_BINS_PAD)
            c = tl.load(cos_ptr + k[:, None] * N_BINS_PAD + bins[None, :], mask=bmask, other=0.0)
            s = tl.load(sin_ptr + k[:, None] * N_BINS_PAD + bins[None, :], mask=bmask, other=0.0)
            if IS64:
                re += tl.dot(x, c, input_precision="ieee")
                im += tl.dot(x, s, input_precision="ieee")
            else:
                re += tl.dot(x, c, input_precision=PRECISION)
                im += tl.dot(x, s, input_precision=PRECISION)
        pw = _magnitude_power(re * re + im * im, power, POWER2)
        if MEL:
            f = tl.load(fb_ptr + bins[:, None] * BLOCK_M + tl.arange(0, BLOCK_M)[None, :],
                        mask=(bins[:, None] < N_BINS_PAD), other=0.0)
            if IS64:
                mel_acc += tl.dot(pw, f, input_precision="ieee")
            else:
                mel_acc += tl.dot(pw, f, input_precision=PRECISION)
        else:
            optr = out_ptr + sig * stride_ob + bins[None, :] * stride_or + t[:, None]
            tl.store(optr, pw, mask=tmask[:, None] & (bins[None, :] < n_bins))
    if MEL:
        v = _log_mel(mel_acc, scale, amin, log_ref, LOG)
        rows = tl.arange(0, BLOCK_M)
        optr = out_ptr + sig * stride_ob + rows[None, :] * stride_or + t[:, None]
        tl.store(optr, v, mask=tmask[:, None] & (rows[None, :] < n_rows))


_TABLES: dict = {}


def _cached(key: tuple, build):
    """The device tables for ``key``, built once (at most 16 sets are kept)."""
    if key not in _TABLES:
        if len(_TABLES) >= 16:
            _TABLES.clear()
        _TABLES[key] = build()
    return _TABLES[key]


def _on_device(arrays, dtype, device) -> tuple:
    return tuple(torch.tensor(np.ascontiguousarray(x, dtype=np.float64), dtype=dtype,
                              device=device) for x in arrays)


def _tables(window: np.ndarray, n_fft: int, n_bins_pad: int, fb, block_m: int, dtype,
            device):
    """Windowed DFT basis, (n_fft, n_bins_pad) cos and −sin, angles reduced mod n_fft, and
    the mel filters as (n_bins_pad, block_m) (None without filters)."""
    def build():
        n_bins = n_fft // 2 + 1
        k = np.arange(n_fft)[:, None]
        j = np.arange(n_bins)[None, :]
        ang = 2.0 * math.pi * ((k * j) % n_fft) / n_fft
        c = np.zeros((n_fft, n_bins_pad))
        s = np.zeros((n_fft, n_bins_pad))
        c[:, :n_bins] = window[:, None] * np.cos(ang)
        s[:, :n_bins] = -window[:, None] * np.sin(ang)
        if fb is None:
            return _on_device((c, s), dtype, device) + (None,)
        fbt = np.zeros((n_bins_pad, block_m))
        fbt[:n_bins, :fb.shape[0]] = fb.T
        return _on_device((c, s, fbt), dtype, device)

    fb_key = None if fb is None else fb.tobytes()
    return _cached(("dense", window.tobytes(), n_fft, n_bins_pad, fb_key, block_m, dtype,
                    str(device)), build)


@functools.lru_cache(maxsize=32)
def _constants_tensor(power: float, scale: float, amin: float, log_ref: float, dtype,
                      device: str) -> torch.Tensor:
    """The kernels' constants as a tensor in the signal's dtype (a Python float argument
    would reach a kernel as a float32 scalar), made once per value set and device."""
    return torch.tensor([power, scale, amin, log_ref], dtype=dtype, device=device)


def _pow2(n: int, least: int = 16) -> int:
    return max(least, 1 << (max(n, 1) - 1).bit_length())


@triton.jit
def _load_frames(y_base, win_ptr, pid_t, n_samples, n_frames, hop, pad, stride_yn,
                 PAD_MODE: tl.constexpr, N1: tl.constexpr, N2: tl.constexpr,
                 BLOCK_T: tl.constexpr):
    """Windowed frames as a (BLOCK_T*N2, N1) tile, row t*N2 + n2, column n1:
    w[n] y[t*hop - pad + n] with n = N2*n1 + n2, the padding as index arithmetic on the
    unpadded signal. Offsets are int32 (the caller keeps one signal's offsets below 2**31):
    int64 offsets for every element of the tile cost more registers than the rest."""
    r = tl.arange(0, BLOCK_T * N2)[:, None]
    n1 = tl.arange(0, N1)[None, :]
    t = pid_t * BLOCK_T + r // N2
    n = N2 * n1 + r % N2
    i = t * hop - pad + n
    src, reads = _padded_index(i, n_samples, PAD_MODE)
    valid = (t < n_frames) & (n1 < N1) & reads
    x = tl.load(y_base + src * stride_yn, mask=valid, other=0.0).to(tl.float32)
    return x * tl.load(win_ptr + n)


@triton.jit
def _logmel_fft_kernel(y_ptr, win_ptr, c1_ptr, s1_ptr, twr_ptr, twi_ptr, c2_ptr, s2_ptr,
                       gt_ptr, gnyq_ptr, out_ptr, consts_ptr,
                       n_samples, n_frames, hop, pad, n_rows,
                       stride_yb, stride_yn, stride_ob, stride_or,
                       PAD_MODE: tl.constexpr, LOG: tl.constexpr, POWER2: tl.constexpr,
                       PRECISION: tl.constexpr, N1: tl.constexpr, N2: tl.constexpr,
                       KC: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_T: tl.constexpr):
    """Log-mel of BLOCK_T frames through a two-stage DFT, n_fft = N = N1 * N2:

        n = N2 n1 + n2,  k = k1 + N1 k2,
        X[k] = Σ_n2 W_N2^(n2 k2) · W_N^(n2 k1) · Σ_n1 x[n] W_N1^(n1 k1),   W_L = e^(−2πi/L)

    stage 1 (over n1) and stage 2 (over n2, only k2 < N2/2, i.e. k < N/2) are tensor-core
    products with tables; the twiddle W_N^(n2 k1) is elementwise; bin N/2 is Σ x[n](−1)^n.
    The k1 axis is walked in chunks of KC; each chunk's powers |X|² go straight onto the
    mel filters, with the bands as the product's rows (M = mels, N = frames)."""
    pid_t = tl.program_id(0)
    sig = tl.program_id(1).to(tl.int64)
    power, scale, amin, log_ref = _constants(consts_ptr)
    H2: tl.constexpr = N2 // 2
    x2 = _load_frames(y_ptr + sig * stride_yb, win_ptr, pid_t, n_samples, n_frames, hop, pad,
                      stride_yn, PAD_MODE, N1, N2, BLOCK_T)
    # the Nyquist bin: sum of x[n] (-1)^n, and (-1)^n = (-1)^n2 = (-1)^row since N2 is even
    sign = 1.0 - 2.0 * (tl.arange(0, BLOCK_T * N2) % 2).to(tl.float32)
    nyq = tl.sum(tl.reshape(tl.sum(x2, axis=1) * sign, (BLOCK_T, N2)), axis=1)
    kc = tl.arange(0, KC)
    rn1 = tl.arange(0, N1)
    rn2 = tl.arange(0, N2)
    rk2 = tl.arange(0, H2)
    c2 = tl.load(c2_ptr + rn2[:, None] * H2 + rk2[None, :])
    s2 = tl.load(s2_ptr + rn2[:, None] * H2 + rk2[None, :])
    rg = tl.arange(0, KC * H2)
    rm = tl.arange(0, BLOCK_M)
    mel = tl.zeros((BLOCK_M, BLOCK_T), dtype=tl.float32)
    for k0 in range(0, N1, KC):
        # stage 1: DFT over n1 for KC values of k1: (BT*N2, N1) @ (N1, KC)
        c1 = tl.load(c1_ptr + rn1[:, None] * N1 + (k0 + kc)[None, :])
        s1 = tl.load(s1_ptr + rn1[:, None] * N1 + (k0 + kc)[None, :])
        ar = tl.reshape(tl.dot(x2, c1, input_precision=PRECISION), (BLOCK_T, N2, KC))
        ai = tl.reshape(tl.dot(x2, s1, input_precision=PRECISION), (BLOCK_T, N2, KC))
        # twiddles W_N^(n2 k1)
        twr = tl.load(twr_ptr + rn2[:, None] * N1 + (k0 + kc)[None, :])[None, :, :]
        twi = tl.load(twi_ptr + rn2[:, None] * N1 + (k0 + kc)[None, :])[None, :, :]
        br = ar * twr - ai * twi
        bi = ar * twi + ai * twr
        # stage 2: DFT over n2, only k2 < N2/2: (BT*KC, N2) @ (N2, N2/2)
        br = tl.reshape(tl.permute(br, (0, 2, 1)), (BLOCK_T * KC, N2))
        bi = tl.reshape(tl.permute(bi, (0, 2, 1)), (BLOCK_T * KC, N2))
        xr = (tl.dot(br, c2, input_precision=PRECISION)
              - tl.dot(bi, s2, input_precision=PRECISION))
        xi = (tl.dot(br, s2, input_precision=PRECISION)
              + tl.dot(bi, c2, input_precision=PRECISION))
        pw = _magnitude_power(xr * xr + xi * xi, power, POWER2)
        # the chunk's bins k1 + N1*k2 onto the mel filters: (M, KC*N2/2) @ (KC*N2/2, BT)
        pw = tl.reshape(pw, (BLOCK_T, KC * H2))
        g = tl.load(gt_ptr + rm[:, None] * (N1 * H2) + (k0 * H2 + rg)[None, :])
        mel += tl.dot(g, tl.trans(pw), input_precision=PRECISION)
    pn = _magnitude_power(nyq * nyq, power, POWER2)
    v = _log_mel(mel + tl.load(gnyq_ptr + rm)[:, None] * pn[None, :], scale, amin, log_ref, LOG)
    t = pid_t * BLOCK_T + tl.arange(0, BLOCK_T)
    optr = out_ptr + sig * stride_ob + rm[:, None] * stride_or + t[None, :]
    tl.store(optr, v, mask=(rm[:, None] < n_rows) & (t[None, :] < n_frames))


@triton.jit
def _radix2_stage(xr, xi, tw_ptr, BT: tl.constexpr, N: tl.constexpr, S: tl.constexpr):
    """One decimation-in-frequency radix-2 stage, Stockham order, on (BT, N) complex rows
    held as S sub-transforms of length L = N/S: with a, b the halves of each,
    u = a + b, v = (a − b)·W_L^h (h < L/2), and the sub-transforms' outputs interleave
    (X[2k] from u, X[2k+1] from v), so the new index bit becomes the most significant of
    the sub-transform number; after log2 N stages the rows are X[k] in natural order.
    Twiddles of length L: cos at tw[N − L + h], −sin at tw[2N − L + h]."""
    H: tl.constexpr = N // (2 * S)
    ar, br = tl.split(tl.permute(tl.reshape(xr, (BT * S, 2, H)), (0, 2, 1)))
    ai, bi = tl.split(tl.permute(tl.reshape(xi, (BT * S, 2, H)), (0, 2, 1)))
    h = tl.arange(0, H)
    c = tl.load(tw_ptr + (N - 2 * H) + h)[None, :]
    sn = tl.load(tw_ptr + (2 * N - 2 * H) + h)[None, :]
    dr = ar - br
    di = ai - bi
    xr = tl.join(ar + br, dr * c - di * sn)
    xi = tl.join(ai + bi, dr * sn + di * c)
    xr = tl.reshape(tl.permute(tl.reshape(xr, (BT, S, H, 2)), (0, 3, 1, 2)), (BT, N))
    xi = tl.reshape(tl.permute(tl.reshape(xi, (BT, S, H, 2)), (0, 3, 1, 2)), (BT, N))
    return xr, xi


@triton.jit
def _windowed_frames(y_base, win_ptr, t, n_samples, n_frames, hop, pad, stride_yn,
                     PAD_MODE: tl.constexpr, N: tl.constexpr):
    """(len(t), N) frames w[n] y[t*hop − pad + n], zero past the last frame."""
    n = tl.arange(0, N)[None, :]
    src, reads = _padded_index(t[:, None] * hop - pad + n, n_samples, PAD_MODE)
    x = tl.load(y_base + src * stride_yn, mask=(t[:, None] < n_frames) & reads, other=0.0)
    return x.to(tl.float32) * tl.load(win_ptr + n)


@triton.jit
def _fft_stages(xr, xi, tw_ptr, ROWS: tl.constexpr, N: tl.constexpr, LOGN: tl.constexpr):
    """The DFT of each of ROWS complex rows of length N = 2^LOGN (9 ≤ LOGN ≤ 11), natural
    order: LOGN radix-2 Stockham stages."""
    xr, xi = _radix2_stage(xr, xi, tw_ptr, ROWS, N, 1)
    xr, xi = _radix2_stage(xr, xi, tw_ptr, ROWS, N, 2)
    xr, xi = _radix2_stage(xr, xi, tw_ptr, ROWS, N, 4)
    xr, xi = _radix2_stage(xr, xi, tw_ptr, ROWS, N, 8)
    xr, xi = _radix2_stage(xr, xi, tw_ptr, ROWS, N, 16)
    xr, xi = _radix2_stage(xr, xi, tw_ptr, ROWS, N, 32)
    xr, xi = _radix2_stage(xr, xi, tw_ptr, ROWS, N, 64)
    xr, xi = _radix2_stage(xr, xi, tw_ptr, ROWS, N, 128)
    xr, xi = _radix2_stage(xr, xi, tw_ptr, ROWS, N, 256)
    if LOGN > 9:
        xr, xi = _radix2_stage(xr, xi, tw_ptr, ROWS, N, 512)
    if LOGN > 10:
        xr, xi = _radix2_stage(xr, xi, tw_ptr, ROWS, N, 1024)
    return xr, xi


@triton.jit
def _max_keep_nan(a, b):
    """max(a, b), NaN if either is NaN."""
    return tl.maximum(a, b, propagate_nan=tl.PropagateNan.ALL)


@triton.jit
def _normalised(x):
    """Each row of x scaled by 2^(−E), 2^E ≤ max|x| < 2^(E+1) (exact: a power of two), so
    that a row's rounding errors scale with its own level and not its transform partner's;
    rows holding a NaN or inf are zeroed (they would spoil the partner). Returns the
    scaled rows, 2^E per row and a per-row NaN (bad row) or 0 to add to its powers."""
    m = tl.reduce(tl.abs(x), 1, _max_keep_nan)
    e = (m.to(tl.int32, bitcast=True) >> 23) & 0xFF         # the biased exponent
    finite = e < 255
    e = tl.minimum(tl.maximum(e, 1), 253)                   # zero/subnormal rows: 2^-126
    down = ((254 - e) << 23).to(tl.float32, bitcast=True)   # 2^(127 − e)
    up = tl.where(finite, (e << 23).to(tl.float32, bitcast=True), 0.0)   # 2^(e − 127)
    x = tl.where(finite[:, None], x * down[:, None], 0.0)
    return x, up, tl.where(finite, 0.0, float("nan"))


@triton.jit
def _band_carry(a_lo, a_hi, a_n, b_lo, b_hi, b_n):
    """Combine of the running band sum that carries each segment's upper-band part into
    the next: a range's state is (lo, hi, n) with n = min(starts in it, 2), hi the w_hi sum
    since its last start, lo the w_lo sum since its last start plus (n ≥ 1) the w_hi sum
    between the start before that (or the range's first bin) and its last start. At a
    segment's last bin the prefix's lo is then band m = Σ_seg m P·w_lo + Σ_seg m−1 P·w_hi."""
    lo = tl.where(b_n == 0, a_lo + b_lo, tl.where(b_n == 1, b_lo + a_hi, b_lo))
    hi = tl.where(b_n == 0, a_hi + b_hi, b_hi)
    return lo, hi, tl.where(b_n == 0, a_n, tl.minimum(a_n + b_n, 2))


@triton.jit
def _band_affine(a_lo, a_hi, a_i, a_j, b_lo, b_hi, b_i, b_j):
    """The same running band sum as affine maps: (lo, hi) <- (i·lo + j·hi, i·hi) + (b_lo,
    b_hi), with i = 1, j = 0 inside a segment and i = 0, j = 1 at its first bin; products
    of such maps stay in that form (the carry matrix squares to zero), so composing is
    multiply-adds only."""
    return (b_i * a_lo + b_j * a_hi + b_lo, b_i * a_hi + b_hi, b_i * a_i,
            b_i * a_j + b_j * a_i)


@triton.jit
def _segment_sum(a_lo, a_hi, a_start, b_lo, b_hi, b_start):
    """Combine of a segmented running sum: b opens a segment (b_start) or adds to a's."""
    return (tl.where(b_start != 0, b_lo, a_lo + b_lo), tl.where(b_start != 0, b_hi, a_hi + b_hi),
            a_start | b_start)


@triton.jit
def _logmel_radix2_kernel(y_ptr, win_ptr, tw_ptr, wlo_ptr, whi_ptr, start_ptr, end_ptr,
                          gnyq_ptr, row_ptr, gnat_ptr, out_ptr, consts_ptr,
                          n_samples, n_frames, hop, pad, n_rows,
                          stride_yb, stride_yn, stride_ob, stride_or,
                          PAD_MODE: tl.constexpr, LOG: tl.constexpr, POWER2: tl.constexpr,
                          LOGN: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_T: tl.constexpr,
                          SCATTER: tl.constexpr, PACK2: tl.constexpr, NYQ: tl.constexpr):
    """Log-mel of BLOCK_T frames on the CUDA cores in float32 throughout: frames ->
    window -> log2(n_fft) Stockham radix-2 stages (:func:`_radix2_stage`, register
    reshapes) -> |X|² -> mel filters as segmented sums -> log.

    Triangular filters give bin k at most two bands, m(k) and m(k) + 1, with m(k)
    nondecreasing; so band m = Σ_{k: m(k)=m} P[k] w_lo[k] + Σ_{k: m(k)=m−1} P[k] w_hi[k],
    two segmented running sums over k read at each segment's last bin (``end``).

    SCATTER 1 or 2 (every band has bins of its own): one running sum that carries the
    upper-band part of each segment into the next (1: :func:`_band_carry`, selects;
    2: :func:`_band_affine`, multiply-adds) holds band m whole at its segment's last bin;
    there the log is taken and stored straight to row m, so the sums are never gathered
    across threads. SCATTER 0 gathers the two sums at each band's segment ends.

    PACK2: frames a = 2p and b = 2p + 1 are transformed as z = x_a + i·x_b; with
    Z[−k] = Z[(N − k) mod N] (a gather), |X_a[k]|² = |Z[k] + conj Z[−k]|² / 4 and
    |X_b[k]|² = |Z[k] − conj Z[−k]|² / 4: half the butterflies of a real frame padded
    with a zero imaginary part. Each frame is first scaled by a power of two to a peak in
    [1, 2) (:func:`_normalised`), so that a quiet frame beside a loud one keeps its own
    accuracy; a frame with a NaN or inf sample comes out NaN in every band and leaves its
    partner intact (a NaN or inf in the input gives NaN, not ±inf, in these paths)."""
    N: tl.constexpr = 1 << LOGN
    pid_t = tl.program_id(0)
    sig = tl.program_id(1).to(tl.int64)
    power, scale, amin, log_ref = _constants(consts_ptr)
    t = pid_t * BLOCK_T + tl.arange(0, BLOCK_T)
    y_base = y_ptr + sig * stride_yb
    if PACK2:
        # frames 2p and 2p + 1 as the real and imaginary parts of one complex transform
        P: tl.constexpr = BLOCK_T // 2
        ta = pid_t * BLOCK_T + 2 * tl.arange(0, P)
        xr = _windowed_frames(y_base, win_ptr, ta, n_samples, n_frames, hop, pad, stride_yn,
                              PAD_MODE, N)
        xi = _windowed_frames(y_base, win_ptr, ta + 1, n_samples, n_frames, hop, pad,
                              stride_yn, PAD_MODE, N)
        xr, up_a, bad_a = _normalised(xr)
        xi, up_b, bad_b = _normalised(xi)
        xr, xi = _fft_stages(xr, xi, tw_ptr, P, N, LOGN)
        # X_a[k] = (Z[k] + conj Z[−k]) / 2, X_b[k] = (Z[k] − conj Z[−k]) / 2i
        mirror = tl.broadcast_to(((N - tl.arange(0, N)) & (N - 1))[None, :], (P, N))
        mr = tl.gather(xr, mirror, 1)
        mi = tl.gather(xi, mirror, 1)
        pa = 0.25 * ((xr + mr) * (xr + mr) + (xi - mi) * (xi - mi))
        pb = 0.25 * ((xi + mi) * (xi + mi) + (xr - mr) * (xr - mr))
        pw = tl.reshape(tl.permute(tl.join(pa, pb), (0, 2, 1)), (BLOCK_T, N))
        up = tl.reshape(tl.join(up_a, up_b), (BLOCK_T,))  # the frames' scales, frame order
        bad = tl.reshape(tl.join(bad_a, bad_b), (BLOCK_T,))
    else:
        xr = _windowed_frames(y_base, win_ptr, t, n_samples, n_frames, hop, pad, stride_yn,
                              PAD_MODE, N)
        xr, xi = _fft_stages(xr, tl.zeros_like(xr), tw_ptr, BLOCK_T, N, LOGN)
        pw = xr * xr + xi * xi
    # bins below N/2 (the first half) onto the filters; bin N/2 opens the second half
    low, high = tl.split(tl.permute(tl.reshape(pw, (BLOCK_T, 2, N // 2)), (0, 2, 1)))
    if PACK2:  # |X|² back to the frames' own scale (2^2E), a bad frame NaN throughout
        low = low * up[:, None] * up[:, None] + bad[:, None]
        high = high * up[:, None] * up[:, None] + bad[:, None]
    low = _magnitude_power(low, power, POWER2)
    high = _magnitude_power(high, power, POWER2)
    rk = tl.arange(0, N // 2)
    if NYQ:  # the Nyquist bin is in some band (rarely: a filter that ends at sr/2 is 0 there)
        pn = tl.sum(tl.where((rk == 0)[None, :], high, 0.0), axis=1)
    # the per-bin tables as (frames, bins) loads: the scan then gets 4 neighbouring bins a
    # thread (sm_90 SASS: 13 % fewer instructions than with the tables broadcast)
    rk2 = rk[None, :] + 0 * t[:, None]
    starts = tl.load(start_ptr + rk2)
    lo_w = low * tl.load(wlo_ptr + rk2)
    hi_w = low * tl.load(whi_ptr + rk2)
    if SCATTER == 2:
        opens = starts.to(tl.float32)
        band, _, _, _ = tl.associative_scan((lo_w, hi_w, 1.0 - opens, opens), axis=1,
                                            combine_fn=_band_affine)
    elif SCATTER:
        band, _, _ = tl.associative_scan((lo_w, hi_w, starts), axis=1, combine_fn=_band_carry)
    if SCATTER:
        row = tl.load(row_ptr + rk)[None, :]        # band m at its last bin, else −1
        if NYQ:
            band += tl.load(gnat_ptr + rk)[None, :] * pn[:, None]
        v = _log_mel(band, scale, amin, log_ref, LOG)
        optr = out_ptr + sig * stride_ob + row * stride_or + t[:, None]
        tl.store(optr, v, mask=(row >= 0) & (t[:, None] < n_frames))
        return
    s_lo, s_hi, _ = tl.associative_scan((lo_w, hi_w, starts), axis=1, combine_fn=_segment_sum)
    rm = tl.arange(0, BLOCK_M)
    # end[m]: last bin of the segment whose lower band is m (−1: none); band m takes
    # s_lo there and s_hi at the end of segment m − 1
    e_lo = tl.load(end_ptr + rm)
    e_hi = tl.load(end_ptr + BLOCK_M + rm)
    i_lo = tl.broadcast_to(tl.maximum(e_lo, 0)[None, :], (BLOCK_T, BLOCK_M))
    i_hi = tl.broadcast_to(tl.maximum(e_hi, 0)[None, :], (BLOCK_T, BLOCK_M))
    mel = (tl.where((e_lo >= 0)[None, :], tl.gather(s_lo, i_lo, 1), 0.0)
           + tl.where((e_hi >= 0)[None, :], tl.gather(s_hi, i_hi, 1), 0.0))
    # a band with no bins is 0 · the spectrum, as in the matrix product: NaN in a frame
    # holding a NaN (or inf) power, 0 elsewhere (zeros summed: no overflow)
    mel += tl.sum(low * 0.0, axis=1)[:, None]
    mel = tl.trans(mel)
    if NYQ:
        mel += tl.load(gnyq_ptr + rm)[:, None] * pn[None, :]
    v = _log_mel(mel, scale, amin, log_ref, LOG)
    optr = out_ptr + sig * stride_ob + rm[:, None] * stride_or + t[None, :]
    tl.store(optr, v, mask=(rm[:, None] < n_rows) & (t[None, :] < n_frames))


def _radix2_tables(window: np.ndarray, n_fft: int, fb: np.ndarray, block_m: int, device):
    """The radix-2 kernel's tables, or None where the filters are not triangular (some bin
    below N/2 in more than two bands, or in two that are not neighbours, or bands out of
    order): the window; per stage of length L the twiddles cos(2πh/L) at [N − L + h] and
    −sin at [2N − L + h]; per bin k < N/2 its lower band's weight, the next band's weight
    and whether it opens a segment; per band the segments' last bins (lower, upper); the
    Nyquist weights; for the scatter epilogue the band ending at each bin (−1: none) and its
    Nyquist weight there. Returned with whether the scatter epilogue applies and whether
    any band weighs the Nyquist bin (more than rounding: 1e-9 of the largest weight)."""
    return _cached(("radix2", window.tobytes(), n_fft, fb.tobytes(), block_m, str(device)),
                   lambda: _build_radix2_tables(window, n_fft, fb, block_m, device))


def _build_radix2_tables(window, n_fft, fb, block_m, device):
    half = n_fft // 2
    w = fb[:, :half]
    nz = w != 0
    if nz.sum(axis=0).max(initial=0) > 2:
        return None
    band = np.where(nz.any(axis=0), nz.argmax(axis=0), -1)   # lower band of each bin
    nxt = np.minimum(band + 1, fb.shape[0] - 1)
    cols = np.arange(half)
    w_lo = np.where(band >= 0, w[np.maximum(band, 0), cols], 0.0)
    w_hi = np.where((band >= 0) & (nxt > band), w[nxt, cols], 0.0)
    rebuilt = np.zeros_like(w)
    rebuilt[np.maximum(band, 0), cols] += w_lo
    rebuilt[nxt, cols] += w_hi
    filled = np.maximum.accumulate(np.where(band >= 0, band, 0))
    if not np.array_equal(rebuilt, w) or np.any(np.where(band >= 0, band, filled) != filled):
        return None
    group = filled                                         # segments: runs of equal band
    start = np.r_[1, (np.diff(group) != 0).astype(int)]
    ends = np.full(2 * block_m, -1)
    last = np.r_[np.diff(group) != 0, True]
    for k in np.flatnonzero(last):
        ends[group[k]] = k                                 # band m = group: s_lo here
        if group[k] + 1 < block_m:
            ends[block_m + group[k] + 1] = k               # band m + 1: s_hi here
    tw = np.zeros(2 * n_fft)
    length = n_fft
    while length >= 2:
        h = np.arange(length // 2)
        tw[n_fft - length + h] = np.cos(2.0 * math.pi * h / length)
        tw[2 * n_fft - length + h] = -np.sin(2.0 * math.pi * h / length)
        length //= 2
    gnyq = np.zeros(block_m)
    gnyq[:fb.shape[0]] = fb[:, half]
    # the scatter epilogue: band m's row at its segment's last bin (every band needs a
    # segment of its own, i.e. some bin whose lower band it is; else −1 everywhere and
    # the gather epilogue), with its Nyquist weight there
    row_at = np.full(half, -1)
    gn_at = np.zeros(half)
    if np.array_equal(np.unique(group), np.arange(fb.shape[0])):
        row_at[last] = group[last]
        gn_at[last] = gnyq[group[last]]
    floats = _on_device((window, tw, w_lo, w_hi, gnyq, gn_at), torch.float32, device)
    ints = tuple(torch.tensor(x, dtype=torch.int32, device=device)
                 for x in (start, ends, row_at))
    return (floats[:4] + ints[:2] + (floats[4], ints[2], floats[5]), bool(row_at.max() >= 0),
            bool(np.abs(gnyq).max() > 1e-9 * np.abs(fb).max()))


# n_fft = N1 * N2 with N2 = 32 (the k2 < N2/2 half is 16 wide) and N1 >= 16
FFT_SIZES = {512: 16, 1024: 32, 2048: 64}
FFT_N2 = 32
FFT_KC = int(os.environ.get("AFFREPRO_TRITON_FFT_KC", "8"))  # k1 values per chunk
# the radix-2 CUDA-core kernel (n_fft 512/1024, triangular filters), the default since an
# H100 timed it (tools/gpu/sweep_spectral.py on workload (c): 1.30 ms at 8 frames / 8 warps
# and 8.8e-4 dB, against 2.71 ms for the two-stage kernel and 3.81 ms for torch eager;
# benchmarks/results/cuda-nvidia-h100-80gb-hbm3/). AFFREPRO_TRITON_FFT_RADIX2=0 restores
# the two-stage kernel.
FFT_RADIX2 = os.environ.get("AFFREPRO_TRITON_FFT_RADIX2", "1") == "1"
# its mel epilogue (RADIX2_MELS) and whether two frames share one complex transform.
# Compiled for sm_90 at workload (c)'s arguments (n_fft 1024, hop 160, 64 mels), warp
# instructions a frame in the SASS: 5696 for the first version (gather, one frame a
# transform, 8 frames, 8 warps); 2032 for affine, two frames a transform (each scaled on
# its own), vectorised frame loads, no Nyquist term where no band weighs it, the hardware
# log2, 8 frames, 4 warps (163 registers, 16 KB of shared memory, no spills; 16 frames /
# 8 warps: 2232 at 182 registers, 4 / 4: 2448 at 96); the two-stage kernel, 4476 (its loop
# counted 4 times). On the H100, 8 frames / 4 warps ran fastest (0.99 ms) but missed the
# 1e-3 dB bound of issue 3 (1.09e-3 dB; 8 warps gave 8.8e-4 on the same clips).
RADIX2_BLOCK_T = int(os.environ.get("AFFREPRO_TRITON_RADIX2_BLOCK_T", "8"))
RADIX2_NUM_WARPS = int(os.environ.get("AFFREPRO_TRITON_RADIX2_WARPS", "8"))
# a register cap for ptxas (0: none); 128 at 8 frames / 4 warps compiles without spills
# (2052 instructions a frame) and fits 4 programs an SM instead of 3
RADIX2_MAXNREG = int(os.environ.get("AFFREPRO_TRITON_RADIX2_MAXNREG", "0"))
RADIX2_MELS = {"gather": 0, "carry": 1, "affine": 2}
RADIX2_MEL = os.environ.get("AFFREPRO_TRITON_RADIX2_MEL", "affine")
RADIX2_PACK = os.environ.get("AFFREPRO_TRITON_RADIX2_PACK", "1") == "1"


def _fft_tables(window: np.ndarray, n_fft: int, fb: np.ndarray, block_m: int, device):
    """The two-stage DFT's tables (float32): the window, stage-1 cos/−sin (N1, N1),
    twiddles (N2, N1), stage-2 cos/−sin (N2, N2/2), and the mel filters in the kernel's
    bin order, transposed: ``gt[m, k1*H2 + k2] = fb[m, k1 + N1*k2]``, with the Nyquist
    bin's weights apart."""
    return _cached(("fft", window.tobytes(), n_fft, fb.tobytes(), block_m, str(device)),
                   lambda: _build_fft_tables(window, n_fft, fb, block_m, device))


def _build_fft_tables(window, n_fft, fb, block_m, device):
    n1, n2 = FFT_SIZES[n_fft], FFT_N2
    h2 = n2 // 2
    a = np.arange(n1)
    b = np.arange(n2)
    ang1 = 2.0 * math.pi * ((a[:, None] * a[None, :]) % n1) / n1
    angt = 2.0 * math.pi * ((b[:, None] * a[None, :]) % n_fft) / n_fft
    ang2 = 2.0 * math.pi * ((b[:, None] * np.arange(h2)[None, :]) % n2) / n2
    k = a[:, None] + n1 * np.arange(h2)[None, :]          # (k1, k2) -> bin
    gt = np.zeros((block_m, n1 * h2))
    gt[:fb.shape[0]] = fb[:, k.reshape(-1)]
    gnyq = np.zeros(block_m)
    gnyq[:fb.shape[0]] = fb[:, n_fft // 2]
    return _on_device((window, np.cos(ang1), -np.sin(ang1), np.cos(angt), -np.sin(angt),
                       np.cos(ang2), -np.sin(ang2), gt, gnyq), torch.float32, device)


def fft_launch_settings() -> dict:
    """The float32 log-mel kernel's launch defaults in effect (the radix-2 kernel's, or the
    two-stage kernel's with AFFREPRO_TRITON_FFT_RADIX2=0; environment included)."""
    if FFT_RADIX2:
        return {"radix": True, "block_t": RADIX2_BLOCK_T, "num_warps": RADIX2_NUM_WARPS,
                "radix_mel": RADIX2_MEL, "radix_pack": RADIX2_PACK,
                "maxnreg": RADIX2_MAXNREG or None}
    return {"block_t": FFT_BLOCK_T, "kc": FFT_KC, "num_warps": FFT_NUM_WARPS,
            "num_stages": FFT_NUM_STAGES, "precision": DEFAULT_PRECISION}


def uses_fft_kernel(dtype: torch.dtype, n_fft: int, fb) -> bool:
    """The FFT kernels serve float32 (log-)mel with n_fft 512/1024/2048 and at most 128 mel
    bands (the radix-2 one for n_fft 512/1024 with triangular filters, else the two-stage
    one); everything else (float64, the plain power spectrum, other sizes) takes the dense
    one."""
    return (dtype == torch.float32 and fb is not None and n_fft in FFT_SIZES
            and fb.shape[0] <= 128  # more mel rows overflow shared memory at n_fft 2048
            and os.environ.get("AFFREPRO_TRITON_FFT", "1") != "0")


def _int32_offsets_fit(n_samples: int, n_fft: int, stride: int) -> bool:
    """The FFT kernels' in-signal offsets (up to n + n_fft samples, times the sample
    stride) are int32."""
    return (n_samples + n_fft) * max(abs(stride), 1) < 2**31


def spectral(y: torch.Tensor, *, n_fft: int, hop: int, window: np.ndarray, center: bool,
             pad_mode: str, power: float, fb: np.ndarray | None, log_args: dict | None = None,
             precision: str | None = None, block_t: int | None = None,
             block_b: int | None = None, block_k: int | None = None,
             num_warps: int | None = None, num_stages: int | None = None,
             fft: bool | None = None, kc: int | None = None,
             radix: bool | None = None, radix_mel: str | None = None,
             radix_pack: bool | None = None, maxnreg: int | None = None) -> torch.Tensor:
    """(..., samples) -> (..., rows, n_frames): power spectrum (fb None), mel power, or
    log-mel (``log_args`` as ``reference.power_to_db`` takes them) — same dtype/device.

    ``fft``: None picks the two-stage kernel where it applies (:func:`uses_fft_kernel`),
    False forces the dense-DFT kernel; ``radix`` (default AFFREPRO_TRITON_FFT_RADIX2)
    takes the radix-2 kernel instead where it applies (n_fft ≤ 1024, triangular filters),
    ``radix_mel`` its mel epilogue (``"affine"`` or ``"carry"``: one running sum stored
    per band, where every band has bins of its own, else ``"gather"``), ``radix_pack``
    whether it transforms two frames at once (an even ``block_t``), ``maxnreg`` a register
    cap for it; the other keywords are launch settings (tests and GPU sweeps)."""
    from affrepro.kernels.spectral.reference import n_frames as count_frames

    if y.dtype not in (torch.float32, torch.float64):
        y = y.to(torch.float32)
    batch_shape = tuple(y.shape[:-1])
    n = int(y.shape[-1])
    y2 = y.reshape(math.prod(batch_shape), n)
    nb = y2.shape[0]
    nf = count_frames(n, n_fft, hop, center)
    n_bins = n_fft // 2 + 1
    rows = n_bins if fb is None else fb.shape[0]
    out = torch.empty((nb, rows, nf), dtype=y.dtype, device=y.device)
    if nb == 0 or nf == 0 or rows == 0:
        return out.reshape(batch_shape + (rows, nf))
    is64 = y.dtype == torch.float64
    interp = y.device.type != "cuda" or triton_interpreting()  # kernels run as Python
    precision = precision or DEFAULT_PRECISION
    block_m = _pow2(rows)
    log = log_args is not None
    # the kernels' LOG: 0 none, 1 libdevice's log, 2 the approximate log2 (float32 on CUDA)
    fast_log = FAST_LOG and not is64 and not interp and torch.version.hip is None  # PTX
    log_mode = int(log) and (2 if fast_log else 1)
    scale = 1.0
    log_ref = 0.0
    amin = 1e-10
    if log:
        scale = 10.0 / math.log(10.0) if log_args["log"] == "db" else 1.0
        amin = log_args["amin"]
        if log_args["ref"] != "max":
            log_ref = scale * math.log(max(amin, abs(float(log_args["ref"]))))
    consts = _constants_tensor(float(power), scale, float(amin), log_ref, y.dtype,
                               str(y.device))
    launch = {k: v for k, v in (("num_warps", num_warps), ("num_stages", num_stages)) if v}
    pad = n_fft // 2 if center else 0
    use_fft = (fft is not False and uses_fft_kernel(y.dtype, n_fft, fb)
               and _int32_offsets_fit(n, n_fft, y2.stride(1)))
    radix = FFT_RADIX2 if radix is None else radix
    radix_tables = None
    if use_fft and radix and n_fft <= 1024:  # 2048 spills registers: the two-stage kernel
        radix_tables = _radix2_tables(np.asarray(window, dtype=np.float64), n_fft,
                                      np.asarray(fb, dtype=np.float64), block_m, y.device)
    if radix_tables is not None:
        block_t = block_t or RADIX2_BLOCK_T
        launch.setdefault("num_warps", RADIX2_NUM_WARPS)
        if (maxnreg or RADIX2_MAXNREG) and not interp:
            launch["maxnreg"] = maxnreg or RADIX2_MAXNREG
        radix_mel = radix_mel or RADIX2_MEL
        if radix_mel not in RADIX2_MELS:
            raise ValueError(f"radix_mel must be one of {sorted(RADIX2_MELS)}, got {radix_mel!r}")
        pack = RADIX2_PACK if radix_pack is None else radix_pack
        if pack and block_t % 2:
            raise ValueError(f"radix_pack needs an even block_t, got {block_t}")
        tables, scatter_applies, nyquist = radix_tables
        _logmel_radix2_kernel[(triton.cdiv(nf, block_t), nb)](
            y2, *tables, out, consts, n, nf, hop, pad, rows,
            y2.stride(0), y2.stride(1), out.stride(0), out.stride(1),
            PAD_MODE=PAD_CODES[pad_mode], LOG=log_mode, POWER2=float(power) == 2.0,
            LOGN=n_fft.bit_length() - 1, BLOCK_M=block_m, BLOCK_T=block_t,
            SCATTER=RADIX2_MELS[radix_mel] if scatter_applies else 0, PACK2=pack, NYQ=nyquist,
            **launch)
    elif use_fft:
        block_t = block_t or FFT_BLOCK_T
        win, c1, s1, twr, twi, c2, s2, gt, gnyq = _fft_tables(
            np.asarray(window, dtype=np.float64), n_fft, np.asarray(fb, dtype=np.float64),
            block_m, y.device)
        launch.setdefault("num_warps", FFT_NUM_WARPS)
        launch.setdefault("num_stages", FFT_NUM_STAGES)  # more stages overflow shared memory
        _logmel_fft_kernel[(triton.cdiv(nf, block_t), nb)](
            y2, win, c1, s1, twr, twi, c2, s2, gt, gnyq, out, consts, n, nf, hop, pad, rows,
            y2.stride(0), y2.stride(1), out.stride(0), out.stride(1),
            PAD_MODE=PAD_CODES[pad_mode], LOG=log_mode, POWER2=float(power) == 2.0,
            PRECISION=precision, N1=FFT_SIZES[n_fft], N2=FFT_N2,
            KC=min(kc or FFT_KC, FFT_SIZES[n_fft]), BLOCK_M=block_m, BLOCK_T=block_t, **launch)
    else:
        block_b = block_b or (32 if interp else 64)
        block_k = block_k or (32 if interp else 64)
        block_t = block_t or (16 if interp else DEFAULT_BLOCK_T)
        n_bins_pad = triton.cdiv(n_bins, block_b) * block_b
        cos_t, sin_t, fb_t = _tables(np.asarray(window, dtype=np.float64), n_fft, n_bins_pad,
                                     None if fb is None else np.asarray(fb, dtype=np.float64),
                                     block_m, y.dtype, y.device)
        fb_t = cos_t if fb_t is None else fb_t  # unused without filters
        _spectral_kernel[(triton.cdiv(nf, block_t), nb)](
            y2, cos_t, sin_t, fb_t, out, n, nf, hop, pad, n_fft, n_bins, rows,
            y2.stride(0), y2.stride(1), out.stride(0), out.stride(1), consts,
            PAD_MODE=PAD_CODES[pad_mode], MEL=fb is not None, LOG=log_mode,
            POWER2=float(power) == 2.0, IS64=is64, PRECISION=precision,
            N_BINS_PAD=n_bins_pad, BLOCK_M=block_m, BLOCK_T=block_t, BLOCK_K=block_k,
            BLOCK_B=block_b, **launch)
    if log and not is64 and amin < float(np.finfo(np.float32).tiny):
        # amin below float32's normal range reaches the kernel as 0 (or is flushed to 0):
        # a zero power then logs to -inf where the answer is amin's own log, finite
        floor = scale * math.log(amin) - log_ref
        out = out.masked_fill(out == -math.inf, floor)
    if log:
        if log_args["ref"] == "max":
            out = out - out.amax(dim=(-2, -1), keepdim=True)
        if log_args["top_db"] is not None:
            clip = log_args["top_db"] * (1.0 if log_args["log"] == "db" else math.log(10.0) / 10.0)
            out = torch.maximum(out, out.amax(dim=(-2, -1), keepdim=True) - clip)
    return out.reshape(batch_shape + (rows, nf))
