"""Aff-Wild2 as used by the ABAW 2021 (ABAW2) challenges: annotation layout and scoring.

**Data** (licensed, Aff-Wild2 EULA). Frame-level annotations, one text file per video
(``<video>.txt``) in one folder per task and partition. The first line names the
columns, then one line per video frame:

- VA:   ``valence,arousal``; two floats in [−1, 1] per line; −5 marks an unannotated frame
- EXPR: ``Neutral,Anger,Disgust,Fear,Happiness,Sadness,Surprise``; one integer class
  index 0..6 per line (the 7 basic expressions of ABAW2; later ABAW rounds add ``Other``
  as index 7, accepted here when the header names it); −1 marks an unannotated frame
- AU:   ``AU1,AU2,AU4,AU6,AU7,AU10,AU12,AU15,AU23,AU24,AU25,AU26``; 12 comma-separated
  0/1 values per line; −1 marks an unannotated frame

The dataset folder holds the task folders: ``VA_Set``, ``EXPR_Set``, ``AU_Set`` (the names
``VA_Estimation_Challenge``, ``EXPR_Classification_Challenge``, ``AU_Detection_Challenge``
of later rounds are accepted too), each with ``Train_Set`` and ``Validation_Set`` inside.
Predictions: ``<predictions>/VA/``, ``EXPR/`` and/or ``AU/``, one ``<video>.txt`` per
validation video in the same format; the tasks present are scored.

**Scoring** (ABAW2, over the frames of all validation videos concatenated; unannotated
frames dropped):

- VA:   P_VA = (CCC_valence + CCC_arousal)/2, CCC with population variances (ddof = 0)
- EXPR: P_EXPR = 0.67·F1_macro + 0.33·accuracy (macro over the classes occurring in
        the annotations or the predictions, as scikit-learn's ``average="macro"``)
- AU:   P_AU = 0.5·F1 + 0.5·accuracy, F1 = the mean over the 12 AUs of the binary F1 of
        class 1 (0 for an AU that is neither present nor predicted, scikit-learn's
        ``zero_division=0``), accuracy = over all frame × AU entries

A frame counts as unannotated for VA when either value is −5, for AU when any AU is −1.
Predictions must be finite and in range (VA in [−1, 1], EXPR a known class, AU 0/1):
anything else is an error naming file, line and column. Wrong lengths: ``length_policy``.
"""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from affrepro.components import Problem
from affrepro.errors import MalformedFileError
from affrepro.plugins.evaluate.common import (
    Evaluation, PredictionError, Table, check_length_policy, fit_length, match_files,
)

SLUG = "affwild-2021"
DATASET = "aff-wild2"  # registered by this paper's package
OFFICIAL = "ABAW 2021 (ABAW2) evaluation: P_VA, P_EXPR, P_AU"
VA_COLUMNS = ["valence", "arousal"]
EXPR_CLASSES = ["Neutral", "Anger", "Disgust", "Fear", "Happiness", "Sadness", "Surprise"]
AU_COLUMNS = ["AU1", "AU2", "AU4", "AU6", "AU7", "AU10", "AU12", "AU15", "AU23", "AU24",
              "AU25", "AU26"]
TASKS = ("VA", "EXPR", "AU")
SET_NAMES = {"VA": ("VA_Set", "VA_Estimation_Challenge"),
             "EXPR": ("EXPR_Set", "EXPR_Classification_Challenge"),
             "AU": ("AU_Set", "AU_Detection_Challenge")}
PARTITIONS = ("Train_Set", "Validation_Set")
INVALID = {"VA": -5.0, "EXPR": -1.0, "AU": -1.0}


def task_folder(root: Path, task: str, partition: str = "Validation_Set") -> Path | None:
    for name in SET_NAMES[task]:
        p = Path(root) / name / partition
        if p.is_dir():
            return p
    return None


def read_task_file(path: Path, task: str, *, prediction: bool = False) -> np.ndarray:
    """One annotation/prediction file -> float array (frames, columns); validated."""
    path = Path(path)
    with open(path, encoding="utf-8-sig") as fh:
        lines = fh.read().splitlines()
    if not lines:
        raise MalformedFileError(path, "empty file: expected a header line", line=1)
    header = [h.strip() for h in lines[0].split(",")]
    if task == "VA":
        expected, width = VA_COLUMNS, 2
    elif task == "AU":
        expected, width = AU_COLUMNS, 12
    else:
        expected, width = EXPR_CLASSES, 1
    ok = header == expected or (task == "EXPR" and header == EXPR_CLASSES + ["Other"])
    if not ok:
        raise MalformedFileError(path, f"header is {','.join(header)!r}; expected "
                                       f"{','.join(expected)!r}", line=1)
    n_classes = len(header) if task == "EXPR" else None
    cols = header if task != "EXPR" else ["class"]
    rows = []
    for lineno, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        cells = [c.strip() for c in line.split(",")]
        if len(cells) != width:
            raise MalformedFileError(path, f"{len(cells)} values, expected {width}", line=lineno)
        vals = []
        for c, cell in zip(cols, cells):
            try:
                v = float(cell)
            except ValueError:
                raise MalformedFileError(path, f"{cell!r} is not a number", line=lineno,
                                         column=c) from None
            if not np.isfinite(v):
                raise MalformedFileError(path, f"{cell!r} is not finite", line=lineno, column=c)
            invalid = v == INVALID[task]
            if invalid and prediction:
                raise MalformedFileError(path, f"prediction {cell} is the 'unannotated' marker",
                                         line=lineno, column=c)
            if not invalid:
                if task == "VA" and not -1.0 <= v <= 1.0:
                    raise MalformedFileError(path, f"{v} outside [-1, 1]", line=lineno, column=c)
                if task == "EXPR" and (v != int(v) or not 0 <= v < n_classes):
                    raise MalformedFileError(path, f"{cell!r} is not a class index 0..{n_classes - 1}",
                                             line=lineno, column=c)
                if task == "AU" and v not in (0.0, 1.0):
                    raise MalformedFileError(path, f"{cell!r} is not 0 or 1", line=lineno, column=c)
            vals.append(v)
        rows.append(vals)
    return np.asarray(rows, dtype=np.float64).reshape(len(rows), width)


def _list(folder: Path) -> dict[str, Path]:
    return {p.stem: p for p in sorted(Path(folder).glob("*.txt")) if p.is_file()}


def verify(root: Path) -> list[Problem]:
    """Every problem with an Aff-Wild2 annotation folder (ABAW layout)."""
    root = Path(root)
    problems: list[Problem] = []
    found = False
    for task in TASKS:
        for part in PARTITIONS:
            folder = task_folder(root, task, part)
            if folder is None:
                continue
            found = True
            files = _list(folder)
            if not files:
                problems.append(Problem(str(folder), "no <video>.txt annotation files"))
            for path in files.values():
                try:
                    read_task_file(path, task)
                except MalformedFileError as exc:
                    problems.append(Problem(str(path), exc.detail, exc.line, exc.column))
    if not found:
        problems.append(Problem(str(root), "no annotation set found: expected e.g. "
                                           "VA_Set/Validation_Set, EXPR_Set/Validation_Set, "
                                           "AU_Set/Validation_Set"))
    return problems


def _write(path: Path, header: list[str], rows: np.ndarray, fmt: str) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(",".join(header) + "\n")
        for r in np.atleast_2d(rows):
            fh.write(",".join(fmt.format(v) for v in r) + "\n")


def write_task_file(path: Path, task: str, values: np.ndarray) -> None:
    """Write one file of ``task`` in the ABAW format (header line, one line per frame)."""
    values = np.asarray(values, dtype=np.float64)
    if task == "VA":
        _write(path, VA_COLUMNS, values.reshape(-1, 2),
               "{:.3f}" if (values != -5).any() else "{:.0f}")
    elif task == "EXPR":
        _write(path, EXPR_CLASSES, values.reshape(-1, 1), "{:.0f}")
    else:
        _write(path, AU_COLUMNS, values.reshape(-1, 12), "{:.0f}")


def synthesize(root: Path, seed: int = 0, *, videos: int = 4, frames: tuple[int, int] = (60, 120)
               ) -> None:
    """A small synthetic Aff-Wild2 annotation tree (Train_Set and Validation_Set per task),
    with unannotated frames (−5 / −1) sprinkled in, in exactly the ABAW file format."""
    root = Path(root)
    rng = np.random.default_rng(seed)
    for part in PARTITIONS:
        for task in TASKS:
            (root / SET_NAMES[task][0] / part).mkdir(parents=True, exist_ok=True)
        for i in range(videos):
            name = f"{'train' if part == 'Train_Set' else 'val'}{i + 1}-30-640x480"
            n = int(rng.integers(frames[0], frames[1] + 1))
            va = np.tanh(np.cumsum(rng.normal(scale=0.08, size=(n, 2)), axis=0))
            va[rng.random(n) < 0.05] = -5
            write_task_file(root / "VA_Set" / part / f"{name}.txt", "VA", va)
            ex = rng.integers(0, len(EXPR_CLASSES), size=n).astype(float)
            ex[rng.random(n) < 0.05] = -1
            write_task_file(root / "EXPR_Set" / part / f"{name}.txt", "EXPR", ex)
            au = (rng.random((n, 12)) < 0.3).astype(float)
            au[rng.random(n) < 0.05] = -1
            write_task_file(root / "AU_Set" / part / f"{name}.txt", "AU", au)


def _binary_f1(t: np.ndarray, p: np.ndarray) -> float:
    tp = float(((t == 1) & (p == 1)).sum())
    fp = float(((t == 0) & (p == 1)).sum())
    fn = float(((t == 1) & (p == 0)).sum())
    return 0.0 if tp + fp + fn == 0 else 2 * tp / (2 * tp + fp + fn)


def _ccc(t: np.ndarray, p: np.ndarray) -> float:
    from affrepro.plugins.metrics.regression import ccc

    return ccc(t, p, ddof=0, on_constant="formula")


def evaluate(root: Path, predictions: Path, *, length_policy: str = "error") -> Evaluation:
    """Score ``predictions`` (VA/, EXPR/, AU/ folders) on the validation annotations."""
    from affrepro.plugins.metrics.classification import accuracy, f1_macro

    check_length_policy(length_policy)
    root, predictions = Path(root), Path(predictions)
    tasks = [t for t in TASKS if (predictions / t).is_dir()]
    if not tasks:
        raise PredictionError(f"{predictions} holds none of the task folders VA/, EXPR/, AU/")
    notes: list[str] = []
    aggregate: dict[str, float] = {}
    tables: list[Table] = []
    n_files = 0
    for task in tasks:
        folder = task_folder(root, task)
        if folder is None:
            raise PredictionError(f"{root}: no {SET_NAMES[task][0]}/Validation_Set annotations "
                                  f"to score {task} predictions against")
        gold, pred = _list(folder), _list(predictions / task)
        match_files(gold, pred, "videos", predictions / task)
        n_files += len(gold)
        truths, preds, rows = [], [], []
        for video, gpath in gold.items():
            y = read_task_file(gpath, task)
            try:
                p = read_task_file(pred[video], task, prediction=True)
            except MalformedFileError as exc:
                raise PredictionError(str(exc)) from None
            p = fit_length(p, y.shape[0], length_policy, pred[video], notes)
            keep = ~(y == INVALID[task]).any(axis=1)
            y, p = y[keep], p[keep]
            truths.append(y)
            preds.append(p)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                if task == "VA":
                    rows.append([video, int(keep.sum()), _ccc(y[:, 0], p[:, 0]),
                                 _ccc(y[:, 1], p[:, 1])])
                elif task == "EXPR":
                    rows.append([video, int(keep.sum()),
                                 accuracy(y[:, 0], p[:, 0]) if y.size else float("nan")])
                else:
                    rows.append([video, int(keep.sum()), float(np.mean(
                        [_binary_f1(y[:, j], p[:, j]) for j in range(12)])) if y.size else float("nan")])
            notes.extend(f"{task} {video}: {w.message}" for w in caught)
        y = np.concatenate(truths)
        p = np.concatenate(preds)
        if y.shape[0] == 0:
            raise PredictionError(f"{task}: no annotated frames in {folder}")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if task == "VA":
                cv, ca = _ccc(y[:, 0], p[:, 0]), _ccc(y[:, 1], p[:, 1])
                aggregate.update({"va_ccc_valence": cv, "va_ccc_arousal": ca,
                                  "va_score": (cv + ca) / 2})
                tables.append(Table("VA per video (CCC)", ["video", "frames", "ccc_valence",
                                                           "ccc_arousal"], rows))
            elif task == "EXPR":
                labels = [float(i) for i in range(len(EXPR_CLASSES) + 1)]
                present = sorted(set(y[:, 0].tolist()) | set(p[:, 0].tolist()))
                f1 = f1_macro(y[:, 0], p[:, 0], labels=[c for c in labels if c in present])
                acc = accuracy(y[:, 0], p[:, 0])
                aggregate.update({"expr_f1_macro": f1, "expr_accuracy": acc,
                                  "expr_score": 0.67 * f1 + 0.33 * acc})
                tables.append(Table("EXPR per video", ["video", "frames", "accuracy"], rows))
            else:
                f1s = [_binary_f1(y[:, j], p[:, j]) for j in range(12)]
                f1 = float(np.mean(f1s))
                acc = float((y == p).mean())
                aggregate.update({"au_f1_mean": f1, "au_accuracy": acc,
                                  "au_score": 0.5 * f1 + 0.5 * acc})
                aggregate.update({f"au_f1_{c}": v for c, v in zip(AU_COLUMNS, f1s)})
                tables.append(Table("AU per video (mean F1 over the 12 AUs)",
                                    ["video", "frames", "f1_mean"], rows))
        notes.extend(f"{task}: {w.message}" for w in caught)
    deviations = [n for n in notes if "cropped" in n or "filled" in n]
    return Evaluation(paper=SLUG, aggregate=aggregate, tables=tables,
                      policies={"length_policy": length_policy, "tasks": ",".join(tasks),
                                "frames": "concatenated over videos, unannotated dropped"},
                      warnings=notes, deviations=deviations, n_files=n_files,
                      official_script=OFFICIAL)


def synthesize_predictions(root: Path, out: Path, seed: int = 0) -> None:
    """Plausible VA/EXPR/AU predictions for the validation videos, for ``evaluate --dry-run``."""
    rng = np.random.default_rng(seed + 1)
    for task in TASKS:
        folder = task_folder(root, task)
        if folder is None:
            continue
        (Path(out) / task).mkdir(parents=True, exist_ok=True)
        for video, p in _list(folder).items():
            y = read_task_file(p, task)
            valid = y != INVALID[task]
            if task == "VA":
                q = np.clip(0.7 * np.where(valid, y, 0) + rng.normal(scale=0.1, size=y.shape), -1, 1)
            elif task == "EXPR":
                q = np.where(valid & (rng.random(y.shape) < 0.7), y,
                             rng.integers(0, len(EXPR_CLASSES), size=y.shape))
            else:
                q = np.where(valid, y, 0)
                q = np.where(rng.random(q.shape) < 0.15, 1 - q, q)
            write_task_file(Path(out) / task / p.name, task, q)
