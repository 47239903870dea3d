"""A pytest plugin that ``affrepro bench run`` loads into its pytest process: the node ids
of the tests that failed (setup, call or teardown) go to the JSON file named by
``AFFREPRO_BENCH_FAILURES``, so that their timings are marked, not published as results.
pytest-benchmark records a benchmark's timing before the test's own checks (accuracy,
targets) run, so a failed test can still leave a timing behind."""
from __future__ import annotations

import json
import os
from pathlib import Path

_failed: list[str] = []


def pytest_runtest_logreport(report) -> None:
    if report.failed and report.nodeid not in _failed:
        _failed.append(report.nodeid)


def pytest_sessionfinish(session, exitstatus) -> None:
    path = os.environ.get("AFFREPRO_BENCH_FAILURES")
    if path:
        Path(path).write_text(json.dumps(_failed))
