"""Numba CPU kernel of one llama decode step on packed GGUF weights (one compiled call
for the whole layer stack; the linear layers are :mod:`affrepro.kernels.gguf_linear`'s
``prange`` kernels, attention runs ``prange`` over (row, head)). Formulas in
:mod:`affrepro.kernels.llama_decode`.
"""
from __future__ import annotations

import math

import numba as nb
import numpy as np

from affrepro.kernels.gguf_linear.numba_impl import q4_1_matmul, q8_0_matmul

_FM = {"reassoc", "contract"}
_OPTS = dict(cache=True, nogil=True, fastmath=_FM)
# projections of a layer, in the order of the offset table's second axis
Q, K, V, O, GATE, UP, DOWN = 0, 1, 2, 3, 4, 5, 6


@nb.njit(**_OPTS)
def _pad8(n):  # pragma: no cover - compiled
    return -(-n // 8) * 8


@nb.njit(**_OPTS)
def _rms_norm(h, w, eps, out):  # pragma: no cover - compiled
    for r in range(h.shape[0]):
        ss = 0.0  # float64 accumulator
        for i in range(h.shape[1]):
            ss += np.float64(h[r, i]) * np.float64(h[r, i])
        scale = np.float32(1.0 / math.sqrt(np.float32(ss / h.shape[1]) + eps))
        for i in range(h.shape[1]):
            out[r, i] = w[i] * (h[r, i] * scale)


@nb.njit(**_OPTS)
def _rotate(x, r, heads, head_dim, cos, sin):  # pragma: no cover - compiled
    half = head_dim // 2
    for hh in range(heads):
        base = hh * head_dim
        for i in range(half):
            a = x[r, base + i]
            b = x[r, base + half + i]
            x[r, base + i] = a * cos[i] - b * sin[i]
            x[r, base + half + i] = b * cos[i] + a * sin[i]


@nb.njit(**_OPTS)
def _linear(x, d_all, m_all, qs_all, off, out_rows, in_features, y):  # pragma: no cover
    nblk = in_features // 32
    groups = -(-out_rows // 8)
    n_d = groups * 8 * nblk
    d0, q0 = off[0], off[1]
    q4_1_matmul(x, d_all[d0:d0 + n_d], m_all[d0:d0 + n_d], qs_all[q0:q0 + n_d * 16], y)


@nb.njit(parallel=True, **_OPTS)
def _attention(q, kc, vc, valid, t, heads, kv_heads, head_dim, scale, out):  # pragma: no cover
    group = heads // kv_heads
    rows = q.shape[0]
    for task in nb.prange(rows * heads):
        r = task // heads
        hh = task - r * heads
        kh = hh // group
        qb = hh * head_dim
        s = np.empty(t + 1, np.float32)
        top = -np.inf
        for j in range(t + 1):
            if valid[r, j]:
                acc = np.float32(0.0)
                for i in range(head_dim):
                    acc += q[r, qb + i] * kc[r, kh, j, i]
                acc *= scale
                s[j] = acc
                if acc > top:
                    top = acc
        total = np.float32(0.0)
        for j in range(t + 1):
            if valid[r, j]:
                e = np.float32(math.exp(s[j] - top))
                s[j] = e
                total += e
            else:
                s[j] = 0.0
        for i in range(head_dim):
            out[r, qb + i] = 0.0
        for j in range(t + 1):
            p = s[j]
            if p != 0.0:
                for i in range(head_dim):
                    out[r, qb + i] += p * vc[r, kh, j, i]
        inv = np.float32(1.0) / total
        for i in range(head_dim):
            out[r, qb + i] *= inv


@nb.njit(**_OPTS)
def decode_step(tokens, positions, emb, d_all, m_all, qs_all, offsets, ln_attn, ln_mlp, ln_final,
                eps, inv_freq, rope_scale, head_d, head_qs, heads, kv_heads, head_dim, inter,
                kcache, vcache, valid, t, logits):  # pragma: no cover - compiled
    rows = tokens.shape[0]
    hidden = emb.shape[1]
    layers = offsets.shape[0]
    kvw = kv_heads * head_dim
    h = np.empty((rows, hidden), np.float32)
    xn = np.empty((rows, hidden), np.float32)
    q = np.empty((rows, _pad8(heads * head_dim)), np.float32)
    k = np.empty((rows, _pad8(kvw)), np.float32)
    v = np.empty((rows, _pad8(kvw)), np.float32)
    att = np.empty((rows, heads * head_dim), np.float32)
    proj = np.empty((rows, _pad8(hidden)), np.float32)
    gate = np.empty((rows, _pad8(inter)), np.float32)
    up = np.empty((rows, _pad8(inter)), np.float32)
    act = np.empty((rows, inter), np.float32)
    half = head_dim // 2
    cos = np.empty((rows, half), np.float32)
    sin = np.empty((rows, half), np.float32)
    for r in range(rows):
        h[r] = emb[tokens[r]]
        valid[r, t] = 1
        p = np.float32(positions[r])
        for i in range(half):
            ang = p * inv_freq[i]
            cos[r, i] = np.float32(math.cos(ang)) * rope_scale
            sin[r, i] = np.float32(math.sin(ang)) * rope_scale
    scale = np.float32(1.0 / math.sqrt(head_dim))
    for layer in range(layers):
        off = offsets[layer]
        _rms_norm(h, ln_attn[layer], eps, xn)
        _linear(xn, d_all, m_all, qs_all, off[Q], heads * head_dim, hidden, q)
        _linear(xn, d_all, m_all, qs_all, off[K], kvw, hidden, k)
        _linear(xn, d_all, m_all, qs_all, off[V], kvw, hidden, v)
        for r in range(rows):
            _rotate(q, r, heads, head_dim, cos[r], sin[r])
            _rotate(k, r, kv_heads, head_dim, cos[r], sin[r])
            for kh in range(kv_heads):
                for i in range(head_dim):
                    kcache[layer, r, kh, t, i] = k[r, kh * head_dim + i]
                    vcache[layer, r, kh, t, i] = v[r, kh * head_dim + i]
        _attention(q, kcache[layer], vcache[layer], valid, t, heads, kv_heads, head_dim, scale, att)
        _linear(att, d_all, m_all, qs_all, off[O], hidden, heads * head_dim, proj)
        for r in range(rows):
            for i in range(hidden):
                h[r, i] += proj[r, i]
        _rms_norm(h, ln_mlp[layer], eps, xn)
        _linear(xn, d_all, m_all, qs_all, off[GATE], inter, hidden, gate)
        _linear(xn, d_all, m_all, qs_all, off[UP], inter, hidden, up)
        for r in range(rows):
            for i in range(inter):
                g = gate[r, i]
                act[r, i] = g / (np.float32(1.0) + np.float32(math.exp(-g))) * up[r, i]
        _linear(act, d_all, m_all, qs_all, off[DOWN], hidden, inter, proj)
        for r in range(rows):
            for i in range(hidden):
                h[r, i] += proj[r, i]
    _rms_norm(h, ln_final, eps, xn)
    q8_0_matmul(xn, head_d, head_qs, logits)
