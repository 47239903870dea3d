"""The fused decode step on the real default model: its logits agree with transformers'
own decode step on the same cache, generation switches to it after the prompt pass (and
at the tail of a batch), and its greedy answers equal the transformers path's, or differ
only where that path's two best logits were a rounding apart."""
from __future__ import annotations

import numpy as np
import pytest

from affrepro.errors import ModelError
from affrepro.lm import GenerateRequest, GenerationSettings, load_model

PROMPTS = ["The opposite of hot is", "Write one word for joy:", "1, 2, 3, 4,",
           "Q: Is fire cold? A:", "Translate to French: cat =>", "Name a colour:"]


def test_a_fused_step_agrees_with_transformers_decode_step(smollm2):
    smollm2._ensure_loaded()  # imports transformers the checkout-safe way first
    import torch
    from transformers import DynamicCache

    from affrepro.kernels.llama_decode import DecodeCache, decode_step
    from affrepro.plugins.lm.fused_decode import cache_slots

    assert smollm2.fused is not None and smollm2.describe()["fused"] is True
    model, tok = smollm2.model, smollm2.tokenizer
    rows = [tok.encode(p, add_special_tokens=False) for p in ("The capital of France is", "Hello")]
    width = max(map(len, rows))
    ids = torch.full((2, width), smollm2.pad_id)
    mask = torch.zeros((2, width), dtype=torch.long)
    for b, r in enumerate(rows):  # left padding, as the backend batches
        ids[b, width - len(r):], mask[b, width - len(r):] = torch.tensor(r), 1
    pos = (mask.cumsum(-1) - 1).clamp(min=0)
    with torch.inference_mode():
        cache = DynamicCache(config=model.config)
        first = model(input_ids=ids, attention_mask=mask, position_ids=pos, cache=cache, use_cache=True)
        nxt = first.logits[:, -1].argmax(-1)
        keys, values = cache_slots(cache)
        ours = DecodeCache.from_slots([k.copy() for k in keys], [v.copy() for v in values], mask.numpy(), width + 2)
        fused = decode_step(smollm2.fused, ours, nxt.numpy(), pos[:, -1].numpy() + 1, backend="numba")
        mask2 = torch.cat([mask, torch.ones((2, 1), dtype=torch.long)], 1)
        theirs = model(input_ids=nxt[:, None], attention_mask=mask2, position_ids=pos[:, -1:] + 1,
                       cache=cache, use_cache=True).logits[:, -1].numpy()
    assert np.abs(fused - theirs).max() <= 1e-3
    assert (fused.argmax(-1) == theirs.argmax(-1)).all()


def test_greedy_answers_equal_the_transformers_paths_or_differ_at_a_rounding_tie(smollm2, monkeypatch,
                                                                                  same_or_tie):
    from affrepro.kernels import llama_decode

    settings = GenerationSettings(max_new_tokens=10)
    reqs = [GenerateRequest(prompt=p, settings=settings) for p in PROMPTS]
    calls = []
    real = llama_decode.decode_step
    monkeypatch.setattr(llama_decode, "decode_step", lambda *a, **k: calls.append(1) or real(*a, **k))
    fused = [smollm2.generate([r])[0] for r in reqs[:3]] + smollm2.generate(reqs[3:])  # alone; a batch's tail
    assert calls, "the fused step never ran"
    monkeypatch.setattr(smollm2, "fused", None)
    plain = [smollm2.generate([r])[0] for r in reqs[:3]] + smollm2.generate(reqs[3:])
    assert all(a.completion_tokens > 0 for a in fused)
    same_or_tie(smollm2, PROMPTS, fused, plain)


def test_fused_is_an_option_of_the_spec(registries):
    off = load_model("smollm2-135m?fused=0", registries)
    off._ensure_loaded()
    assert off.fused is None and off.describe()["fused"] is False
    with pytest.raises(ModelError, match="fused="):
        load_model("smollm2-135m?fused=yes", registries)
    with pytest.raises(ModelError, match="fused=1 needs the packed path"):
        load_model("smollm2-135m?fused=1&packed=0", registries)
