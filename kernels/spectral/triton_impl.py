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

import math
import os

import numpy as np
import torch
import triton
import triton.language as tl

PAD_CODES = {"constant": 0, "edge": 1, "reflect": 2, "symmetric": 3}
# tl.dot precision for float32 signals ("tf32x3" ~ float32 accuracy; "tf32" is ~3x cheaper
# but leaves quiet mel bands far off; "ieee" avoids tensor cores) and the frame tile:
# environment overrides so that a GPU session can try variants without code changes.
DEFAULT_PRECISION = os.environ.get("AFFREPRO_TRITON_DOT_PRECISION", "tf32x3")
DEFAULT_BLOCK_T = int(os.environ.get("AFFREPRO_TRITON_BLOCK_T", "64"))


@triton.jit
def _spectral_kernel(y_ptr, cos_ptr, sin_ptr, fb_ptr, out_ptr,
                     n_samples, n_frames, hop, pad, n_fft, n_bins, n_rows,
                     stride_yb, stride_yn, stride_ob, stride_or,
                     power, scale, amin, log_ref,
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
    mel_acc = tl.zeros((BLOCK_T, BLOCK_M), dtype=acc_dtype)
    for b0 in range(0, n_bins, BLOCK_B):
        bins = b0 + tl.arange(0, BLOCK_B)
        re = tl.zeros((BLOCK_T, BLOCK_B), dtype=acc_dtype)
        im = tl.zeros((BLOCK_T, BLOCK_B), dtype=acc_dtype)
        for k0 in range(0, n_fft, BLOCK_K):
            k = k0 + tl.arange(0, BLOCK_K)
            kmask = k < n_fft
            i = t[:, None].to(tl.int64) * hop - pad + k[None, :]
            valid = tmask[:, None] & kmask[None, :]
            if PAD_MODE == 0:
                inside = (i >= 0) & (i < n_samples)
                valid = valid & inside
                src = tl.where(inside, i, 0)
            elif PAD_MODE == 1:
                src = tl.minimum(tl.maximum(i, 0), n_samples - 1)
            elif PAD_MODE == 2:
                p = tl.maximum(2 * (n_samples - 1), 1)
                r = ((i % p) + p) % p
                src = tl.where(r >= n_samples, p - r, r)
            else:
                p = 2 * n_samples
                r = ((i % p) + p) % p
                src = tl.where(r >= n_samples, p - 1 - r, r)
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
        pw = re * re + im * im
        if not POWER2:
            pw = tl.exp(tl.log(tl.sqrt(pw)) * power)
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
        v = mel_acc
        if LOG:
            clipped = tl.maximum(v, amin)
            v = tl.where(v != v, v, scale * tl.log(clipped) - log_ref)
        rows = tl.arange(0, BLOCK_M)
        optr = out_ptr + sig * stride_ob + rows[None, :] * stride_or + t[:, None]
        tl.store(optr, v, mask=tmask[:, None] & (rows[None, :] < n_rows))


_TABLES: dict = {}


def _tables(window: np.ndarray, n_fft: int, n_bins_pad: int, dtype, device):
    """Windowed DFT basis, (n_fft, n_bins_pad) cos and −sin, angles reduced mod n_fft."""
    key = (window.tobytes(), n_fft, n_bins_pad, dtype, str(device))
    hit = _TABLES.get(key)
    if hit is None:
        n_bins = n_fft // 2 + 1
        k = np.arange(n_fft)[:, None]
        j = np.arange(n_bins)[None, :]
        ang = 2.0 * math.pi * ((k * j) % n_fft) / n_fft
        c = np.zeros((n_fft, n_bins_pad))
        s = np.zeros((n_fft, n_bins_pad))
        c[:, :n_bins] = window[:, None] * np.cos(ang)
        s[:, :n_bins] = -window[:, None] * np.sin(ang)
        hit = (torch.as_tensor(c, dtype=dtype, device=device),
               torch.as_tensor(s, dtype=dtype, device=device))
        if len(_TABLES) > 16:
            _TABLES.clear()
        _TABLES[key] = hit
    return hit


def _pow2(n: int, least: int = 16) -> int:
    return max(least, 1 << (max(n, 1) - 1).bit_length())


def spectral(y: torch.Tensor, *, n_fft: int, hop: int, window: np.ndarray, center: bool,
             pad_mode: str, power: float, fb: np.ndarray | None, log_args: dict | None = None,
             precision: str | None = None, block_t: int | None = None,
             block_b: int | None = None, block_k: int | None = None,
             num_warps: int | None = None, num_stages: int | None = None) -> torch.Tensor:
    """(..., samples) -> (..., rows, n_frames): power spectrum (fb None), mel power, or
    log-mel (``log_args`` as ``reference.power_to_db`` takes them) — same dtype/device."""
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
    if nb == 0 or nf == 0:
        return out.reshape(batch_shape + (rows, nf))
    is64 = y.dtype == torch.float64
    interp = y.device.type != "cuda"
    block_b = block_b or (32 if interp else 64)
    block_k = block_k or (32 if interp else 64)
    block_t = block_t or (16 if interp else DEFAULT_BLOCK_T)
    precision = precision or DEFAULT_PRECISION
    n_bins_pad = triton.cdiv(n_bins, block_b) * block_b
    cos_t, sin_t = _tables(np.asarray(window, dtype=np.float64), n_fft, n_bins_pad, y.dtype,
                           y.device)
    block_m = _pow2(rows)
    if fb is not None:
        fbt = np.zeros((n_bins_pad, block_m))
        fbt[:n_bins, :rows] = fb.T
        fb_t = torch.as_tensor(fbt, dtype=y.dtype, device=y.device)
    else:
        fb_t = cos_t  # unused
    log = log_args is not None
    scale = 1.0
    log_ref = 0.0
    amin = 1e-10
    if log:
        scale = 10.0 / math.log(10.0) if log_args["log"] == "db" else 1.0
        amin = log_args["amin"]
        if log_args["ref"] != "max":
            log_ref = scale * math.log(max(amin, abs(float(log_args["ref"]))))
    grid = (triton.cdiv(nf, block_t), nb)
    launch = {k: v for k, v in (("num_warps", num_warps), ("num_stages", num_stages)) if v}
    _spectral_kernel[grid](
        y2, cos_t, sin_t, fb_t, out, n, nf, hop, n_fft // 2 if center else 0, n_fft, n_bins, rows,
        y2.stride(0), y2.stride(1), out.stride(0), out.stride(1),
        float(power), scale, float(amin), log_ref,
        PAD_MODE=PAD_CODES[pad_mode], MEL=fb is not None, LOG=log, POWER2=float(power) == 2.0,
        IS64=is64, PRECISION=precision, N_BINS_PAD=n_bins_pad, BLOCK_M=block_m,
        BLOCK_T=block_t, BLOCK_K=block_k, BLOCK_B=block_b, **launch)
    if log:
        if log_args["ref"] == "max":
            out = out - out.amax(dim=(-2, -1), keepdim=True)
        if log_args["top_db"] is not None:
            clip = log_args["top_db"] * (1.0 if log_args["log"] == "db" else math.log(10.0) / 10.0)
            out = torch.maximum(out, out.amax(dim=(-2, -1), keepdim=True) - clip)
    return out.reshape(batch_shape + (rows, nf))
