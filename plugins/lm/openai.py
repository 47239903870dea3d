"""The ``openai`` backend: any OpenAI-compatible server (vLLM, llama.cpp's server, Ollama,
``transformers serve``, OpenAI itself) over HTTP with httpx.

- chat messages go to ``POST /chat/completions``, plain prompts to ``POST /completions``;
- log-likelihoods use ``/completions`` with ``echo: true, logprobs: 1, max_tokens: 1`` on
  context+continuation: log P(continuation | context) is the sum of the echoed
  ``token_logprobs`` whose ``text_offset`` lies in the continuation; a server that echoes
  no log-probabilities lacks the ``logprobs`` capability (:class:`CapabilityMissing`);
- requests run ``concurrency`` at a time; 429, 5xx, timeouts and refused connections are
  retried with exponential backoff (tenacity), other 4xx never: 401/403 raise
  :class:`ModelAuthError`, a context-length refusal :class:`ContextTooLong`.

Spec: ``openai:http://127.0.0.1:8000/v1#MODEL?concurrency=8&timeout=60``; a missing base
URL comes from ``OPENAI_BASE_URL``, a missing model from ``AFFREPRO_MODEL`` (or the only
model the server lists), the key from ``OPENAI_API_KEY`` (or the option ``key_env``).
"""
from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from affrepro.errors import (CapabilityMissing, ContextTooLong, ModelAuthError, ModelError,
                             ModelServerError)
from affrepro.lm import (Capabilities, GenerateRequest, Generation, LanguageModel, Loglikelihood,
                         LoglikelihoodRequest)

_OPTIONS = ("concurrency", "timeout", "retries", "backoff", "max_context", "chat", "logprobs", "key_env")
_CONTEXT_ERROR = re.compile(r"context.{0,40}(length|window|limit)|too (long|many tokens)|maximum.{0,30}tokens",
                            re.IGNORECASE)


def load(target: str, options: Mapping[str, str]) -> "OpenAIModel":
    base, _, model = target.partition("#")
    base = base or os.environ.get("OPENAI_BASE_URL", "")
    if not base:
        raise ModelError("openai: no base URL; give openai:http://HOST:PORT/v1#MODEL or set OPENAI_BASE_URL")
    env_model = os.environ.get("AFFREPRO_MODEL", "")
    if not model and ":" not in env_model:  # AFFREPRO_MODEL holding a full spec names no server model
        model = env_model
    unknown = sorted(set(options) - set(_OPTIONS))
    if unknown:
        raise ModelError(f"openai: unknown option(s) {', '.join(unknown)}; known: {', '.join(_OPTIONS)}")
    return OpenAIModel(base.rstrip("/"), model, options)


class _Retryable(Exception):
    def __init__(self, message: str, status: int | None):
        super().__init__(message)
        self.status = status


class OpenAIModel(LanguageModel):
    backend = "openai"

    def __init__(self, base_url: str, model: str, options: Mapping[str, str]):
        import httpx

        self.base_url = base_url
        self.concurrency = int(options.get("concurrency", 4))
        self.preferred_batch_size = max(1, self.concurrency * 4)
        self.retries = int(options.get("retries", 5))
        self.backoff = float(options.get("backoff", 0.5))
        key = os.environ.get(options.get("key_env", "OPENAI_API_KEY"), "")
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self._http = httpx.Client(base_url=base_url, headers=headers,
                                  timeout=httpx.Timeout(float(options.get("timeout", 120)), connect=10.0))
        listed = self._get("/models").get("data")
        if not isinstance(listed, list):
            raise ModelServerError(f"{base_url}/models: expected a JSON object with a 'data' list")
        ids = [m.get("id") for m in listed if isinstance(m, dict)]
        if not model:
            if len(ids) != 1:
                raise ModelError(f"openai: say which model, e.g. openai:{base_url}#MODEL; the server "
                                 f"lists {', '.join(map(str, ids)) or 'none'}")
            model = ids[0]
        self.name = model
        entry = next((m for m in listed if isinstance(m, dict) and m.get("id") == model), {})
        revision = {k: entry[k] for k in ("root", "revision", "created", "owned_by") if k in entry}
        self._fingerprint = "openai:" + json.dumps({"base_url": base_url, "model": model, **revision},
                                                   sort_keys=True)
        max_context = int(options.get("max_context", entry.get("max_model_len") or 0))
        self._caps = Capabilities(chat=options.get("chat", "1") != "0",
                                  logprobs=options.get("logprobs", "1") != "0", max_context=max_context)
        self._probed = "logprobs" in options  # declared: no probe

    @property
    def fingerprint(self) -> str:
        return self._fingerprint

    @property
    def capabilities(self) -> Capabilities:
        """Declared capabilities; ``logprobs`` is probed once with a one-token echo request
        unless the spec declares it (many servers ignore echo+logprobs)."""
        if not self._probed:
            self._probed = True
            try:
                self._loglikelihood_one(LoglikelihoodRequest("Hello", " world"))
            except CapabilityMissing:
                from dataclasses import replace

                self._caps = replace(self._caps, logprobs=False)
        return self._caps

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "base_url": self.base_url}

    # -- HTTP --------------------------------------------------------------------------

    def _call(self, method: str, path: str, body: dict | None = None) -> dict:
        import httpx
        from tenacity import (RetryError, Retrying, retry_if_exception_type, stop_after_attempt,
                              wait_exponential)

        url = self.base_url + path

        def once() -> dict:
            try:
                resp = self._http.request(method, path, json=body)
            except httpx.TimeoutException as exc:
                raise _Retryable(f"timed out ({type(exc).__name__})", None) from exc
            except httpx.TransportError as exc:
                raise _Retryable(f"unreachable ({type(exc).__name__}: {exc})", None) from exc
            if resp.status_code == 429 or resp.status_code >= 500:
                raise _Retryable(f"HTTP {resp.status_code}: {resp.text[:300]}", resp.status_code)
            if resp.status_code in (401, 403):
                raise ModelAuthError(f"{method} {url}: HTTP {resp.status_code}, the server refused the "
                                     f"API key (set OPENAI_API_KEY): {resp.text[:300]}", resp.status_code)
            if resp.status_code >= 400:
                message = resp.text[:500]
                if _CONTEXT_ERROR.search(message):
                    raise ContextTooLong(self.name, -1, self._caps.max_context if hasattr(self, "_caps") else 0,
                                         f"request to {url} (server said: {message})")
                raise ModelServerError(f"{method} {url}: HTTP {resp.status_code}: {message}", resp.status_code)
            try:
                data = resp.json()
            except ValueError:
                raise ModelServerError(f"{method} {url}: the server answered malformed JSON "
                                       f"(HTTP {resp.status_code}): {resp.text[:200]!r}", resp.status_code) from None
            if not isinstance(data, dict):
                raise ModelServerError(f"{method} {url}: expected a JSON object, got {type(data).__name__}")
            return data

        attempts = max(1, self.retries + 1)
        try:
            for attempt in Retrying(stop=stop_after_attempt(attempts), reraise=False,
                                    wait=wait_exponential(multiplier=self.backoff, max=30),
                                    retry=retry_if_exception_type(_Retryable)):
                with attempt:
                    return once()
        except RetryError as exc:
            last = exc.last_attempt.exception()
            raise ModelServerError(f"{method} {url}: {last} (after {attempts} attempts)",
                                   getattr(last, "status", None), attempts) from last
        raise AssertionError("unreachable")  # pragma: no cover

    def _get(self, path: str) -> dict:
        return self._call("GET", path)

    def _post(self, path: str, body: dict) -> dict:
        return self._call("POST", path, body)

    def _map(self, fn, items: Sequence) -> list:
        if self.concurrency <= 1 or len(items) <= 1:
            return [fn(x) for x in items]
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            return list(pool.map(fn, items))

    # -- generate ----------------------------------------------------------------------

    def generate(self, requests: Sequence[GenerateRequest]) -> list[Generation]:
        if any(r.messages is not None for r in requests) and not self._caps.chat:
            raise CapabilityMissing(self.name, "chat", "declared with chat=0")
        return self._map(self._generate_one, list(requests))

    def _generate_one(self, r: GenerateRequest) -> Generation:
        s = r.settings
        body: dict[str, Any] = {"model": self.name, "max_tokens": s.max_new_tokens,
                                "temperature": s.temperature, "top_p": s.top_p,
                                "seed": r.seed + 1_000_003 * r.sample_index}
        if s.stop:
            body["stop"] = list(s.stop)
        if r.messages is not None:
            body["messages"] = [{"role": m.role, "content": m.content} for m in r.messages]
            data = self._post("/chat/completions", body)
            choice = self._choice(data, "/chat/completions")
            message = choice.get("message")
            text = message.get("content") if isinstance(message, dict) else None
        else:
            body["prompt"] = r.prompt
            data = self._post("/completions", body)
            choice = self._choice(data, "/completions")
            text = choice.get("text")
        if not isinstance(text, str):
            raise ModelServerError(f"{self.base_url}: the answer has no text: {json.dumps(choice)[:200]}")
        for stop in s.stop:  # servers differ on whether they cut at the stop string
            cut = text.find(stop)
            if cut >= 0:
                text = text[:cut]
        usage = data.get("usage") or {}
        finish = choice.get("finish_reason") or "stop"
        return Generation(text=text, prompt_tokens=int(usage.get("prompt_tokens") or 0),
                          completion_tokens=int(usage.get("completion_tokens") or 0),
                          finish_reason="length" if finish == "length" else "stop")

    def _choice(self, data: dict, path: str) -> dict:
        choices = data.get("choices")
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            raise ModelServerError(f"{self.base_url}{path}: the answer has no choices: {json.dumps(data)[:200]}")
        return choices[0]

    # -- log-likelihood ----------------------------------------------------------------

    def loglikelihood(self, requests: Sequence[LoglikelihoodRequest]) -> list[Loglikelihood]:
        if not self.capabilities.logprobs:
            raise CapabilityMissing(self.name, "logprobs", f"{self.base_url}/completions returns no "
                                    "prompt log-probabilities for echo+logprobs (or logprobs=0 in the spec)")
        return self._map(self._loglikelihood_one, list(requests))

    def _loglikelihood_one(self, r: LoglikelihoodRequest) -> Loglikelihood:
        data = self._post("/completions", {"model": self.name, "prompt": r.context + r.continuation,
                                           "max_tokens": 1, "temperature": 0, "echo": True, "logprobs": 1})
        lp = self._choice(data, "/completions").get("logprobs")
        if not isinstance(lp, dict) or not lp.get("token_logprobs") or not lp.get("text_offset"):
            raise CapabilityMissing(self.name, "logprobs", f"{self.base_url}/completions ignored "
                                    "echo+logprobs (no prompt log-probabilities in the answer)")
        tokens, logprobs, offsets = lp.get("tokens") or [], lp["token_logprobs"], lp["text_offset"]
        top = lp.get("top_logprobs") or [None] * len(logprobs)
        start, end = len(r.context), len(r.context) + len(r.continuation)
        total, greedy, n = 0.0, True, 0
        for i, off in enumerate(offsets):
            if off < start or off >= end:
                continue  # a context token, or the one generated token after the echo
            if logprobs[i] is None:
                raise ModelServerError(f"{self.base_url}/completions: no log-probability for "
                                       f"continuation token {i}")
            total += float(logprobs[i])
            n += 1
            if isinstance(top[i], dict) and top[i] and i < len(tokens):
                greedy = greedy and max(top[i], key=top[i].get) == tokens[i]
        if n == 0:
            raise ModelServerError(f"{self.base_url}/completions: no echoed token falls in the "
                                   f"continuation {r.continuation!r}")
        return Loglikelihood(logprob=total, is_greedy=greedy, n_tokens=n)

    def close(self) -> None:
        self._http.close()
