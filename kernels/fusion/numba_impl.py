"""Numba CPU kernels of the fusion operators, forward and backward (``@njit(cache=True)``,
parallel with ``prange``; they use ``numba.get_num_threads()`` threads).

Tensor fusion never builds the (B, (A+1)(V+1)(T+1)) outer product. With z = [1; x] and W
viewed as (O, A₁V₁, T₁), only the (a, v) pair table P[b, i·V₁ + j] = z_a,bi z_v,bj is
formed (B·A₁V₁ numbers, 1/T₁ of the outer product), and z_t is contracted separately:

    M[o] = P · W[o]                    (B × T₁)     y[b, o] = Σ_k M[o, b, k] z_t,bk + bias_o
    E_o[b, k] = dy[b, o] z_t,bk        dW[o] = Pᵀ E_o          dP = Σ_o E_o W[o]ᵀ
    dz_t[b, k] = Σ_o dy[b, o] M[o, b, k]     dz_a[b, i] = Σ_j dP[b, ij] z_v,bj (and dz_v)

The products with W are BLAS GEMMs called from the compiled code (numba's ``np.dot``; the
caller keeps BLAS to one thread inside, since the threads are numba's), one output unit o
per thread. The extra memory is P, M (O·B·T₁) and one dP partial per thread: for MOSI
shapes about 1/30 of the outer product each. Sums are in the input dtype (float32 or
float64); NaN/inf propagate as in the plain formula.

LMF: one sample per thread for the projections and the input gradients, one (rank, input
row) per thread for the factor gradients. Attention: see the section below.
"""
from __future__ import annotations

import math

import numba as nb
import numpy as np

_FM = {"reassoc", "contract"}
_OPTS = dict(cache=True, nogil=True, fastmath=_FM)


# --------------------------------------------------------------------- tensor fusion
@nb.njit(parallel=True, **_OPTS)
def _tfn_forward(p, w3, m):  # pragma: no cover - compiled
    for o in nb.prange(w3.shape[0]):
        np.dot(p, w3[o], m[o])  # M[o] = P · W[o]: (B × A₁V₁)(A₁V₁ × T₁)


@nb.njit(parallel=True, **_OPTS)
def _tfn_backward(p, zt, w3, dy, dw3, dp_part):  # pragma: no cover - compiled
    n_b, t1 = zt.shape
    n_o = w3.shape[0]
    n_chunks = dp_part.shape[0]
    for c in nb.prange(n_chunks):
        e = np.empty((n_b, t1), dtype=zt.dtype)  # E_o[b, k] = dy[b, o] z_t,bk
        tmp = np.empty((n_b, w3.shape[1]), dtype=zt.dtype)
        acc = dp_part[c]
        acc[:, :] = 0.0
        for o in range(c * n_o // n_chunks, (c + 1) * n_o // n_chunks):
            for b in range(n_b):
                g = dy[b, o]
                for k in range(t1):
                    e[b, k] = g * zt[b, k]
            np.dot(p.T, e, dw3[o])  # dW[o] = Pᵀ E_o
            np.dot(e, w3[o].T, tmp)  # dP += E_o W[o]ᵀ
            acc += tmp


def _ones_first(x: np.ndarray) -> np.ndarray:
    z = np.empty((x.shape[0], x.shape[1] + 1), dtype=x.dtype)
    z[:, 0] = 1
    z[:, 1:] = x
    return z


def tfn_forward(a, v, t, weight, bias):
    """NumPy arrays in (one float dtype, weight (O, A₁V₁T₁)); returns y (B, O) and the
    state the backward needs (the pair table and M)."""
    za, zv, zt = _ones_first(a), _ones_first(v), _ones_first(t)
    n_b, n_o = a.shape[0], weight.shape[0]
    t1 = zt.shape[1]
    w3 = np.ascontiguousarray(weight).reshape(n_o, za.shape[1] * zv.shape[1], t1)
    # the (a, v) pair table, p[b, i·V₁ + j] = z_a,bi z_v,bj (1/T₁ of the outer product)
    p = (za[:, :, None] * zv[:, None, :]).reshape(n_b, w3.shape[1])
    m = np.zeros((n_o, n_b, t1), a.dtype)
    if n_b and n_o:
        with single_threaded_blas():
            _tfn_forward(p, w3, m)
    y = np.einsum("obk,bk->bo", m, zt)
    if bias is not None:
        y += bias
    return y, (za, zv, zt, w3, p, m)


def tfn_backward(saved, grad_y, need_bias: bool):
    """(da, dv, dt, dW, dbias) from tfn_forward's state and dL/dy."""
    za, zv, zt, w3, p, m = saved
    dy = np.ascontiguousarray(grad_y, dtype=za.dtype)
    n_b, (n_o, n_p, t1) = za.shape[0], w3.shape
    n_chunks = max(1, min(nb.get_num_threads(), n_o))
    if n_b and n_o:
        dw3 = np.empty_like(w3)
        dp_part = np.empty((n_chunks, n_b, n_p), za.dtype)
        with single_threaded_blas():
            _tfn_backward(p, zt, w3, dy, dw3, dp_part)
        dp = dp_part.sum(axis=0)
    else:
        dw3 = np.zeros_like(w3)
        dp = np.zeros((n_b, n_p), za.dtype)
    dt = np.einsum("bo,obk->bk", dy, m)[:, 1:]
    dp3 = dp.reshape(n_b, za.shape[1], zv.shape[1])
    da = np.einsum("bij,bj->bi", dp3, zv)[:, 1:]
    dv = np.einsum("bij,bi->bj", dp3, za)[:, 1:]
    db = dy.sum(axis=0) if need_bias else None
    return da, dv, dt, dw3.reshape(n_o, -1), db


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
# One (batch, head) pair per thread: S = scale·Q Kᵀ and O = P V, and in the backward
# dV = Pᵀ dO, dP = dO Vᵀ, dS = P ∘ (dP − rowsum(dO ∘ O)), dQ = scale·dS K, dK = scale·dSᵀ Q,
# are BLAS GEMMs called from the compiled loop; the masked, max-shifted softmax is a loop.
# The probabilities P (B·H·Lq·Lk, as torch's softmax keeps them) are the saved state.
@nb.njit(parallel=True, **_OPTS)
def _attention_forward(q, k, v, pad, scale, out, prob):  # pragma: no cover - compiled
    n_b, n_h, n_q, _ = q.shape
    n_k = k.shape[2]
    for bh in nb.prange(n_b * n_h):
        b = bh // n_h
        h = bh % n_h
        p = prob[b, h]
        np.dot(q[b, h], k[b, h].T, p)
        for i in range(n_q):
            mx = -math.inf
            for j in range(n_k):
                x = p[i, j] * scale
                p[i, j] = x
                if not pad[b, j] and (x > mx or x != x):
                    mx = x
            if mx == -math.inf:  # every key padded: output and gradients are 0
                for j in range(n_k):
                    p[i, j] = 0.0
                continue
            total = 0.0
            for j in range(n_k):
                e = 0.0 if pad[b, j] else math.exp(p[i, j] - mx)
                p[i, j] = e
                total += e
            inv = 1.0 / total
            for j in range(n_k):
                p[i, j] *= inv
        np.dot(p, v[b, h], out[b, h])


@nb.njit(parallel=True, **_OPTS)
def _attention_backward(q, k, v, scale, out, prob, dout, dq, dk, dv):  # pragma: no cover
    n_b, n_h, n_q, _ = q.shape
    n_k = k.shape[2]
    n_dv = v.shape[3]
    for bh in nb.prange(n_b * n_h):
        b = bh // n_h
        h = bh % n_h
        p = prob[b, h]
        do = dout[b, h]
        np.dot(p.T, do, dv[b, h])
        ds = np.empty((n_q, n_k), dtype=q.dtype)
        np.dot(do, v[b, h].T, ds)
        for i in range(n_q):
            delta = 0.0
            for d in range(n_dv):
                delta += do[i, d] * out[b, h, i, d]
            for j in range(n_k):
                ds[i, j] = scale * p[i, j] * (ds[i, j] - delta)
        np.dot(ds, k[b, h], dq[b, h])
        np.dot(ds.T, q[b, h], dk[b, h])


def attention_forward(q, k, v, pad, scale):
    """q (B, H, Lq, D), k (B, H, Lk, D), v (B, H, Lk, Dv), pad (B, Lk) bool (True =
    padded); returns out (B, H, Lq, Dv) and the saved state (the probabilities)."""
    q, k, v = (np.ascontiguousarray(x) for x in (q, k, v))
    pad = np.ascontiguousarray(pad, dtype=np.bool_)
    out = np.zeros(q.shape[:3] + (v.shape[3],), q.dtype)
    prob = np.empty(q.shape[:3] + (k.shape[2],), q.dtype)
    if q.shape[0] * q.shape[1] and q.shape[2]:
        if k.shape[2] == 0:
            prob[...] = 0
        else:
            with single_threaded_blas():
                _attention_forward(q, k, v, pad, q.dtype.type(scale), out, prob)
    return out, (q, k, v, q.dtype.type(scale), out, prob)


def attention_backward(saved, grad_out):
    q, k, v, scale, out, prob = saved
    dout = np.ascontiguousarray(grad_out, dtype=q.dtype)
    dq, dk, dv = np.zeros_like(q), np.zeros_like(k), np.zeros_like(v)
    if q.shape[0] * q.shape[1] and q.shape[2] and k.shape[2]:
        with single_threaded_blas():
            _attention_backward(q, k, v, scale, out, prob, dout, dq, dk, dv)
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
