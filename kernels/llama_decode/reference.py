"""The float64 reference of one llama decode step (the formulas of
:mod:`affrepro.kernels.llama_decode`, written as NumPy on the decoded weights)."""
from __future__ import annotations

import numpy as np

from affrepro.kernels.gguf_linear import reference as gguf


def _rms(h: np.ndarray, g: np.ndarray, eps: float) -> np.ndarray:
    return g * h / np.sqrt(np.mean(h * h, axis=-1, keepdims=True) + eps)


def _rotary(x: np.ndarray, heads: int, cos: np.ndarray, sin: np.ndarray) -> np.ndarray:
    R, n = x.shape
    x = x.reshape(R, heads, -1)
    half = x.shape[-1] // 2
    a, b = x[..., :half], x[..., half:]
    c, s = cos[:, None, :], sin[:, None, :]
    return np.concatenate([a * c - b * s, b * c + a * s], axis=-1).reshape(R, n)


def decode_step(w, cache, tokens: np.ndarray, positions: np.ndarray) -> np.ndarray:
    lin = lambda x, p: x @ gguf.dequantize(p.raw, p.kind).T  # noqa: E731
    R, t, hd = tokens.size, cache.t, w.head_dim
    h = w.emb[tokens].astype(np.float64)
    ang = positions[:, None].astype(np.float64) * w.inv_freq.astype(np.float64)[None, :]
    cos, sin = np.cos(ang) * w.rope_scale, np.sin(ang) * w.rope_scale
    cache.valid[:, t] = 1
    group = w.heads // w.kv_heads
    for l, (wq, wk, wv, wo, wg, wu, wd) in enumerate(w.layers):
        x = _rms(h, w.ln_attn[l].astype(np.float64), w.eps)
        q = _rotary(lin(x, wq), w.heads, cos, sin)
        k = _rotary(lin(x, wk), w.kv_heads, cos, sin)
        v = lin(x, wv)
        cache.k[l, :, :, t] = k.reshape(R, w.kv_heads, hd)
        cache.v[l, :, :, t] = v.reshape(R, w.kv_heads, hd)
        o = np.zeros((R, w.heads * hd))
        for r in range(R):
            keep = np.nonzero(cache.valid[r, :t + 1])[0]
            for e in range(w.heads):
                kh = e // group
                s = cache.k[l, r, kh, keep].astype(np.float64) @ q[r, e * hd:(e + 1) * hd] / np.sqrt(hd)
                p = np.exp(s - s.max())
                o[r, e * hd:(e + 1) * hd] = (p / p.sum()) @ cache.v[l, r, kh, keep].astype(np.float64)
        h = h + lin(o, wo)
        x = _rms(h, w.ln_mlp[l].astype(np.float64), w.eps)
        g = lin(x, wg)
        h = h + lin(g / (1.0 + np.exp(-g)) * lin(x, wu), wd)
    return lin(_rms(h, w.ln_final.astype(np.float64), w.eps), w.head)
