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


_SESSION_DATA_DIR = os.environ.get("AFFREPRO_DATA_DIR")  # before the per-test isolation


@pytest.fixture(scope="session")
def models_dir(pytestconfig, tmp_path_factory) -> str:
    """Where the default model lives for the session, the same place the language-model
    tests use (AFFREPRO_TEST_MODELS_DIR, the session's data dir, pytest's cache): fetched
    and converted once."""
    env = os.environ.get("AFFREPRO_TEST_MODELS_DIR")
    if env:
        return env
    if _SESSION_DATA_DIR:
        return str(Path(_SESSION_DATA_DIR) / "models")
    if pytestconfig.cache is not None:
        return str(pytestconfig.cache.mkdir("affrepro-models"))
    return str(tmp_path_factory.mktemp("affrepro-models"))


@pytest.fixture
def lm_env(models_dir, monkeypatch):
    monkeypatch.setenv("AFFREPRO_MODELS_DIR", models_dir)
    monkeypatch.delenv("AFFREPRO_MODEL", raising=False)


def _run(slug, tmp_path, name, **kw):
    from affrepro.runner import reproduce

    return reproduce(slug, output_dir=tmp_path / name, track=False, **kw)


def test_negativeprompt_end_to_end_and_from_the_cache(mirror, lm_env, tmp_path, monkeypatch):
    """reproduce on one multiple-choice task (log-likelihoods only, the fast path), --limit 1."""
    if not (mirror / "negativeprompt").is_dir():
        pytest.skip("the mirror has no negativeprompt/ folder")
    monkeypatch.setenv("AFFREPRO_LM_TASKS", "navigate")
    first = _run("negativeprompt-2024", tmp_path, "first", limit=1)
    assert first.status == "FINISHED", first.error
    assert [t["title"] for t in first.details["tables"]] == ["bigbench zero-shot", "bigbench 5-shot"]
    for t in first.details["tables"]:
        assert t["columns"] == NP_COLUMNS
        assert [r[0] for r in t["rows"]] == ["navigate", "mean", "gain % (ratio of means)",
                                             "gain % (mean of ratios)"]
        assert all(v in (0.0, 1.0) for v in t["rows"][0][1:])  # one example: right or wrong
    # the per-sample log: one row per prompt variant and shot setting, the chosen option the likeliest
    rows = [json.loads(x) for x in (tmp_path / "first" / "samples" / "bigbench.navigate.jsonl").open()]
    assert len(rows) == 11 * 2 and {r["variant"] for r in rows} == {"baseline", *NP_COLUMNS[2:]}
    for r in rows:
        assert r["answer"] == max(r["option_logprobs"], key=r["option_logprobs"].get)
        assert r["score"] == float(r["answer"] in r["gold"])
    by = {r.claim.id: r for r in first.results}
    assert by["instruction-induction-relative-gain"].verdict.value == "skipped"
    bb = by["bigbench-relative-gain"]  # pooled over five models: reported, never judged
    assert bb.verdict.value == "skipped"
    if bb.measured is not None:
        assert "not judged" in bb.reason
    else:
        assert "baseline's mean bigbench score on this model is 0" in bb.reason
    lm = first.details["language_model"]
    assert lm["name"] == "smollm2-135m" and lm["requests"] > 0
    second = _run("negativeprompt-2024", tmp_path, "second", limit=1)
    assert second.details["language_model"]["requests"] == 0
    assert second.details["language_model"]["cached"] == lm["requests"] + lm["cached"]
    assert second.details["tables"] == first.details["tables"]


def test_study_generation_and_truthfulqa_paths(mirror, lm_env):
    """Instruction Induction (generation) and TruthfulQA (MC1/MC2) on the real model, directly."""
    from affrepro.lm_engine import open_engine
    from affrepro.plugins.prompt_benchmarks import scoring
    from affrepro.plugins.prompt_benchmarks import study as St
    from affrepro.plugins.prompt_benchmarks import truthfulqa as T
    from affrepro.plugins.prompt_benchmarks.loaders import Example, load_truthfulqa
    from affrepro.plugins.prompt_benchmarks.stimuli import NEGATIVE_PROMPT

    root = mirror / "negativeprompt"
    if not root.is_dir():
        pytest.skip("the mirror has no negativeprompt/ folder")
    engine = open_engine(None, progress=False)
    stimuli = {k: NEGATIVE_PROMPT[k] for k in ("NP01", "NP10")}
    cfg = St.StudyConfig(suites=("instruction_induction", "truthfulqa"), shots=(0,), limit=1,
                         only_tasks=("singular_to_plural", "truthfulqa"))
    res = St.run_study(engine, root, stimuli, cfg)
    assert set(res.scores) == {("instruction_induction", 0), ("truthfulqa", 0)}
    gen = [r for r in res.samples if r["suite"] == "instruction_induction"]
    assert [r["variant"] for r in gen] == ["baseline", "NP01", "NP10"]
    for r in gen:
        assert r["prompt"].startswith("Instruction: Convert the input word to its plural form.")
        assert "\n" not in r["answer"]  # stopped at the first line
        assert r["score"] == scoring.score_example("singular_to_plural", r["answer"], Example("", tuple(r["gold"])))
    item = load_truthfulqa(root)[0]
    tqa = [r for r in res.samples if r["suite"] == "truthfulqa"]
    assert len(tqa) == 3
    for r in tqa:
        lps = [lp for _, lp in r["answer_logprobs"]]
        assert (r["score"]["mc1"], r["score"]["mc2"]) == T.mc_scores(item, lps)
        assert res.scores[("truthfulqa", 0)]["mc2"][r["variant"]] == r["score"]["mc2"]
    assert engine.stats.requests == 3 + 3 * len(T.pairs(item, None))


def test_pct_tropes_on_the_real_propositions(lm_env, tmp_path):
    rep = _run("pct-tropes-2024", tmp_path, "pct", dry_run=True)  # real propositions, 1 of them, short answers
    assert rep.status == "FINISHED", rep.error
    rows = [json.loads(x) for x in (tmp_path / "pct" / "samples" / "propositions.jsonl").open()]
    assert [r["n"] for r in rows] == [1] and rows[0]["proposition"].startswith("If economic globalisation")
    for r in rows:
        assert r["closed"] == max(r["closed_logprobs"], key=r["closed_logprobs"].get)
        assert r["open"] == max(r["open_logprobs"], key=r["open_logprobs"].get) and r["open_text"]
    shares = [rep.records[f"closed.{s}_pct"] for s in ("strongly_disagree", "disagree", "agree", "strongly_agree")]
    assert sum(shares) == pytest.approx(100.0)
    assert {r.verdict.value for r in rep.results} == {"skipped"}
    # the dry run says it read the real propositions, not only synthetic data (issue 20)
    assert rep.details["run_on"].endswith("; real inputs: 1 of the PCT propositions shipped with affrepro")


@pytest.mark.parametrize("slug", ["flr-2024", "persona-binding-2025", "beyond-no-2025"])
def test_user_data_protocols_dry_run_on_the_model(lm_env, tmp_path, slug):
    rep = _run(slug, tmp_path, "dry", dry_run=True)
    assert rep.status == "FINISHED", rep.error
    assert rep.details["tables"] and rep.details["language_model"]["requests"] > 0
    assert any((tmp_path / "dry" / "samples").glob("*.jsonl"))
    for r in rep.results:
        assert r.verdict.value == "skipped"
