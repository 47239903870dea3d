"""The time-weighted mean square on the GPU with Triton, for corpus extraction (issue 24):
one lane per channel of every stimulus in a batch, each lane running the same recursion
as :func:`affrepro.kernels.sound_level.numba_impl.mean_square_fused` in float64 (the
weighting poles sit close to the unit circle: float32 would move them):

    y = S3(S2(S1(x)))    three biquads, transposed direct form II
    m[0] = mean(y[0:n0]^2) (warm start),  m[i] = a m[i-1] + (1 - a) y[i]^2

A recursion in time has no parallelism inside one channel; a corpus has thousands of
channels, so a program takes ``BLOCK`` of them and walks the samples, its lanes side by
side. Three loops share the filter state: the first ``n0`` samples (their squares are
written to the output and summed), the average over them in place, then the rest.

Under ``TRITON_INTERPRET=1`` the kernel runs on CPU tensors (for tests, tiny shapes).
"""
from __future__ import annotations

import torch
import triton
import triton.language as tl

BLOCK = 64


@triton.jit
def _biquad(v, b0, b1, b2, a1, a2, z1, z2):
    y = b0 * v + z1
    z1 = b1 * v - a1 * y + z2
    z2 = b2 * v - a2 * y
    return y, z1, z2


@triton.jit
def _mean_square_kernel(x_ptr, out_ptr, sos_ptr, rows, n, n0, BLOCK: tl.constexpr):
    lane = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    ok = lane < rows
    base = lane.to(tl.int64) * n
    b00 = tl.load(sos_ptr + 0)
    b01 = tl.load(sos_ptr + 1)
    b02 = tl.load(sos_ptr + 2)
    a01 = tl.load(sos_ptr + 4)
    a02 = tl.load(sos_ptr + 5)
    b10 = tl.load(sos_ptr + 6)
    b11 = tl.load(sos_ptr + 7)
    b12 = tl.load(sos_ptr + 8)
    a11 = tl.load(sos_ptr + 10)
    a12 = tl.load(sos_ptr + 11)
    b20 = tl.load(sos_ptr + 12)
    b21 = tl.load(sos_ptr + 13)
    b22 = tl.load(sos_ptr + 14)
    a = tl.load(sos_ptr + 18)  # the averager's pole (float64: a scalar argument is float32)
    a21 = tl.load(sos_ptr + 16)
    a22 = tl.load(sos_ptr + 17)
    zero = tl.zeros([BLOCK], dtype=tl.float64)
    z0 = zero
    z1 = zero
    z2 = zero
    z3 = zero
    z4 = zero
    z5 = zero
    acc = zero
    for i in range(0, n0):  # the warm-up: weighted squares of the first n0 samples
        v = tl.load(x_ptr + base + i, mask=ok, other=0.0)
        v, z0, z1 = _biquad(v, b00, b01, b02, a01, a02, z0, z1)
        v, z2, z3 = _biquad(v, b10, b11, b12, a11, a12, z2, z3)
        v, z4, z5 = _biquad(v, b20, b21, b22, a21, a22, z4, z5)
        sq = v * v
        tl.store(out_ptr + base + i, sq, mask=ok)
        acc += sq
    b = 1.0 - a
    m = acc / n0
    for i in range(0, n0):
        sq = tl.load(out_ptr + base + i, mask=ok, other=0.0)
        m = a * m + b * sq
        tl.store(out_ptr + base + i, m, mask=ok)
    for i in range(n0, n):
        v = tl.load(x_ptr + base + i, mask=ok, other=0.0)
        v, z0, z1 = _biquad(v, b00, b01, b02, a01, a02, z0, z1)
        v, z2, z3 = _biquad(v, b10, b11, b12, a11, a12, z2, z3)
        v, z4, z5 = _biquad(v, b20, b21, b22, a21, a22, z4, z5)
        m = a * m + b * (v * v)
        tl.store(out_ptr + base + i, m, mask=ok)


def mean_square(x: torch.Tensor, sos3, a: float, n0: int, *, block: int = BLOCK):
    """(rows, n) float64 tensor -> (rows, n) mean square; ``sos3`` (3, 6) sections (unused
    ones identities), ``a`` the averager's pole, ``n0`` >= 1 warm-start samples."""
    x = x.to(torch.float64).contiguous()
    rows, n = x.shape
    out = torch.empty_like(x)
    if rows == 0 or n == 0:
        return out
    params = torch.cat([torch.as_tensor(sos3, dtype=torch.float64).reshape(-1),
                        torch.tensor([float(a)], dtype=torch.float64)]).to(x.device)
    _mean_square_kernel[(triton.cdiv(rows, block),)](x, out, params, rows, n, int(n0),
                                                     BLOCK=block)
    return out
