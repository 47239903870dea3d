"""Paired moments on the GPU with Triton: per-block exact two-pass, then one Chan merge.

Each program loads ``BLOCK`` pairs (any float dtype, any stride), widens them to float64,
subtracts the first pair (x₀, y₀) so a large common offset costs no precision, and
writes the block's 9 moments (see ``reference``): count, means, and the centred sums
computed around the block's own means (masked lanes contribute nothing). The blocks are
then combined on the device in float64 by a second, one-program kernel (no host
synchronisation) with the exact many-group form of Chan's update:

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
    (PyTorch form of the ``_merge_blocks`` kernel, kept as its test oracle.)
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


@triton.jit
def _merge_blocks(b_ptr, out_ptr, k, x_ptr, y_ptr, CHUNK: tl.constexpr):
    """One program: the exact many-group Chan merge of k block rows, plus the shift back."""
    lanes = tl.arange(0, CHUNK)
    n_acc = tl.zeros([CHUNK], dtype=tl.float64)
    sx = tl.zeros([CHUNK], dtype=tl.float64)
    sy = tl.zeros([CHUNK], dtype=tl.float64)
    sd = tl.zeros([CHUNK], dtype=tl.float64)
    for start in range(0, k, CHUNK):
        rows = start + lanes
        m = rows < k
        c = tl.load(b_ptr + rows * 9, mask=m, other=0.0)
        n_acc += c
        sx += c * tl.load(b_ptr + rows * 9 + 1, mask=m, other=0.0)
        sy += c * tl.load(b_ptr + rows * 9 + 2, mask=m, other=0.0)
        sd += c * tl.load(b_ptr + rows * 9 + 6, mask=m, other=0.0)
    n = tl.sum(n_acc, axis=0)
    mx = tl.sum(sx, axis=0) / n
    my = tl.sum(sy, axis=0) / n
    md = tl.sum(sd, axis=0) / n
    qx = tl.zeros([CHUNK], dtype=tl.float64)
    qy = tl.zeros([CHUNK], dtype=tl.float64)
    qc = tl.zeros([CHUNK], dtype=tl.float64)
    qd = tl.zeros([CHUNK], dtype=tl.float64)
    sa = tl.zeros([CHUNK], dtype=tl.float64)
    for start in range(0, k, CHUNK):
        rows = start + lanes
        m = rows < k
        c = tl.load(b_ptr + rows * 9, mask=m, other=0.0)
        ex = tl.where(m, tl.load(b_ptr + rows * 9 + 1, mask=m, other=0.0) - mx, 0.0)
        ey = tl.where(m, tl.load(b_ptr + rows * 9 + 2, mask=m, other=0.0) - my, 0.0)
        ed = tl.where(m, tl.load(b_ptr + rows * 9 + 6, mask=m, other=0.0) - md, 0.0)
        qx += tl.load(b_ptr + rows * 9 + 3, mask=m, other=0.0) + c * ex * ex
        qy += tl.load(b_ptr + rows * 9 + 4, mask=m, other=0.0) + c * ey * ey
        qc += tl.load(b_ptr + rows * 9 + 5, mask=m, other=0.0) + c * ex * ey
        qd += tl.load(b_ptr + rows * 9 + 7, mask=m, other=0.0) + c * ed * ed
        sa += tl.load(b_ptr + rows * 9 + 8, mask=m, other=0.0)
    kx = tl.load(x_ptr).to(tl.float64)
    ky = tl.load(y_ptr).to(tl.float64)
    tl.store(out_ptr + 0, n)
    tl.store(out_ptr + 1, kx + mx)
    tl.store(out_ptr + 2, ky + my)
    tl.store(out_ptr + 3, tl.sum(qx, axis=0))
    tl.store(out_ptr + 4, tl.sum(qy, axis=0))
    tl.store(out_ptr + 5, tl.sum(qc, axis=0))
    tl.store(out_ptr + 6, md)
    tl.store(out_ptr + 7, tl.sum(qd, axis=0))
    tl.store(out_ptr + 8, tl.sum(sa, axis=0))


def paired_moments(x: torch.Tensor, y: torch.Tensor, block: int = BLOCK,
                   chunk: int = 1024) -> torch.Tensor:
    """The 9 paired moments of two 1-D tensors, a float64 tensor on their device.

    Two launches and no host synchronisation: the per-block kernel, then a one-program
    merge kernel (the same maths as :func:`merge_blocks`).
    """
    if x.shape[0] == 0:
        return torch.zeros(9, dtype=torch.float64, device=x.device)
    blocks = block_moments(x, y, block)
    out = torch.empty(9, dtype=torch.float64, device=x.device)
    _merge_blocks[(1,)](blocks, out, blocks.shape[0], x, y, CHUNK=chunk, num_warps=4)
    return out
