"""The engine around every language model: a persistent request cache, batching, a
progress bar with ETA and tokens/s, and token/request counts.

The cache is one SQLite file (``AFFREPRO_LM_CACHE``, default ``<data dir>/lm-cache.sqlite``)
in WAL mode with a busy timeout, so two processes can share it. Its key is
sha256(backend, model fingerprint, method, request) where the request holds the prompt or
messages, the settings, the seed and the sample index. Each batch's answers are committed
as soon as they arrive: a run killed mid-way and restarted asks the model only for what
was not answered yet, and gets identical results for the rest.
"""
from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from affrepro import paths
from affrepro.fileio import append_jsonl  # noqa: F401  (affrepro.lm_engine.append_jsonl, as before)
from affrepro.errors import ModelError
from affrepro.lm import (Capabilities, GenerateRequest, Generation, LanguageModel, Loglikelihood,
                         LoglikelihoodRequest, load_model)
from affrepro.lm_units import MODELS_DIR_ENV, ModelRef, ReadOnlyCache

CACHE_SCHEMA = 1


def cache_path() -> Path:
    env = os.environ.get("AFFREPRO_LM_CACHE")
    return Path(env).expanduser() if env else paths.data_dir() / "lm-cache.sqlite"


class RequestCache:
    """request key -> result JSON, shared safely between processes (WAL + busy timeout)."""

    def __init__(self, path: Path | str, timeout_s: float = 60.0):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, timeout=timeout_s, check_same_thread=False,
                                   isolation_level=None)
        self._db.execute(f"PRAGMA busy_timeout = {int(timeout_s * 1000)}")
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute("PRAGMA synchronous = NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, backend TEXT, "
            "fingerprint TEXT, method TEXT, request TEXT, result TEXT, created REAL)")

    @staticmethod
    def key(backend: str, fingerprint: str, method: str, request: dict[str, Any]) -> str:
        blob = json.dumps({"v": CACHE_SCHEMA, "backend": backend, "fingerprint": fingerprint,
                           "method": method, "request": request}, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(blob.encode()).hexdigest()

    def get_many(self, keys: Sequence[str]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        with self._lock:
            for i in range(0, len(keys), 500):
                chunk = list(keys[i:i + 500])
                rows = self._db.execute(
                    f"SELECT key, result FROM responses WHERE key IN ({','.join('?' * len(chunk))})",
                    chunk).fetchall()
                found.update((k, json.loads(r)) for k, r in rows)
        return found

    def put_many(self, rows: Sequence[tuple[str, str, str, str, dict, dict]]) -> None:
        """rows: (key, backend, fingerprint, method, request, result); one transaction."""
        now = time.time()
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany(
                    "INSERT OR REPLACE INTO responses VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [(k, b, f, m, json.dumps(req, sort_keys=True, ensure_ascii=False),
                      json.dumps(res, ensure_ascii=False), now) for k, b, f, m, req, res in rows])
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def __len__(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM responses").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._db.close()


@dataclass
class EngineStats:
    requests: int = 0          # answered by the model
    cached: int = 0            # answered by the cache
    prompt_tokens: int = 0
    completion_tokens: int = 0
    model_seconds: float = 0.0

    def as_metrics(self) -> dict[str, float]:
        d = {f"lm.{k}": float(v) for k, v in asdict(self).items()}
        d["lm.tokens_per_s"] = (self.completion_tokens / self.model_seconds
                                if self.model_seconds > 0 else 0.0)
        return d


class _Progress:
    """Progress with ETA and tokens/s: the run's progress callback ``(label, done, total,
    rate)`` when there is one (``affrepro reproduce`` draws its bars), else an own rich bar
    on a terminal (``True``), else nothing."""

    def __init__(self, enabled: bool | Callable[..., None]):
        self.enabled = enabled

    def __call__(self, description: str, total: int):
        import contextlib

        if not self.enabled or total == 0:
            return contextlib.nullcontext(lambda n, tokens: None)
        if callable(self.enabled):
            return contextlib.nullcontext(_callback_advance(self.enabled, description, total))
        return _bar(description, total)


def _callback_advance(callback: Callable[..., None], label: str, total: int):
    import inspect

    try:
        params = inspect.signature(callback).parameters.values()
        takes_rate = sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params) >= 4 \
            or any(p.kind is p.VAR_POSITIONAL for p in params)
    except (TypeError, ValueError):
        takes_rate = False
    t0, state = time.perf_counter(), {"done": 0, "tokens": 0}

    def advance(n: int, tokens: int) -> None:
        state["done"] += n
        state["tokens"] += tokens
        rate = f"{state['tokens'] / max(time.perf_counter() - t0, 1e-9):.1f} tok/s"
        if takes_rate:
            callback(label, state["done"], total, rate)
        else:
            callback(label, state["done"], total)

    callback(*((label, 0, total, "") if takes_rate else (label, 0, total)))
    return advance


def _bar(description: str, total: int):
    import contextlib

    from rich.console import Console
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                               TimeElapsedColumn, TimeRemainingColumn)

    @contextlib.contextmanager
    def run():
        console = Console(stderr=True)
        if not console.is_terminal:  # a log: a line now and then (affrepro.progress)
            from affrepro.progress import LineProgress

            lines, done = LineProgress(), [0]

            def count(n: int, tokens: int) -> None:
                done[0] += n
                lines(description, done[0], total)

            lines(description, 0, total)
            yield count
            return
        t0, seen = time.perf_counter(), [0]
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                      TextColumn("{task.fields[rate]}"), console=console, transient=True) as bar:
            task = bar.add_task(description, total=total, rate="")

            def advance(n: int, tokens: int) -> None:
                seen[0] += tokens
                rate = seen[0] / max(time.perf_counter() - t0, 1e-9)
                bar.update(task, advance=n, rate=f"{rate:.1f} tok/s")

            yield advance

    return run()


class Engine(LanguageModel):
    """A :class:`LanguageModel` that wraps another with a cache, batching and progress.

    ``batch_size`` requests go to the model at once (default: the model's
    ``preferred_batch_size`` or 16; log-likelihood requests 8 times as many, the options of
    one question always together); requests are sorted by length first so a batch pads
    little, log-likelihood requests with one context next to each other. ``no_cache`` neither reads nor writes the cache."""

    def __init__(self, model: LanguageModel, *, cache: RequestCache | None = None,
                 no_cache: bool = False, batch_size: int | None = None,
                 progress: bool | Callable[..., None] = True,
                 on_stats: Callable[[EngineStats], None] | None = None):
        self.model = model
        self.backend, self.name = model.backend, model.name
        self.no_cache = no_cache
        self.cache = None if no_cache else (cache if cache is not None else RequestCache(cache_path()))
        self.batch_size = batch_size or getattr(model, "preferred_batch_size", 16)
        self.stats = EngineStats()
        self._progress = _Progress(progress)
        self._on_stats = on_stats

    @property
    def fingerprint(self) -> str:
        return self.model.fingerprint

    def unit_ref(self, spec: str) -> ModelRef:
        """This engine as the argument of units on other processes: the spec a worker
        loads, the fingerprint it must have, the request-cache file it may read and the
        models folder; the worker opens it with :func:`worker_engine`."""
        return ModelRef(spec, self.fingerprint, worker_engine,
                        str(self.cache.path) if self.cache is not None else "",
                        os.environ.get(MODELS_DIR_ENV, ""))

    @property
    def capabilities(self) -> Capabilities:
        return self.model.capabilities

    def count_tokens(self, text: str) -> int | None:
        return self.model.count_tokens(text)

    def describe(self) -> dict[str, Any]:
        return self.model.describe()

    def generate(self, requests: Sequence[GenerateRequest], description: str = "generating") -> list[Generation]:
        return self._run("generate", list(requests), self.model.generate, Generation,
                         lambda g: g.completion_tokens, description)

    def loglikelihood(self, requests: Sequence[LoglikelihoodRequest],
                      description: str = "scoring") -> list[Loglikelihood]:
        return self._run("loglikelihood", list(requests), self.model.loglikelihood, Loglikelihood,
                         lambda r: r.n_tokens, description)

    def _run(self, method, requests, call, result_type, tokens_of, description):
        fp = self.model.fingerprint
        keys = [RequestCache.key(self.backend, fp, method, r.key()) for r in requests]
        results: dict[str, Any] = {}
        if self.cache is not None:
            for k, res in self.cache.get_many(list(dict.fromkeys(keys))).items():
                results[k] = result_type(**res)
            self.stats.cached += sum(1 for k in keys if k in results)
        todo: dict[str, Any] = {}
        for k, r in zip(keys, requests):
            if k not in results and k not in todo:
                todo[k] = r
        order = sorted(todo, key=lambda k: _order_key(todo[k]))
        with self._progress(f"{self.name}: {description}", len(order)) as advance:
            for batch_keys in _batches(order, todo, self.batch_size):
                batch = [todo[k] for k in batch_keys]
                t0 = time.perf_counter()
                answers = call(batch)
                self.stats.model_seconds += time.perf_counter() - t0
                if len(answers) != len(batch):
                    raise ModelError(f"model {self.name!r} returned {len(answers)} results for "
                                     f"{len(batch)} requests")
                self.stats.requests += len(batch)
                for a in answers:
                    if isinstance(a, Generation):
                        self.stats.prompt_tokens += a.prompt_tokens
                        self.stats.completion_tokens += a.completion_tokens
                    else:
                        self.stats.prompt_tokens += a.n_tokens
                results.update(zip(batch_keys, answers))
                if self.cache is not None:
                    self.cache.put_many([(k, self.backend, fp, method, todo[k].key(), asdict(a))
                                         for k, a in zip(batch_keys, answers)])
                advance(len(batch), sum(tokens_of(a) for a in answers))
                if self._on_stats is not None:
                    self._on_stats(self.stats)
        return [results[k] for k in keys]

    def close(self) -> None:
        self.model.close()
        if self.cache is not None:
            self.cache.close()


def _order_key(request: Any) -> tuple:
    """Generation: longest first, so a batch pads little. Log-likelihood: in context order,
    so requests with the same context, and contexts with a common prefix (one task's
    instruction and stimulus), sit next to each other and a backend can share one pass
    over what they share."""
    if isinstance(request, LoglikelihoodRequest):
        return (request.context, request.continuation)
    return (-_length(request),)


def _batches(order: list[str], todo: dict[str, Any], size: int):
    """``size`` requests at a time; a log-likelihood batch holds ``LL_BATCH_FACTOR`` times
    as many (a backend splits it by its own token budget) and never splits the requests
    of one context between two batches."""
    i = 0
    while i < len(order):
        first = todo[order[i]]
        if not isinstance(first, LoglikelihoodRequest):
            yield order[i:i + size]
            i += size
            continue
        j = min(i + size * LL_BATCH_FACTOR, len(order))
        while j < len(order) and todo[order[j]].context == todo[order[j - 1]].context:
            j += 1
        yield order[i:j]
        i = j


LL_BATCH_FACTOR = 8


def _length(request: Any) -> int:
    if isinstance(request, LoglikelihoodRequest):
        return len(request.context) + len(request.continuation)
    if request.prompt is not None:
        return len(request.prompt) + request.settings.max_new_tokens
    return sum(len(m.content) for m in request.messages) + request.settings.max_new_tokens


def open_engine(spec: str | None = None, *, no_cache: bool = False, registries=None,
                progress: bool | Callable[..., None] = True) -> Engine:
    """Load the model a spec names and wrap it in an engine."""
    return Engine(load_model(spec, registries), no_cache=no_cache, progress=progress)


_MODELS: dict[str, Any] = {}
_ENGINES: dict[tuple[str, str], Any] = {}
_LOCK = threading.Lock()
LOADS: list[str] = []  # the specs this process loaded, in order (one entry per load)


def worker_engine(ref: ModelRef) -> Engine:
    """This process's engine for ``ref``: the model loaded on first use and kept (one load per
    worker process and spec), its cache the read-only view of the driver's."""
    with _LOCK:
        engine = _ENGINES.get((ref.spec, ref.cache_file))
        if engine is not None:
            return engine
        model = _MODELS.get(ref.spec)
        if model is None:
            if ref.models_dir and not os.environ.get(MODELS_DIR_ENV):
                os.environ[MODELS_DIR_ENV] = ref.models_dir
            model = _MODELS[ref.spec] = load_model(ref.spec)
            LOADS.append(ref.spec)
        if model.fingerprint != ref.fingerprint:
            import socket

            raise ModelError(f"model {ref.spec!r} on worker {socket.gethostname()} (pid {os.getpid()}) "
                             f"has fingerprint {model.fingerprint}, the driver's {ref.fingerprint}: "
                             "give the workers the same model files (AFFREPRO_MODELS_DIR)")
        cache = ReadOnlyCache(ref.cache_file) if ref.cache_file else None
        engine = _ENGINES[(ref.spec, ref.cache_file)] = Engine(model, cache=cache, no_cache=cache is None,
                                                               progress=False)
    return engine
