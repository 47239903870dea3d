"""Triton kernel: a block of rows per program, all K classes in registers, the log-sum-exp
done in place, so only the (N, K) result is written."""
from __future__ import annotations

import math

import torch
import triton
import triton.language as tl


@triton.jit
def _log_posterior_kernel(x_ptr, mu_ptr, sd_ptr, out_ptr, N, K, D, stride_xn, stride_xd,
                          BLOCK_N: tl.constexpr, BLOCK_K: tl.constexpr, HALF_LOG_2PI: tl.constexpr,
                          ACC_DTYPE: tl.constexpr):
    pid = tl.program_id(0)
    rows = pid * BLOCK_N + tl.arange(0, BLOCK_N)
    cols = tl.arange(0, BLOCK_K)
    row_ok = rows < N
    col_ok = cols < K
    acc = tl.zeros((BLOCK_N, BLOCK_K), dtype=ACC_DTYPE)
    log_norm = tl.zeros((BLOCK_K,), dtype=ACC_DTYPE)
    nan_row = tl.zeros((BLOCK_N,), dtype=tl.int32)
    for c in range(D):
        xv = tl.load(x_ptr + rows * stride_xn + c * stride_xd, mask=row_ok, other=0.0).to(ACC_DTYPE)
        mu = tl.load(mu_ptr + cols * D + c, mask=col_ok, other=0.0).to(ACC_DTYPE)
        sd = tl.load(sd_ptr + cols * D + c, mask=col_ok, other=1.0).to(ACC_DTYPE)
        z = (xv[:, None] - mu[None, :]) / sd[None, :]
        acc += z * z
        log_norm -= tl.log(sd)
        nan_row = nan_row | (xv != xv).to(tl.int32)
    ll = -0.5 * acc + log_norm[None, :] - D * HALF_LOG_2PI
    ll = tl.where(col_ok[None, :], ll, -float("inf"))
    m = tl.max(ll, axis=1)
    finite = m > -float("inf")
    m_safe = tl.where(finite, m, 0.0)
    total = tl.sum(tl.where(col_ok[None, :], tl.exp(ll - m_safe[:, None]), 0.0), axis=1)
    out = ll - (m_safe + tl.log(total))[:, None]
    bad = (nan_row != 0) | (m == -float("inf"))
    out = tl.where(bad[:, None], float("nan"), out)
    mask = row_ok[:, None] & col_ok[None, :]
    tl.store(out_ptr + rows[:, None] * K + cols[None, :], out, mask=mask)


def log_posterior(x: torch.Tensor, means: torch.Tensor, stds: torch.Tensor) -> torch.Tensor:
    n, d = x.shape
    k = means.shape[0]
    dtype = torch.float64 if x.dtype == torch.float64 else torch.float32
    x = x.to(dtype)
    means = means.to(device=x.device, dtype=dtype).contiguous()
    stds = stds.to(device=x.device, dtype=dtype).contiguous()
    out = torch.empty((n, k), dtype=dtype, device=x.device)
    if n == 0:
        return out
    block_k = max(triton.next_power_of_2(k), 2)
    block_n = 64 if block_k <= 16 else 16
    grid = (triton.cdiv(n, block_n),)
    _log_posterior_kernel[grid](x, means, stds, out, n, k, d, x.stride(0), x.stride(1),
                                BLOCK_N=block_n, BLOCK_K=block_k, HALF_LOG_2PI=0.5 * math.log(2 * math.pi),
                                ACC_DTYPE=tl.float64 if dtype == torch.float64 else tl.float32)
    return out
