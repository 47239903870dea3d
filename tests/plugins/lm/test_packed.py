"""The local backend's packed GGUF path on the real default model: every packed layer holds
the weights transformers decoded from the same file (names and the q/k row permutation
right), its logits agree with the float32 path, and its greedy answers equal the float32
path's, or differ only where the float32 path's two best tokens were a rounding apart."""
from __future__ import annotations

import numpy as np
import pytest

from affrepro.errors import ModelError
from affrepro.lm import GenerateRequest, GenerationSettings, load_model
from affrepro.plugins.lm import gguf_packed

PROMPTS = ["The opposite of hot is", "Write one word for joy:", "1, 2, 3, 4,",
           "The capital of Italy is", "Q: Is fire cold? A:", "Translate to French: cat =>"]


def test_every_packed_layer_holds_the_weight_transformers_decoded(smollm2):
    smollm2._ensure_loaded()
    assert smollm2.packed and smollm2.packed_layers == {"Q4_1": 210, "Q8_0": 1}
    mods = gguf_packed.packed_modules(smollm2.model)
    assert len(mods) == 211 and "lm_head" in mods and "model.layers.0.self_attn.q_proj" in mods
    for name, mod in mods.items():
        # q/k (rows permuted) whole, the others every 7th row: a wrong name or permutation
        # moves whole rows
        rows = slice(None) if name.endswith(("q_proj", "k_proj")) else slice(None, None, 7)
        w = mod.weight.detach().numpy()[rows]
        decoded = gguf_packed.reference.dequantize(mod.packed.raw[rows], mod.packed.kind)
        assert np.abs(decoded - w).max() <= 1e-6 * np.abs(w).max(), name


def test_packed_logits_agree_with_the_float32_path(smollm2):
    import torch

    ids = torch.tensor([smollm2.tokenizer.encode("The capital of France is", add_special_tokens=False)])
    model = smollm2.model
    with torch.inference_mode():
        with gguf_packed.rows_limit(model, 0):
            plain = model(input_ids=ids).logits
        with gguf_packed.rows_limit(model, 10**6):
            packed = model(input_ids=ids).logits
    assert torch.isfinite(packed).all()
    assert (packed - plain).abs().max().item() <= 2e-3


def test_greedy_answers_equal_the_float32_paths_or_differ_at_a_rounding_tie(smollm2, same_or_tie):
    """Both paths over the same batch (the kernel for every row, then sgemm for every row);
    at a first differing token the float32 path's top two logits must be within 1e-3."""
    settings = GenerationSettings(max_new_tokens=8)
    reqs = [GenerateRequest(prompt=p, settings=settings) for p in PROMPTS]
    model = smollm2.model
    with gguf_packed.rows_limit(model, 10**6):
        packed = smollm2.generate(reqs)
    with gguf_packed.rows_limit(model, 0):
        plain = smollm2.generate(reqs)
    same_or_tie(smollm2, PROMPTS, packed, plain)


def test_packed_is_an_option_of_the_spec(registries):
    plain = load_model("smollm2-135m?packed=0", registries)
    assert plain.packed is False and plain.describe()["packed"] is False
    with pytest.raises(ModelError, match="packed="):
        load_model("smollm2-135m?packed=yes", registries)
    with pytest.raises(ModelError, match="packed_rows"):
        load_model("smollm2-135m?packed_rows=two", registries)
    with pytest.raises(ModelError, match="GGUF file on the CPU in float32"):
        load_model("smollm2-135m?packed=1&dtype=int8", registries)


def test_the_blocks_kept_beside_the_converted_folder_are_the_files(smollm2):
    """The copy the next load reads (packed.safetensors) holds the bytes the session's
    model was built from (from the GGUF on a fresh machine, from that copy later)."""
    smollm2._ensure_loaded()
    kept = gguf_packed.packed_tensors(smollm2.path, smollm2.folder)
    assert (smollm2.folder / "packed.safetensors").is_file()
    mods = gguf_packed.packed_modules(smollm2.model)
    kind, raw = kept["blk.3.ffn_down.weight"]
    assert kind == "Q4_1" and np.array_equal(raw, mods["model.layers.3.mlp.down_proj"].packed.raw)
    kind, raw = kept["token_embd.weight"]
    assert kind == "Q8_0" and np.array_equal(raw, mods["lm_head"].packed.raw)
    assert len(kept) == 211
