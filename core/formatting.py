"""How a report prints numbers: scores to four decimals, counts as whole numbers."""
from __future__ import annotations

import math


def fmt(value: float | None, digits: int = 4, sign: str = "") -> str:
    """4 decimals for scores; whole numbers (counts) without decimals once they are large."""
    if value is None:
        return "—"
    if isinstance(value, str):  # a non-finite number as report.json keeps it ('nan', 'inf')
        return value
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if abs(value) >= 1000 and float(value).is_integer():
        return f"{value:{sign},.0f}"
    return f"{value:{sign}.{digits}f}"


def fmt_diff(value: float | None, digits: int = 4) -> str:
    return fmt(value, digits, sign="+")
