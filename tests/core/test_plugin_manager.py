"""Plugin loading: one at a time, failures recorded and skipped, duplicates named, env controls."""
from __future__ import annotations

import inspect
import re
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

from affrepro import hookimpl, hookspecs, plugin_manager
from affrepro.components import Metric
from affrepro.errors import DuplicateNameError, PluginError

PLUGIN_DOC = Path(__file__).resolve().parents[2] / "docs" / "writing-a-plugin.md"


class MetricPlugin:
    def __init__(self, *names):
        self.names = names

    @hookimpl
    def register_metrics(self, register):
        for n in self.names:
            register(Metric(n, lambda a, b: 0.0, True))


class RaisingPlugin:
    @hookimpl
    def register_metrics(self, register):
        register(Metric("half-registered", lambda a, b: 0.0, True))
        raise RuntimeError("boom in a hook")


class BadSignaturePlugin:
    @hookimpl
    def register_metrics(self, register, unknown_argument):
        pass


def test_builtins_load_one_plugin_per_folder_and_card(registries):
    state = plugin_manager.get_state()
    assert not state.failures
    assert "f1_macro" in registries.metrics
    assert "daic-woz-bias-2024" in registries.reproductions
    info = state.plugins["daic-woz-bias-2024"]
    assert info.source == "builtin" and info.distribution == "affrepro"
    assert info.module == "affrepro.reproductions.daic_woz_bias_2024"
    assert registries.reproductions.plugin_of("daic-woz-bias-2024") == "daic-woz-bias-2024"
    assert state.plugins["prompt-benchmarks"].module == "affrepro.plugins.prompt_benchmarks"


def test_a_card_only_paper_is_its_card():
    import affrepro.reproductions

    folder = Path(affrepro.reproductions.__file__).parent / "ac_llm_survey_2024"
    assert [p.name for p in folder.iterdir() if p.name != "__pycache__"] == ["paper.toml"]
    rep = plugin_manager.get_registries().reproductions.get("ac-llm-survey-2024")
    assert rep.card_path == folder / "paper.toml" and rep.protocol is None


def test_a_card_names_its_protocol_datasets_and_evaluation(registries):
    rep = registries.reproductions.get("sewa-2019")
    assert rep.datasets == ("sewa-avec2019",) and rep.run_without_claims
    assert rep.protocol.__module__ == "affrepro.reproductions.sewa_2019.protocol"
    assert rep.evaluation.module == "affrepro.reproductions.sewa_2019.evaluation"
    assert rep.evaluation.length_policy == "crop-pad"
    assert registries.datasets.plugin_of("sewa-avec2019") == "sewa-2019"


def test_a_plugin_raising_in_a_hook_is_recorded_skipped_and_rolled_back():
    state = plugin_manager.build_plugin_manager(
        extra_plugins=[("raiser", RaisingPlugin()), ("fine", MetricPlugin("fine_metric"))])
    assert "boom in a hook" in state.plugins["raiser"].error
    assert "half-registered" not in state.registries.metrics
    assert "fine_metric" in state.registries.metrics
    assert state.plugins["fine"].error is None


def test_a_hookimpl_with_a_bad_signature_is_recorded():
    state = plugin_manager.build_plugin_manager(extra_plugins=[("bad", BadSignaturePlugin())])
    assert "unknown_argument" in state.plugins["bad"].error


def test_a_duplicate_name_names_both_plugins():
    state = plugin_manager.build_plugin_manager(
        extra_plugins=[("first", MetricPlugin("shared")), ("second", MetricPlugin("shared"))])
    err = state.plugins["second"].error
    assert "shared" in err and "'first'" in err and "'second'" in err
    assert state.registries.metrics.plugin_of("shared") == "first"
    with pytest.raises(DuplicateNameError):
        state.registries.metrics.add(Metric("shared", lambda a, b: 0.0, True), "third")


def test_a_plugin_failing_to_import_is_recorded_and_others_still_load(monkeypatch):
    real = plugin_manager._discover_entry_points

    def with_broken():
        return [EntryPoint("broken-plugin", "affrepro_no_such_module_xyz", "affrepro")] + real()

    monkeypatch.setattr(plugin_manager, "_discover_entry_points", with_broken)
    state = plugin_manager.build_plugin_manager()
    assert "ModuleNotFoundError" in state.plugins["broken-plugin"].error
    assert "daic-woz-bias-2024" in state.registries.reproductions


def test_strict_mode_makes_failures_fatal(monkeypatch):
    monkeypatch.setenv("AFFREPRO_STRICT_PLUGINS", "1")
    with pytest.raises(PluginError, match="boom in a hook"):
        plugin_manager.build_plugin_manager(extra_plugins=[("raiser", RaisingPlugin())])


def test_load_plugins_env_selects_third_party_entry_points(monkeypatch):
    fake = [EntryPoint("third-a", "affrepro_no_such_module_a", "affrepro"),
            EntryPoint("third-b", "affrepro_no_such_module_b", "affrepro")]
    real = plugin_manager.entry_points
    monkeypatch.setattr(plugin_manager, "entry_points", lambda group: list(real(group=group)) + fake)
    monkeypatch.setenv("AFFREPRO_LOAD_PLUGINS", "")
    state = plugin_manager.build_plugin_manager()
    assert not {"third-a", "third-b"} & set(state.plugins)
    assert "f1_macro" in state.registries.metrics  # built-ins always load
    assert "daic-woz-bias-2024" in state.registries.reproductions
    monkeypatch.setenv("AFFREPRO_LOAD_PLUGINS", "third-b")
    state = plugin_manager.build_plugin_manager()
    assert "third-a" not in state.plugins and "No module named" in state.plugins["third-b"].error


def test_trace_env_prints_hook_calls(monkeypatch, capsys):
    monkeypatch.setenv("AFFREPRO_TRACE_PLUGINS", "1")
    plugin_manager.build_plugin_manager(extra_plugins=[("traced", MetricPlugin("traced_metric"))])
    assert "register_metrics" in capsys.readouterr().err


def test_registering_the_wrong_type_is_an_error_naming_the_plugin():
    class Wrong:
        @hookimpl
        def register_datasets(self, register):
            register(Metric("not-a-dataset", lambda a, b: 0.0, True))

    state = plugin_manager.build_plugin_manager(extra_plugins=[("wrong", Wrong())])
    assert "'wrong'" in state.plugins["wrong"].error and "Dataset" in state.plugins["wrong"].error


def test_every_hook_is_documented_in_code_and_in_the_plugin_guide():
    readme = PLUGIN_DOC.read_text(encoding="utf-8")
    specs = [name for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
             if name.startswith("register_")]
    assert sorted(specs) == sorted(["register_datasets", "register_models", "register_metrics",
                                    "register_features", "register_reproductions", "register_commands"])
    for name in specs:
        fn = getattr(hookspecs, name)
        assert (fn.__doc__ or "").strip(), f"{name} has no docstring"
        assert re.search(rf"`{name}\((register|cli)\)`", readme), f"{name} is not in docs/writing-a-plugin.md's hook table"
