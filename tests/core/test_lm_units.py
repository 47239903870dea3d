"""The worker's view of the driver's request cache (affrepro.lm_units): it reads the SQLite
file the driver writes, never writes it, and hands back what it computed for the driver to
record. Real SQLite files; the model part runs in tests/reproductions/test_cluster_protocols.py."""
from __future__ import annotations

import sqlite3

from affrepro.lm_engine import EngineStats, RequestCache
from affrepro.lm_units import ModelUnitResult, ReadOnlyCache, record


def _row(i: int) -> tuple:
    req = {"prompt": f"q{i}", "seed": 0}
    return (RequestCache.key("local", "fp", "generate", req), "local", "fp", "generate", req,
            {"text": f"a{i}", "prompt_tokens": 3, "completion_tokens": 1})


def _rows_in(path) -> int:
    with sqlite3.connect(path) as db:
        return db.execute("SELECT COUNT(*) FROM responses").fetchone()[0]


def test_a_worker_reads_the_drivers_cache_keeps_its_answers_and_the_driver_records_them(tmp_path):
    path = tmp_path / "lm-cache.sqlite"
    driver = RequestCache(path)
    driver.put_many([_row(0)])
    worker = ReadOnlyCache(str(path))
    k0, k1 = _row(0)[0], _row(1)[0]
    assert worker.get_many([k0, k1]) == {k0: _row(0)[5]}  # what the driver wrote, nothing else
    worker.put_many([_row(1)])
    assert worker.get_many([k1]) == {k1: _row(1)[5]}  # its own answers, for the rest of the unit
    assert _rows_in(path) == 1  # ... but never in the file
    rows = worker.drain()
    assert [r[0] for r in rows] == [k1] and worker.drain() == []

    class Driver:  # the run's engine as record() sees it: its cache and its counts
        cache, stats = driver, EngineStats(requests=2)

    record(Driver, ModelUnitResult("value", rows, {"requests": 1, "completion_tokens": 1}))
    assert driver.get_many([k1]) == {k1: _row(1)[5]} and _rows_in(path) == 2
    assert Driver.stats.requests == 3 and Driver.stats.completion_tokens == 1
    record(Driver, ModelUnitResult("value", rows, {"requests": 1}), resumed=True)  # counted by its own run
    assert Driver.stats.requests == 3
    worker.close()
    driver.close()


def test_a_worker_without_the_drivers_cache_file_asks_the_model(tmp_path):
    worker = ReadOnlyCache(str(tmp_path / "elsewhere.sqlite"))
    assert worker.get_many([_row(0)[0]]) == {}
    assert not (tmp_path / "elsewhere.sqlite").exists()  # nothing created on the worker's side
