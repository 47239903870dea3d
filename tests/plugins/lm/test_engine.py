"""The engine around a model (request cache, batching, counts) and the run integration
(ctx.model, --limit, --no-cache, per-sample logs, claims that know their model), on the
real default model."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from affrepro.lm import GenerateRequest, GenerationSettings
from affrepro.lm_engine import Engine, RequestCache
from affrepro.runner import reproduce

sys.path.insert(0, str(Path(__file__).parent))
from lm_toy import SLUG, state_with_toy_lm, write_card  # noqa: E402

PROMPTS = ["Red, green and", "The first month is", "Water freezes at", "A cat says"]


def _requests():
    return [GenerateRequest(prompt=p, settings=GenerationSettings(max_new_tokens=4)) for p in PROMPTS]


@pytest.mark.slow
def test_a_run_on_the_default_model_is_judged_logged_and_served_from_the_cache_again(
        smollm2_folder, tmp_path, tracking_uri, monkeypatch):
    monkeypatch.setenv("AFFREPRO_LM_CACHE", str(tmp_path / "cache.sqlite"))
    registries = state_with_toy_lm(write_card(tmp_path / "card")).registries
    first = reproduce(SLUG, output_dir=tmp_path / "one", registries=registries, limit=2,
                      tracking_uri=tracking_uri)
    assert first.status == "FINISHED", first.error
    res = {r.claim.id: r for r in first.results}
    assert res["capitals"].verdict.value == "reproduced" and res["capitals"].measured is not None
    # measured on smollm2-135m, published for another model: reported, not judged
    other = res["capitals-gpt"]
    assert other.verdict.value == "skipped" and other.measured == res["capitals"].measured
    assert "gpt-3.5-turbo-0613" in other.reason and "smollm2-135m" in other.reason
    assert res["paris-likelier"].measured > 0  # the model prefers Paris
    assert any(d.startswith("--limit 2") for d in first.deviations)
    lm = first.details["language_model"]
    assert lm["fingerprint"].startswith("sha256:b179c952") and lm["requests"] == 4 and lm["cached"] == 0
    rows = [json.loads(line) for line in (tmp_path / "one" / "samples" / "capitals.jsonl").read_text().splitlines()]
    assert [r["prompt"] for r in rows] == ["What is the capital of France? One word.",
                                           "What is the capital of Italy? One word."]
    assert {"answer", "score"} <= set(rows[0])

    import mlflow

    run = mlflow.tracking.MlflowClient(tracking_uri).get_run(first.run_id)
    assert run.data.tags["model.fingerprint"] == lm["fingerprint"] and run.data.tags["model"] == "smollm2-135m"
    assert run.data.metrics["lm.requests"] == 4

    again = reproduce(SLUG, output_dir=tmp_path / "two", registries=registries, limit=2, track=False)
    lm2 = again.details["language_model"]
    assert lm2["requests"] == 0 and lm2["cached"] == 4
    assert lm2["weights_loaded"] is False  # a cached re-run never loads the model
    assert (tmp_path / "two" / "samples" / "capitals.jsonl").read_text() == \
        (tmp_path / "one" / "samples" / "capitals.jsonl").read_text()
    fresh = reproduce(SLUG, output_dir=tmp_path / "three", registries=registries, limit=2, track=False,
                      no_cache=True)
    assert fresh.details["language_model"]["requests"] == 4


def test_a_context_too_short_skips_the_claims_with_the_reason(smollm2_folder, tmp_path, monkeypatch):
    monkeypatch.setenv("AFFREPRO_LM_CACHE", str(tmp_path / "cache.sqlite"))
    registries = state_with_toy_lm(write_card(tmp_path / "card")).registries
    report = reproduce(SLUG, output_dir=tmp_path / "o", registries=registries, limit=1, track=False,
                       model="smollm2-135m?max_context=12")
    assert report.status == "FINISHED"
    for r in report.results:
        assert r.verdict.value == "skipped"
        assert "does not fit the context of model 'smollm2-135m' (12 tokens)" in r.reason


def test_an_unreachable_server_fails_the_run_and_keeps_the_cache(tmp_path, monkeypatch):
    import socket

    cache_file = tmp_path / "cache.sqlite"
    monkeypatch.setenv("AFFREPRO_LM_CACHE", str(cache_file))
    cache = RequestCache(cache_file)
    cache.put_many([("k", "local", "fp", "generate", {"prompt": "x"}, {"text": "y"})])
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    registries = state_with_toy_lm(write_card(tmp_path / "card")).registries
    report = reproduce(SLUG, output_dir=tmp_path / "o", registries=registries, track=False,
                       model=f"openai:http://127.0.0.1:{port}/v1#m?retries=1&backoff=0.01")
    assert report.status == "FAILED"
    assert f"127.0.0.1:{port}" in report.error and "unreachable" in report.error
    assert all(r.verdict.value == "error" and "unreachable" in r.reason for r in report.results)
    assert len(RequestCache(cache_file)) == 1 and cache.get_many(["k"])["k"] == {"text": "y"}


_KILLED_RUN = textwrap.dedent("""
    import os, signal, sys
    sys.path.insert(0, {here!r})
    from affrepro.lm import load_model
    from affrepro.lm_engine import Engine, RequestCache
    from affrepro.plugin_manager import build_plugin_manager
    from test_engine import _requests
    model = load_model("smollm2-135m", build_plugin_manager(load_entry_points=False).registries)
    def after_batch(stats):
        if stats.requests == 2:  # killed mid-way, between two batches
            os.kill(os.getpid(), signal.SIGKILL)
    Engine(model, cache=RequestCache({cache!r}), batch_size=1, progress=False,
           on_stats=after_batch).generate(_requests())
""")


@pytest.mark.slow
def test_a_run_killed_mid_way_resumes_without_repeating_a_request(smollm2, tmp_path):
    cache_file = tmp_path / "cache.sqlite"
    script = _KILLED_RUN.format(here=str(Path(__file__).parent), cache=str(cache_file))
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600)
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    assert len(RequestCache(cache_file)) == 2

    bars = []
    resumed = Engine(smollm2, cache=RequestCache(cache_file), batch_size=1,
                     progress=lambda label, done, total, rate="": bars.append((done, total, rate)))
    got = resumed.generate(_requests())
    assert resumed.stats.cached == 2 and resumed.stats.requests == 2
    assert bars[-1][:2] == (2, 2) and bars[-1][2].endswith(" tok/s")  # only the 2 uncached
    uninterrupted = Engine(smollm2, no_cache=True, batch_size=2, progress=False).generate(_requests())
    assert got == uninterrupted


_WRITER = textwrap.dedent("""
    import sys
    from affrepro.lm_engine import RequestCache
    cache = RequestCache(sys.argv[1])
    for i in range(100):
        cache.put_many([(f"{sys.argv[2]}-{i}", "b", "f", "generate", {"i": i}, {"text": str(i)})])
""")


def test_two_processes_share_the_cache(tmp_path):
    path = str(tmp_path / "cache.sqlite")
    procs = [subprocess.Popen([sys.executable, "-c", _WRITER, path, name]) for name in ("a", "b")]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    cache = RequestCache(path)
    assert len(cache) == 200
    assert cache.get_many(["a-7", "b-99"]) == {"a-7": {"text": "7"}, "b-99": {"text": "99"}}
    mode = cache._db.execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_the_cache_key_holds_the_model_fingerprint_and_sample_index():
    req = {"prompt": "x", "sample_index": 0}
    k = RequestCache.key("local", "sha256:a", "generate", req)
    assert k != RequestCache.key("local", "sha256:b", "generate", req)
    assert k != RequestCache.key("local", "sha256:a", "generate", {**req, "sample_index": 1})
    assert k != RequestCache.key("openai", "sha256:a", "generate", req)
    assert k != RequestCache.key("local", "sha256:a", "loglikelihood", req)


def test_requests_print_progress_lines_when_stderr_is_a_log(smollm2, capsys):
    """Issue 20: LM requests outside a terminal were silent; now a line as they start and
    when they are done (and at most one every AFFREPRO_PROGRESS_SECONDS between)."""
    Engine(smollm2, no_cache=True, batch_size=1, progress=True).generate(_requests()[:2])
    err = capsys.readouterr().err
    assert f"{smollm2.name}: generating 0/2 (0%)" in err and f"{smollm2.name}: generating 2/2 (100%)" in err
