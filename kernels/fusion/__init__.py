"""Multimodal fusion operators on compiled kernels: tensor fusion (TFN), low-rank fusion
(LMF) and cross-modal attention (MulT), forward and backward, differentiable in torch.

    tensor_fusion(a, v, t, weight, bias=None)       y = W · vec([1;a] ⊗ [1;v] ⊗ [1;t]) + b
    tensor_fusion(..., dropout=p, seed=s)           y = W · (m ⊙ vec(...)) / (1 − p) + b
    low_rank_fusion(a, v, t, fa, fv, ft, w, bias)   y = Σ_r w_r Π_m ([1;x_m] · F_m[r]) + b
    cross_modal_attention(q, k, v, key_padding_mask=None, scale=None)
                                                    softmax(scale · Q Kᵀ, padded → −∞) V

Inputs are torch tensors of one floating dtype on one device: a, v, t (B, d_m) (a
modality of width 0 makes TFN bimodal); TFN's weight is nn.Linear's (O, (A+1)(V+1)(T+1))
with the flattening of MMSA's TFN (index (i·(V+1) + j)·(T+1) + k); LMF's factors are
(R, d_m + 1, O) and its rank weights (R,); attention takes (B, H, L, D) queries/keys/values,
unequal query and key lengths, any head dim, and a (B, Lk) boolean key padding mask (True
= padded). A query whose keys are all padded gets output 0 and gradient 0 (never NaN).
NaN/inf in one sample's inputs reach that sample's outputs only (and, as in any linear
layer, the weight gradient).

``backend``: ``"reference"`` (float64 torch, :mod:`.reference`), ``"numba"`` (CPU),
``"triton"`` (CUDA tensors; CPU tensors only under ``TRITON_INTERPRET=1``); ``"auto"``
picks Triton for CUDA tensors and Numba otherwise, falling back to the reference with a
:class:`BackendFallbackWarning` when its choice cannot load; an explicit backend that
cannot run raises :class:`BackendUnavailableError`.

TFN's dropout (MMSA's post-fusion dropout on the fused vector z) is inside the kernels:
with rate p > 0, m[b, d] = 1 when the top 24 bits of the counter-based hash
h(s, b, d) = fmix32(r_b ⊕ (d · 0x85EBCA77 mod 2³²)), r_b = fmix32(s + b · 0x9E3779B1 mod 2³²)
(fmix32: murmur3's finaliser) are ≥ ⌈p · 2²⁴⌉, else 0. Every backend (reference, Numba,
Triton) computes the same mask from (s, b, d) and the backward regenerates it, so nothing
of size B × D is saved. See docs/fusion.md.
"""
from __future__ import annotations

import math
from typing import Any

from affrepro.kernels._dispatch import (
    BackendFallbackWarning, BackendUnavailableError, dispatch, import_backend, register_op,
    triton_interpreting,
)

__all__ = ["tensor_fusion", "low_rank_fusion", "cross_modal_attention",
           "BackendUnavailableError", "BackendFallbackWarning"]


# ---------------------------------------------------------------- argument checks
def _describe(name: str, x) -> str:
    return f"{name} {tuple(x.shape)} on {x.device}"


def _check_tensors(named: dict[str, Any]) -> None:
    import torch

    for name, x in named.items():
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
        if not x.is_floating_point():
            raise TypeError(f"{name} must be a floating-point tensor, got dtype {x.dtype} "
                            f"(shape {tuple(x.shape)})")
    devices = {x.device for x in named.values()}
    if len(devices) > 1:
        raise ValueError("the tensors are on different devices: "
                         + ", ".join(_describe(n, x) for n, x in named.items()))
    dtypes = {x.dtype for x in named.values()}
    if len(dtypes) > 1:
        raise TypeError("the tensors must share one dtype: "
                        + ", ".join(f"{n} {x.dtype}" for n, x in named.items()))


def _check_batch(named: dict[str, Any], ndim: int, layout: str) -> int:
    for name, x in named.items():
        if x.ndim != ndim:
            raise ValueError(f"{name} must be {layout}, got shape {tuple(x.shape)}")
    sizes = {x.shape[0] for x in named.values()}
    if len(sizes) > 1:
        raise ValueError("batch sizes differ: " + ", ".join(
            f"{n} has {x.shape[0]} (shape {tuple(x.shape)})" for n, x in named.items()))
    return sizes.pop()


def _check_bias(bias, n_out: int, what: str) -> None:
    if bias is not None and tuple(bias.shape) != (n_out,):
        raise ValueError(f"bias must have shape ({n_out},) for {what}, got {tuple(bias.shape)}")


# ---------------------------------------------------------------- backends
_MODULES = {"reference": "affrepro.kernels.fusion.reference",
            "numba": "affrepro.kernels.fusion.numba_impl",
            "triton": "affrepro.kernels.fusion.triton_impl"}
_OPS = {name: register_op(name, ("numba", "triton"))
        for name in ("tensor_fusion", "low_rank_fusion", "cross_modal_attention")}
_OPS["tensor_fusion_dropout"] = register_op("tensor_fusion_dropout", ("numba", "triton"))


def _load(name: str):
    return import_backend(_MODULES[name], name)


def _ready(name: str, device) -> str:
    """``name`` if that backend can run on ``device`` (its module loaded), else raise."""
    if name == "triton" and device.type != "cuda" and not triton_interpreting():
        raise BackendUnavailableError(
            f"triton backend needs CUDA tensors (or TRITON_INTERPRET=1 for CPU tensors); "
            f"got tensors on {device}")
    if name != "reference" and device.type == "meta":
        raise BackendUnavailableError("tensors on the meta device hold no data")
    _load(name)
    return name


def _resolve(kernel: str, backend: str, device) -> str:
    """The backend that will run, chosen by the kernels' one dispatcher (auto, explicit,
    AFFREPRO_KERNEL_BACKEND, fallback with a warning); the autograd node then runs it."""
    return dispatch(_OPS[kernel], backend, {name: (lambda n=name: _ready(n, device))
                                            for name in _MODULES},
                    gpu=device.type == "cuda")


def _np(x):
    """A torch tensor as a contiguous NumPy array (half precision computed in float32)."""
    import numpy as np
    import torch

    if x is None:
        return None
    x = x.detach()
    if x.dtype in (torch.float16, torch.bfloat16):
        x = x.float()
    return np.ascontiguousarray(x.cpu().numpy())


def _torch(arrays, like):
    import torch

    return [None if a is None else torch.from_numpy(a).to(device=like.device, dtype=like.dtype)
            for a in arrays]


def _run_forward(kernel: str, backend: str, args):
    import torch

    mod = _load(backend)
    if backend == "numba":
        np_args = [_np(x) if isinstance(x, torch.Tensor) else x for x in args]
        out, saved = getattr(mod, kernel + "_forward")(*np_args)
        return _torch([out], args[0])[0], saved
    return getattr(mod, kernel + "_forward")(*args)


def _make_function():
    import torch
    from torch.autograd.function import once_differentiable

    class _Fusion(torch.autograd.Function):
        """One autograd node for any backend's forward/backward pair."""

        @staticmethod
        def forward(ctx, kernel, backend, n_grads, *args):
            out, saved = _run_forward(kernel, backend, args)
            ctx.kernel, ctx.backend, ctx.args, ctx.saved, ctx.n_grads = (
                kernel, backend, args, saved, n_grads)
            return out

        @staticmethod
        @once_differentiable
        def backward(ctx, grad):
            kernel, backend, args, saved = ctx.kernel, ctx.backend, ctx.args, ctx.saved
            like = args[0]
            mod = _load(backend)
            if backend == "reference":
                grads = getattr(mod, kernel + "_backward")(*args, saved, grad)
            elif backend == "numba":
                if kernel == "attention":
                    grads = _torch(mod.attention_backward(saved, _np(grad)), like)
                else:
                    need_bias = (args[4] if kernel.startswith("tfn") else args[-1]) is not None
                    grads = _torch(getattr(mod, kernel + "_backward")(
                        saved, _np(grad), need_bias), like)
            elif kernel == "attention":
                grads = mod.attention_backward(saved, grad)
            else:
                need_bias = (args[4] if kernel.startswith("tfn") else args[-1]) is not None
                grads = mod.__dict__[kernel + "_backward"](saved, grad, need_bias, like.dtype)
            grads = list(grads)[:ctx.n_grads]
            return (None, None, None, *grads, *([None] * (len(args) - len(grads))))

    return _Fusion


_FUNCTION = None


def _apply(kernel: str, backend: str, n_grads: int, *args):
    global _FUNCTION
    if _FUNCTION is None:
        _FUNCTION = _make_function()
    return _FUNCTION.apply(kernel, backend, n_grads, *args)


# ---------------------------------------------------------------- public operators
def _check_dropout(dropout, seed):
    """(p, seed) validated: 0 ≤ p < 1, seed an integer in [0, 2³²) (drawn from torch's
    default generator when None and p > 0)."""
    import torch

    if isinstance(dropout, bool) or not isinstance(dropout, (int, float)):
        raise TypeError(f"dropout must be a float in [0, 1), got {type(dropout).__name__}")
    p = float(dropout)
    if not 0.0 <= p < 1.0:  # NaN fails too
        raise ValueError(f"dropout must be in [0, 1), got {dropout}")
    if seed is None:
        if p == 0.0:
            return p, 0
        seed = int(torch.randint(0, 2**32, (1,), dtype=torch.int64).item())
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int in [0, 2**32), got {type(seed).__name__}")
    if not 0 <= seed < 2**32:
        raise ValueError(f"seed must be in [0, 2**32), got {seed}")
    return p, seed


def tensor_fusion(a, v, t, weight, bias=None, *, dropout: float = 0.0,
                  seed: int | None = None, backend: str = "auto"):
    """TFN: y_b = W · vec([1;a_b] ⊗ [1;v_b] ⊗ [1;t_b]) + bias, (B, O), without ever
    storing the B × (A+1)(V+1)(T+1) outer product (see :mod:`.numba_impl`).

    ``dropout`` = p > 0 applies MMSA's post-fusion dropout to the fused vector inside the
    kernel: y_b = W · (m_b ⊙ z_b) / (1 − p) + bias with the hash mask of the module doc,
    m[b, d] a function of (``seed``, b, d) only (``seed`` None: drawn from torch's default
    generator). It is always applied when p > 0: pass 0 in eval mode. p = 0 is the plain
    path, unchanged."""
    named = {"a": a, "v": v, "t": t, "weight": weight}
    if bias is not None:
        named["bias"] = bias
    _check_tensors(named)
    n_b = _check_batch({"a": a, "v": v, "t": t}, 2, "(batch, features)")
    if weight.ndim != 2:
        raise ValueError(f"weight must be (outputs, fused features), got shape "
                         f"{tuple(weight.shape)}")
    want = (a.shape[1] + 1) * (v.shape[1] + 1) * (t.shape[1] + 1)
    if weight.shape[1] != want:
        raise ValueError(
            f"weight has {weight.shape[1]} columns (shape {tuple(weight.shape)}) but a, v, t of "
            f"widths {a.shape[1]}, {v.shape[1]}, {t.shape[1]} need ({a.shape[1]}+1)"
            f"({v.shape[1]}+1)({t.shape[1]}+1) = {want}")
    _check_bias(bias, weight.shape[0], f"weight {tuple(weight.shape)}")
    del n_b
    p, seed = _check_dropout(dropout, seed)
    if p > 0.0:
        used = _resolve("tensor_fusion_dropout", backend, a.device)
        return _apply("tfn_dropout", used, 5, a, v, t, weight, bias, p, seed)
    used = _resolve("tensor_fusion", backend, a.device)
    return _apply("tfn", used, 5, a, v, t, weight, bias)


def low_rank_fusion(a, v, t, factor_a, factor_v, factor_t, rank_weights, bias=None, *,
                    backend: str = "auto"):
    """LMF: y_b = Σ_r w_r Π_m ([1;x_m,b] · F_m[r]) + bias, factors (R, d_m + 1, O)."""
    named = {"a": a, "v": v, "t": t, "factor_a": factor_a, "factor_v": factor_v,
             "factor_t": factor_t, "rank_weights": rank_weights}
    if bias is not None:
        named["bias"] = bias
    _check_tensors(named)
    _check_batch({"a": a, "v": v, "t": t}, 2, "(batch, features)")
    if factor_a.ndim != 3:
        raise ValueError(f"factor_a must be (rank, A + 1, outputs), got {tuple(factor_a.shape)}")
    n_r, _, n_o = factor_a.shape
    for name, x, f in (("a", a, factor_a), ("v", v, factor_v), ("t", t, factor_t)):
        if tuple(f.shape) != (n_r, x.shape[1] + 1, n_o):
            raise ValueError(f"factor_{name} must be (rank, {name} width + 1, outputs) = "
                             f"({n_r}, {x.shape[1] + 1}, {n_o}) for {name} {tuple(x.shape)}, got "
                             f"{tuple(f.shape)}")
    if tuple(rank_weights.shape) != (n_r,):
        raise ValueError(f"rank_weights must have shape ({n_r},), got "
                         f"{tuple(rank_weights.shape)}")
    _check_bias(bias, n_o, f"factors of {n_o} outputs")
    used = _resolve("low_rank_fusion", backend, a.device)
    return _apply("lmf", used, 8, a, v, t, factor_a, factor_v, factor_t, rank_weights, bias)


def cross_modal_attention(q, k, v, key_padding_mask=None, *, scale: float | None = None,
                          backend: str = "auto"):
    """softmax(scale · Q Kᵀ) V per batch and head, padded keys excluded; q (B, H, Lq, D),
    k (B, H, Lk, D), v (B, H, Lk, Dv), key_padding_mask (B, Lk) bool, True = padded;
    scale defaults to 1/√D. Returns (B, H, Lq, Dv)."""
    import torch

    _check_tensors({"q": q, "k": k, "v": v})
    _check_batch({"q": q, "k": k, "v": v}, 4, "(batch, heads, length, head dim)")
    if q.shape[1] != k.shape[1] or k.shape[1] != v.shape[1]:
        raise ValueError(f"head counts differ: q {tuple(q.shape)}, k {tuple(k.shape)}, "
                         f"v {tuple(v.shape)}")
    if q.shape[3] != k.shape[3]:
        raise ValueError(f"q and k head dims differ: q {tuple(q.shape)}, k {tuple(k.shape)}")
    if k.shape[2] != v.shape[2]:
        raise ValueError(f"k and v lengths differ: k {tuple(k.shape)}, v {tuple(v.shape)}")
    if key_padding_mask is not None:
        if not isinstance(key_padding_mask, torch.Tensor) or key_padding_mask.dtype != torch.bool:
            raise TypeError("key_padding_mask must be a bool tensor (True = padded), got "
                            f"{getattr(key_padding_mask, 'dtype', type(key_padding_mask).__name__)}")
        if tuple(key_padding_mask.shape) != (k.shape[0], k.shape[2]):
            raise ValueError(f"key_padding_mask must be (batch, key length) = "
                             f"({k.shape[0]}, {k.shape[2]}) for k {tuple(k.shape)}, got "
                             f"{tuple(key_padding_mask.shape)}")
        if key_padding_mask.device != q.device:
            raise ValueError(f"the tensors are on different devices: {_describe('q', q)}, "
                             f"{_describe('key_padding_mask', key_padding_mask)}")
    if scale is None:
        scale = 1.0 / math.sqrt(q.shape[3]) if q.shape[3] else 1.0
    scale = float(scale)
    if not math.isfinite(scale):
        raise ValueError(f"scale must be a finite number, got {scale}")
    used = _resolve("cross_modal_attention", backend, q.device)
    if key_padding_mask is None and used == "numba":
        key_padding_mask = torch.zeros((k.shape[0], k.shape[2]), dtype=torch.bool,
                                       device=q.device)
    return _apply("attention", used, 3, q, k, v, key_padding_mask, scale)
