"""Paired moments on the GPU with Triton: per-block exact two-pass, then one Chan merge.

Each program loads ``BLOCK`` pairs (any float dtype, any stride), widens them to float64,
subtracts the first pair (x₀, y₀) so a large common offset costs no precision, and
writes the block's 9 moments (see ``reference``): count, means, and the centred sums
computed around the block's own means (masked lanes contribute nothing). The blocks are
then combined on the device in float64 with the exact many-group form of Chan's update:

    N = Σ n_b,  v̄ = Σ n_b v̄_b / N,  M2 = Σ M2_b + Σ n_b (v̄_b − v̄)²,
    Cxy = Σ Cxy_b + Σ n_b (x̄_b − x̄)(ȳ_b − ȳ).

Under ``TRITON_INTERPRET=1`` the same kernel runs on CPU tensors (for tests).
"""
from __future__ import annotations

import torch
import triton
import triton.language as tl

BLOCK = 4096


@triton.jit
def _block_moments(x_ptr, y_ptr, out_ptr, n, stride_x, stride_y, BLOCK: tl.constexpr):
    pid = tl.program_id(0)
    offs = pid.to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    # shift by the first pair (as the Numba backend) so a large offset costs no precision
    kx = tl.load(x_ptr).to(tl.float64)
    ky = tl.load(y_ptr).to(tl.float64)
    xr = tl.load(x_ptr + offs * stride_x, mask=mask, other=0.0).to(tl.float64)
    yr = tl.load(y_ptr + offs * stride_y, mask=mask, other=0.0).to(tl.float64)
    x = tl.where(mask, xr - kx, 0.0)
    y = tl.where(mask, yr - ky, 0.0)
    d = tl.where(mask, xr - yr, 0.0)
    cnt = tl.sum(mask.to(tl.float64), axis=0)
    bx = tl.sum(x, axis=0) / cnt
    by = tl.sum(y, axis=0) / cnt
    bd = tl.sum(d, axis=0) / cnt
    dx = tl.where(mask, x - bx, 0.0)
    dy = tl.where(mask, y - by, 0.0)
    dd = tl.where(mask, d - bd, 0.0)
    base = out_ptr + pid * 9
    tl.store(base + 0, cnt)
    tl.store(base + 1, bx)
    tl.store(base + 2, by)
    tl.store(base + 3, tl.sum(dx * dx, axis=0))
    tl.store(base + 4, tl.sum(dy * dy, axis=0))
    tl.store(base + 5, tl.sum(dx * dy, axis=0))
    tl.store(base + 6, bd)
    tl.store(base + 7, tl.sum(dd * dd, axis=0))
    tl.store(base + 8, tl.sum(tl.abs(d), axis=0))


def block_moments(x: torch.Tensor, y: torch.Tensor, block: int = BLOCK) -> torch.Tensor:
    """The per-block moments, shape (ceil(n / block), 9), float64 on x's device."""
    n = x.shape[0]
    nblocks = triton.cdiv(n, block)
    out = torch.empty((nblocks, 9), dtype=torch.float64, device=x.device)
    _block_moments[(nblocks,)](x, y, out, n, x.stride(0), y.stride(0), BLOCK=block,
                               num_warps=8 if block >= 4096 else 4)
    return out


def merge_blocks(b: torch.Tensor) -> torch.Tensor:
    """Combine per-block moments (k, 9) into one 9-vector (exact many-group Chan update).

    The block means of x and y are relative to the first pair; the caller adds it back.
    """
    cnt = b[:, 0]
    n = cnt.sum()
    mx = (cnt * b[:, 1]).sum() / n
    my = (cnt * b[:, 2]).sum() / n
    md = (cnt * b[:, 6]).sum() / n
    ex, ey, ed = b[:, 1] - mx, b[:, 2] - my, b[:, 6] - md
    return torch.stack([
        n, mx, my,
        b[:, 3].sum() + (cnt * ex * ex).sum(),
        b[:, 4].sum() + (cnt * ey * ey).sum(),
        b[:, 5].sum() + (cnt * ex * ey).sum(),
        md,
        b[:, 7].sum() + (cnt * ed * ed).sum(),
        b[:, 8].sum(),
    ])


def paired_moments(x: torch.Tensor, y: torch.Tensor, block: int = BLOCK) -> torch.Tensor:
    """The 9 paired moments of two 1-D tensors, a float64 tensor on their device."""
    if x.shape[0] == 0:
        return torch.zeros(9, dtype=torch.float64, device=x.device)
    out = merge_blocks(block_moments(x, y, block))
    shift = torch.zeros(9, dtype=torch.float64, device=x.device)
    shift[1] = x[0].to(torch.float64)
    shift[2] = y[0].to(torch.float64)
    return out + shift
