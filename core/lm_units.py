"""Units that call the run's language model, on the run's executor (``ctx.map_model``).

In-process the units share the run's engine (its cache, progress and counts). On Dask
workers each worker process loads the model once, the first time a unit needs it, keyed
by the model spec and the driver's cache file (not once per unit), and keeps it for the
units that follow. A worker reads the driver's request cache (SQLite, opened read-only,
when its file is reachable) but never writes it: SQLite takes no concurrent writers well,
so the requests and answers a unit computed travel back with its result and the driver
writes them (:func:`record`), as it records every unit's result.

The model a worker loads must be the driver's: its fingerprint is checked against the one
the driver sent, and a mismatch fails the unit naming both.

This module names no model code: a :class:`ModelRef` carries the function that opens the
worker's engine (:func:`affrepro.lm_engine.worker_engine`, pickled by name), so the run
context can use it without importing the model layer above it.
"""
from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from affrepro.errors import ModelError

MODELS_DIR_ENV = "AFFREPRO_MODELS_DIR"


@dataclass(frozen=True)
class ModelRef:
    """The run's model as a unit's argument: the spec a worker loads, the fingerprint it must
    have, the driver's request-cache file ("" with ``--no-cache``) and models folder (used
    where the worker's own environment names none)."""

    spec: str
    fingerprint: str
    open: Callable[[ModelRef], Any]
    cache_file: str = ""
    models_dir: str = ""


@dataclass
class ModelUnitResult:
    """What a model unit sends back: its value, the request-cache rows it computed
    (key, backend, fingerprint, method, request, result) and its share of the engine's counts."""

    value: Any
    cache_rows: list[tuple] = field(default_factory=list)
    stats: dict[str, float] = field(default_factory=dict)


class ReadOnlyCache:
    """The driver's request cache as a worker sees it: lookups in the SQLite file (opened
    read-only; nothing when it is not reachable from here) and in what this unit computed;
    new answers are kept until the unit hands them back (:meth:`drain`)."""

    def __init__(self, path: str):
        self.path = path
        self._lock = threading.Lock()
        self._new: dict[str, tuple] = {}
        self._db = None
        if path and Path(path).is_file():
            try:
                self._db = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True,
                                           timeout=60.0, check_same_thread=False)
            except sqlite3.Error:
                self._db = None

    def get_many(self, keys: Sequence[str]) -> dict[str, dict[str, Any]]:
        import json

        with self._lock:
            found = {k: self._new[k][5] for k in keys if k in self._new}
            rest = [k for k in keys if k not in found]
            if self._db is not None:
                try:
                    for i in range(0, len(rest), 500):
                        chunk = rest[i:i + 500]
                        rows = self._db.execute(f"SELECT key, result FROM responses WHERE key IN "
                                                f"({','.join('?' * len(chunk))})", chunk).fetchall()
                        found.update((k, json.loads(r)) for k, r in rows)
                except sqlite3.Error:  # no table yet, or the file went away: ask the model
                    pass
        return found

    def put_many(self, rows: Sequence[tuple]) -> None:
        with self._lock:
            for row in rows:
                self._new[row[0]] = tuple(row)

    def drain(self) -> list[tuple]:
        with self._lock:
            rows, self._new = list(self._new.values()), {}
        return rows

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None


def call_with_model(fn: Callable[..., Any], ref: ModelRef, *args: Any) -> ModelUnitResult:
    """On a worker: ``fn(engine, *args)`` with this process's engine; the value, the cache
    rows it computed and its counts."""
    engine = ref.open(ref)
    if engine.cache is not None:
        engine.cache.drain()  # what an earlier unit that raised left: never handed back
    before = asdict(engine.stats)
    value = fn(engine, *args)
    rows = engine.cache.drain() if engine.cache is not None else []
    stats = {k: v - before[k] for k, v in asdict(engine.stats).items()}
    return ModelUnitResult(value, rows, stats)


def call_with_engine(fn: Callable[..., Any], engine: Any, *args: Any) -> ModelUnitResult:
    """In-process: ``fn(engine, *args)`` on the run's own engine (it records as it goes)."""
    return ModelUnitResult(fn(engine, *args))


def record(engine: Any, result: ModelUnitResult, resumed: bool = False) -> None:
    """The driver's part: a worker's answers into the run's request cache, its counts into
    the run's (not for a unit taken from the journal: those were counted by its own run)."""
    cache = getattr(engine, "cache", None)
    if result.cache_rows and cache is not None:
        cache.put_many(result.cache_rows)
    if not resumed:
        for k, v in result.stats.items():
            setattr(engine.stats, k, getattr(engine.stats, k) + v)
