"""Integrity failures: a data file that is there but is not the declared one.

A missing dataset skips its claims (the user has not fetched or linked it yet). A file
whose checksum differs from the declared one (a tampered mirror, a corrupted or edited
local copy) is another matter: the claims that read it get the verdict ``error``, naming
the file and both digests, and the run fails (exit 1). When ``reproduce`` replaces a
damaged local copy of a public dataset by a verified fetch, it says so in the terminal,
the report's warnings and ``data.<name>.replaced`` of report.json.
"""
from __future__ import annotations

from collections.abc import Iterable

from affrepro.components import Dataset, Problem
from affrepro.errors import ChecksumError


def integrity_problems(problems: Iterable[Problem]) -> list[Problem]:
    return [p for p in problems if p.integrity]


def from_checksum_error(exc: ChecksumError) -> Problem:
    algo = exc.algorithm
    where = f"{exc.path} (as fetched from {exc.source})" if exc.source else str(exc.path)
    return Problem(where, str(exc), expected=f"{algo} {exc.expected}", actual=f"{algo} {exc.actual}")


def describe(dataset: Dataset, problems: list[Problem]) -> str:
    """The ``error`` reason: every damaged file with the declared and the found digest."""
    files = "; ".join(f"{p.path}: expected {p.expected}, found {p.actual}" for p in problems)
    return (f"integrity failure in dataset {dataset.name!r}: {files}. The file is not the one "
            f"the dataset declares (a tampered or corrupted copy); nothing was measured on it")


def replaced_warning(dataset: Dataset, problems: list[Problem]) -> str:
    files = "; ".join(f"{p.path} had {p.actual}, expected {p.expected}" for p in problems)
    return (f"dataset {dataset.name!r}: the local copy was damaged ({files}); it was fetched again "
            "and verified before the run")


def damaged_reason(datasets: Iterable[str], damaged: dict[str, str]) -> str | None:
    """The ``error`` reason of a claim that reads ``datasets`` (its own and its protocol's),
    or None when none of them failed its integrity check."""
    reasons = [damaged[d] for d in dict.fromkeys(datasets) if d in damaged]
    return "; ".join(reasons) or None
