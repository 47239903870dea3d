"""A small checker for CSV tables: every problem names the file, the line (1 = header)
and the column, so ``data verify`` can list them and loaders can raise the first one."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from affrepro.components import Problem
from affrepro.errors import MalformedFileError

MAX_PER_COLUMN = 5  # problems listed per column before "… and N more"


@dataclass
class ColumnRule:
    """What one column must hold. ``kind``: "str", "int" or "float"."""

    kind: str = "float"
    allowed: tuple[Any, ...] | None = None   # a closed set of values
    low: float | None = None                 # inclusive bounds
    high: float | None = None
    nullable: bool = False
    finite: bool = True                      # refuse inf/-inf (floats)
    what: str = ""                           # how the message describes the rule


@dataclass
class TableSpec:
    name: str                                  # file name as messages show it
    columns: tuple[str, ...]                   # required columns (any order, extras allowed)
    rules: dict[str, ColumnRule] = field(default_factory=dict)
    default: ColumnRule | None = None          # rule for required columns without one
    unique: tuple[str, ...] = ()               # a primary key


def read_table(path: Path, spec: TableSpec) -> tuple[Any, list[Problem]]:
    """Read ``path`` with pandas; return (DataFrame with typed columns, problems).

    The frame is None when the file cannot be read at all. Every value that breaks a rule
    is reported; numeric cells that are not numbers are NaN in the frame.
    """
    import numpy as np
    import pandas as pd

    if not path.is_file():
        return None, [Problem(str(path), "missing")]
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        return None, [Problem(str(path), f"not UTF-8 text (byte {exc.start})")]
    except pd.errors.ParserError as exc:
        return None, [Problem(str(path), f"not a valid CSV file: {exc}")]
    except pd.errors.EmptyDataError:
        return None, [Problem(str(path), "empty file; expected a header row "
                              + ",".join(spec.columns[:6]) + ",…", line=1)]
    problems: list[Problem] = []
    missing = [c for c in spec.columns if c not in raw.columns]
    if missing:
        shown = ", ".join(missing[:12]) + (f" … ({len(missing)} in all)" if len(missing) > 12 else "")
        problems.append(Problem(str(path), f"missing column(s): {shown}", line=1))
    dup = raw.columns[raw.columns.duplicated()].tolist()
    if dup:
        problems.append(Problem(str(path), f"duplicate column(s): {', '.join(dup)}", line=1))
    out = {}
    lines = np.arange(len(raw)) + 2  # header is line 1
    for col in raw.columns:
        if col not in spec.columns:
            out[col] = raw[col]
            continue
        rule = spec.rules.get(col, spec.default or ColumnRule("float"))
        values, col_problems = _check_column(path, col, raw[col], rule, lines)
        out[col] = values
        problems.extend(col_problems)
    frame = pd.DataFrame(out, index=raw.index).copy()  # one block per dtype
    if spec.unique and not missing:
        key = list(spec.unique)
        dupes = frame.duplicated(subset=key, keep="first")
        for i in np.flatnonzero(dupes.to_numpy())[:MAX_PER_COLUMN]:
            vals = ", ".join(f"{k}={frame[k].iloc[i]!r}" for k in key)
            problems.append(Problem(str(path), f"duplicate key ({vals}); ({', '.join(key)}) must be unique",
                                    line=int(lines[i]), column=key[0]))
    return frame, problems


def _check_column(path: Path, col: str, series, rule: ColumnRule, lines) -> tuple[Any, list[Problem]]:
    import numpy as np
    import pandas as pd

    s = series.str.strip()
    empty = (s == "").to_numpy()
    problems: list[Problem] = []

    def report(mask, message: Callable[[int], str]) -> None:
        idx = np.flatnonzero(mask)
        for i in idx[:MAX_PER_COLUMN]:
            problems.append(Problem(str(path), message(i), line=int(lines[i]), column=col))
        if len(idx) > MAX_PER_COLUMN:
            problems.append(Problem(str(path), f"… and {len(idx) - MAX_PER_COLUMN} more rows like these",
                                    column=col))

    if not rule.nullable:
        report(empty, lambda i: "empty value" + (f"; expected {rule.what}" if rule.what else ""))
    if rule.kind == "str":
        values = s
        if rule.allowed is not None:
            report(~empty & ~s.isin(rule.allowed).to_numpy(),
                   lambda i: f"{s.iloc[i]!r} is not one of {', '.join(map(str, rule.allowed))}")
        return values, problems
    num = pd.to_numeric(s.mask(empty), errors="coerce")
    bad = ~empty & num.isna().to_numpy()
    report(bad, lambda i: f"{s.iloc[i]!r} is not a number" + (f"; expected {rule.what}" if rule.what else ""))
    arr = num.to_numpy(dtype=np.float64)
    ok = ~np.isnan(arr)
    if rule.kind == "int":
        frac = ok & (arr != np.round(arr))
        report(frac, lambda i: f"{s.iloc[i]!r} is not an integer" + (f"; expected {rule.what}" if rule.what else ""))
        ok &= ~frac
    elif rule.finite:
        inf = ok & ~np.isfinite(arr)
        report(inf, lambda i: f"{s.iloc[i]!r} is not finite")
        ok &= ~inf
    if rule.allowed is not None:
        out_set = ok & ~np.isin(arr, np.asarray(rule.allowed, dtype=np.float64))
        report(out_set, lambda i: f"{s.iloc[i]} is outside {rule.what or set(rule.allowed)}")
        ok &= ~out_set
    if rule.low is not None or rule.high is not None:
        lo = -np.inf if rule.low is None else rule.low
        hi = np.inf if rule.high is None else rule.high
        out_range = ok & ((arr < lo) | (arr > hi))
        report(out_range, lambda i: f"{s.iloc[i]} is outside {rule.what or f'[{lo}, {hi}]'}")
    return pd.Series(arr, index=series.index), problems


def raise_first(problems: Iterable[Problem]) -> None:
    """Raise the first problem as a MalformedFileError (file, line, column, message)."""
    for p in problems:
        raise MalformedFileError(p.path, p.message, line=p.line, column=p.column)
