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
