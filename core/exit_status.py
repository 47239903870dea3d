"""The exit status of ``affrepro``, in one place (docs/exit-codes.md shows this table and
a test keeps the two equal), and ``--fail-on``: verdicts that make a finished run exit
non-zero, so a CI job can gate on them."""
from __future__ import annotations

from collections.abc import Iterable

from affrepro.validation import InvalidValue

OK = 0
FAILED = 1
USAGE = 2
VERDICT_GATE = 3
INTERRUPTED = 130
TERMINATED = 143

EXIT_CODES: dict[int, str] = {
    OK: "the command finished (a run: every claim has a verdict and none is `error`)",
    FAILED: "the command failed: an error (bad data, an integrity failure, an unreachable store), "
            "a run that ended FAILED, or a claim whose verdict is `error`",
    USAGE: "bad usage: an unknown option, or a value refused by its rule "
           "(`--seeds -1`, `--device tpu`, `--device cuda` without a GPU, `--fail-on maybe`)",
    VERDICT_GATE: "the run finished, but a claim got a verdict named in `--fail-on`",
    INTERRUPTED: "interrupted (SIGINT, Ctrl-C); a started run ends KILLED",
    TERMINATED: "terminated (SIGTERM); a started run ends KILLED",
}

VERDICT_NAMES = ("reproduced", "within-noise", "not-reproduced", "skipped", "error")


def parse_fail_on(text: str) -> frozenset[str]:
    """``"not-reproduced,error"`` -> the verdict values (``"not reproduced"``, ``"error"``).
    Names are the verdicts with ``-`` for spaces; InvalidValue names an unknown one."""
    names = [n.strip().lower().replace(" ", "-") for n in text.split(",")]
    if not text.strip() or any(not n for n in names):
        raise InvalidValue(f"{text!r}: expected verdict names separated by commas, from "
                           f"{', '.join(VERDICT_NAMES)}")
    unknown = [n for n in names if n not in VERDICT_NAMES]
    if unknown:
        raise InvalidValue(f"unknown verdict(s) {', '.join(map(repr, unknown))}; expected any of "
                           f"{', '.join(VERDICT_NAMES)}")
    return frozenset(n.replace("-", " ") for n in names)


def gated(verdicts: Iterable[str], fail_on: frozenset[str]) -> dict[str, int]:
    """How many claims got each verdict named in ``fail_on`` (only those present)."""
    counts: dict[str, int] = {}
    for v in verdicts:
        if v in fail_on:
            counts[v] = counts.get(v, 0) + 1
    return counts


def exit_for(status: str, verdicts: list[str], fail_on: frozenset[str] | None) -> None:
    """Exit FAILED for a run that did not finish, VERDICT_GATE (saying why on stderr) when a
    verdict named in ``fail_on`` occurred; return otherwise (the command exits 0)."""
    import sys

    import click

    if status != "FINISHED":
        sys.exit(FAILED)
    hits = gated(verdicts, fail_on or frozenset())
    if hits:
        click.echo("--fail-on: " + ", ".join(f"{n} {v}" for v, n in hits.items())
                   + f" (exit {VERDICT_GATE})", err=True)
        sys.exit(VERDICT_GATE)


def exit_for_report(report, fail_on: frozenset[str] | None) -> None:
    """``reproduce``'s exit: a run that measured nothing (``details.not_run``; a paper without
    claims) counts as ``skipped`` for ``--fail-on``."""
    verdicts = [r.verdict.value for r in report.results]
    if "not_run" in (report.details or {}) and not verdicts:
        verdicts = ["skipped"]
    exit_for(report.status, verdicts, fail_on)


def exit_for_audit(report, fail_on: frozenset[str] | None) -> None:
    """``data audit``'s exit: FAILED when its recipe failed; an audit without data
    (UNAVAILABLE, every claim skipped) is not a failure."""
    exit_for("FAILED" if report.status == "FAILED" else "FINISHED",
             [r.verdict.value for r in report.results], fail_on)
