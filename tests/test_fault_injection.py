"""Fault injection (issue 21): `affrepro reproduce daic-woz-bias-2024` (real data, from the
mirror) killed with SIGKILL, SIGTERM and SIGINT at a spread of moments — while the store is built,
while data is checked, mid-protocol and while the report is written. After each kill the
store opens, the next command works, the killed run ends KILLED (swept when SIGKILLed),
no final path holds a partial file, no scratch is left, and the last re-run gives the
verdicts the first clean run gave. One home throughout, so each kill meets the leftovers
of the previous one."""
from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

PAPER = "daic-woz-bias-2024"
KILL_POINTS: list[str] = []  # what was tried, for the report's closing note


def _default_sigint() -> None:
    """A shell starts background jobs with SIGINT ignored, and Python keeps it ignored:
    give the command the disposition a terminal's foreground job has."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _cli(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "affrepro.cli", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=dict(os.environ),
                            preexec_fn=_default_sigint)


def _run(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "affrepro.cli", *args], capture_output=True,
                          text=True, timeout=timeout, env=dict(os.environ))


def _wait(pred, proc: subprocess.Popen, what: str, timeout: float = 240) -> None:
    deadline = time.time() + timeout
    while not pred():
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"the command ended (rc {proc.returncode}) before {what}:\n{err[-2000:]}")
        assert time.time() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def _kill(proc: subprocess.Popen, sig: signal.Signals, point: str) -> int:
    proc.send_signal(sig)
    proc.communicate(timeout=120)
    KILL_POINTS.append(f"{sig.name} {point}" + (" (it had finished first)" if proc.returncode == 0 else ""))
    return proc.returncode


def _runs(db: Path) -> dict[str, tuple[str, int | None]]:
    if not db.is_file():
        return {}
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
        return {r[0]: (r[1], r[2]) for r in con.execute("SELECT run_uuid, status, end_time FROM runs")}


def _tags(db: Path, run_id: str) -> dict[str, str]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
        return dict(con.execute("SELECT key, value FROM tags WHERE run_uuid = ?", (run_id,)))


def _report_files(home: Path) -> list[Path]:
    return list((home / "runs").glob(f"{PAPER}/*/report.*"))


def _assert_nothing_partial(home: Path) -> None:
    """Every report.json parses; every report.md is exactly its report.json rendered (the
    JSON is written first, each atomically); every report.html is whole, with a row per
    claim of its report.json."""
    from affrepro.report import render_markdown

    for f in _report_files(home):
        if f.suffix == ".json":
            json.loads(f.read_text())
        elif f.suffix == ".html":
            d = json.loads((f.parent / "report.json").read_text())
            page = f.read_text()
            assert page.endswith("</main></body></html>\n"), f"{f} is cut short"
            assert all(f'id="claim-{c["id"]}"' in page for c in d["claims"]), f"{f} lacks a claim"
        else:
            d = json.loads((f.parent / "report.json").read_text())
            assert f.read_text() == render_markdown(d), f"{f} is not its report.json rendered"


def _verdicts(res: subprocess.CompletedProcess) -> dict[str, str]:
    assert res.returncode == 0, res.stderr[-3000:]
    return {c["id"]: c["verdict"] for c in json.loads(res.stdout)["claims"]}


def test_kills_at_a_spread_of_moments_lose_nothing(mirror, tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("AFFREPRO_HOME", str(home))
    monkeypatch.setenv("AFFREPRO_DATA_MIRROR", str(mirror))
    db = home / "mlflow.db"
    private_tmp = tmp_path / "tmp"  # the commands' TMPDIR: whatever they leave there is seen
    private_tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(private_tmp))
    building = lambda: home.is_dir() and any(home.glob(".mlflow.db.building-*"))  # noqa: E731
    reproduce = ("reproduce", PAPER, "--json")

    # 1-2. while MLflow builds the store: nothing at the final path either way
    proc = _cli(*reproduce)
    _wait(building, proc, "the store build")
    assert _kill(proc, signal.SIGTERM, "while the store is built") == 143
    assert not db.exists() and not building(), "SIGTERM left a store or its build behind"
    proc = _cli(*reproduce)
    _wait(building, proc, "the store build")
    time.sleep(0.2)
    assert _kill(proc, signal.SIGKILL, "while the store is built") == -signal.SIGKILL
    assert not db.exists(), "SIGKILL left a half-built store at its final path"

    # the next command works, and its verdicts are the reference
    first = _verdicts(_run(*reproduce))
    assert not building(), "the killed build was not swept"
    assert "reproduced" in first.values()

    # 3. Ctrl-C (SIGINT) while data is checked, before the run starts: exit 130, and the
    # command removes its own scratch on the way out
    scratch = home / "scratch"
    proc = _cli(*reproduce)
    _wait(lambda: scratch.is_dir() and any(scratch.iterdir()), proc, "the scratch folder")
    assert _kill(proc, signal.SIGINT, "while the data is checked") == 130
    assert not list(scratch.iterdir())

    # 4. SIGKILL mid-protocol: the run stays RUNNING until the next command sweeps it
    known = set(_runs(db))
    proc = _cli(*reproduce)
    _wait(lambda: any(s == "RUNNING" for r, (s, _) in _runs(db).items() if r not in known), proc,
          "the run to start")  # the protocol follows at once and takes about a second
    assert _kill(proc, signal.SIGKILL, "mid-protocol") == -signal.SIGKILL
    (sigkilled,) = set(_runs(db)) - known
    assert _runs(db)[sigkilled][0] == "RUNNING"

    # 5. SIGTERM mid-protocol: exit 143 and the run ends KILLED by itself; this command's
    # start swept 4's run (and its scratch)
    known = set(_runs(db))
    proc = _cli(*reproduce)
    _wait(lambda: any(s == "RUNNING" for r, (s, _) in _runs(db).items() if r not in known), proc,
          "the run to start")
    assert _kill(proc, signal.SIGTERM, "mid-protocol") == 143
    (sigtermed,) = set(_runs(db)) - known
    assert _runs(db)[sigtermed][0] == "KILLED"
    status, end = _runs(db)[sigkilled]
    assert status == "KILLED" and end is not None
    assert "is gone" in _tags(db, sigkilled)["affrepro.swept"]

    # 6. SIGKILL while the report is written (its folder appears just before)
    reports_before = {p.parent for p in _report_files(home)}
    folders = lambda: {p for p in (home / "runs" / PAPER).glob("*") if p.is_dir()} - reports_before  # noqa: E731
    proc = _cli(*reproduce)
    _wait(lambda: (home / "runs" / PAPER).is_dir() and folders(), proc, "the report folder")
    assert _kill(proc, signal.SIGKILL, "while the report is written") in (-signal.SIGKILL, 0)
    _assert_nothing_partial(home)

    # the store opens, every run has ended, nothing is left behind, the verdicts hold
    assert _run("store", "check").returncode == 0
    last = _verdicts(_run(*reproduce))
    assert last == first
    assert all(status != "RUNNING" for status, _ in _runs(db).values()), _runs(db)
    assert not list(scratch.iterdir()), list(scratch.iterdir())
    assert not list(private_tmp.glob("*affrepro*")), list(private_tmp.iterdir())
    _assert_nothing_partial(home)
    assert len(KILL_POINTS) == 6, KILL_POINTS
    print("kill points tried:", len(KILL_POINTS), *KILL_POINTS, sep="\n  ")
