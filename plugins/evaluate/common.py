"""Shared pieces of the evaluation protocols: results, prediction-file policies, CSV reading.

An evaluator scores a user's prediction files against a corpus's annotation files
*exactly as the challenge's official script does*, and returns an :class:`Evaluation`:
per-file tables, the aggregate numbers the challenge reports, the policies applied, and
every warning (e.g. padded predictions). Bad input is never silently repaired:

- a prediction file missing for an annotation file, or one for an unknown
  subject/story/video: :class:`PredictionError` listing them all;
- wrong column names, a non-numeric value or NaN: :class:`PredictionError` naming the
  file, line and column;
- a prediction file longer or shorter than its annotation file: ``length_policy``
  decides — ``"error"`` (raise), or ``"crop-pad"`` (crop extra frames, repeat the last
  prediction for missing ones, as the AVEC 2019 evaluation script does), each use
  reported as a warning and a deviation in the result.
"""
from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from affrepro.errors import AffreproError, MalformedFileError

LENGTH_POLICIES = ("error", "crop-pad")


class PredictionError(AffreproError, ValueError):
    """Prediction files that cannot be scored (missing, unknown, malformed, wrong length)."""


@dataclass
class Table:
    """A per-file (or per-group) table: column names and rows of values."""

    title: str
    columns: list[str]
    rows: list[list[Any]]

    def as_dict(self) -> dict[str, Any]:
        return {"title": self.title, "columns": self.columns,
                "rows": [[_jsonable(v) for v in r] for r in self.rows]}


@dataclass
class Evaluation:
    """The result of one evaluation: aggregate numbers, tables, policies, warnings."""

    paper: str
    aggregate: dict[str, float]
    tables: list[Table]
    policies: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    deviations: list[str] = field(default_factory=list)
    n_files: int = 0
    official_script: str = ""
    output_dir: str | None = None
    run_id: str | None = None
    tracking_uri: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"paper": self.paper, "aggregate": {k: _jsonable(v) for k, v in self.aggregate.items()},
                "tables": [t.as_dict() for t in self.tables], "policies": self.policies,
                "warnings": self.warnings, "deviations": self.deviations,
                "n_files": self.n_files, "official_script": self.official_script,
                "output_dir": self.output_dir, "run_id": self.run_id,
                "tracking_uri": self.tracking_uri}


def _jsonable(v: Any) -> Any:
    if isinstance(v, (float, np.floating)):
        v = float(v)
        return v if math.isfinite(v) else None
    if isinstance(v, np.integer):
        return int(v)
    return v


def check_length_policy(policy: str) -> str:
    if policy not in LENGTH_POLICIES:
        raise ValueError(f"length_policy must be one of {LENGTH_POLICIES}, got {policy!r}")
    return policy


def match_files(expected: dict[Any, Path], given: dict[Any, Path], what: str,
                pred_dir: Path) -> None:
    """Raise PredictionError unless predictions exist for exactly the expected keys."""
    missing = sorted(set(expected) - set(given))
    unknown = sorted(set(given) - set(expected))
    parts = []
    if missing:
        parts.append(f"{len(missing)} missing (" + ", ".join(expected[k].name for k in missing[:10])
                     + (" …" if len(missing) > 10 else "") + ")")
    if unknown:
        parts.append(f"{len(unknown)} for unknown {what} (" +
                     ", ".join(given[k].name for k in unknown[:10]) +
                     (" …" if len(unknown) > 10 else "") + ")")
    if parts:
        raise PredictionError(f"prediction files in {pred_dir} do not match the annotations: "
                              + "; ".join(parts))


def fit_length(pred: np.ndarray, n: int, policy: str, path: Path, warnings_out: list[str]
               ) -> np.ndarray:
    """Apply ``policy`` to a prediction array of the wrong length (first axis)."""
    if pred.shape[0] == n:
        return pred
    if policy == "error" or pred.shape[0] == 0:
        raise PredictionError(f"{path}: {pred.shape[0]} predictions for {n} annotated frames "
                              f"(length_policy={policy!r}; 'crop-pad' crops or repeats the last "
                              "prediction as the AVEC 2019 script does)")
    if pred.shape[0] > n:
        warnings_out.append(f"{path.name}: cropped {pred.shape[0] - n} extra predictions")
        return pred[:n]
    warnings_out.append(f"{path.name}: {n - pred.shape[0]} missing predictions filled by "
                        "repeating the last one")
    pad = np.repeat(pred[-1:], n - pred.shape[0], axis=0)
    return np.concatenate([pred, pad], axis=0)


def read_columns(path: Path, columns: list[str], *, delimiter: str = ",",
                 require_exact: bool = False, strip_quotes: bool = False,
                 numeric: bool = True) -> np.ndarray:
    """Read ``columns`` of a CSV with a header row into a float64 array (n_rows, len(columns)).

    Raises MalformedFileError naming file, line (1-based, the header is line 1) and column
    for a missing column, a short row, a non-numeric value or NaN, and for a blank line
    between data rows (dropping it would shift every later frame by one); blank lines at
    the end of the file are allowed.
    """
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh, delimiter=delimiter)
        try:
            header = [h.strip() for h in next(reader)]
        except StopIteration:
            raise MalformedFileError(path, "empty file: expected a header row "
                                     f"({delimiter.join(columns)})", line=1) from None
        if strip_quotes:
            header = [h.strip("'\"") for h in header]
        missing = [c for c in columns if c not in header]
        if missing or (require_exact and header != columns):
            raise MalformedFileError(
                path, f"header is {delimiter.join(header)!r}; expected columns "
                      f"{delimiter.join(columns)!r}" + (f" (missing {', '.join(missing)})"
                                                        if missing else ""), line=1)
        idx = [header.index(c) for c in columns]
        rows: list[list[float]] = []
        blank: int | None = None
        for row in reader:
            lineno = reader.line_num
            if not row or all(not cell.strip() for cell in row):
                blank = lineno if blank is None else blank
                continue
            if blank is not None:
                raise MalformedFileError(path, "blank line inside the data (one value per frame; "
                                               "remove it or fill in the frame)", line=blank)
            vals = []
            for c, i in zip(columns, idx):
                if i >= len(row):
                    raise MalformedFileError(path, f"row has {len(row)} fields, expected "
                                                   f"{len(header)}", line=lineno, column=c)
                cell = row[i].strip()
                if strip_quotes:
                    cell = cell.strip("'\"")
                try:
                    v = float(cell)
                except ValueError:
                    raise MalformedFileError(path, f"{cell!r} is not a number", line=lineno,
                                             column=c) from None
                if numeric and not math.isfinite(v):
                    raise MalformedFileError(path, f"{cell!r} is not a finite number",
                                             line=lineno, column=c)
                vals.append(v)
            rows.append(vals)
    return np.asarray(rows, dtype=np.float64).reshape(len(rows), len(columns))


def as_prediction_error(exc: MalformedFileError) -> PredictionError:
    return PredictionError(str(exc))
