"""docs/plugin-api.md, the page a plugin author works from, is generated from the code
and checked against it (issue 20): the RunContext API and every paper.toml key, the
file:// and mirror rules it states for datasets, and the formula rule that
`affrepro plugins check` applies to metrics."""
from __future__ import annotations

import dataclasses
import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "plugin-api.md"


def test_the_generated_tables_match_the_code(tmp_path):
    out = subprocess.run([sys.executable, str(ROOT / "tools" / "plugin_docs.py"), "--check"],
                         capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert out.returncode == 0, ("docs/plugin-api.md is stale: run `python tools/plugin_docs.py`\n"
                                 + out.stderr[-2000:])


def test_every_run_context_field_and_method_is_documented():
    from affrepro.card import CARD_KEYS
    from affrepro.components import RUN_CONTEXT_FIELDS, RunContext

    fields = {f.name for f in dataclasses.fields(RunContext) if not f.name.startswith("_")}
    assert set(RUN_CONTEXT_FIELDS) == fields
    text = PAGE.read_text(encoding="utf-8")
    for name in ("data_path", "metric", "record", "skip", "fail", "deviation", "note", "limited",
                 "sample_log", "model"):
        assert f"### `ctx.{name}" in text
    for f in fields:
        assert f"| `{f}` |" in text
    for k in CARD_KEYS:
        assert f"| `{k.path}` |" in text


def _dataset(name, files):
    from affrepro.components import Dataset

    return Dataset(name=name, description="d", access="public", licence="CC0", homepage="https://x.org",
                   files=tuple(files))


def test_file_urls_and_mirrors_behave_as_the_page_says(tmp_path, monkeypatch):
    from affrepro import data as datamod
    from affrepro.components import DataFile
    from affrepro.errors import ChecksumError, DownloadError

    src = tmp_path / "src" / "table.csv"
    src.parent.mkdir()
    src.write_text("a,b\n1,2\n")
    digest = hashlib.sha256(src.read_bytes()).hexdigest()
    monkeypatch.delenv("AFFREPRO_DATA_MIRROR", raising=False)
    undeclared = _dataset("doc-local", [DataFile("table.csv", digest, src.as_uri())])
    with pytest.raises(DownloadError, match=r"local_source=True"):
        datamod.fetch(undeclared, tmp_path / "a")
    declared = _dataset("doc-local", [DataFile("table.csv", digest, src.as_uri(), local_source=True)])
    assert datamod.fetch(declared, tmp_path / "b").fetched == ["table.csv"]
    assert (tmp_path / "b" / "table.csv").read_bytes() == src.read_bytes()
    # the mirror folder is the name with '_' for '-'; a file without a URL comes only from it,
    # and a tampered mirror copy is refused
    mirror = tmp_path / "mirror"
    (mirror / "doc_mirror").mkdir(parents=True)
    (mirror / "doc_mirror" / "table.csv").write_bytes(src.read_bytes())
    monkeypatch.setenv("AFFREPRO_DATA_MIRROR", str(mirror))
    mirrored = _dataset("doc-mirror", [DataFile("table.csv", digest)])
    assert datamod.fetch(mirrored, tmp_path / "c").fetched == ["table.csv"]
    (mirror / "doc_mirror" / "table.csv").write_text("a,b\n1,3\n")
    with pytest.raises(ChecksumError):
        datamod.fetch(mirrored, tmp_path / "d")
    text = " ".join(PAGE.read_text(encoding="utf-8").split())
    assert "local_source=True" in text and "`DIR/daic_woz_bias/`" in text


class _Metrics:
    """A plugin registering one metric with its formula and one without."""

    @staticmethod
    def _with(y_true, y_pred) -> float:
        """Share of exact matches.

        Formula: acc = Σ [y_i = ŷ_i] / n
        """
        return 0.0

    @staticmethod
    def _without(y_true, y_pred) -> float:
        """Share of exact matches (see the paper)."""
        return 0.0


def test_plugins_check_fails_a_metric_without_its_formula_and_passes_the_builtins():
    from affrepro import hookimpl
    from affrepro.components import Metric
    from affrepro.conformance import check_plugin
    from affrepro.plugin_manager import build_plugin_manager

    class Plugin:
        @staticmethod
        @hookimpl
        def register_metrics(register):
            register(Metric("doc_with_formula", _Metrics._with, True))
            register(Metric("doc_without_formula", _Metrics._without, True))

    state = build_plugin_manager([("doc-metrics", Plugin)], load_entry_points=False)
    checks = {c.name: c for c in check_plugin(state, "doc-metrics", dry_run=False)}
    assert checks["metric doc_with_formula: its docstring gives the formula"].ok
    bad = checks["metric doc_without_formula: its docstring gives the formula"]
    assert not bad.ok and "Formula:" in bad.detail
    for plugin in ("metrics", "stats", "daic-woz-bias-2024"):  # every built-in metric has one
        failed = [c.name for c in check_plugin(state, plugin, dry_run=False)
                  if c.name.startswith("metric ") and not c.ok]
        assert failed == [], plugin
