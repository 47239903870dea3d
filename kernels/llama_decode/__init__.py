"""One decode step of a llama-family causal LM on packed GGUF weights, the whole layer stack
in one compiled call (no Python between the layers).

For R rows, each with its next token and position p, a key/value cache of slots
``0 .. t - 1`` and a mask of the slots each row may attend to (left padding):

    h = E[token]
    for every layer:
        x = g_attn ⊙ h / sqrt(mean(h²) + ε)                          (RMSNorm)
        q, k, v = x·Wqᵀ, x·Wkᵀ, x·Wvᵀ                                 (Q4_1 blocks)
        rotary, per head, i < d/2, θ_i = p · f_i (f_i the model's inverse frequencies):
            (a, b) = (q_i, q_{i+d/2}) → (a cos θ_i − b sin θ_i, b cos θ_i + a sin θ_i), same for k
        slot t ← (k, v); slot t is valid
        per head η (key/value head η // (H / H_kv)):
            s_j = q_η · k_j / √d over valid slots j ≤ t;  o_η = Σ_j softmax(s)_j v_j
        h += o·Woᵀ
        x = g_mlp ⊙ h / sqrt(mean(h²) + ε)
        h += (silu(x·Wgᵀ) ⊙ x·Wuᵀ)·Wdᵀ,   silu(z) = z / (1 + e^(−z))
    logits = (g_final ⊙ h / sqrt(mean(h²) + ε))·Wlmᵀ                  (Q8_0 blocks)

This is transformers' ``LlamaForCausalLM`` forward pass for one new token with eager
attention, the same operations in float32 in another summation order (the mean of h² is
accumulated in float64). Each linear layer is :func:`affrepro.kernels.gguf_linear.packed_matmul`
on the file's blocks.

``backend``: ``"numba"`` (CPU), ``"reference"`` (float64 NumPy on the decoded weights, for
tests), ``"auto"`` Numba with the reference as fallback (:class:`BackendFallbackWarning`).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from affrepro.kernels._dispatch import dispatch, import_backend, register_op
from affrepro.kernels.gguf_linear import PackedWeight

__all__ = ["DecodeWeights", "DecodeCache", "decode_step", "PROJECTIONS"]

DECODE_STEP = register_op("llama_decode.decode_step", ("numba",))
PROJECTIONS = ("q", "k", "v", "o", "gate", "up", "down")


@dataclass
class DecodeWeights:
    """A model's weights as the step reads them. ``layers[l][i]`` is projection
    ``PROJECTIONS[i]`` of layer l (all Q4_1), ``head`` the output layer (Q8_0); ``emb`` (V, D)
    float32 token embeddings; ``ln_attn``/``ln_mlp`` (L, D) and ``ln_final`` (D,) the RMSNorm
    gains; ``inv_freq`` (d/2,) the rotary inverse frequencies, ``rope_scale`` the factor on
    cos and sin."""

    emb: np.ndarray
    layers: list[list[PackedWeight]]
    head: PackedWeight
    ln_attn: np.ndarray
    ln_mlp: np.ndarray
    ln_final: np.ndarray
    eps: float
    inv_freq: np.ndarray
    rope_scale: float
    heads: int
    kv_heads: int
    head_dim: int
    flat: tuple = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._check()
        self.flat = _flatten(self.layers)

    @property
    def hidden(self) -> int:
        return self.emb.shape[1]

    @property
    def vocab(self) -> int:
        return self.head.out_features

    @property
    def intermediate(self) -> int:
        return self.layers[0][PROJECTIONS.index("gate")].out_features

    def _check(self) -> None:
        D, hd = self.hidden, self.head_dim
        shapes = {"q": (self.heads * hd, D), "k": (self.kv_heads * hd, D), "v": (self.kv_heads * hd, D),
                  "o": (D, self.heads * hd), "gate": (self.intermediate, D), "up": (self.intermediate, D),
                  "down": (D, self.intermediate)}
        if self.heads % self.kv_heads or hd % 2:
            raise ValueError(f"llama_decode: {self.heads} heads over {self.kv_heads} key/value heads "
                             f"of dim {hd}: expected whole groups and an even head dim")
        for l, projs in enumerate(self.layers):
            for name, w in zip(PROJECTIONS, projs, strict=True):
                if w.kind != "Q4_1" or (w.out_features, w.in_features) != shapes[name]:
                    raise ValueError(f"llama_decode: layer {l} {name}: {w.kind} {(w.out_features, w.in_features)}, "
                                     f"expected Q4_1 {shapes[name]}")
        if self.head.kind != "Q8_0" or self.head.in_features != D:
            raise ValueError(f"llama_decode: output layer {self.head.kind} in_features {self.head.in_features}, "
                             f"expected Q8_0 with {D}")


def _flatten(layers: list[list[PackedWeight]]):
    """Every layer's interleaved blocks in three flat arrays and an (L, 7, 2) table of
    (scale offset, code offset); each PackedWeight's arrays are rebound to views of the flat
    ones, so the model keeps one copy."""
    ws = [w for projs in layers for w in projs]
    d_all = np.concatenate([w.d for w in ws])
    m_all = np.concatenate([w.m for w in ws])
    qs_all = np.concatenate([w.qs for w in ws])
    offsets = np.zeros((len(layers), len(PROJECTIONS), 2), np.int64)
    d0 = q0 = 0
    for i, w in enumerate(ws):
        offsets[i // len(PROJECTIONS), i % len(PROJECTIONS)] = (d0, q0)
        object.__setattr__(w, "d", d_all[d0:d0 + w.d.size])
        object.__setattr__(w, "m", m_all[d0:d0 + w.m.size])
        object.__setattr__(w, "qs", qs_all[q0:q0 + w.qs.size])
        d0 += w.d.size
        q0 += w.qs.size
    return d_all, m_all, qs_all, offsets


@dataclass
class DecodeCache:
    """Keys and values after rotary, (L, R, H_kv, capacity, d) float32 each; ``valid`` (R,
    capacity) uint8, the slots each row attends to; ``t`` the slots filled."""

    k: np.ndarray
    v: np.ndarray
    valid: np.ndarray
    t: int

    @classmethod
    def from_slots(cls, keys: list[np.ndarray], values: list[np.ndarray], mask: np.ndarray,
                   capacity: int) -> "DecodeCache":
        """``keys``/``values``: per layer (R, H_kv, t, d) (a transformers cache's tensors);
        ``mask`` (R, t): 1 where a row's slot holds a token; room for ``capacity`` slots."""
        L = len(keys)
        R, kvh, t, d = keys[0].shape
        if mask.shape != (R, t) or capacity < t:
            raise ValueError(f"DecodeCache: mask {mask.shape} for {R} rows of {t} slots, capacity {capacity}")
        k = np.zeros((L, R, kvh, capacity, d), np.float32)
        v = np.zeros_like(k)
        for l in range(L):
            k[l, :, :, :t] = keys[l]
            v[l, :, :, :t] = values[l]
        valid = np.zeros((R, capacity), np.uint8)
        valid[:, :t] = mask != 0
        return cls(k, v, valid, t)

    def select(self, rows) -> None:
        """Keep these rows, in this order."""
        rows = np.asarray(rows, np.int64)
        self.k, self.v, self.valid = self.k[:, rows].copy(), self.v[:, rows].copy(), self.valid[rows].copy()


_IMPL: list = []


def _numba(w: DecodeWeights, cache: DecodeCache, tokens: np.ndarray, positions: np.ndarray) -> np.ndarray:
    if not _IMPL:
        _IMPL.append(import_backend("affrepro.kernels.llama_decode.numba_impl", "numba"))
    d_all, m_all, qs_all, offsets = w.flat
    logits = np.empty((tokens.size, w.head.padded_rows), np.float32)
    _IMPL[0].decode_step(tokens, positions, w.emb, d_all, m_all, qs_all, offsets, w.ln_attn, w.ln_mlp,
                         w.ln_final, np.float32(w.eps), w.inv_freq, np.float32(w.rope_scale), w.head.d,
                         w.head.qs, w.heads, w.kv_heads, w.head_dim, w.intermediate, cache.k, cache.v,
                         cache.valid, cache.t, logits)
    return logits[:, :w.vocab]


def _reference(w: DecodeWeights, cache: DecodeCache, tokens: np.ndarray, positions: np.ndarray) -> np.ndarray:
    from affrepro.kernels.llama_decode import reference

    return reference.decode_step(w, cache, tokens, positions).astype(np.float32)


def decode_step(weights: DecodeWeights, cache: DecodeCache, tokens, positions, backend: str = "auto") -> np.ndarray:
    """Logits (R, V) float32 of the next token after ``tokens`` (R,) at ``positions`` (R,);
    writes their keys and values into slot ``cache.t`` and advances it."""
    tokens = np.ascontiguousarray(tokens, np.int64).reshape(-1)
    positions = np.ascontiguousarray(positions, np.int64).reshape(-1)
    R, cap = cache.valid.shape
    if tokens.size != R or positions.size != R:
        raise ValueError(f"decode_step: {tokens.size} tokens and {positions.size} positions for a cache of {R} rows")
    if cache.t >= cap:
        raise ValueError(f"decode_step: the cache is full ({cap} slots)")
    if tokens.size and (tokens.min() < 0 or tokens.max() >= weights.emb.shape[0]):
        raise ValueError(f"decode_step: token ids must lie in 0 .. {weights.emb.shape[0] - 1}, "
                         f"got {tokens.min()} .. {tokens.max()}")
    out = dispatch(DECODE_STEP, backend, {"numba": lambda: _numba(weights, cache, tokens, positions),
                                          "reference": lambda: _reference(weights, cache, tokens, positions)})
    cache.t += 1
    return out
