"""Test isolation: every test gets its own affrepro home and data dir, loads only this
project's own plugins (never a third-party plugin that happens to be installed), and
starts with a fresh plugin manager."""
from __future__ import annotations

import os
from pathlib import Path

import pytest


_SESSION_DATA_DIR = os.environ.get("AFFREPRO_DATA_DIR")  # before the per-test isolation


@pytest.fixture(scope="session")
def session_models_dir(pytestconfig, tmp_path_factory) -> Path:
    """Where the embedded default language model lives for the whole session (fetched and
    converted once): AFFREPRO_TEST_MODELS_DIR, else <AFFREPRO_DATA_DIR as the session
    started>/models, else pytest's cache folder (the language-model tests use the same)."""
    env = os.environ.get("AFFREPRO_TEST_MODELS_DIR")
    if env:
        return Path(env)
    if _SESSION_DATA_DIR:
        return Path(_SESSION_DATA_DIR) / "models"
    if getattr(pytestconfig, "cache", None) is not None:  # None under -p no:cacheprovider
        return Path(pytestconfig.cache.mkdir("affrepro-models"))
    return tmp_path_factory.mktemp("affrepro-models")


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, session_models_dir: Path):
    monkeypatch.setenv("AFFREPRO_HOME", str(tmp_path / "affrepro-home"))
    monkeypatch.setenv("AFFREPRO_DATA_DIR", str(tmp_path / "affrepro-data"))
    # a run that asks a language model (a class-C dry run) finds the session's model, not a
    # fresh download in the test's own data dir
    monkeypatch.setenv("AFFREPRO_MODELS_DIR", str(session_models_dir))
    monkeypatch.setenv("AFFREPRO_LOAD_PLUGINS", "")  # built-ins always load; no third party
    for var in ("AFFREPRO_STRICT_PLUGINS", "AFFREPRO_TRACE_PLUGINS", "MLFLOW_TRACKING_URI"):
        monkeypatch.delenv(var, raising=False)
    from affrepro import plugin_manager

    plugin_manager.reset()
    yield
    plugin_manager.reset()


@pytest.fixture
def mirror() -> Path:
    """The real-data mirror (AFFREPRO_DATA_MIRROR); skips the test when it is absent."""
    path = os.environ.get("AFFREPRO_DATA_MIRROR")
    if not path or not Path(path).is_dir():
        pytest.skip("real data needs AFFREPRO_DATA_MIRROR=<folder of <dataset>/<file>> "
                    "(e.g. ../shared/data); it is not set here")
    return Path(path).resolve()


@pytest.fixture
def no_mirror(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AFFREPRO_DATA_MIRROR", raising=False)


@pytest.fixture(scope="session")
def tracking_uri(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One SQLite MLflow store for the session (creating a store costs seconds)."""
    return "sqlite:///" + str(tmp_path_factory.mktemp("mlflow") / "mlflow.db")


@pytest.fixture
def registries():
    from affrepro.plugin_manager import get_registries

    return get_registries()


@pytest.fixture
def cli_runner():
    """Invoke the CLI in-process: ``cli_runner("list", "--json")`` -> click Result."""
    from click.testing import CliRunner

    from affrepro.cli import add_plugin_commands, cli
    from affrepro.plugin_manager import get_state

    add_plugin_commands(cli, get_state())  # as `affrepro` itself does at start-up
    runner = CliRunner()

    def invoke(*args: str, **kwargs):
        return runner.invoke(cli, list(args), catch_exceptions=False, **kwargs)

    return invoke


@pytest.fixture(scope="session")
def dask_local2():
    """One Dask LocalCluster of 2 worker processes for the whole session (affrepro[cluster]);
    starting one costs seconds. Tests that use it run their units on real worker processes."""
    pytest.importorskip("distributed", reason="needs affrepro[cluster] (Dask distributed)")
    from affrepro.executor import start

    ex = start("local:2")
    yield ex
    ex.close()
