"""A run's measured results (records) as pivot tables instead of one line per number.

Record names are dotted: ``GROUP.D1.….Dk.METRIC`` (a decimal point belongs to the
name, as in ``vader_ge_0.05``; ``cv5.2011-tornado`` is two parts). ``NAME.ci_low``/``NAME.ci_high`` beside ``NAME`` are
its confidence interval, printed ``.78 [.77, .79]``. Per group and name length:

- k = 0: ``GROUP.METRIC`` -> one table, a row per metric;
- k = 1: rows D1 (e.g. events) × columns METRIC;
- k ≥ 2: one table per (D1…Dk−2, METRIC): rows Dk−1 × columns Dk (e.g. split × model).
"""
from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from affrepro.formatting import fmt

_NUMBER_BEFORE_DOT = re.compile(r"(?:^|[_\-=<>])\d+$")  # "vader_ge_0" of "vader_ge_0.05"
CI_SUFFIXES = (".ci_low", ".ci_high")


def split_name(name: str) -> list[str]:
    """``a.b_0.05.c`` -> [a, b_0.05, c]: a dot splits unless it is a decimal point (digits
    that start a number before it, a digit after it)."""
    parts, current = [], ""
    for i, ch in enumerate(name):
        if ch == "." and not (i + 1 < len(name) and name[i + 1].isdigit() and _NUMBER_BEFORE_DOT.search(current)):
            parts.append(current)
            current = ""
        else:
            current += ch
    return [*parts, current]


def fmt_ci(value: float, low: float, high: float) -> str:
    """``.78 [.77, .79]``: two decimals, more where the bounds would print alike (up to 4);
    the leading zero dropped for values inside (−1, 1)."""
    digits = 2
    while digits < 4 and round(low, digits) == round(high, digits):
        digits += 1

    def one(v: float) -> str:
        if not math.isfinite(v):
            return str(v)
        s = f"{v:.{digits}f}"
        return s.replace("0.", ".", 1) if abs(v) < 1 and s.lstrip("-").startswith("0.") else s

    return f"{one(value)} [{one(low)}, {one(high)}]"


def _cell(name: str, records: Mapping[str, Any]) -> str:
    v = records[name]
    lo, hi = records.get(name + ".ci_low"), records.get(name + ".ci_high")
    if all(isinstance(x, (int, float)) for x in (v, lo, hi)):
        return fmt_ci(float(v), float(lo), float(hi))
    return fmt(v, 4) if not isinstance(v, str) else v


def pivot(records: Mapping[str, Any]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """(tables, left over): each table {title, rows: [label], columns: [label], cells:
    {(row, col): text}}; records no pivot holds (a lone name, a table of one cell) are
    left over, by name."""
    names = [n for n in records if not (n.endswith(CI_SUFFIXES) and n.rsplit(".", 1)[0] in records)]
    by_shape: dict[tuple[str, int], list[tuple[str, list[str]]]] = defaultdict(list)
    for n in names:
        parts = split_name(n)
        by_shape[(parts[0], len(parts))].append((n, parts))
    tables: list[dict[str, Any]] = []
    leftover: dict[str, Any] = {}
    for (group, length), items in by_shape.items():
        k = length - 2
        if k < 1:
            if len(items) > 1:
                tables.append(_table(f"{group} · totals", [(p[1], "value", n) for n, p in items], records))
            else:
                leftover.update({n: records[n] for n, _ in items})
            continue
        sub: dict[tuple[str, ...], list[tuple[str, str, str]]] = defaultdict(list)
        for n, p in items:
            dims, metric = p[1:-1], p[-1]
            if k == 1:
                sub[()].append((dims[0], metric, n))
            else:
                sub[(*dims[:-2], metric)].append((dims[-2], dims[-1], n))
        for key, cells in sub.items():
            rows = {r for r, _, _ in cells}
            cols = {c for _, c, _ in cells}
            if len(rows) < 2 and len(cols) < 2:
                leftover.update({n: records[n] for _, _, n in cells})
                continue
            title = " · ".join((group, *key)) if key else f"{group} · breakdown"
            tables.append(_table(title, cells, records))
    return tables, leftover


def _table(title: str, cells: list[tuple[str, str, str]], records: Mapping[str, Any]) -> dict[str, Any]:
    rows = list(dict.fromkeys(r for r, _, _ in cells))
    cols = list(dict.fromkeys(c for _, c, _ in cells))
    return {"title": title, "rows": rows, "columns": cols,
            "cells": {(r, c): _cell(n, records) for r, c, n in cells}}


def render_markdown(records: Mapping[str, Any]) -> list[str]:
    """The report's "Other measured results" section: pivot tables, then what is left."""
    if not records:
        return []
    tables, leftover = pivot(records)
    lines = ["", "## Other measured results (not claims)", "",
             f"{len(records)} numbers; confidence intervals as `value [low, high]`."]
    for t in tables:
        lines += ["", f"### {t['title']}", "", "| | " + " | ".join(t["columns"]) + " |",
                  "|---|" + "---|" * len(t["columns"])]
        for r in t["rows"]:
            lines.append(f"| {r} | " + " | ".join(t["cells"].get((r, c), "—") for c in t["columns"]) + " |")
    if leftover:
        lines += ["", "| name | value |", "|---|---|"]
        lines += [f"| {k} | {v if isinstance(v, str) else fmt(v, 6)} |" for k, v in leftover.items()]
    return lines
