"""The openai backend: against misbehaving loopback HTTP servers (retries, 401, malformed
JSON, context errors, the echo+logprobs arithmetic) and against a real OpenAI-compatible
server process, `transformers serve`, serving the default model."""
from __future__ import annotations

import json
import math
import os
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from affrepro.errors import CapabilityMissing, ContextTooLong, ModelAuthError, ModelServerError
from affrepro.lm import (GenerateRequest, GenerationSettings, LoglikelihoodRequest, Message,
                         load_model)


def _completion(text: str) -> dict:
    return {"choices": [{"text": text, "finish_reason": "length", "index": 0}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 2}}


class ScriptedServer:
    """A loopback HTTP server answering POSTs from a script of (status, body) pairs."""

    def __init__(self, script: list[tuple[int, object]]):
        self.script, self.posts = list(script), []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, status, body):
                raw = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def do_GET(self):
                self._send(200, {"object": "list", "data": [{"id": "m", "object": "model", "owned_by": "t"}]})

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                owner.posts.append((self.path, body))
                status, answer = owner.script.pop(0) if owner.script else (500, {"error": "script ended"})
                self._send(status, answer)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def model(self, options: str = "retries=3&backoff=0.01"):
        return load_model(f"openai:{self.url}#m?{options}")

    def close(self):
        self.httpd.shutdown()


@pytest.fixture
def scripted():
    servers = []

    def make(script):
        servers.append(ScriptedServer(script))
        return servers[-1]

    yield make
    for s in servers:
        s.close()


PROMPT = [GenerateRequest(prompt="Hello", settings=GenerationSettings(max_new_tokens=2))]


def test_a_500_then_a_200_is_retried(scripted):
    server = scripted([(500, {"error": "busy"}), (429, {"error": "slow down"}), (200, _completion(" world"))])
    g = server.model().generate(PROMPT)[0]
    assert g.text == " world" and g.completion_tokens == 2 and len(server.posts) == 3
    assert server.posts[0][0] == "/v1/completions" and server.posts[0][1]["prompt"] == "Hello"


def test_a_401_is_not_retried_and_named(scripted):
    server = scripted([(401, {"error": {"message": "invalid api key"}})])
    with pytest.raises(ModelAuthError, match=r"HTTP 401.*OPENAI_API_KEY"):
        server.model().generate(PROMPT)
    assert len(server.posts) == 1


def test_other_4xx_are_not_retried(scripted):
    server = scripted([(400, {"error": "bad temperature"})])
    with pytest.raises(ModelServerError, match="HTTP 400.*bad temperature") as err:
        server.model().generate(PROMPT)
    assert err.value.status == 400 and len(server.posts) == 1


def test_malformed_json_is_named(scripted):
    server = scripted([(200, b"{'choices': [")])
    with pytest.raises(ModelServerError, match="malformed JSON"):
        server.model().generate(PROMPT)


def test_retries_run_out_with_the_last_error(scripted):
    server = scripted([(503, {"e": 1})] * 3)
    with pytest.raises(ModelServerError, match=r"HTTP 503.*after 3 attempts"):
        server.model("retries=2&backoff=0.01").generate(PROMPT)
    assert len(server.posts) == 3


def test_a_context_refusal_is_context_too_long(scripted):
    server = scripted([(400, {"error": {"message": "This model's maximum context length is 2048 tokens"}})])
    with pytest.raises(ContextTooLong, match="maximum context length"):
        server.model().generate(PROMPT)


def test_log_likelihood_sums_the_echoed_continuation_tokens(scripted):
    # "The sky is blue" echoed as 4 tokens plus one generated token; the continuation
    # " is blue" starts at character 7: log P = −1.5 + −0.25, greedy since both are the top.
    lp = {"tokens": ["The", " sky", " is", " blue", "."],
          "token_logprobs": [None, -3.0, -1.5, -0.25, -0.1],
          "top_logprobs": [None, {" sky": -3.0}, {" is": -1.5}, {" blue": -0.25}, {".": -0.1}],
          "text_offset": [0, 3, 7, 10, 15]}
    not_greedy = json.loads(json.dumps(lp))
    not_greedy["top_logprobs"][3] = {" red": -0.1}
    server = scripted([(200, {"choices": [{"text": "The sky is blue.", "logprobs": lp}]}),
                       (200, {"choices": [{"text": "The sky is blue.", "logprobs": not_greedy}]}),
                       (200, {"choices": [{"text": "The sky is blue."}]})])
    model = server.model("concurrency=1&logprobs=1")
    a, b = model.loglikelihood([LoglikelihoodRequest("The sky", " is blue")] * 2)
    assert a.logprob == pytest.approx(-1.75) and a.n_tokens == 2 and a.is_greedy
    assert b.logprob == pytest.approx(-1.75) and not b.is_greedy
    assert server.posts[0][1]["echo"] is True and server.posts[0][1]["prompt"] == "The sky is blue"
    with pytest.raises(CapabilityMissing, match="logprobs"):
        model.loglikelihood([LoglikelihoodRequest("The sky", " is blue")])


# -- a real OpenAI-compatible server ----------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def transformers_server(smollm2_folder, tmp_path_factory):
    """`transformers serve` (transformers' own OpenAI-compatible server) on loopback,
    serving the converted default model, float32 on CPU."""
    port = _free_port()
    log = tmp_path_factory.mktemp("serve") / "server.log"
    exe = Path(sys.executable).with_name("transformers")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1", "PYTHONPATH": ""}
    with open(log, "w") as fh:
        proc = subprocess.Popen([str(exe), "serve", str(smollm2_folder), "--host", "127.0.0.1",
                                 "--port", str(port), "--device", "cpu", "--dtype", "float32"],
                                stdout=fh, stderr=subprocess.STDOUT, env=env, cwd=str(log.parent))
    import httpx

    deadline = time.monotonic() + 240
    try:
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/v1/models", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"transformers serve did not start: {log.read_text()[-2000:]}")
            time.sleep(0.5)
        yield f"http://127.0.0.1:{port}/v1", str(smollm2_folder)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.mark.slow
def test_a_real_server_answers_as_the_local_backend(transformers_server, smollm2):
    url, served = transformers_server
    remote = load_model(f"openai:{url}#{served}")
    assert remote.name == served and remote.fingerprint.startswith("openai:")
    reqs = [GenerateRequest(messages=(Message("user", "What is the capital of France?"),),
                            settings=GenerationSettings(max_new_tokens=12)),
            GenerateRequest(prompt="The opposite of hot is", settings=GenerationSettings(max_new_tokens=4))]
    got = remote.generate(reqs)
    expected = smollm2.generate(reqs)
    assert [g.text for g in got] == [g.text for g in expected]
    assert got[0].prompt_tokens == expected[0].prompt_tokens
    assert not remote.capabilities.logprobs  # probed: the echo came back without logprobs
    # transformers serve ignores echo+logprobs: the capability is missing, and named
    with pytest.raises(CapabilityMissing, match="logprobs"):
        remote.loglikelihood([LoglikelihoodRequest("The capital of France is", " Paris")])


@pytest.mark.slow
def test_a_run_against_the_real_server_skips_the_claims_that_need_logprobs(transformers_server, tmp_path, monkeypatch):
    sys.path.insert(0, str(Path(__file__).parent))
    from lm_toy import SLUG, state_with_toy_lm, write_card

    from affrepro.runner import reproduce

    url, served = transformers_server
    monkeypatch.setenv("AFFREPRO_LM_CACHE", str(tmp_path / "cache.sqlite"))
    monkeypatch.setenv("OPENAI_BASE_URL", url)
    monkeypatch.setenv("AFFREPRO_MODEL", served)  # a bare model name: the openai backend's model
    registries = state_with_toy_lm(write_card(tmp_path / "card")).registries
    report = reproduce(SLUG, output_dir=tmp_path / "o", registries=registries, limit=1, track=False,
                       model="openai")
    assert report.status == "FINISHED", report.error
    res = {r.claim.id: r for r in report.results}
    assert res["capitals"].measured == 1.0  # "Paris"
    assert res["capitals"].verdict.value == "skipped" and "smollm2-135m" in res["capitals"].reason
    assert res["paris-likelier"].verdict.value == "skipped" and "logprobs" in res["paris-likelier"].reason
    assert report.details["language_model"]["backend"] == "openai"
