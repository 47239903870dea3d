"""Fused decode for the ``local`` backend: a decode step of at most ``packed_rows`` rows
runs as one compiled call over the whole layer stack (:mod:`affrepro.kernels.llama_decode`)
instead of transformers' forward pass, whose Python and small ops between the packed
kernels cost as much as the kernels themselves at batch 1.

Only for a llama-family model whose every linear layer is packed (Q4_1 layers, Q8_0 output
layer), with SiLU, no biases and the default rotary embedding; anything else decodes
through transformers as before (:func:`weights` returns None with the reason). The prompt
pass (prefill) stays transformers'; its key/value cache is copied once into the step's own
(:meth:`DecodeCache.from_slots`) when decoding switches over.
"""
from __future__ import annotations

import numpy as np

from affrepro.kernels.llama_decode import PROJECTIONS, DecodeCache, DecodeWeights

_MODULES = {"q": "self_attn.q_proj", "k": "self_attn.k_proj", "v": "self_attn.v_proj", "o": "self_attn.o_proj",
            "gate": "mlp.gate_proj", "up": "mlp.up_proj", "down": "mlp.down_proj"}


def _module(layer, dotted: str):
    for part in dotted.split("."):
        layer = getattr(layer, part, None)
    return layer


def weights(model) -> tuple[DecodeWeights | None, str]:
    """The fused step's view of ``model`` (its packed blocks, norms and embeddings, shared,
    not copied), or None and why not."""
    cfg = model.config
    rope = (getattr(cfg, "rope_parameters", None) or {}).get("rope_type", "default")
    if getattr(cfg, "model_type", None) != "llama":
        return None, f"model type {getattr(cfg, 'model_type', None)!r} is not llama"
    if getattr(cfg, "hidden_act", None) != "silu" or getattr(cfg, "attention_bias", False) \
            or getattr(cfg, "mlp_bias", False) or rope != "default":
        return None, "activation, biases or rotary type other than llama's defaults"
    layers = []
    for layer in model.model.layers:
        projs = [getattr(_module(layer, _MODULES[name]), "packed", None) for name in PROJECTIONS]
        if any(p is None or p.kind != "Q4_1" for p in projs):
            return None, "not every linear layer is packed Q4_1"
        layers.append(projs)
    head = getattr(getattr(model, "lm_head", None), "packed", None)
    if head is None or head.kind != "Q8_0":
        return None, "the output layer is not packed Q8_0"
    rotary = model.model.rotary_emb
    arr = lambda t: t.detach().float().contiguous().numpy()  # noqa: E731 - shares memory
    w = DecodeWeights(
        emb=arr(model.model.embed_tokens.weight), layers=layers, head=head,
        ln_attn=np.stack([arr(l.input_layernorm.weight) for l in model.model.layers]),
        ln_mlp=np.stack([arr(l.post_attention_layernorm.weight) for l in model.model.layers]),
        ln_final=arr(model.model.norm.weight), eps=float(cfg.rms_norm_eps),
        inv_freq=arr(rotary.inv_freq), rope_scale=float(getattr(rotary, "attention_scaling", 1.0)),
        heads=cfg.num_attention_heads, kv_heads=cfg.num_key_value_heads,
        head_dim=getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads)
    return w, ""


def cache_slots(cache) -> tuple[list, list]:
    """Per layer (R, H_kv, t, d) keys and values of a transformers ``DynamicCache``, as NumPy."""
    return ([layer.keys.detach().numpy() for layer in cache.layers],
            [layer.values.detach().numpy() for layer in cache.layers])


def decode_cache(cache, attn, new_tokens: int) -> DecodeCache:
    """The fused step's cache from transformers' after the passes so far; ``attn`` (R, t + 1)
    is the mask including this step's token; room for ``new_tokens`` more."""
    keys, values = cache_slots(cache)
    filled = attn.shape[1] - 1
    return DecodeCache.from_slots(keys, values, attn[:, :filled].numpy(), filled + new_tokens + 1)
