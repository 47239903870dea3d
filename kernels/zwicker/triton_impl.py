"""ISO 532-1 time-varying loudness's filter bank on the GPU with Triton, for corpus
extraction (issue 24): one lane per (channel, band) of every stimulus in a batch (28
bands x channels x stimuli), each running the recursion of
:func:`affrepro.kernels.zwicker.numba_impl.tv_levels_bands` in float64:

    y = g S3(S2(S1(x))),  s1 = (1 - a) y^2 + a s1,  s2 = (1 - a) s1 + a s2,
    s3 = (1 - a) s2 + a s3,  L = 10 log10((s3 + 1e-12) / (20 uPa)^2) every ``dec``-th sample

(the band's Table A.1/A.2 sections S1..S3 and gain g, its smoothing pole a). Each lane's
recursion in time is serial; a batch of stimuli gives thousands of lanes. The later
steps (core loudness, nonlinear decay, slopes, temporal weighting) run per 2 kHz step
and are not in this module yet.

Under ``TRITON_INTERPRET=1`` the kernel runs on CPU tensors (for tests, tiny shapes).
"""
from __future__ import annotations

import math

import torch
import triton
import triton.language as tl

BLOCK = 32


@triton.jit
def _tv_levels_kernel(x_ptr, out_ptr, sos_ptr, gain_ptr, smooth_ptr, par_ptr, lanes, n,
                      n_steps, n_bands, dec, BLOCK: tl.constexpr):
    lane = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    ok = lane < lanes
    row = lane // n_bands
    band = lane % n_bands
    xb = row.to(tl.int64) * n
    ob = row.to(tl.int64) * n_steps * n_bands + band
    cb = band * 18
    b00 = tl.load(sos_ptr + cb + 0, mask=ok, other=0.0)
    b01 = tl.load(sos_ptr + cb + 1, mask=ok, other=0.0)
    b02 = tl.load(sos_ptr + cb + 2, mask=ok, other=0.0)
    a01 = tl.load(sos_ptr + cb + 4, mask=ok, other=0.0)
    a02 = tl.load(sos_ptr + cb + 5, mask=ok, other=0.0)
    b10 = tl.load(sos_ptr + cb + 6, mask=ok, other=0.0)
    b11 = tl.load(sos_ptr + cb + 7, mask=ok, other=0.0)
    b12 = tl.load(sos_ptr + cb + 8, mask=ok, other=0.0)
    a11 = tl.load(sos_ptr + cb + 10, mask=ok, other=0.0)
    a12 = tl.load(sos_ptr + cb + 11, mask=ok, other=0.0)
    b20 = tl.load(sos_ptr + cb + 12, mask=ok, other=0.0)
    b21 = tl.load(sos_ptr + cb + 13, mask=ok, other=0.0)
    b22 = tl.load(sos_ptr + cb + 14, mask=ok, other=0.0)
    a21 = tl.load(sos_ptr + cb + 16, mask=ok, other=0.0)
    a22 = tl.load(sos_ptr + cb + 17, mask=ok, other=0.0)
    g = tl.load(gain_ptr + band, mask=ok, other=0.0)
    a = tl.load(smooth_ptr + band, mask=ok, other=0.0)
    bs = 1.0 - a
    floor = tl.load(par_ptr + 0)  # float64 (a scalar argument would be float32)
    log_scale = tl.load(par_ptr + 1)
    log_offset = tl.load(par_ptr + 2)
    first = tl.zeros([BLOCK], dtype=tl.int32)
    zero = tl.zeros([BLOCK], dtype=tl.float64)
    z0 = zero
    z1 = zero
    z2 = zero
    z3 = zero
    z4 = zero
    z5 = zero
    s1 = zero
    s2 = zero
    s3 = zero
    for r in range(0, n_steps):
        for j in range(0, dec):
            i = r * dec + j
            live = ok & ((first + i) < n)
            v0 = tl.load(x_ptr + xb + i, mask=live, other=0.0)
            y = b00 * v0 + z0
            z0n = b01 * v0 - a01 * y + z1
            z1n = b02 * v0 - a02 * y
            v = y
            y = b10 * v + z2
            z2n = b11 * v - a11 * y + z3
            z3n = b12 * v - a12 * y
            v = y
            y = b20 * v + z4
            z4n = b21 * v - a21 * y + z5
            z5n = b22 * v - a22 * y
            v = g * y
            s1n = bs * (v * v) + a * s1
            s2n = bs * s1n + a * s2
            s3n = bs * s2n + a * s3
            # past the end a lane keeps its state (nothing is stored there)
            z0 = tl.where(live, z0n, z0)
            z1 = tl.where(live, z1n, z1)
            z2 = tl.where(live, z2n, z2)
            z3 = tl.where(live, z3n, z3)
            z4 = tl.where(live, z4n, z4)
            z5 = tl.where(live, z5n, z5)
            s1 = tl.where(live, s1n, s1)
            s2 = tl.where(live, s2n, s2)
            s3 = tl.where(live, s3n, s3)
            if j == 0:
                lv = tl.log(s3 + floor) * log_scale - log_offset
                tl.store(out_ptr + ob + r * n_bands, lv, mask=ok)


def tv_levels(x48: torch.Tensor, sos, gain, smooth, dec: int, floor: float, p0sq: float,
              *, block: int = BLOCK) -> torch.Tensor:
    """(rows, n) float64 signal at 48 kHz -> (rows, ceil(n / dec), bands) levels in dB, as
    ``numba_impl.tv_levels_bands``; ``sos`` (bands, 3, 6), ``gain``/``smooth`` (bands,)."""
    x = x48.to(torch.float64).contiguous()
    rows, n = x.shape
    dev = x.device
    sos_t = torch.as_tensor(sos, dtype=torch.float64).reshape(-1).to(dev).contiguous()
    n_bands = sos_t.numel() // 18
    n_steps = (n + dec - 1) // dec
    out = torch.empty((rows, n_steps, n_bands), dtype=torch.float64, device=dev)
    lanes = rows * n_bands
    if lanes == 0 or n == 0:
        return out
    g = torch.as_tensor(gain, dtype=torch.float64).to(dev).contiguous()
    a = torch.as_tensor(smooth, dtype=torch.float64).to(dev).contiguous()
    # 10 log10((s3 + floor) / p0sq) = ln(s3 + floor) * 10 / ln 10 - 10 log10(p0sq)
    _tv_levels_kernel[(triton.cdiv(lanes, block),)](
        x, out, sos_t, g, a, torch.tensor([float(floor), 10.0 / math.log(10.0),
                                           10.0 * math.log10(p0sq)], dtype=torch.float64,
                                          device=dev),
        lanes, n, n_steps, n_bands, int(dec), BLOCK=block)
    return out
