"""Numba CPU kernels of the fusion operators, forward and backward (``@njit(cache=True)``,
parallel with ``prange``; they use ``numba.get_num_threads()`` threads).

Tensor fusion never builds the (B, (A+1)(V+1)(T+1)) outer product. With z = [1; x], W is
viewed (without a copy) as W₂ (O·A₁, V₁T₁), row o·A₁ + i, column j·T₁ + k, and only the
(v, t) pair table Q[b, j·T₁ + k] = z_v,bj z_t,bk is formed (B·V₁T₁ numbers, 1/A₁ of the
outer product). Three whole-batch GEMMs carry all the arithmetic (2·B·O·D flops each, the
minimum for a general W), and the rest is O(B·O·A₁ + B·V₁T₁):

    Rᵀ = W₂ Qᵀ   (O·A₁ × B)             y[b, o] = Σ_i Rᵀ[o·A₁ + i, b] z_a,bi + bias_o
    dR[o·A₁ + i, b] = dy[b, o] z_a,bi   dz_a[b, i] = Σ_o dy[b, o] Rᵀ[o·A₁ + i, b]
    dW₂ = dR Q   (O·A₁ × V₁T₁)          dQ = dRᵀ W₂   (B × V₁T₁)
    dz_v[b, j] = Σ_k dQ[b, jk] z_t,bk   dz_t[b, k] = Σ_j dQ[b, jk] z_v,bj

The GEMMs are BLAS calls from the compiled code (numba's ``np.dot``; the caller keeps BLAS
to one thread inside, since the threads are numba's), one block of W₂'s rows per thread,
in one parallel region a pass; the small loops run serially, so that a loaded machine
does not stall at extra thread barriers. The extra memory is Q, Rᵀ, dR and one dQ
partial per thread (MOSI shapes: about 1/33 of the outer product each). Sums are in the
input dtype (float32 or float64); NaN/inf propagate as in the plain formula.

LMF: one sample per thread for the projections and the input gradients, one (rank, input
row) per thread for the factor gradients. Attention: see the section below.
"""
from __future__ import annotations

import math

import numba as nb
import numpy as np

from affrepro.kernels.fusion.reference import dropout_threshold

_FM = {"reassoc", "contract"}
_OPTS = dict(cache=True, nogil=True, fastmath=_FM)


# --------------------------------------------------------------------- tensor fusion
@nb.njit(parallel=True, **_OPTS)
def _tfn_forward(zv, zt, w2, n_chunks, q, rt):  # pragma: no cover - compiled
    n_b, v1 = zv.shape
    t1 = zt.shape[1]
    for b in range(n_b):  # Q[b, j·T₁ + k] = z_v,bj z_t,bk (serial: the GEMM is the work)
        for j in range(v1):
            c = zv[b, j]
            for k in range(t1):
                q[b, j * t1 + k] = c * zt[b, k]
    n_rows = w2.shape[0]
    for c in nb.prange(n_chunks):  # Rᵀ = W₂ Qᵀ, a block of W₂'s rows per thread
        lo, hi = c * n_rows // n_chunks, (c + 1) * n_rows // n_chunks
        if hi > lo:
            np.dot(w2[lo:hi], q.T, rt[lo:hi])


@nb.njit(**_OPTS)
def _tfn_output(rt, za, bias, y):  # pragma: no cover - compiled
    n_b, a1 = za.shape
    for b in range(n_b):  # y[b, o] = Σ_i Rᵀ[o·A₁ + i, b] z_a,bi + bias_o
        for o in range(y.shape[1]):
            s = bias[o]
            for i in range(a1):
                s += rt[o * a1 + i, b] * za[b, i]
            y[b, o] = s


@nb.njit(parallel=True, **_OPTS)
def _tfn_backward(za, zv, zt, w2, q, rt, dy, dr, dza, dw2, dq_part, dzv, dzt):  # pragma: no cover
    n_b, a1 = za.shape
    n_o = dy.shape[1]
    for b in range(n_b):  # dR[o·A₁ + i, b] = dy[b, o] z_a,bi; dz_a = Σ_o dy[b, o] R[o·A₁ + i, b]
        for i in range(a1):
            dza[b, i] = 0.0
        for o in range(n_o):
            g = dy[b, o]
            for i in range(a1):
                dr[o * a1 + i, b] = g * za[b, i]
                dza[b, i] += g * rt[o * a1 + i, b]
    n_rows = w2.shape[0]
    n_chunks = dq_part.shape[0]
    for c in nb.prange(n_chunks):  # a block of W₂'s rows per thread
        lo, hi = c * n_rows // n_chunks, (c + 1) * n_rows // n_chunks
        if hi > lo:
            np.dot(dr[lo:hi], q, dw2[lo:hi])  # dW₂ = dR Q
            np.dot(dr[lo:hi].T, w2[lo:hi], dq_part[c])  # dQ = dRᵀ W₂ (partial sums)
        else:
            dq_part[c][:, :] = 0.0
    v1, t1 = zv.shape[1], zt.shape[1]
    for b in range(n_b):  # dz_v,bj = Σ_k dQ[b, jk] z_t,bk; dz_t,bk = Σ_j dQ[b, jk] z_v,bj
        for k in range(t1):
            dzt[b, k] = 0.0
        for j in range(v1):
            s = 0.0
            c = zv[b, j]
            for k in range(t1):
                g = 0.0
                for p in range(n_chunks):
                    g += dq_part[p, b, j * t1 + k]
                s += g * zt[b, k]
                dzt[b, k] += g * c
            dzv[b, j] = s


def _ones_first(x: np.ndarray) -> np.ndarray:
    z = np.empty((x.shape[0], x.shape[1] + 1), dtype=x.dtype)
    z[:, 0] = 1
    z[:, 1:] = x
    return z


def _n_chunks(n_rows: int) -> int:
    return max(1, min(nb.get_num_threads(), n_rows))


def tfn_forward(a, v, t, weight, bias):
    """NumPy arrays in (one float dtype, weight (O, A₁V₁T₁)); returns y (B, O) and the
    state the backward needs (the (v, t) pair table Q and Rᵀ = W₂ Qᵀ)."""
    za, zv, zt = _ones_first(a), _ones_first(v), _ones_first(t)
    n_b, n_o = a.shape[0], weight.shape[0]
    w2 = np.ascontiguousarray(weight).reshape(n_o * za.shape[1], zv.shape[1] * zt.shape[1])
    q = np.empty((n_b, w2.shape[1]), a.dtype)
    rt = np.zeros((w2.shape[0], n_b), a.dtype)
    if n_b:
        with single_threaded_blas(), np.errstate(all="ignore"):  # NaN/inf propagate
            _tfn_forward(zv, zt, w2, _n_chunks(w2.shape[0]), q, rt)
    y = np.empty((n_b, n_o), a.dtype)
    _tfn_output(rt, za, np.zeros(n_o, a.dtype) if bias is None else bias, y)
    return y, (za, zv, zt, w2, q, rt)


def tfn_backward(saved, grad_y, need_bias: bool):
    """(da, dv, dt, dW, dbias) from tfn_forward's state and dL/dy: two GEMMs."""
    za, zv, zt, w2, q, rt = saved
    dy = np.ascontiguousarray(grad_y, dtype=za.dtype)
    n_b, n_o = dy.shape
    dza, dzv, dzt = np.zeros_like(za), np.zeros_like(zv), np.zeros_like(zt)
    dw2 = np.empty_like(w2)  # every row block is written by its GEMM (O·D: no zero pass)
    if not n_b:
        dw2[...] = 0
    else:
        dr = np.empty_like(rt)
        dq_part = np.empty((_n_chunks(w2.shape[0]), n_b, w2.shape[1]), za.dtype)
        with single_threaded_blas(), np.errstate(all="ignore"):
            _tfn_backward(za, zv, zt, w2, q, rt, dy, dr, dza, dw2, dq_part, dzv, dzt)
    db = dy.sum(axis=0) if need_bias else None
    return dza[:, 1:], dzv[:, 1:], dzt[:, 1:], dw2.reshape(n_o, -1), db


# --------------------------------------------------------------------- TFN with dropout
# The mask m[b, d] multiplies single entries of the outer product, so it cannot be pulled
# through the (v, t) pair table: this path contracts W against tiles of
# z̃ = m ⊙ z / (1 − p) instead, a tile = all B samples × the T₁ columns of a block of
# (i, j) pairs (columns (i·V₁ + j)·T₁ + k, contiguous), built per thread and regenerated
# from (seed, b, d) in the backward. Its arithmetic is the plain B·O·D GEMMs (no 1/A₁
# saving), so it is used only when p > 0.
_M32 = np.uint64(0xFFFFFFFF)
_FMIX_M1, _FMIX_M2 = np.uint64(0x85EBCA6B), np.uint64(0xC2B2AE35)
_ROW_PRIME, _COL_PRIME = np.uint64(0x9E3779B1), np.uint64(0x85EBCA77)
_S8, _S13, _S16 = np.uint64(8), np.uint64(13), np.uint64(16)


@nb.njit(**_OPTS)
def _fmix32(h):  # pragma: no cover - compiled; h < 2³² in a uint64
    h ^= h >> _S16
    h = (h * _FMIX_M1) & _M32
    h ^= h >> _S13
    h = (h * _FMIX_M2) & _M32
    return h ^ (h >> _S16)


@nb.njit(**_OPTS)
def _dropout_tile(za, zv, zt, seed, thr, scale, p0, p1, mtile, tile):  # pragma: no cover
    """mtile[b, (p − p0)·T₁ + k] = m[b, p·T₁ + k] · scale and tile = mtile · z_a,bi z_v,bj
    z_t,bk, p = i·V₁ + j; the mask as reference.dropout_mask (hash of (seed, b, d))."""
    n_b = za.shape[0]
    v1, t1 = zv.shape[1], zt.shape[1]
    d0, n_cols = p0 * t1, (p1 - p0) * t1
    for b in range(n_b):
        r = _fmix32((seed + np.uint64(b) * _ROW_PRIME) & _M32)
        for c in range(n_cols):  # branch-free, so LLVM can vectorise the hash
            h = _fmix32(r ^ ((np.uint64(d0 + c) * _COL_PRIME) & _M32))
            mtile[b, c] = scale * ((h >> _S8) >= thr)
        for p in range(p0, p1):
            i, j = p // v1, p % v1
            cij = za[b, i] * zv[b, j]
            base = (p - p0) * t1
            for k in range(t1):
                tile[b, base + k] = mtile[b, base + k] * cij * zt[b, k]


@nb.njit(**_OPTS)
def _load_block(za, zv, zt, weight, seed, thr, scale, p0, p1, mtile, tile, wb):
    # pragma: no cover - compiled
    """The tiles of pairs [p0, p1) and W's columns for them; the columns of a short last
    block are zeroed, so every GEMM runs on the same whole, contiguous buffers."""
    t1 = zt.shape[1]
    cols = (p1 - p0) * t1
    _dropout_tile(za, zv, zt, seed, thr, scale, p0, p1, mtile, tile)
    for o in range(weight.shape[0]):
        wb[o, :cols] = weight[o, p0 * t1:p1 * t1]
        wb[o, cols:] = 0.0
    if cols < tile.shape[1]:
        tile[:, cols:] = 0.0
        mtile[:, cols:] = 0.0


@nb.njit(parallel=True, **_OPTS)
def _tfn_dropout_forward(za, zv, zt, weight, seed, thr, scale, pairs, ypart):
    # pragma: no cover - compiled
    n_w, n_b = ypart.shape[0], za.shape[0]
    n_o = weight.shape[0]
    n_pairs = za.shape[1] * zv.shape[1]
    t1 = zt.shape[1]
    n_chunks = (n_pairs + pairs - 1) // pairs
    for w in nb.prange(n_w):  # chunks w, w + n_w, ... per thread; y partial per thread
        tile = np.empty((n_b, pairs * t1), za.dtype)  # one set of buffers per thread
        mtile = np.empty_like(tile)
        wb = np.empty((n_o, pairs * t1), za.dtype)
        yb = np.empty((n_b, n_o), za.dtype)
        for c in range(w, n_chunks, n_w):
            p0, p1 = c * pairs, min((c + 1) * pairs, n_pairs)
            _load_block(za, zv, zt, weight, seed, thr, scale, p0, p1, mtile, tile, wb)
            np.dot(tile, wb.T, yb)  # y += z̃ W_blockᵀ
            ypart[w] += yb


@nb.njit(parallel=True, **_OPTS)
def _tfn_dropout_backward(za, zv, zt, weight, seed, thr, scale, pairs, dy, dw, dza_p,
                          dzv_p, dzt_p):  # pragma: no cover - compiled
    n_w = dza_p.shape[0]
    n_b, a1 = za.shape
    n_o = weight.shape[0]
    v1, t1 = zv.shape[1], zt.shape[1]
    n_pairs = a1 * v1
    n_chunks = (n_pairs + pairs - 1) // pairs
    dyt = np.ascontiguousarray(dy.T)
    for w in nb.prange(n_w):
        tile = np.empty((n_b, pairs * t1), za.dtype)
        mtile = np.empty_like(tile)
        g = np.empty_like(tile)
        wb = np.empty((n_o, pairs * t1), za.dtype)
        dwb = np.empty_like(wb)
        tacc = np.empty(t1, za.dtype)
        for c in range(w, n_chunks, n_w):
            p0, p1 = c * pairs, min((c + 1) * pairs, n_pairs)
            cols = (p1 - p0) * t1
            _load_block(za, zv, zt, weight, seed, thr, scale, p0, p1, mtile, tile, wb)
            np.dot(dyt, tile, dwb)  # dW[:, block] = Σ_b dy_b z̃_bᵀ
            for o in range(n_o):
                dw[o, p0 * t1:p1 * t1] = dwb[o, :cols]
            np.dot(dy, wb, g)  # dz̃ = dy W[:, block]  (B × cols)
            g *= mtile  # dz̃ ⊙ m / (1 − p)
            for b in range(n_b):  # through z̃ = m · scale · z_a,i z_v,j z_t,k
                gb, ztb = g[b], zt[b]
                tacc[:] = 0.0
                for p in range(p0, p1):
                    i, j = p // v1, p % v1
                    ci, cj = za[b, i], zv[b, j]
                    cij = ci * cj
                    base = (p - p0) * t1
                    s_k = 0.0
                    for k in range(t1):
                        gm = gb[base + k]
                        s_k += gm * ztb[k]
                        tacc[k] += gm * cij
                    # s_k = Σ_k g m z_t,k: dz_a,i += s_k z_v,j; dz_v,j += s_k z_a,i
                    dza_p[w, b, i] += s_k * cj
                    dzv_p[w, b, j] += s_k * ci
                for k in range(t1):
                    dzt_p[w, b, k] += tacc[k]


def _pairs_per_tile(t1: int) -> int:
    return max(1, 2048 // max(t1, 1))


def tfn_dropout_forward(a, v, t, weight, bias, p, seed):
    """As tfn_forward with dropout rate ``p`` (0 < p < 1) and ``seed`` (uint32) on the fused
    vector; the state is the inputs and (seed, p): the mask is regenerated, never stored."""
    za, zv, zt = _ones_first(a), _ones_first(v), _ones_first(t)
    weight = np.ascontiguousarray(weight)
    n_b, n_o = a.shape[0], weight.shape[0]
    pairs = _pairs_per_tile(zt.shape[1])
    n_w = _n_chunks((za.shape[1] * zv.shape[1] + pairs - 1) // pairs)
    ypart = np.zeros((n_w, n_b, n_o), a.dtype)
    thr, scale = np.uint64(dropout_threshold(p)), a.dtype.type(1.0 / (1.0 - p))
    if n_b:
        with single_threaded_blas(), np.errstate(all="ignore"):
            _tfn_dropout_forward(za, zv, zt, weight, np.uint64(seed), thr, scale, pairs, ypart)
    y = ypart.sum(axis=0)
    if bias is not None:
        y += bias
    return y.astype(a.dtype, copy=False), (za, zv, zt, weight, p, seed)


def tfn_dropout_backward(saved, grad_y, need_bias: bool):
    """(da, dv, dt, dW, dbias) from tfn_dropout_forward's state, the mask regenerated."""
    za, zv, zt, weight, p, seed = saved
    dy = np.ascontiguousarray(grad_y, dtype=za.dtype)
    n_b, n_o = dy.shape
    pairs = _pairs_per_tile(zt.shape[1])
    n_w = _n_chunks((za.shape[1] * zv.shape[1] + pairs - 1) // pairs)
    dw = np.zeros_like(weight)
    dza_p = np.zeros((n_w,) + za.shape, za.dtype)
    dzv_p = np.zeros((n_w,) + zv.shape, za.dtype)
    dzt_p = np.zeros((n_w,) + zt.shape, za.dtype)
    thr, scale = np.uint64(dropout_threshold(p)), za.dtype.type(1.0 / (1.0 - p))
    if n_b:
        with single_threaded_blas(), np.errstate(all="ignore"):
            _tfn_dropout_backward(za, zv, zt, weight, np.uint64(seed), thr, scale, pairs, dy,
                                  dw, dza_p, dzv_p, dzt_p)
    db = dy.sum(axis=0) if need_bias else None
    return (dza_p.sum(0)[:, 1:], dzv_p.sum(0)[:, 1:], dzt_p.sum(0)[:, 1:], dw, db)


# --------------------------------------------------------------------- low-rank fusion
@nb.njit(parallel=True, **_OPTS)
def _lmf_forward(za, zv, zt, fa, fv, ft, w, bias, y, f):  # pragma: no cover - compiled
    n_b = za.shape[0]
    n_r, _, n_o = fa.shape
    for b in nb.prange(n_b):
        for m, z, fac in ((0, za, fa), (1, zv, fv), (2, zt, ft)):
            for r in range(n_r):
                for o in range(n_o):
                    f[m, b, r, o] = 0.0
                for i in range(z.shape[1]):
                    c = z[b, i]
                    for o in range(n_o):
                        f[m, b, r, o] += c * fac[r, i, o]
        for o in range(n_o):
            s = bias[o]
            for r in range(n_r):
                s += w[r] * f[0, b, r, o] * f[1, b, r, o] * f[2, b, r, o]
            y[b, o] = s


@nb.njit(parallel=True, **_OPTS)
def _lmf_backward_inputs(za, zv, zt, fa, fv, ft, w, f, dy, g, dza, dzv, dzt):  # pragma: no cover
    n_b = za.shape[0]
    n_r, _, n_o = fa.shape
    for b in nb.prange(n_b):
        for r in range(n_r):
            for o in range(n_o):
                c = dy[b, o] * w[r]
                g[0, b, r, o] = c * f[1, b, r, o] * f[2, b, r, o]
                g[1, b, r, o] = c * f[0, b, r, o] * f[2, b, r, o]
                g[2, b, r, o] = c * f[0, b, r, o] * f[1, b, r, o]
        for m, fac, dz in ((0, fa, dza), (1, fv, dzv), (2, ft, dzt)):
            for i in range(1, fac.shape[1]):
                s = 0.0
                for r in range(n_r):
                    for o in range(n_o):
                        s += g[m, b, r, o] * fac[r, i, o]
                dz[b, i - 1] = s


@nb.njit(parallel=True, **_OPTS)
def _lmf_backward_factor(z, g, m, dfac):  # pragma: no cover - compiled
    n_b, n_i = z.shape
    n_r, _, n_o = dfac.shape
    for ri in nb.prange(n_r * n_i):
        r = ri // n_i
        i = ri % n_i
        for o in range(n_o):
            dfac[r, i, o] = 0.0
        for b in range(n_b):
            c = z[b, i]
            for o in range(n_o):
                dfac[r, i, o] += c * g[m, b, r, o]


def lmf_forward(a, v, t, fa, fv, ft, w, bias):
    za, zv, zt = _ones_first(a), _ones_first(v), _ones_first(t)
    fa, fv, ft, w = (np.ascontiguousarray(x) for x in (fa, fv, ft, w))
    n_b = a.shape[0]
    n_r, _, n_o = fa.shape
    b = np.zeros(n_o, a.dtype) if bias is None else np.ascontiguousarray(bias)
    y = np.empty((n_b, n_o), a.dtype)
    f = np.zeros((3, n_b, n_r, n_o), a.dtype)
    if n_b:
        _lmf_forward(za, zv, zt, fa, fv, ft, w, b, y, f)
    return y, (za, zv, zt, fa, fv, ft, w, f)


def lmf_backward(saved, grad_y, need_bias: bool):
    """(da, dv, dt, dF_a, dF_v, dF_t, dw, dbias)."""
    za, zv, zt, fa, fv, ft, w, f = saved
    dy = np.ascontiguousarray(grad_y, dtype=za.dtype)
    n_b = za.shape[0]
    g = np.zeros_like(f)
    dz = [np.zeros((n_b, z.shape[1] - 1), za.dtype) for z in (za, zv, zt)]
    dfac = [np.zeros_like(x) for x in (fa, fv, ft)]
    if n_b:
        _lmf_backward_inputs(za, zv, zt, fa, fv, ft, w, f, dy, g, *dz)
        for m, z in enumerate((za, zv, zt)):
            _lmf_backward_factor(z, g, m, dfac[m])
    dw = np.einsum("bo,bro->r", dy, f[0] * f[1] * f[2]) if n_b else np.zeros_like(w)
    db = dy.sum(axis=0) if need_bias else None
    return (*dz, *dfac, dw.astype(za.dtype), db)


# --------------------------------------------------------------------- cross-modal attention
# One (batch, head) pair per thread, flash-style: the unpadded keys of the sample are
# gathered (transposed, Kᵀ scaled) so every loop over keys is branch-free and vectorised;
# per query row i the scores s = q_i·Kᵀ, m = max s, p = exp(s − m), l = Σ p give
# o_i = Σ_j p_j v_j / l and the saved log-sum-exp L_i = m + log l. The backward recomputes
# p_j = exp(s_j − L_i) and forms dV += p dO_i, dP = dO_i·Vᵀ, dS = p ∘ (dP − dO_i·o_i),
# dQ_i = dS·(scale·K), dK += scale·dS q_i. No B·H·Lq·Lk buffer is stored, and the mask is
# a per-sample index list, never expanded. exp is evaluated by _exp_shift, which LLVM
# vectorises (this numba has no vector math library).
_EXP_DEGREE = 12  # Taylor terms of exp(r), |r| ≤ ln2/2: error < 2e-16 relative


def _exp_constants(dtype):
    """(lowest argument, log2 e, ln2 high, ln2 low, exponent bias, 2^mantissa bits, 1/2, 0)
    and the Taylor coefficients 1/n! for dtype (float32 or float64): typed constants keep
    float32 arithmetic in float32 (a Python float literal would promote it to float64)."""
    if dtype == np.float32:
        c = (-87.0, 1.4426950408889634, 0.693359375, -2.12194440e-4, 127.0, 2.0 ** 23, 0.5, 0)
        itype = np.int32
    else:
        c = (-708.0, 1.4426950408889634, 6.93147180369123816490e-01,
             1.90821492927058770002e-10, 1023.0, 2.0 ** 52, 0.5, 0)
        itype = np.int64
    coef = [1.0 / math.factorial(n) for n in range(_EXP_DEGREE + 1)]
    return np.array(c, dtype), np.array(coef, dtype), itype


@nb.njit(inline="always", **_OPTS)
def _exp_shift(s, n, shift, cst, coef, ibuf, fbuf):  # pragma: no cover - compiled
    """s[j] ← exp(s[j] − shift) for j < n: x = k·ln2 + r with k = round(x / ln2), exp(r)
    by Horner, 2^k built in the exponent bits of ibuf (fbuf is the same memory as floats).
    Arguments below cst[0] give exp(cst[0]) (≈ 1e-38 / 1e-308, not 0); NaN stays NaN."""
    lo, log2e, ln2_hi, ln2_lo, bias, two_mant, half = (cst[0], cst[1], cst[2], cst[3], cst[4],
                                                       cst[5], cst[6])
    c0, c1, c2, c3, c4, c5, c6 = coef[0], coef[1], coef[2], coef[3], coef[4], coef[5], coef[6]
    c7, c8, c9, c10, c11, c12 = coef[7], coef[8], coef[9], coef[10], coef[11], coef[12]
    for j in range(n):
        x = s[j] - shift
        x = lo if x < lo else x
        kf = np.floor(x * log2e + half)
        r = x - kf * ln2_hi - kf * ln2_lo
        p = c12
        p = p * r + c11
        p = p * r + c10
        p = p * r + c9
        p = p * r + c8
        p = p * r + c7
        p = p * r + c6
        p = p * r + c5
        p = p * r + c4
        p = p * r + c3
        p = p * r + c2
        p = p * r + c1
        p = p * r + c0
        s[j] = p
        e = (kf + bias) * two_mant
        ibuf[j] = e if e > 0 else 0  # x ≥ lo keeps k ≥ −126 (−1022); NaN: 2^k = 0, NaN · 0 = NaN
    for j in range(n):
        s[j] *= fbuf[j]


@nb.njit(**_OPTS)
def _unpadded(pad):  # pragma: no cover - compiled
    """Per sample, the indices of its unpadded keys (first count[b] entries of idx[b])."""
    n_b, n_k = pad.shape
    idx = np.zeros((n_b, n_k), np.int64)
    count = np.zeros(n_b, np.int64)
    for b in range(n_b):
        c = 0
        for j in range(n_k):
            if not pad[b, j]:
                idx[b, c] = j
                c += 1
        count[b] = c
    return idx, count


@nb.njit(**_OPTS)
def _gather_keys(k, v, b, h, idx, n, scale, kt, vt):  # pragma: no cover - compiled
    for j in range(n):
        src = idx[b, j]
        for d in range(kt.shape[0]):
            kt[d, j] = scale * k[b, h, src, d]
        for d in range(vt.shape[0]):
            vt[d, j] = v[b, h, src, d]


@nb.njit(**_OPTS)
def _scores(q, b, h, i, kt, n, s):  # pragma: no cover - compiled
    qi = q[b, h, i]
    c = qi[0]
    for j in range(n):
        s[j] = c * kt[0, j]
    for d in range(1, kt.shape[0]):
        c = qi[d]
        for j in range(n):
            s[j] += c * kt[d, j]


@nb.njit(parallel=True, **_OPTS)
def _attention_forward(q, k, v, idx, count, scale, cst, coef, ibuf, fbuf, out, lse):  # pragma: no cover
    n_b, n_h, n_q, n_d = q.shape
    n_k, n_dv = k.shape[2], v.shape[3]
    for bh in nb.prange(n_b * n_h):
        b = bh // n_h
        h = bh % n_h
        n = count[b]
        if n == 0:  # every key padded: output 0 (out is zeroed), gradients 0
            continue
        kt = np.empty((n_d, n), q.dtype)
        vt = np.empty((n_dv, n), q.dtype)
        _gather_keys(k, v, b, h, idx, n, scale, kt, vt)
        s = np.empty(n_k, q.dtype)
        ib, fb = ibuf[bh], fbuf[bh]
        for i in range(n_q):
            if n_d:
                _scores(q, b, h, i, kt, n, s)
            else:
                s[:n] = 0.0
            m = s[0]
            for j in range(1, n):
                m = s[j] if s[j] > m else m
            _exp_shift(s, n, m, cst, coef, ib, fb)
            total = cst[7]
            for j in range(n):
                total += s[j]
            for d in range(n_dv):
                acc = cst[7]
                for j in range(n):
                    acc += s[j] * vt[d, j]
                out[b, h, i, d] = acc / total
            lse[b, h, i] = m + math.log(total)


@nb.njit(parallel=True, **_OPTS)
def _attention_backward(q, k, v, idx, count, scale, cst, coef, ibuf, fbuf, out, lse, dout,
                        dq, dk, dv):  # pragma: no cover - compiled
    n_b, n_h, n_q, n_d = q.shape
    n_k, n_dv = k.shape[2], v.shape[3]
    for bh in nb.prange(n_b * n_h):
        b = bh // n_h
        h = bh % n_h
        n = count[b]
        if n == 0:
            continue
        kt = np.empty((n_d, n), q.dtype)
        vt = np.empty((n_dv, n), q.dtype)
        _gather_keys(k, v, b, h, idx, n, scale, kt, vt)
        dkt = np.zeros((n_d, n), q.dtype)
        dvt = np.zeros((n_dv, n), q.dtype)
        s = np.empty(n_k, q.dtype)
        ds = np.empty(n_k, q.dtype)
        ib, fb = ibuf[bh], fbuf[bh]
        for i in range(n_q):
            if n_d:
                _scores(q, b, h, i, kt, n, s)
            else:
                s[:n] = 0.0
            _exp_shift(s, n, lse[b, h, i], cst, coef, ib, fb)  # p_j
            do = dout[b, h, i]
            delta = cst[7]
            for d in range(n_dv):
                delta += do[d] * out[b, h, i, d]
            for j in range(n):
                ds[j] = -delta
            for d in range(n_dv):
                c = do[d]
                for j in range(n):
                    ds[j] += c * vt[d, j]  # dP_j − δ
                    dvt[d, j] += c * s[j]  # dV += p dO_i
            for j in range(n):
                ds[j] *= s[j]
            for d in range(n_d):
                acc = cst[7]
                c = scale * q[b, h, i, d]
                for j in range(n):
                    acc += ds[j] * kt[d, j]
                    dkt[d, j] += c * ds[j]
                dq[b, h, i, d] = acc
        for j in range(n):
            dst = idx[b, j]
            for d in range(n_d):
                dk[b, h, dst, d] = dkt[d, j]
            for d in range(n_dv):
                dv[b, h, dst, d] = dvt[d, j]


def _workspace(q, k):
    cst, coef, itype = _exp_constants(q.dtype)
    ibuf = np.empty((q.shape[0] * q.shape[1], k.shape[2]), itype)
    return cst, coef, ibuf, ibuf.view(q.dtype)


def attention_forward(q, k, v, pad, scale):
    """q (B, H, Lq, D), k (B, H, Lk, D), v (B, H, Lk, Dv), pad (B, Lk) bool (True =
    padded); returns out (B, H, Lq, Dv) and the saved state (inputs, out, log-sum-exp)."""
    q, k, v = (np.ascontiguousarray(x) for x in (q, k, v))
    pad = np.ascontiguousarray(pad, dtype=np.bool_)
    scale = q.dtype.type(scale)
    idx, count = _unpadded(pad)
    out = np.zeros(q.shape[:3] + (v.shape[3],), q.dtype)
    lse = np.zeros(q.shape[:3], q.dtype)
    if q.shape[0] * q.shape[1] and q.shape[2] and k.shape[2]:
        _attention_forward(q, k, v, idx, count, scale, *_workspace(q, k), out, lse)
    return out, (q, k, v, idx, count, scale, out, lse)


def attention_backward(saved, grad_out):
    q, k, v, idx, count, scale, out, lse = saved
    dout = np.ascontiguousarray(grad_out, dtype=q.dtype)
    dq, dk, dv = np.zeros_like(q), np.zeros_like(k), np.zeros_like(v)
    if q.shape[0] * q.shape[1] and q.shape[2] and k.shape[2]:
        _attention_backward(q, k, v, idx, count, scale, *_workspace(q, k), out, lse, dout,
                            dq, dk, dv)
    return dq, dk, dv


_CONTROLLER: list = []


def single_threaded_blas():
    """A context in which BLAS runs on one thread (the GEMMs are called from numba's
    threads); a no-op without threadpoolctl. The libraries are looked up once."""
    if not _CONTROLLER:
        try:
            import scipy.linalg.cython_blas  # noqa: F401  (numba's np.dot calls this BLAS)
            from threadpoolctl import ThreadpoolController

            _CONTROLLER.append(ThreadpoolController())
        except ImportError:  # pragma: no cover
            _CONTROLLER.append(None)
    if _CONTROLLER[0] is None:  # pragma: no cover
        import contextlib

        return contextlib.nullcontext()
    return _CONTROLLER[0].limit(limits=1, user_api="blas")
