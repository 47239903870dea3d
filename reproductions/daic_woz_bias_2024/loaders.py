"""Readers for the real files of github idiap/bias_in_daic-woz, with errors that name the
file, the line and what was expected."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from affrepro.components import Problem
from affrepro.errors import MalformedFileError

ID_HEADER = ("row_ID", "original_ID", "PHQ8_Score", "category")
LABELS = {"negative": 0, "positive": 1}


@dataclass(frozen=True)
class Interview:
    row_id: int
    participant: int
    phq8: int
    category: int  # PHQ8_Binary: 1 = depressed


@dataclass(frozen=True)
class Predictions:
    y_true: list[int]
    y_pred: list[int]


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise MalformedFileError(path, "file not found") from None
    except UnicodeDecodeError as exc:
        raise MalformedFileError(path, f"not UTF-8 text (byte {exc.start})") from None


def read_id_list(path: Path) -> list[Interview]:
    """AVEC 2016 ID list: a TAB-separated header row_ID, original_ID, PHQ8_Score, category."""
    lines = _read_text(path).splitlines()
    if not lines or tuple(lines[0].split("\t")) != ID_HEADER:
        got = lines[0] if lines else "an empty file"
        raise MalformedFileError(path, f"expected the header {'<TAB>'.join(ID_HEADER)}, got {got!r}", line=1)
    rows = []
    for n, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        cells = line.split("\t")
        if len(cells) != 4:
            raise MalformedFileError(path, f"expected 4 TAB-separated columns, got {len(cells)}", line=n)
        values = []
        for col, cell in zip(ID_HEADER, cells):
            try:
                values.append(int(cell))
            except ValueError:
                raise MalformedFileError(path, f"expected an integer, got {cell!r}", line=n, column=col) from None
        if values[3] not in (0, 1):
            raise MalformedFileError(path, f"expected 0 or 1, got {values[3]}", line=n, column="category")
        if not 0 <= values[2] <= 24:
            raise MalformedFileError(path, f"PHQ-8 ranges 0-24, got {values[2]}", line=n, column="PHQ8_Score")
        rows.append(Interview(*values))
    return rows


def read_predictions(path: Path) -> Predictions:
    """results_predictions.json: {"y_pred": [0/1, ...], "y_true": [0/1, ...]} of equal length."""
    text = _read_text(path)
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise MalformedFileError(path, f"not valid JSON ({exc.msg}); expected an object with "
                                 "'y_pred' and 'y_true' lists of 0/1", line=exc.lineno) from None
    if not isinstance(obj, dict):
        raise MalformedFileError(path, f"expected a JSON object, got {type(obj).__name__}")
    out = {}
    for key in ("y_true", "y_pred"):
        values = obj.get(key)
        if not isinstance(values, list):
            raise MalformedFileError(path, f"expected a list of 0/1 under {key!r}", column=key)
        bad = [i for i, v in enumerate(values) if v not in (0, 1) or isinstance(v, bool)]
        if bad:
            raise MalformedFileError(path, f"item {bad[0]} is {values[bad[0]]!r}, expected 0 or 1", column=key)
        out[key] = values
    if len(out["y_true"]) != len(out["y_pred"]):
        raise MalformedFileError(path, f"y_true has {len(out['y_true'])} items, y_pred {len(out['y_pred'])}")
    return Predictions(out["y_true"], out["y_pred"])


def read_classification_report(path: Path) -> dict:
    """results.json: sklearn's classification_report(output_dict=True)."""
    text = _read_text(path)
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise MalformedFileError(path, f"not valid JSON ({exc.msg})", line=exc.lineno) from None
    try:
        float(obj["macro avg"]["f1-score"])
    except (KeyError, TypeError, ValueError):
        raise MalformedFileError(path, "expected sklearn's classification_report with 'macro avg' -> 'f1-score'") from None
    return obj


def read_transcript_split(path: Path) -> list[tuple[str, str]]:
    """One interview per line: ``negative|positive<TAB>utterances``."""
    rows = []
    for n, line in enumerate(_read_text(path).split("\n"), start=1):
        if not line:
            continue
        label, sep, text = line.partition("\t")
        if not sep:
            raise MalformedFileError(path, "expected 'label<TAB>utterances', found no TAB", line=n)
        if label not in LABELS:
            raise MalformedFileError(path, f"label {label!r}, expected 'negative' or 'positive'", line=n, column=1)
        if not text.strip():
            raise MalformedFileError(path, "the interview text is empty", line=n, column=2)
        rows.append((label, text))
    return rows


def verify_transcripts(folder: Path, id_lists: Path | None = None) -> list[Problem]:
    """Every problem in a daic-woz folder: missing files, malformed lines, wrong line counts,
    and (when the public ID lists are at hand) labels that disagree with PHQ8_Binary."""
    from affrepro.reproductions.daic_woz_bias_2024.datasets import PUBLIC, SPEAKERS, SPLIT_SIZES

    if id_lists is None:
        from affrepro.data import dataset_path

        id_lists = dataset_path(PUBLIC)
    problems: list[Problem] = []
    for split, size in SPLIT_SIZES.items():
        categories = None
        ids_file = id_lists / f"{split}_IDS.txt"
        if ids_file.is_file():
            try:
                categories = [r.category for r in read_id_list(ids_file)]
                size = len(categories)
            except MalformedFileError:
                categories = None
        for speaker in SPEAKERS:
            path = folder / f"{split}_{speaker}.txt"
            if not path.is_file():
                problems.append(Problem(str(path), "missing"))
                continue
            rows = []
            try:
                text = path.read_text(encoding="utf-8")
            except UnicodeDecodeError as exc:
                problems.append(Problem(str(path), f"not UTF-8 text (byte {exc.start})"))
                continue
            for n, line in enumerate(text.split("\n"), start=1):
                if not line:
                    continue
                label, sep, body = line.partition("\t")
                if not sep:
                    problems.append(Problem(str(path), "expected 'label<TAB>utterances', found no TAB", n))
                elif label not in LABELS:
                    problems.append(Problem(str(path), f"label {label!r}, expected 'negative' or 'positive'", n, "label"))
                elif not body.strip():
                    problems.append(Problem(str(path), "the interview text is empty", n, "utterances"))
                rows.append(label)
            if len(rows) != size:
                problems.append(Problem(str(path), f"{len(rows)} interviews, expected {size} ({split}_IDS.txt)"))
            elif categories is not None:
                for n, (label, cat) in enumerate(zip(rows, categories), start=1):
                    if label in LABELS and LABELS[label] != cat:
                        problems.append(Problem(str(path), f"label {label!r} but {split}_IDS.txt row {n} has "
                                                f"category {cat}", n, "label"))
    return problems


@dataclass(frozen=True)
class StudyBest:
    study_name: str
    direction: str
    n_complete: int
    best_value: float
    best_trials: list[int]  # trial numbers reaching the best value (ties included)


def read_optuna_best(path: Path) -> StudyBest:
    """The best COMPLETE trial of the single-objective Optuna study in ``db.sqlite3``, read
    with the standard library's sqlite3 (read-only; nothing is unpickled)."""
    import sqlite3

    if not path.is_file():
        raise MalformedFileError(path, "file not found")
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise MalformedFileError(path, f"cannot open as SQLite: {exc}") from None
    try:
        studies = con.execute("SELECT study_id, study_name FROM studies").fetchall()
        if len(studies) != 1:
            raise MalformedFileError(path, f"expected one Optuna study, found {len(studies)}")
        study_id, name = studies[0]
        dirs = con.execute("SELECT direction FROM study_directions WHERE study_id = ? ORDER BY objective",
                           (study_id,)).fetchall()
        if len(dirs) != 1 or dirs[0][0] not in ("MAXIMIZE", "MINIMIZE"):
            raise MalformedFileError(path, f"expected one MAXIMIZE/MINIMIZE objective, got {dirs}",
                                     column="study_directions.direction")
        rows = con.execute(
            "SELECT t.number, v.value FROM trials t JOIN trial_values v ON v.trial_id = t.trial_id "
            "WHERE t.study_id = ? AND t.state = 'COMPLETE' AND v.objective = 0 AND v.value_type = 'FINITE'",
            (study_id,)).fetchall()
    except sqlite3.DatabaseError as exc:
        raise MalformedFileError(path, f"not an Optuna study database: {exc}") from None
    finally:
        con.close()
    if not rows:
        raise MalformedFileError(path, "the study has no COMPLETE trial with a finite value")
    pick = max if dirs[0][0] == "MAXIMIZE" else min
    best = pick(v for _, v in rows)
    return StudyBest(name, dirs[0][0], len(rows), float(best), sorted(n for n, v in rows if v == best))
