"""One-line progress for logs (issue 20: three minutes of silence in a CI log) and the
notice that Numba is compiling (a cold cache made the first run look slow)."""
from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import time

from affrepro.progress import CompileNotice, LineProgress, for_log


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_counters_print_at_most_once_an_interval_and_always_when_done():
    clock, out = _Clock(), io.StringIO()
    p = LineProgress(out, interval=10, clock=clock)
    p.stage("running the natural-hazards-2020 protocol")
    for fold in range(11):
        p("baselines: folds", fold, 10)
        clock.now += 3  # a fold every 3 s: a line every 4th fold, and the last one
    p("baselines: folds", 10, 10)  # told twice that it is done: printed once
    lines = out.getvalue().splitlines()
    assert lines[0] == "[0:00] running the natural-hazards-2020 protocol"
    assert lines[1:] == ["[0:00] baselines: folds 0/10 (0%)", "[0:12] baselines: folds 4/10 (40%)",
                         "[0:24] baselines: folds 8/10 (80%)", "[0:30] baselines: folds 10/10 (100%)"]


def test_a_long_silent_stage_gets_a_still_working_line_on_a_log():
    out = io.StringIO()
    assert not out.isatty() and for_log(out) is not None
    t0 = time.monotonic()
    with LineProgress(out, interval=0.05) as p:
        p.stage("training the CNN")
        p("epochs", 1, 5)
        while out.getvalue().count("still working") < 2 and time.monotonic() - t0 < 10:
            time.sleep(0.05)
    elapsed = time.monotonic() - t0
    lines = out.getvalue().splitlines()
    beats = [ln for ln in lines if "still working: training the CNN (epochs 1/5 (20%))" in ln]
    assert 2 <= len(beats) <= elapsed / 0.05 + 1  # one per silent interval, not more


def test_reproduce_writes_its_stages_to_a_log(cli_runner, tmp_path):
    res = cli_runner("reproduce", "omg-empathy-2019", "--no-track", "-o", str(tmp_path / "run"),
                     env={"AFFREPRO_PROGRESS_SECONDS": "10"})
    assert res.exit_code == 0, res.output
    assert any(re.fullmatch(r"\[\d+:\d\d\] writing the report", line) for line in res.stderr.splitlines())
    quiet = cli_runner("reproduce", "omg-empathy-2019", "--no-track", "--json", "-o", str(tmp_path / "j"))
    assert "writing the report" not in quiet.stderr  # --json: stdout is for the machine, stderr quiet


def test_the_compile_notice_comes_once_and_only_when_numba_compiles():
    import numba

    @numba.njit
    def plus_one(x):
        return x + 1

    out = io.StringIO()
    with CompileNotice(out) as notice:
        plus_one(1)
        plus_one(2)
    assert notice.compiled and out.getvalue() == CompileNotice.MESSAGE + "\n"
    again = io.StringIO()
    with CompileNotice(again) as notice:
        plus_one(3)  # compiled already: nothing to say
    assert not notice.compiled and again.getvalue() == ""

    @numba.njit
    def plus_two(x):
        return x + 2

    said: list[str] = []  # reproduce passes its stage printer, so a progress bar is not torn
    with CompileNotice(say=said.append):
        plus_two(1)
    assert said == [CompileNotice.MESSAGE]


def test_a_function_loaded_from_numbas_cache_gives_no_notice(tmp_path):
    (tmp_path / "kern.py").write_text("import numba\n@numba.njit(cache=True)\ndef f(x):\n    return x * 2\n")
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import io, kern\n"
            "from affrepro.progress import CompileNotice\n"
            "with CompileNotice(io.StringIO()) as n: kern.f(2)\nprint(n.compiled)")
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "cache")}
    runs = [subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True,
                           env=env, check=True).stdout.split() for _ in range(2)]
    assert runs == [["True"], ["False"]]  # cold cache, then served from it


def test_a_heartbeat_without_a_stage_names_the_counter():
    out = io.StringIO()
    p = LineProgress(out, interval=10, clock=_Clock())
    p("logmel: files", 0, 3)
    p.heartbeat()
    assert out.getvalue().splitlines()[-1] == "[0:00] still working (logmel: files 0/3 (0%))"
