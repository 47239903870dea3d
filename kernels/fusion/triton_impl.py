"""Triton kernels of the fusion operators, forward and backward.

Tensor fusion: the tiles of the outer product are built in registers from z_a, z_v (a
(BLOCK_B × BLOCK_J) tile for one a-index i) and contracted against W's (BLOCK_J × T₁)
blocks with ``tl.dot``; z_t is applied to the (B, O, T₁) partial M afterwards. The
backward runs two kernels, dW (one program per (o, i, j-block), looping over the batch)
and dp = ∂L/∂(z_a ⊗ z_v) (one per (b-block, i, j-block), looping over the outputs); the
small reductions dz_a, dz_v (from dp) and dz_t (from M) are torch einsums.

Low-rank fusion: one program per batch block computes every modality's projection, the
rank product and the output in registers (forward); the backward's per-sample part is one
kernel and the factor gradients (sums over the batch) are torch matmuls.

Cross-modal attention: FlashAttention-style online softmax, one program per (batch·head,
query block), any head dim (padded to a power of two ≥ 16 inside the kernel, masked), key
padding masks with fully padded rows giving 0; the backward recomputes the probabilities
from the saved log-sum-exp (one kernel for dK, dV per key block, one for dQ per query block).

Accumulation is float32 (float64 for float64 input) with ``input_precision="ieee"``, so the
float32 results match the reference to float32 rounding (no TF32); half-precision inputs
are computed in float32 and returned in their dtype.
"""
from __future__ import annotations

import torch
import triton
import triton.language as tl


def _acc(dtype: torch.dtype):
    return (torch.float64, tl.float64) if dtype == torch.float64 else (torch.float32, tl.float32)


def _pow2(n: int, lo: int = 16) -> int:
    return max(lo, triton.next_power_of_2(max(int(n), 1)))


# ------------------------------------------------------------------------- tensor fusion
@triton.jit
def _tfn_fwd_kernel(za, zv, w, m, B, A1, V1, T1, BLOCK_B: tl.constexpr, BLOCK_J: tl.constexpr,
                    BLOCK_T: tl.constexpr, ACC: tl.constexpr):
    o = tl.program_id(0)
    rb = tl.program_id(1) * BLOCK_B + tl.arange(0, BLOCK_B)
    rk = tl.arange(0, BLOCK_T)
    bmask = rb < B
    kmask = rk < T1
    acc = tl.zeros((BLOCK_B, BLOCK_T), dtype=ACC)
    D = A1 * V1 * T1
    for i in range(0, A1):
        fa = tl.load(za + rb * A1 + i, mask=bmask, other=0.0)
        for j0 in range(0, V1, BLOCK_J):
            rj = j0 + tl.arange(0, BLOCK_J)
            jmask = rj < V1
            fv = tl.load(zv + rb[:, None] * V1 + rj[None, :], mask=bmask[:, None] & jmask[None, :],
                         other=0.0)
            tile = fa[:, None] * fv
            wt = tl.load(w + o * D + (i * V1 + rj[:, None]) * T1 + rk[None, :],
                         mask=jmask[:, None] & kmask[None, :], other=0.0)
            acc += tl.dot(tile, wt, input_precision="ieee")
    tl.store(m + (rb[:, None] * tl.num_programs(0) + o) * T1 + rk[None, :], acc,
             mask=bmask[:, None] & kmask[None, :])


@triton.jit
def _tfn_dw_kernel(za, zv, zt, dy, dw, B, A1, V1, T1, O, BLOCK_B: tl.constexpr,
                   BLOCK_J: tl.constexpr, BLOCK_T: tl.constexpr, ACC: tl.constexpr):
    o = tl.program_id(0)
    i = tl.program_id(1)
    rj = tl.program_id(2) * BLOCK_J + tl.arange(0, BLOCK_J)
    rk = tl.arange(0, BLOCK_T)
    jmask = rj < V1
    kmask = rk < T1
    acc = tl.zeros((BLOCK_J, BLOCK_T), dtype=ACC)
    for b0 in range(0, B, BLOCK_B):
        rb = b0 + tl.arange(0, BLOCK_B)
        bmask = rb < B
        fa = tl.load(za + rb * A1 + i, mask=bmask, other=0.0)
        g = tl.load(dy + rb * O + o, mask=bmask, other=0.0)
        fv = tl.load(zv + rb[None, :] * V1 + rj[:, None], mask=jmask[:, None] & bmask[None, :],
                     other=0.0)
        tile_t = fv * fa[None, :]
        ft = tl.load(zt + rb[:, None] * T1 + rk[None, :], mask=bmask[:, None] & kmask[None, :],
                     other=0.0)
        acc += tl.dot(tile_t, ft * g[:, None], input_precision="ieee")
    D = A1 * V1 * T1
    tl.store(dw + o * D + (i * V1 + rj[:, None]) * T1 + rk[None, :], acc,
             mask=jmask[:, None] & kmask[None, :])


@triton.jit
def _tfn_dp_kernel(zt, dy, w, dp, B, A1, V1, T1, O, BLOCK_B: tl.constexpr,
                   BLOCK_J: tl.constexpr, BLOCK_T: tl.constexpr, ACC: tl.constexpr):
    rb = tl.program_id(0) * BLOCK_B + tl.arange(0, BLOCK_B)
    i = tl.program_id(1)
    rj = tl.program_id(2) * BLOCK_J + tl.arange(0, BLOCK_J)
    rk = tl.arange(0, BLOCK_T)
    bmask = rb < B
    jmask = rj < V1
    kmask = rk < T1
    ft = tl.load(zt + rb[:, None] * T1 + rk[None, :], mask=bmask[:, None] & kmask[None, :],
                 other=0.0)
    acc = tl.zeros((BLOCK_B, BLOCK_J), dtype=ACC)
    D = A1 * V1 * T1
    for o in range(0, O):
        g = tl.load(dy + rb * O + o, mask=bmask, other=0.0)
        wt = tl.load(w + o * D + (i * V1 + rj[None, :]) * T1 + rk[:, None],
                     mask=kmask[:, None] & jmask[None, :], other=0.0)
        acc += tl.dot(ft * g[:, None], wt, input_precision="ieee")
    tl.store(dp + rb[:, None] * (A1 * V1) + i * V1 + rj[None, :], acc,
             mask=bmask[:, None] & jmask[None, :])


def _ones_first(x: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    return torch.cat([x.new_ones(x.shape[0], 1, dtype=dtype), x.to(dtype)], 1).contiguous()


def _tfn_blocks(v1: int, t1: int):
    return 16, min(32, _pow2(v1)), _pow2(t1)


def tfn_forward(a, v, t, weight, bias):
    acc_t, acc_tl = _acc(a.dtype)
    za, zv, zt = (_ones_first(x, acc_t) for x in (a, v, t))
    w = weight.to(acc_t).contiguous()
    n_b, a1, v1, t1, n_o = za.shape[0], za.shape[1], zv.shape[1], zt.shape[1], w.shape[0]
    m = torch.zeros((n_b, n_o, t1), dtype=acc_t, device=a.device)
    bb, bj, bt = _tfn_blocks(v1, t1)
    if n_b and n_o:
        _tfn_fwd_kernel[(n_o, triton.cdiv(n_b, bb))](za, zv, w, m, n_b, a1, v1, t1, BLOCK_B=bb,
                                                     BLOCK_J=bj, BLOCK_T=bt, ACC=acc_tl)
    y = torch.einsum("bok,bk->bo", m, zt)
    if bias is not None:
        y = y + bias.to(acc_t)
    return y.to(a.dtype), (za, zv, zt, w, m)


def tfn_backward(saved, grad_y, need_bias: bool, dtype):
    za, zv, zt, w, m = saved
    dy = grad_y.to(za.dtype).contiguous()
    n_b, a1, v1, t1, n_o = za.shape[0], za.shape[1], zv.shape[1], zt.shape[1], w.shape[0]
    dw = torch.zeros_like(w)
    dp = torch.zeros((n_b, a1 * v1), dtype=za.dtype, device=za.device)
    bb, bj, bt = _tfn_blocks(v1, t1)
    acc_tl = tl.float64 if za.dtype == torch.float64 else tl.float32
    if n_b and n_o:
        _tfn_dw_kernel[(n_o, a1, triton.cdiv(v1, bj))](za, zv, zt, dy, dw, n_b, a1, v1, t1, n_o,
                                                       BLOCK_B=bb, BLOCK_J=bj, BLOCK_T=bt,
                                                       ACC=acc_tl)
        _tfn_dp_kernel[(triton.cdiv(n_b, bb), a1, triton.cdiv(v1, bj))](
            zt, dy, w, dp, n_b, a1, v1, t1, n_o, BLOCK_B=bb, BLOCK_J=bj, BLOCK_T=bt, ACC=acc_tl)
    dp3 = dp.view(n_b, a1, v1)
    da = torch.einsum("bij,bj->bi", dp3, zv)[:, 1:]
    dv = torch.einsum("bij,bi->bj", dp3, za)[:, 1:]
    dt = torch.einsum("bo,bok->bk", dy, m)[:, 1:]
    db = dy.sum(0) if need_bias else None
    return [None if x is None else x.to(dtype) for x in (da, dv, dt, dw, db)]


# ------------------------------------------------------------- tensor fusion with dropout
# z̃ = m ⊙ z / (1 − p) in registers, tiles of (BLOCK_B samples) × (one a-index i, BLOCK_J
# v-indices, BLOCK_T ≥ T₁ t-indices), the mask from the hash of reference.dropout_mask
# (the per-sample key r_b precomputed on the host): forward y = Σ z̃ Wᵀ, one program per
# (b-block, o-block); dW one per (o-block, i, j-block) looping over the batch; dz̃ = dy W
# one per (b-block, i, j-block), reduced in registers to S[b, i, j] = Σ_k dz̃ m' z_t,k and
# per-program partials of dz_t — nothing of size B × D is stored.
@triton.jit
def _fmix32(h):
    h ^= h >> 16
    h *= 0x85EBCA6B
    h ^= h >> 13
    h *= 0xC2B2AE35
    h ^= h >> 16
    return h


@triton.jit
def _drop_tile(za, zv, zt, rkey, rb, bmask, i, j0, A1, V1, T1, thr, scale,
               BLOCK_J: tl.constexpr, BLOCK_T: tl.constexpr):
    c = tl.arange(0, BLOCK_J * BLOCK_T)
    j = j0 + c // BLOCK_T
    k = c % BLOCK_T
    cmask = (j < V1) & (k < T1)
    d = (i * V1 + j) * T1 + k
    m2 = bmask[:, None] & cmask[None, :]
    fa = tl.load(za + rb * A1 + i, mask=bmask, other=0.0)
    fv = tl.load(zv + rb[:, None] * V1 + j[None, :], mask=m2, other=0.0)
    ft = tl.load(zt + rb[:, None] * T1 + k[None, :], mask=m2, other=0.0)
    h = _fmix32(rkey[:, None] ^ (d.to(tl.uint32) * 0x85EBCA77)[None, :])
    keep = ((h >> 8) >= thr.to(tl.uint32)) & m2
    m = tl.where(keep, scale, 0.0)
    return m * fa[:, None] * fv * ft, m, fa, fv, ft, d, cmask


@triton.jit
def _tfn_drop_fwd_kernel(za, zv, zt, rkeys, scale_p, w, y, B, A1, V1, T1, O, thr,
                         BLOCK_B: tl.constexpr, BLOCK_J: tl.constexpr, BLOCK_T: tl.constexpr,
                         BLOCK_O: tl.constexpr, ACC: tl.constexpr):
    rb = tl.program_id(0) * BLOCK_B + tl.arange(0, BLOCK_B)
    ro = tl.program_id(1) * BLOCK_O + tl.arange(0, BLOCK_O)
    bmask = rb < B
    omask = ro < O
    rkey = tl.load(rkeys + rb, mask=bmask, other=0).to(tl.uint32, bitcast=True)
    scale = tl.load(scale_p)
    D = A1 * V1 * T1
    acc = tl.zeros((BLOCK_B, BLOCK_O), dtype=ACC)
    for i in range(0, A1):
        for j0 in range(0, V1, BLOCK_J):
            zd, m, fa, fv, ft, d, cmask = _drop_tile(za, zv, zt, rkey, rb, bmask, i, j0, A1, V1,
                                                     T1, thr, scale, BLOCK_J, BLOCK_T)
            wt = tl.load(w + ro[None, :] * D + d[:, None], mask=cmask[:, None] & omask[None, :],
                         other=0.0)
            acc += tl.dot(zd, wt, input_precision="ieee")
    tl.store(y + rb[:, None] * O + ro[None, :], acc, mask=bmask[:, None] & omask[None, :])


@triton.jit
def _tfn_drop_dw_kernel(za, zv, zt, rkeys, scale_p, dy, dw, B, A1, V1, T1, O, thr,
                        BLOCK_B: tl.constexpr, BLOCK_J: tl.constexpr, BLOCK_T: tl.constexpr,
                        BLOCK_O: tl.constexpr, ACC: tl.constexpr):
    ro = tl.program_id(0) * BLOCK_O + tl.arange(0, BLOCK_O)
    i = tl.program_id(1)
    j0 = tl.program_id(2) * BLOCK_J
    omask = ro < O
    scale = tl.load(scale_p)
    D = A1 * V1 * T1
    acc = tl.zeros((BLOCK_O, BLOCK_J * BLOCK_T), dtype=ACC)
    d = tl.zeros((BLOCK_J * BLOCK_T,), dtype=tl.int32)
    cmask = d > 0
    for b0 in range(0, B, BLOCK_B):
        rb = b0 + tl.arange(0, BLOCK_B)
        bmask = rb < B
        rkey = tl.load(rkeys + rb, mask=bmask, other=0).to(tl.uint32, bitcast=True)
        zd, m, fa, fv, ft, d, cmask = _drop_tile(za, zv, zt, rkey, rb, bmask, i, j0, A1, V1,
                                                 T1, thr, scale, BLOCK_J, BLOCK_T)
        g = tl.load(dy + rb[:, None] * O + ro[None, :], mask=bmask[:, None] & omask[None, :],
                    other=0.0)
        acc += tl.dot(tl.trans(g), zd, input_precision="ieee")
    tl.store(dw + ro[:, None] * D + d[None, :], acc, mask=omask[:, None] & cmask[None, :])


@triton.jit
def _tfn_drop_dz_kernel(za, zv, zt, rkeys, scale_p, dy, w, s_out, t_part, B, A1, V1, T1, O,
                        thr, BLOCK_B: tl.constexpr, BLOCK_J: tl.constexpr,
                        BLOCK_T: tl.constexpr, BLOCK_O: tl.constexpr, ACC: tl.constexpr):
    rb = tl.program_id(0) * BLOCK_B + tl.arange(0, BLOCK_B)
    i = tl.program_id(1)
    jb = tl.program_id(2)
    j0 = jb * BLOCK_J
    bmask = rb < B
    rkey = tl.load(rkeys + rb, mask=bmask, other=0).to(tl.uint32, bitcast=True)
    scale = tl.load(scale_p)
    D = A1 * V1 * T1
    zd, m, fa, fv, ft, d, cmask = _drop_tile(za, zv, zt, rkey, rb, bmask, i, j0, A1, V1, T1,
                                             thr, scale, BLOCK_J, BLOCK_T)
    g = tl.zeros((BLOCK_B, BLOCK_J * BLOCK_T), dtype=ACC)
    for o0 in range(0, O, BLOCK_O):
        ro = o0 + tl.arange(0, BLOCK_O)
        omask = ro < O
        gy = tl.load(dy + rb[:, None] * O + ro[None, :], mask=bmask[:, None] & omask[None, :],
                     other=0.0)
        wt = tl.load(w + ro[:, None] * D + d[None, :], mask=omask[:, None] & cmask[None, :],
                     other=0.0)
        g += tl.dot(gy, wt, input_precision="ieee")
    gm = g * m
    s = tl.sum(tl.reshape(gm * ft, (BLOCK_B, BLOCK_J, BLOCK_T)), axis=2)
    rj = j0 + tl.arange(0, BLOCK_J)
    tl.store(s_out + rb[:, None] * (A1 * V1) + i * V1 + rj[None, :], s,
             mask=bmask[:, None] & (rj < V1)[None, :])
    tp = tl.sum(tl.reshape(gm * fv * fa[:, None], (BLOCK_B, BLOCK_J, BLOCK_T)), axis=1)
    rk = tl.arange(0, BLOCK_T)
    n_jb = tl.num_programs(2)
    tl.store(t_part + ((rb[:, None] * A1 + i) * n_jb + jb) * T1 + rk[None, :], tp,
             mask=bmask[:, None] & (rk < T1)[None, :])


def _drop_blocks(v1: int, t1: int):
    bt = _pow2(t1, 1)
    bj = max(1, min(_pow2(v1, 1), 128 // bt))
    while bj * bt < 16:
        bj *= 2
    return 16, bj, bt, 16


def _drop_setup(za, n_b, p, seed):
    import numpy as np

    from affrepro.kernels.fusion.reference import dropout_row_keys, dropout_threshold

    keys = torch.from_numpy(dropout_row_keys(seed, n_b).view(np.int32).copy()).to(za.device)
    scale = torch.tensor([1.0 / (1.0 - p)], dtype=za.dtype, device=za.device)
    return keys, scale, dropout_threshold(p)


def tfn_dropout_forward(a, v, t, weight, bias, p, seed):
    acc_t, acc_tl = _acc(a.dtype)
    za, zv, zt = (_ones_first(x, acc_t) for x in (a, v, t))
    w = weight.to(acc_t).contiguous()
    n_b, a1, v1, t1, n_o = za.shape[0], za.shape[1], zv.shape[1], zt.shape[1], w.shape[0]
    keys, scale, thr = _drop_setup(za, n_b, p, seed)
    y = torch.zeros((n_b, n_o), dtype=acc_t, device=a.device)
    bb, bj, bt, bo = _drop_blocks(v1, t1)
    if n_b and n_o:
        _tfn_drop_fwd_kernel[(triton.cdiv(n_b, bb), triton.cdiv(n_o, bo))](
            za, zv, zt, keys, scale, w, y, n_b, a1, v1, t1, n_o, thr, BLOCK_B=bb, BLOCK_J=bj,
            BLOCK_T=bt, BLOCK_O=bo, ACC=acc_tl)
    if bias is not None:
        y = y + bias.to(acc_t)
    return y.to(a.dtype), (za, zv, zt, w, keys, scale, thr)


def tfn_dropout_backward(saved, grad_y, need_bias: bool, dtype):
    za, zv, zt, w, keys, scale, thr = saved
    dy = grad_y.to(za.dtype).contiguous()
    n_b, a1, v1, t1, n_o = za.shape[0], za.shape[1], zv.shape[1], zt.shape[1], w.shape[0]
    bb, bj, bt, bo = _drop_blocks(v1, t1)
    n_jb = triton.cdiv(v1, bj)
    acc_tl = tl.float64 if za.dtype == torch.float64 else tl.float32
    dw = torch.zeros_like(w)
    s = torch.zeros((n_b, a1 * v1), dtype=za.dtype, device=za.device)
    t_part = torch.zeros((n_b, a1 * n_jb, t1), dtype=za.dtype, device=za.device)
    if n_b and n_o:
        _tfn_drop_dw_kernel[(triton.cdiv(n_o, bo), a1, n_jb)](
            za, zv, zt, keys, scale, dy, dw, n_b, a1, v1, t1, n_o, thr, BLOCK_B=bb, BLOCK_J=bj,
            BLOCK_T=bt, BLOCK_O=bo, ACC=acc_tl)
        _tfn_drop_dz_kernel[(triton.cdiv(n_b, bb), a1, n_jb)](
            za, zv, zt, keys, scale, dy, w, s, t_part, n_b, a1, v1, t1, n_o, thr, BLOCK_B=bb,
            BLOCK_J=bj, BLOCK_T=bt, BLOCK_O=bo, ACC=acc_tl)
    s3 = s.view(n_b, a1, v1)
    da = torch.einsum("bij,bj->bi", s3, zv)[:, 1:]
    dv = torch.einsum("bij,bi->bj", s3, za)[:, 1:]
    dt = t_part.sum(1)[:, 1:]
    db = dy.sum(0) if need_bias else None
    return [None if x is None else x.to(dtype) for x in (da, dv, dt, dw, db)]


# ------------------------------------------------------------------------- low-rank fusion
@triton.jit
def _project(z, f, rb, bmask, r, n_i, ro, omask, NO, BLOCK_B: tl.constexpr,
             BLOCK_O: tl.constexpr, ACC: tl.constexpr):
    acc = tl.zeros((BLOCK_B, BLOCK_O), dtype=ACC)
    for i in range(0, n_i):
        zi = tl.load(z + rb * n_i + i, mask=bmask, other=0.0)
        fi = tl.load(f + (r * n_i + i) * NO + ro, mask=omask, other=0.0)
        acc += zi[:, None] * fi[None, :]
    return acc


@triton.jit
def _lmf_fwd_kernel(za, zv, zt, fa, fv, ft, wr, bias, y, fs, B, A1, V1, T1, R, NO,
                    BLOCK_B: tl.constexpr, BLOCK_O: tl.constexpr, ACC: tl.constexpr):
    rb = tl.program_id(0) * BLOCK_B + tl.arange(0, BLOCK_B)
    ro = tl.arange(0, BLOCK_O)
    bmask = rb < B
    omask = ro < NO
    mask2 = bmask[:, None] & omask[None, :]
    out = tl.zeros((BLOCK_B, BLOCK_O), dtype=ACC)
    for r in range(0, R):
        pa = _project(za, fa, rb, bmask, r, A1, ro, omask, NO, BLOCK_B, BLOCK_O, ACC)
        pv = _project(zv, fv, rb, bmask, r, V1, ro, omask, NO, BLOCK_B, BLOCK_O, ACC)
        pt = _project(zt, ft, rb, bmask, r, T1, ro, omask, NO, BLOCK_B, BLOCK_O, ACC)
        base = (rb[:, None] * R + r) * NO + ro[None, :]
        tl.store(fs + base, pa, mask=mask2)
        tl.store(fs + B * R * NO + base, pv, mask=mask2)
        tl.store(fs + 2 * B * R * NO + base, pt, mask=mask2)
        out += tl.load(wr + r) * pa * pv * pt
    out += tl.load(bias + ro, mask=omask, other=0.0)[None, :]
    tl.store(y + rb[:, None] * NO + ro[None, :], out, mask=mask2)


@triton.jit
def _lmf_bwd_kernel(za, zv, zt, fa, fv, ft, wr, fs, dy, g, dza, dzv, dzt, B, A1, V1, T1, R, NO,
                    BLOCK_B: tl.constexpr, BLOCK_O: tl.constexpr, ACC: tl.constexpr):
    rb = tl.program_id(0) * BLOCK_B + tl.arange(0, BLOCK_B)
    ro = tl.arange(0, BLOCK_O)
    bmask = rb < B
    omask = ro < NO
    mask2 = bmask[:, None] & omask[None, :]
    d = tl.load(dy + rb[:, None] * NO + ro[None, :], mask=mask2, other=0.0)
    for r in range(0, R):
        base = (rb[:, None] * R + r) * NO + ro[None, :]
        pa = tl.load(fs + base, mask=mask2, other=0.0)
        pv = tl.load(fs + B * R * NO + base, mask=mask2, other=0.0)
        pt = tl.load(fs + 2 * B * R * NO + base, mask=mask2, other=0.0)
        c = d * tl.load(wr + r)
        ga = c * pv * pt
        gv = c * pa * pt
        gt = c * pa * pv
        tl.store(g + base, ga, mask=mask2)
        tl.store(g + B * R * NO + base, gv, mask=mask2)
        tl.store(g + 2 * B * R * NO + base, gt, mask=mask2)
        for i in range(1, A1):
            fi = tl.load(fa + (r * A1 + i) * NO + ro, mask=omask, other=0.0)
            tl.atomic_add(dza + rb * (A1 - 1) + i - 1, tl.sum(ga * fi[None, :], axis=1), mask=bmask)
        for i in range(1, V1):
            fi = tl.load(fv + (r * V1 + i) * NO + ro, mask=omask, other=0.0)
            tl.atomic_add(dzv + rb * (V1 - 1) + i - 1, tl.sum(gv * fi[None, :], axis=1), mask=bmask)
        for i in range(1, T1):
            fi = tl.load(ft + (r * T1 + i) * NO + ro, mask=omask, other=0.0)
            tl.atomic_add(dzt + rb * (T1 - 1) + i - 1, tl.sum(gt * fi[None, :], axis=1), mask=bmask)


def _lmf_block_b(n_o: int) -> int:
    return 32 if n_o <= 64 else 8


def lmf_forward(a, v, t, fa, fv, ft, w, bias):
    acc_t, acc_tl = _acc(a.dtype)
    za, zv, zt = (_ones_first(x, acc_t) for x in (a, v, t))
    fa, fv, ft, w = (x.to(acc_t).contiguous() for x in (fa, fv, ft, w))
    n_b = za.shape[0]
    n_r, _, n_o = fa.shape
    b = (torch.zeros(n_o, dtype=acc_t, device=a.device) if bias is None
         else bias.to(acc_t).contiguous())
    y = torch.empty((n_b, n_o), dtype=acc_t, device=a.device)
    fs = torch.zeros((3, n_b, n_r, n_o), dtype=acc_t, device=a.device)
    bb = _lmf_block_b(n_o)
    if n_b:
        _lmf_fwd_kernel[(triton.cdiv(n_b, bb),)](za, zv, zt, fa, fv, ft, w, b, y, fs, n_b,
                                                 za.shape[1], zv.shape[1], zt.shape[1], n_r, n_o,
                                                 BLOCK_B=bb, BLOCK_O=_pow2(n_o, 2), ACC=acc_tl)
    return y.to(a.dtype), (za, zv, zt, fa, fv, ft, w, fs)


def lmf_backward(saved, grad_y, need_bias: bool, dtype):
    za, zv, zt, fa, fv, ft, w, fs = saved
    dy = grad_y.to(za.dtype).contiguous()
    n_b = za.shape[0]
    n_r, _, n_o = fa.shape
    g = torch.zeros_like(fs)
    dz = [torch.zeros((n_b, z.shape[1] - 1), dtype=za.dtype, device=za.device)
          for z in (za, zv, zt)]
    bb = _lmf_block_b(n_o)
    acc_tl = tl.float64 if za.dtype == torch.float64 else tl.float32
    if n_b:
        _lmf_bwd_kernel[(triton.cdiv(n_b, bb),)](za, zv, zt, fa, fv, ft, w, fs, dy, g, *dz, n_b,
                                                 za.shape[1], zv.shape[1], zt.shape[1], n_r, n_o,
                                                 BLOCK_B=bb, BLOCK_O=_pow2(n_o, 2), ACC=acc_tl)
    dfac = [torch.einsum("bi,bro->rio", z, g[m]) for m, z in enumerate((za, zv, zt))]
    dw = torch.einsum("bo,bro->r", dy, fs[0] * fs[1] * fs[2])
    db = dy.sum(0) if need_bias else None
    return [None if x is None else x.to(dtype) for x in (*dz, *dfac, dw, db)]


# ------------------------------------------------------------------------- attention
@triton.jit
def _attn_fwd_kernel(q, k, v, pad, out, lse, H, LQ, LK, DQ, DV, scale,
                     sqb, sqh, sql, sqd, skb, skh, skl, skd, svb, svh, svl, svd,
                     HAS_PAD: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr,
                     BLOCK_D: tl.constexpr, BLOCK_DV: tl.constexpr, ACC: tl.constexpr):
    bh = tl.program_id(0)
    b = bh // H
    h = bh % H
    rm = tl.program_id(1) * BLOCK_M + tl.arange(0, BLOCK_M)
    rd = tl.arange(0, BLOCK_D)
    rdv = tl.arange(0, BLOCK_DV)
    mmask = rm < LQ
    qt = tl.load(q + b * sqb + h * sqh + rm[:, None] * sql + rd[None, :] * sqd,
                 mask=mmask[:, None] & (rd[None, :] < DQ), other=0.0).to(ACC)
    m_i = tl.full((BLOCK_M,), float("-inf"), dtype=ACC)
    l_i = tl.zeros((BLOCK_M,), dtype=ACC)
    acc = tl.zeros((BLOCK_M, BLOCK_DV), dtype=ACC)
    for n0 in range(0, LK, BLOCK_N):
        rn = n0 + tl.arange(0, BLOCK_N)
        valid = rn < LK
        if HAS_PAD:
            valid = valid & (tl.load(pad + b * LK + rn, mask=rn < LK, other=1) == 0)
        kt = tl.load(k + b * skb + h * skh + rn[None, :] * skl + rd[:, None] * skd,
                     mask=(rn[None, :] < LK) & (rd[:, None] < DQ), other=0.0).to(ACC)
        s = tl.dot(qt, kt, input_precision="ieee") * scale
        s = tl.where(valid[None, :], s, float("-inf"))
        m_new = tl.maximum(m_i, tl.max(s, axis=1))
        m_new = tl.where(tl.max(s, axis=1) != tl.max(s, axis=1), tl.max(s, axis=1), m_new)
        m_safe = tl.where(m_new == float("-inf"), 0.0, m_new)
        p = tl.exp(s - m_safe[:, None])
        alpha = tl.exp(m_i - m_safe)
        vt = tl.load(v + b * svb + h * svh + rn[:, None] * svl + rdv[None, :] * svd,
                     mask=(rn[:, None] < LK) & (rdv[None, :] < DV), other=0.0).to(ACC)
        l_i = l_i * alpha + tl.sum(p, axis=1)
        acc = acc * alpha[:, None] + tl.dot(p, vt, input_precision="ieee")
        m_i = m_new
    empty = l_i == 0.0
    o = tl.where(empty[:, None], 0.0, acc / tl.where(empty, 1.0, l_i)[:, None])
    tl.store(out + (bh * LQ + rm[:, None]) * DV + rdv[None, :], o,
             mask=mmask[:, None] & (rdv[None, :] < DV))
    tl.store(lse + bh * LQ + rm, tl.where(empty, float("-inf"), m_i + tl.log(tl.where(empty, 1.0, l_i))), mask=mmask)


@triton.jit
def _attn_probs(qt, kt, lse_row, valid, scale, ACC: tl.constexpr):
    s = tl.dot(qt, kt, input_precision="ieee") * scale
    live = lse_row != float("-inf")
    p = tl.exp(s - tl.where(live, lse_row, 0.0)[:, None])
    return tl.where(valid[None, :] & live[:, None], p, 0.0)


@triton.jit
def _attn_dkdv_kernel(q, k, v, pad, dout, lse, delta, dk, dv, H, LQ, LK, DQ, DV, scale,
                      sqb, sqh, sql, sqd, skb, skh, skl, skd, svb, svh, svl, svd,
                      HAS_PAD: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr,
                      BLOCK_D: tl.constexpr, BLOCK_DV: tl.constexpr, ACC: tl.constexpr):
    bh = tl.program_id(0)
    b = bh // H
    h = bh % H
    rn = tl.program_id(1) * BLOCK_N + tl.arange(0, BLOCK_N)
    rd = tl.arange(0, BLOCK_D)
    rdv = tl.arange(0, BLOCK_DV)
    valid = rn < LK
    if HAS_PAD:
        valid = valid & (tl.load(pad + b * LK + rn, mask=rn < LK, other=1) == 0)
    kt = tl.load(k + b * skb + h * skh + rn[None, :] * skl + rd[:, None] * skd,
                 mask=(rn[None, :] < LK) & (rd[:, None] < DQ), other=0.0).to(ACC)
    vt = tl.load(v + b * svb + h * svh + rn[None, :] * svl + rdv[:, None] * svd,
                 mask=(rn[None, :] < LK) & (rdv[:, None] < DV), other=0.0).to(ACC)
    dk_acc = tl.zeros((BLOCK_N, BLOCK_D), dtype=ACC)
    dv_acc = tl.zeros((BLOCK_N, BLOCK_DV), dtype=ACC)
    for m0 in range(0, LQ, BLOCK_M):
        rm = m0 + tl.arange(0, BLOCK_M)
        mmask = rm < LQ
        qt = tl.load(q + b * sqb + h * sqh + rm[:, None] * sql + rd[None, :] * sqd,
                     mask=mmask[:, None] & (rd[None, :] < DQ), other=0.0).to(ACC)
        lrow = tl.load(lse + bh * LQ + rm, mask=mmask, other=float("-inf"))
        p = _attn_probs(qt, kt, lrow, valid, scale, ACC)
        do = tl.load(dout + (bh * LQ + rm[:, None]) * DV + rdv[None, :],
                     mask=mmask[:, None] & (rdv[None, :] < DV), other=0.0)
        dv_acc += tl.dot(tl.trans(p), do, input_precision="ieee")
        dp = tl.dot(do, vt, input_precision="ieee")
        dlt = tl.load(delta + bh * LQ + rm, mask=mmask, other=0.0)
        ds = p * (dp - dlt[:, None]) * scale
        dk_acc += tl.dot(tl.trans(ds), qt, input_precision="ieee")
    tl.store(dk + (bh * LK + rn[:, None]) * DQ + rd[None, :], dk_acc,
             mask=(rn[:, None] < LK) & (rd[None, :] < DQ))
    tl.store(dv + (bh * LK + rn[:, None]) * DV + rdv[None, :], dv_acc,
             mask=(rn[:, None] < LK) & (rdv[None, :] < DV))


@triton.jit
def _attn_dq_kernel(q, k, v, pad, dout, lse, delta, dq, H, LQ, LK, DQ, DV, scale,
                    sqb, sqh, sql, sqd, skb, skh, skl, skd, svb, svh, svl, svd,
                    HAS_PAD: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr,
                    BLOCK_D: tl.constexpr, BLOCK_DV: tl.constexpr, ACC: tl.constexpr):
    bh = tl.program_id(0)
    b = bh // H
    h = bh % H
    rm = tl.program_id(1) * BLOCK_M + tl.arange(0, BLOCK_M)
    rd = tl.arange(0, BLOCK_D)
    rdv = tl.arange(0, BLOCK_DV)
    mmask = rm < LQ
    qt = tl.load(q + b * sqb + h * sqh + rm[:, None] * sql + rd[None, :] * sqd,
                 mask=mmask[:, None] & (rd[None, :] < DQ), other=0.0).to(ACC)
    lrow = tl.load(lse + bh * LQ + rm, mask=mmask, other=float("-inf"))
    do = tl.load(dout + (bh * LQ + rm[:, None]) * DV + rdv[None, :],
                 mask=mmask[:, None] & (rdv[None, :] < DV), other=0.0)
    dlt = tl.load(delta + bh * LQ + rm, mask=mmask, other=0.0)
    dq_acc = tl.zeros((BLOCK_M, BLOCK_D), dtype=ACC)
    for n0 in range(0, LK, BLOCK_N):
        rn = n0 + tl.arange(0, BLOCK_N)
        valid = rn < LK
        if HAS_PAD:
            valid = valid & (tl.load(pad + b * LK + rn, mask=rn < LK, other=1) == 0)
        kt = tl.load(k + b * skb + h * skh + rn[None, :] * skl + rd[:, None] * skd,
                     mask=(rn[None, :] < LK) & (rd[:, None] < DQ), other=0.0).to(ACC)
        vt = tl.load(v + b * svb + h * svh + rn[None, :] * svl + rdv[:, None] * svd,
                     mask=(rn[None, :] < LK) & (rdv[:, None] < DV), other=0.0).to(ACC)
        p = _attn_probs(qt, kt, lrow, valid, scale, ACC)
        dp = tl.dot(do, vt, input_precision="ieee")
        ds = p * (dp - dlt[:, None]) * scale
        dq_acc += tl.dot(ds, tl.trans(kt), input_precision="ieee")
    tl.store(dq + (bh * LQ + rm[:, None]) * DQ + rd[None, :], dq_acc,
             mask=mmask[:, None] & (rd[None, :] < DQ))


def _attn_common(q, k, v, pad):
    n_b, n_h, lq, dq = q.shape
    lk, dv = k.shape[2], v.shape[3]
    has_pad = pad is not None
    pad_t = (pad.to(device=q.device, dtype=torch.int8).contiguous() if has_pad
             else torch.zeros(1, dtype=torch.int8, device=q.device))
    blocks = dict(BLOCK_M=16, BLOCK_N=32 if lk >= 32 else 16, BLOCK_D=_pow2(dq),
                  BLOCK_DV=_pow2(dv))
    strides = (*q.stride(), *k.stride(), *v.stride())
    return n_b, n_h, lq, lk, dq, dv, has_pad, pad_t, blocks, strides


def attention_forward(q, k, v, pad, scale):
    acc_t, acc_tl = _acc(q.dtype)
    n_b, n_h, lq, lk, dq, dv, has_pad, pad_t, blocks, strides = _attn_common(q, k, v, pad)
    out = torch.empty((n_b, n_h, lq, dv), dtype=acc_t, device=q.device)
    lse = torch.empty((n_b, n_h, lq), dtype=acc_t, device=q.device)
    if out.numel() or lse.numel():
        grid = (n_b * n_h, triton.cdiv(lq, blocks["BLOCK_M"]))
        _attn_fwd_kernel[grid](q, k, v, pad_t, out, lse, n_h, lq, lk, dq, dv, float(scale),
                               *strides, HAS_PAD=has_pad, ACC=acc_tl, **blocks)
    return out.to(q.dtype), (q, k, v, pad, scale, out, lse)


def attention_backward(saved, grad_out):
    q, k, v, pad, scale, out, lse = saved
    acc_t, acc_tl = _acc(q.dtype)
    n_b, n_h, lq, lk, dq_, dv_, has_pad, pad_t, blocks, strides = _attn_common(q, k, v, pad)
    dout = grad_out.to(acc_t).contiguous()
    delta = (dout * out).sum(-1).contiguous()
    dq = torch.zeros((n_b, n_h, lq, dq_), dtype=acc_t, device=q.device)
    dk = torch.zeros((n_b, n_h, lk, dq_), dtype=acc_t, device=q.device)
    dv = torch.zeros((n_b, n_h, lk, dv_), dtype=acc_t, device=q.device)
    if n_b * n_h and lq and lk:
        args = (n_h, lq, lk, dq_, dv_, float(scale), *strides)
        _attn_dkdv_kernel[(n_b * n_h, triton.cdiv(lk, blocks["BLOCK_N"]))](
            q, k, v, pad_t, dout, lse, delta, dk, dv, *args, HAS_PAD=has_pad, ACC=acc_tl,
            **blocks)
        _attn_dq_kernel[(n_b * n_h, triton.cdiv(lq, blocks["BLOCK_M"]))](
            q, k, v, pad_t, dout, lse, delta, dq, *args, HAS_PAD=has_pad, ACC=acc_tl, **blocks)
    return [x.to(q.dtype) for x in (dq, dk, dv)]
