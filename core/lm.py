"""The language-model interface: frozen requests, typed results, declared capabilities.

A protocol asks a :class:`LanguageModel` for

- ``generate(requests)``: one :class:`Generation` per :class:`GenerateRequest` (a prompt
  or chat messages, :class:`GenerationSettings`, a seed and a sample index), batched;
- ``loglikelihood(requests)``: for each (context, continuation) pair,
  log P(continuation | context) = Σ_t log p(c_t | context, c_<t) over the continuation's
  tokens, and whether greedy decoding would have produced exactly the continuation.

Backends (``local``, ``openai``, a third party's) register an :class:`LMBackend` through
the ``register_models`` hook; :func:`load_model` turns a spec into a model:

    smollm2-135m                              a name a backend serves (the default)
    local:/path/model.gguf | local:/path/hf-folder
    openai:http://127.0.0.1:8000/v1#MODEL     (base URL, model; OPENAI_BASE_URL,
                                               AFFREPRO_MODEL, OPENAI_API_KEY fill gaps)

Options follow a ``?``: ``local:/m.gguf?dtype=bfloat16&device=cuda&max_context=2048``.
The engine around any model (cache, batching, progress, counts) is
:class:`affrepro.lm_engine.Engine`; a run's protocol gets one as ``ctx.model``.
"""
from __future__ import annotations

import abc
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from affrepro.components import Model
from affrepro.errors import UnknownModelSpec

DEFAULT_MODEL = "smollm2-135m"
ROLES = ("system", "user", "assistant")


@dataclass(frozen=True)
class Message:
    role: str
    content: str

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"message role {self.role!r}: expected one of {', '.join(ROLES)}")
        if not isinstance(self.content, str):
            raise TypeError(f"message content must be a str, got {type(self.content).__name__}")


@dataclass(frozen=True)
class GenerationSettings:
    """``temperature == 0`` is greedy decoding; otherwise sampling with nucleus ``top_p``.
    Generation stops at the model's end token, at any string of ``stop`` (cut before it),
    or after ``max_new_tokens``."""

    max_new_tokens: int = 256
    temperature: float = 0.0
    top_p: float = 1.0
    stop: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.max_new_tokens, int) or self.max_new_tokens < 1:
            raise ValueError(f"max_new_tokens must be a positive int, got {self.max_new_tokens!r}")
        if not self.temperature >= 0:
            raise ValueError(f"temperature must be ≥ 0, got {self.temperature!r}")
        if not 0 < self.top_p <= 1:
            raise ValueError(f"top_p must be in (0, 1], got {self.top_p!r}")
        if isinstance(self.stop, str):
            object.__setattr__(self, "stop", (self.stop,))
        else:
            object.__setattr__(self, "stop", tuple(self.stop))

    @property
    def greedy(self) -> bool:
        return self.temperature == 0


@dataclass(frozen=True)
class GenerateRequest:
    """Exactly one of ``prompt`` (plain text, no chat template) or ``messages`` (chat).
    ``sample_index`` tells apart repeated samples of the same request (self-consistency,
    several answers per prompt); with ``seed`` it fixes the sampler's random stream."""

    prompt: str | None = None
    messages: tuple[Message, ...] | None = None
    settings: GenerationSettings = field(default_factory=GenerationSettings)
    seed: int = 0
    sample_index: int = 0

    def __post_init__(self) -> None:
        if (self.prompt is None) == (self.messages is None):
            raise ValueError("a GenerateRequest needs exactly one of prompt or messages")
        if self.messages is not None:
            msgs = tuple(m if isinstance(m, Message) else Message(**m) for m in self.messages)
            if not msgs:
                raise ValueError("messages must not be empty")
            object.__setattr__(self, "messages", msgs)
        elif not isinstance(self.prompt, str):
            raise TypeError(f"prompt must be a str, got {type(self.prompt).__name__}")

    def key(self) -> dict[str, Any]:
        """The JSON-able identity of the request (the cache key's request part)."""
        return asdict(self)


@dataclass(frozen=True)
class LoglikelihoodRequest:
    context: str
    continuation: str

    def __post_init__(self) -> None:
        if not isinstance(self.context, str) or not isinstance(self.continuation, str):
            raise TypeError("context and continuation must be str")
        if not self.continuation:
            raise ValueError("continuation must not be empty")

    def key(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Generation:
    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str  # "stop" (end token or a stop string) | "length"


@dataclass(frozen=True)
class Loglikelihood:
    logprob: float
    is_greedy: bool
    n_tokens: int


@dataclass(frozen=True)
class Capabilities:
    chat: bool
    logprobs: bool
    max_context: int  # tokens; 0 = unknown

    def missing(self, needed: Iterable[str]) -> list[str]:
        return [n for n in needed if not getattr(self, n, False)]


class LanguageModel(abc.ABC):
    """What every backend implements. ``fingerprint`` identifies the weights exactly (the
    model file's sha256, or the server's model id and revision) and keys the cache."""

    backend: str = ""
    name: str = ""

    @property
    @abc.abstractmethod
    def fingerprint(self) -> str: ...

    @property
    @abc.abstractmethod
    def capabilities(self) -> Capabilities: ...

    @abc.abstractmethod
    def generate(self, requests: Sequence[GenerateRequest]) -> list[Generation]: ...

    @abc.abstractmethod
    def loglikelihood(self, requests: Sequence[LoglikelihoodRequest]) -> list[Loglikelihood]: ...

    def count_tokens(self, text: str) -> int | None:
        """Tokens in ``text`` when the backend can tell without a model call, else None."""
        return None

    def describe(self) -> dict[str, Any]:
        caps = self.capabilities
        return {"backend": self.backend, "name": self.name, "fingerprint": self.fingerprint,
                "chat": caps.chat, "logprobs": caps.logprobs, "max_context": caps.max_context}

    def close(self) -> None:
        """Release what the model holds (threads, connections, memory)."""


@dataclass(frozen=True)
class NamedModel:
    """A model a backend serves by name (``smollm2-135m``)."""

    name: str
    description: str
    capabilities: str = ""  # e.g. "chat, logprobs, 8192 tokens"


@dataclass(frozen=True)
class LMBackend(Model):
    """A language-model backend, registered with ``register_models``.

    ``factory(target, options)`` returns a :class:`LanguageModel`: ``target`` is the spec
    after ``scheme:`` (or a name from ``named``), ``options`` the ``?k=v`` pairs."""

    scheme: str = ""
    named: tuple[NamedModel, ...] = ()
    spec_help: str = ""
    # fetch(name, say) -> path: obtains a named model ahead of its first use (`models fetch`)
    fetch: Callable[..., Any] | None = None


@dataclass(frozen=True)
class ModelSpec:
    backend: str
    target: str
    options: Mapping[str, str]
    text: str


def lm_backends(registries=None) -> list[LMBackend]:
    if registries is None:
        from affrepro.plugin_manager import get_registries

        registries = get_registries()
    return [m for m in registries.models if isinstance(m, LMBackend)]


def default_spec() -> str:
    """``AFFREPRO_MODEL`` when it is a full spec, else the embedded default."""
    env = os.environ.get("AFFREPRO_MODEL", "").strip()
    return env if env and (":" in env) else DEFAULT_MODEL


def parse_spec(spec: str, backends: Sequence[LMBackend]) -> ModelSpec:
    text = spec.strip()
    body, _, query = text.partition("?")
    options = dict(parse_qsl(query, keep_blank_values=True))
    for b in backends:
        if any(body == n.name for n in b.named):
            return ModelSpec(b.scheme, body, options, text)
    scheme, sep, target = body.partition(":")
    if sep:
        for b in backends:
            if b.scheme == scheme:
                return ModelSpec(b.scheme, target, options, text)
    elif body in {b.scheme for b in backends}:  # "openai" alone: everything from the environment
        return ModelSpec(body, "", options, text)
    known = [n.name for b in backends for n in b.named] + [f"{b.scheme}:{b.spec_help or '…'}" for b in backends]
    raise UnknownModelSpec(spec, known)


def load_model(spec: str | None = None, registries=None) -> LanguageModel:
    """The model a spec names (``None``: :func:`default_spec`), without the engine."""
    backends = lm_backends(registries)
    parsed = parse_spec(spec or default_spec(), backends)
    backend = next(b for b in backends if b.scheme == parsed.backend)
    return backend.factory(parsed.target, dict(parsed.options))


ModelFactory = Callable[[str, Mapping[str, str]], LanguageModel]
