"""What a run ran on, in one phrase used everywhere: the terminal, report.json
(``details.run_on``), report.md, the claims' skip reasons, and the MLflow run name and tag
``affrepro.run_on``.

A dry run writes a synthetic corpus for every dataset that has a generator (licensed
ones all do) and reads the real, verified data of the others (a public dataset without a
generator, e.g. released predictions): "dry run on synthetic data" is said only when
every dataset was synthetic.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def kinds(data_info: Mapping[str, Mapping[str, Any]]) -> tuple[list[str], list[str]]:
    """(synthetic datasets, real datasets) of a run's ``report.data``."""
    synthetic = [n for n, e in data_info.items() if e.get("status") == "synthetic"]
    real = [n for n, e in data_info.items() if e.get("status") == "verified"]
    return synthetic, real


def describe(dry_run: bool, data_info: Mapping[str, Mapping[str, Any]],
             real_inputs: list[str] | tuple[str, ...] = ()) -> str:
    """E.g. "dry run on synthetic data (daic-woz)", "dry run on the real data of
    daic-woz-bias (no synthetic generator) and synthetic daic-woz", "real data (araus)".
    ``real_inputs``: what a protocol read beyond its datasets even on a dry run (it says
    so with ``ctx.note("real_inputs", [...])``), e.g. propositions shipped with affrepro."""
    text = _describe(dry_run, data_info)
    if dry_run and real_inputs:
        text += "; real inputs: " + ", ".join(real_inputs)
    return text


def _describe(dry_run: bool, data_info: Mapping[str, Mapping[str, Any]]) -> str:
    synthetic, real = kinds(data_info)
    if not dry_run:
        return f"real data ({', '.join(real)})" if real else "no data read"
    if synthetic and not real:
        return f"dry run on synthetic data ({', '.join(synthetic)})"
    if real and not synthetic:
        return f"dry run on the real data ({', '.join(real)}; no synthetic generator)"
    if real:
        return (f"dry run on synthetic {', '.join(synthetic)} and the real data of "
                f"{', '.join(real)} (no synthetic generator)")
    return "dry run (no data read)"


def dry_run_reason(description: str) -> str:
    """A dry run's judged value is reported as skipped: say on what it was measured."""
    return (f"{description}: the value exercises the pipeline and is not compared with the "
            "paper (a dry run judges nothing)")
