"""The float64 torch reference of the three fusion operators (the source of truth).

Each is written the plain way (the outer product materialised, the attention matrix
stored) and differentiated by torch autograd; every backend module offers the same
``*_forward`` / ``*_backward`` pair, so :mod:`affrepro.kernels.fusion` wraps any of them
in one ``torch.autograd.Function``. Results come back in the input's dtype.

Tensor fusion (Zadeh et al. 2017, TFN), with z_m = [1; x_m]:
    y_b = W · vec(z_a,b ⊗ z_v,b ⊗ z_t,b) + bias,  index (i, j, k) ↦ (i·V₁ + j)·T₁ + k
Low-rank fusion (Liu et al. 2018, LMF), factors F_m of shape (R, d_m + 1, O):
    y_b = Σ_r w_r · Π_m (z_m,b · F_m[r]) + bias
Cross-modal attention (Tsai et al. 2019, MulT), key padding mask True = padded:
    out = softmax(scale · Q Kᵀ, padded keys → −∞) V; a row with every key padded is 0.
TFN with dropout on the fused vector (MMSA's post-fusion dropout), rate p, seed s:
    y_b = W · (m_b ⊙ z_b) / (1 − p) + bias,  m[b, d] = [hash(s, b, d) >> 8 ≥ ⌈p · 2²⁴⌉]
with the counter-based hash of :func:`dropout_hash` (the mask is a function of (s, b, d),
so every backend regenerates the same one instead of storing it).
"""
from __future__ import annotations

import numpy as np
import torch

# ------------------------------------------------------------------ dropout mask
# murmur3's 32-bit finaliser (fmix32) and xxHash's 32-bit primes; all arithmetic mod 2³².
FMIX_M1, FMIX_M2 = 0x85EBCA6B, 0xC2B2AE35
ROW_PRIME, COL_PRIME = 0x9E3779B1, 0x85EBCA77


def _fmix32(h: np.ndarray) -> np.ndarray:
    h = h ^ (h >> np.uint32(16))
    h = h * np.uint32(FMIX_M1)
    h = h ^ (h >> np.uint32(13))
    h = h * np.uint32(FMIX_M2)
    return h ^ (h >> np.uint32(16))


def dropout_hash(seed: int, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """hash(s, b, d) = fmix32(r_b ⊕ (d · 0x85EBCA77)), r_b = fmix32(s + b · 0x9E3779B1),
    uint32, broadcast over ``rows`` (sample index b) and ``cols`` (fused index d)."""
    rows = np.asarray(rows).astype(np.uint32)
    cols = np.asarray(cols).astype(np.uint32)
    with np.errstate(over="ignore"):
        r = _fmix32(np.uint32(seed) + rows * np.uint32(ROW_PRIME))
        return _fmix32(r ^ (cols * np.uint32(COL_PRIME)))


def dropout_row_keys(seed: int, n_rows: int) -> np.ndarray:
    """r_b = fmix32(s + b · 0x9E3779B1) for b < n_rows (uint32): the per-sample part of the
    hash, which the Triton kernel takes precomputed."""
    with np.errstate(over="ignore"):
        return _fmix32(np.uint32(seed) + np.arange(n_rows).astype(np.uint32) * np.uint32(ROW_PRIME))


def dropout_threshold(p: float) -> int:
    """⌈p · 2²⁴⌉: an element is kept when the top 24 bits of its hash are ≥ this, i.e. when
    its uniform u = (hash >> 8) / 2²⁴ is ≥ p (exact in integers, the same on every backend)."""
    return int(np.ceil(p * float(1 << 24)))


def dropout_mask(seed: int, n_rows: int, n_cols: int, p: float) -> np.ndarray:
    """The (n_rows, n_cols) bool keep-mask m[b, d] (True = kept), vectorised."""
    h = dropout_hash(seed, np.arange(n_rows)[:, None], np.arange(n_cols)[None, :])
    return (h >> np.uint32(8)) >= np.uint32(dropout_threshold(p))



def _ones_first(x: torch.Tensor) -> torch.Tensor:
    return torch.cat([x.new_ones(x.shape[0], 1), x], dim=1)


def tfn_value(a, v, t, weight, bias):
    """y = W · vec([1;a] ⊗ [1;v] ⊗ [1;t]) + bias, the outer product materialised."""
    za, zv, zt = _ones_first(a), _ones_first(v), _ones_first(t)
    z = torch.einsum("bi,bj,bk->bijk", za, zv, zt).reshape(a.shape[0], weight.shape[1])
    y = z @ weight.T
    return y if bias is None else y + bias


def tfn_dropout_value(a, v, t, weight, bias, p, seed):
    """y = W · (m ⊙ vec([1;a] ⊗ [1;v] ⊗ [1;t])) / (1 − p) + bias, m = dropout_mask(seed)."""
    za, zv, zt = _ones_first(a), _ones_first(v), _ones_first(t)
    z = torch.einsum("bi,bj,bk->bijk", za, zv, zt).reshape(a.shape[0], weight.shape[1])
    keep = torch.from_numpy(dropout_mask(seed, z.shape[0], z.shape[1], p)).to(z.device)
    y = (z * keep.to(z.dtype) / (1.0 - p)) @ weight.T
    return y if bias is None else y + bias


def lmf_value(a, v, t, factor_a, factor_v, factor_t, rank_weights, bias):
    """y = Σ_r w_r Π_m (z_m · F_m[r]) + bias."""
    prod = None
    for x, f in ((a, factor_a), (v, factor_v), (t, factor_t)):
        fm = torch.einsum("bi,rio->bro", _ones_first(x), f)
        prod = fm if prod is None else prod * fm
    y = torch.einsum("r,bro->bo", rank_weights, prod)
    return y if bias is None else y + bias


def attention_value(q, k, v, key_padding_mask, scale):
    """softmax(scale · Q Kᵀ) V over the unpadded keys; all-padded rows give 0."""
    s = scale * q @ k.transpose(-1, -2)
    if key_padding_mask is not None:
        pad = key_padding_mask[:, None, None, :]
        s = s.masked_fill(pad, float("-inf"))
        empty = key_padding_mask.all(dim=1)[:, None, None, None]
        s = s.masked_fill(empty, 0.0)  # any finite row: the result is zeroed below
    p = torch.softmax(s, dim=-1)
    out = p @ v
    if key_padding_mask is not None:
        out = out.masked_fill(key_padding_mask.all(dim=1)[:, None, None, None], 0.0)
    return out


def _f64(*xs):
    return [None if x is None else x.detach().to(torch.float64) for x in xs]


def _grads(fn, inputs, grad_out):
    """d(fn(inputs))/d(inputs) · grad_out in float64 (None for None inputs)."""
    leaves = [None if x is None else x.clone().requires_grad_(True) for x in inputs]
    with torch.enable_grad():
        y = fn(*leaves)
        used = [x for x in leaves if x is not None]
        gs = torch.autograd.grad(y, used, grad_out.to(torch.float64), allow_unused=True)
    it = iter(gs)
    out = []
    for x in leaves:
        if x is None:
            out.append(None)
        else:
            g = next(it)
            out.append(torch.zeros_like(x) if g is None else g)
    return out


def tfn_forward(a, v, t, weight, bias):
    args = _f64(a, v, t, weight, bias)
    return tfn_value(*args).to(a.dtype), None


def tfn_backward(a, v, t, weight, bias, saved, grad_y):
    args = _f64(a, v, t, weight, bias)
    return [None if g is None else g.to(a.dtype) for g in _grads(tfn_value, args, grad_y)]


def tfn_dropout_forward(a, v, t, weight, bias, p, seed):
    args = _f64(a, v, t, weight, bias)
    return tfn_dropout_value(*args, p, seed).to(a.dtype), None


def tfn_dropout_backward(a, v, t, weight, bias, p, seed, saved, grad_y):
    args = _f64(a, v, t, weight, bias)
    gs = _grads(lambda *x: tfn_dropout_value(*x, p, seed), args, grad_y)
    return [None if g is None else g.to(a.dtype) for g in gs]


def lmf_forward(a, v, t, fa, fv, ft, w, bias):
    args = _f64(a, v, t, fa, fv, ft, w, bias)
    return lmf_value(*args).to(a.dtype), None


def lmf_backward(a, v, t, fa, fv, ft, w, bias, saved, grad_y):
    args = _f64(a, v, t, fa, fv, ft, w, bias)
    return [None if g is None else g.to(a.dtype) for g in _grads(lmf_value, args, grad_y)]


def attention_forward(q, k, v, mask, scale):
    q64, k64, v64 = _f64(q, k, v)
    return attention_value(q64, k64, v64, mask, scale).to(q.dtype), None


def attention_backward(q, k, v, mask, scale, saved, grad_out):
    args = _f64(q, k, v)
    gs = _grads(lambda q_, k_, v_: attention_value(q_, k_, v_, mask, scale), args, grad_out)
    return [g.to(q.dtype) for g in gs]
