"""The class-C protocols end to end on the real default model (SmolLM2-135M-Instruct):
negativeprompt-2024 on two tasks with --limit 1 (tables, per-sample log, claims reported
but not judged, a second run answered by the cache), and the other papers' protocols
(pct-tropes on the real propositions, the others on their synthetic data in the real
format) through ``reproduce``. One model folder for the session; each test has its own
request cache."""
from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

NP_COLUMNS = ["task", "baseline", *(f"NP{i:02d}" for i in range(1, 11))]


@pytest.fixture(scope="session")
def models_dir() -> str:
    """Where the default model lives for the whole session (fetched once if absent)."""
    from affrepro import paths

    return os.environ.get("AFFREPRO_MODELS_DIR") or str(paths.data_dir() / "models")


@pytest.fixture
def lm_env(models_dir, monkeypatch):
    monkeypatch.setenv("AFFREPRO_MODELS_DIR", models_dir)
    monkeypatch.delenv("AFFREPRO_MODEL", raising=False)


def _run(slug, tmp_path, name, **kw):
    from affrepro.runner import reproduce

    return reproduce(slug, output_dir=tmp_path / name, track=False, **kw)


def test_negativeprompt_two_tasks_end_to_end_and_from_the_cache(mirror, lm_env, tmp_path, monkeypatch):
    from affrepro.plugins.prompt_benchmarks import scoring
    from affrepro.plugins.prompt_benchmarks.loaders import Example
    from affrepro.plugins.prompt_benchmarks.stimuli import NEGATIVE_PROMPT

    if not (mirror / "negativeprompt").is_dir():
        pytest.skip("the mirror has no negativeprompt/ folder")
    monkeypatch.setenv("AFFREPRO_LM_TASKS", "sum,navigate")
    first = _run("negativeprompt-2024", tmp_path, "first", limit=1)
    assert first.status == "FINISHED", first.error
    titles = [t["title"] for t in first.details["tables"]]
    assert titles == ["instruction_induction zero-shot", "instruction_induction 5-shot",
                      "bigbench zero-shot", "bigbench 5-shot"]
    for t in first.details["tables"]:
        assert t["columns"] == NP_COLUMNS
        assert [r[0] for r in t["rows"]][-3:] == ["mean", "gain % (ratio of means)", "gain % (mean of ratios)"]
        assert all(0.0 <= v <= 1.0 for v in t["rows"][0][1:])  # one task row of mean scores
    # the per-sample log: one row per prompt variant and shot setting; scores recomputed
    rows = [json.loads(x) for x in (tmp_path / "first" / "samples" / "instruction_induction.sum.jsonl").open()]
    assert len(rows) == 11 * 2
    for r in rows:
        first_line = r["prompt"].split("\n")[0]
        assert first_line.endswith(NEGATIVE_PROMPT[r["variant"]]) if r["variant"] != "baseline" else \
            first_line == "Instruction: Sum the two given numbers."
        assert r["score"] == scoring.score_example("sum", r["answer"], Example("", tuple(r["gold"])))
    mc = [json.loads(x) for x in (tmp_path / "first" / "samples" / "bigbench.navigate.jsonl").open()]
    assert all(r["answer"] == max(r["option_logprobs"], key=r["option_logprobs"].get) for r in mc)
    # claims pool five models: reported (or failed for a zero baseline), never judged
    for r in first.results:
        assert r.verdict.value in ("skipped", "error"), r
        if r.measured is not None:
            assert math.isfinite(r.measured) and "not judged" in r.reason
        else:
            assert "baseline" in r.reason
    lm = first.details["language_model"]
    assert lm["name"] == "smollm2-135m" and lm["requests"] > 0
    second = _run("negativeprompt-2024", tmp_path, "second", limit=1)
    assert second.details["language_model"]["requests"] == 0
    assert second.details["language_model"]["cached"] == lm["requests"] + lm["cached"]
    assert second.details["tables"] == first.details["tables"]


def test_pct_tropes_on_the_real_propositions(lm_env, tmp_path):
    rep = _run("pct-tropes-2024", tmp_path, "pct", limit=2)
    assert rep.status == "FINISHED", rep.error
    rows = [json.loads(x) for x in (tmp_path / "pct" / "samples" / "propositions.jsonl").open()]
    assert [r["n"] for r in rows] == [1, 2] and rows[0]["proposition"].startswith("If economic globalisation")
    for r in rows:
        assert r["closed"] == max(r["closed_logprobs"], key=r["closed_logprobs"].get)
        assert r["open"] == max(r["open_logprobs"], key=r["open_logprobs"].get) and r["open_text"]
    shares = [rep.records[f"closed.{s}_pct"] for s in ("strongly_disagree", "disagree", "agree", "strongly_agree")]
    assert sum(shares) == pytest.approx(100.0)
    assert {r.verdict.value for r in rep.results} == {"skipped"}


@pytest.mark.parametrize("slug", ["flr-2024", "persona-binding-2025", "beyond-no-2025"])
def test_user_data_protocols_dry_run_on_the_model(lm_env, tmp_path, slug):
    rep = _run(slug, tmp_path, "dry", dry_run=True)
    assert rep.status == "FINISHED", rep.error
    assert rep.details["tables"] and rep.details["language_model"]["requests"] > 0
    assert any((tmp_path / "dry" / "samples").glob("*.jsonl"))
    for r in rep.results:
        assert r.verdict.value == "skipped"
