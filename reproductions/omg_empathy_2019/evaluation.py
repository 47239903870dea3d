"""OMG-Empathy (Barros et al., ACII 2019): the annotation layout and the official scoring.

**Data** (licensed, CC BY-NC-SA 3.0 DE, on request). Per listener (10 subjects) and story
(8 stories; 4 train, 1 validation, 3 test), one CSV of per-frame valence annotations named
``Subject_<X>_Story_<Y>.csv``, with a header row holding a ``valence`` column and one row
per video frame (values in [−1, 1]). The dataset folder this plugin verifies is the folder
of annotation CSVs that the challenge's ``calculateCCC.py`` reads (its first argument);
predictions are a folder of files with the same names and a ``valence`` column.

**Scoring** — the semantics of ``calculateCCC.py`` in github
knowledgetechnologyuhh/OMGEmpathyChallenge (read for facts; re-implemented here):

- files are ordered by subject number, then story number (numeric, not lexical);
- per file: CCC = 2·ρ·σ_true·σ_pred / (σ_pred² + σ_true² + (μ_pred − μ_true)²) with
  population (ddof = 0) standard deviations and Pearson ρ, where a NaN ρ (constant input)
  is replaced by 0 — i.e. :func:`affrepro.plugins.metrics.regression.ccc` with
  ``ddof=0, on_constant="formula"``;
- the per-file CCCs form a subjects × stories matrix; **personalized track**: mean over
  stories per subject, then the mean over subjects; **generalized track**: mean over
  subjects per story, then the mean over stories. (On a rectangular matrix both overall
  means are the mean of all files; the tracks differ by the models that produced the
  predictions, not by the scoring.)

Where the script has no defined behaviour, this module chooses and says so:

- the script pairs annotation and prediction files by position after sorting; here they
  are paired by name and any missing or unknown ``Subject_X_Story_Y.csv`` is an error
  (with identical file sets the pairing is the same);
- a prediction file of the wrong length makes the script loop forever; here it is an
  error, or cropped/padded under ``length_policy="crop-pad"`` (reported);
- NaN or non-numeric predictions: an error naming file, line and column;
- a ragged matrix (subjects with different story sets) fails in the script's NumPy
  mean; here it is an error naming the subjects.
"""
from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np

from affrepro.components import Problem
from affrepro.errors import MalformedFileError
from affrepro.plugins.evaluate.common import (
    Evaluation, PredictionError, Table, check_length_policy, fit_length, match_files,
    read_columns,
)

SLUG = "omg-empathy-2019"
DATASET = "omg-empathy"  # registered by this paper's package
FILE_RE = re.compile(r"^Subject_(\d+)_Story_(\d+)\.csv$")
N_SUBJECTS, N_STORIES = 10, 8
COLUMN = "valence"
OFFICIAL = "calculateCCC.py (github knowledgetechnologyuhh/OMGEmpathyChallenge)"


def parse_name(name: str) -> tuple[int, int] | None:
    """``Subject_3_Story_1.csv`` -> (3, 1); None for any other name."""
    m = FILE_RE.match(name)
    return (int(m.group(1)), int(m.group(2))) if m else None


def list_files(folder: Path) -> dict[tuple[int, int], Path]:
    """{(subject, story): path} of the ``Subject_X_Story_Y.csv`` files in ``folder``."""
    out = {}
    for p in sorted(Path(folder).iterdir()):
        key = parse_name(p.name)
        if key is not None and p.is_file():
            out[key] = p
    return dict(sorted(out.items()))


def read_valence(path: Path) -> np.ndarray:
    """The ``valence`` column of one annotation or prediction CSV (float64)."""
    return read_columns(Path(path), [COLUMN])[:, 0]


def verify(folder: Path) -> list[Problem]:
    """Every problem with a folder of OMG-Empathy annotation CSVs."""
    folder = Path(folder)
    problems: list[Problem] = []
    files = list_files(folder)
    if not files:
        return [Problem(str(folder), "no Subject_<X>_Story_<Y>.csv annotation files")]
    for p in sorted(folder.iterdir()):
        if p.suffix == ".csv" and parse_name(p.name) is None:
            problems.append(Problem(str(p), "name is not Subject_<X>_Story_<Y>.csv"))
    for (subject, story), p in files.items():
        if not 1 <= subject <= N_SUBJECTS:
            problems.append(Problem(str(p), f"subject {subject} outside 1..{N_SUBJECTS}"))
        if not 1 <= story <= N_STORIES:
            problems.append(Problem(str(p), f"story {story} outside 1..{N_STORIES}"))
        try:
            v = read_valence(p)
        except MalformedFileError as exc:
            problems.append(Problem(str(p), exc.detail, exc.line, exc.column))
            continue
        if v.size == 0:
            problems.append(Problem(str(p), "no annotated frames"))
        bad = np.flatnonzero((v < -1) | (v > 1))
        if bad.size:
            problems.append(Problem(str(p), f"valence {v[bad[0]]} outside [-1, 1]",
                                    int(bad[0]) + 2, COLUMN))
    stories: dict[int, set[int]] = {}
    for subject, story in files:
        stories.setdefault(subject, set()).add(story)
    shapes = {frozenset(s) for s in stories.values()}
    if len(shapes) > 1:
        problems.append(Problem(str(folder), "subjects have different story sets: " + "; ".join(
            f"subject {k}: stories {sorted(v)}" for k, v in sorted(stories.items()))))
    return problems


def synthesize(folder: Path, seed: int = 0, *, subjects: int = N_SUBJECTS,
               stories: tuple[int, ...] = (1,), frames: tuple[int, int] = (120, 240)) -> None:
    """Write a small synthetic corpus in the real layout: smooth valence tracks in [−1, 1]."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for subject in range(1, subjects + 1):
        for story in stories:
            n = int(rng.integers(frames[0], frames[1] + 1))
            walk = np.cumsum(rng.normal(scale=0.05, size=n)) + rng.normal(scale=0.2)
            write_valence(folder / f"Subject_{subject}_Story_{story}.csv", np.tanh(walk))


def write_valence(path: Path, values: np.ndarray) -> None:
    """One CSV in the OMG-Empathy format: header ``valence``, one value per frame."""
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(COLUMN + "\n")
        for v in np.asarray(values, dtype=np.float64):
            fh.write(f"{v:.6f}\n")


def file_ccc(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """calculateCCC.py's per-file CCC: ddof=0, ρ := 0 when undefined (constant input)."""
    from affrepro.plugins.metrics.regression import ccc

    return ccc(y_true, y_pred, ddof=0, on_constant="formula")


def evaluate(annotations: Path, predictions: Path, *, length_policy: str = "error",
             stories: tuple[int, ...] | None = None) -> Evaluation:
    """Score a folder of prediction CSVs as ``calculateCCC.py`` does (see module doc).

    ``stories`` restricts the scoring to those stories on both sides (e.g. ``(1,)``, the
    validation story, when the linked folder also holds the training annotations); files of
    other stories are then ignored, in the annotations and in the predictions alike.
    """
    check_length_policy(length_policy)
    annotations, predictions = Path(annotations), Path(predictions)
    gold = list_files(annotations)
    if stories is not None:
        gold = {k: v for k, v in gold.items() if k[1] in stories}
    if not gold:
        raise PredictionError(f"{annotations}: no Subject_<X>_Story_<Y>.csv annotation files"
                              + (f" for story {', '.join(map(str, stories))}" if stories else ""))
    if not predictions.is_dir():
        raise PredictionError(f"{predictions} is not a folder of prediction CSVs")
    pred = list_files(predictions)
    if stories is not None:
        pred = {k: v for k, v in pred.items() if k[1] in stories}
    odd = [p.name for p in predictions.iterdir() if p.suffix == ".csv" and parse_name(p.name) is None]
    if odd:
        raise PredictionError(f"{predictions}: files not named Subject_<X>_Story_<Y>.csv: "
                              + ", ".join(sorted(odd)[:10]))
    match_files(gold, pred, "subject/story", predictions)
    subjects = sorted({s for s, _ in gold})
    story_sets = {s: sorted(t for u, t in gold if u == s) for s in subjects}
    if len({tuple(v) for v in story_sets.values()}) > 1:
        raise PredictionError("the annotation folder is ragged (subjects with different stories: "
                              + "; ".join(f"{s}: {v}" for s, v in story_sets.items())
                              + "); calculateCCC.py needs a subjects × stories matrix")
    stories = story_sets[subjects[0]]
    notes: list[str] = []
    per_file: dict[tuple[int, int], float] = {}
    rows = []
    for key, gpath in gold.items():
        y = read_valence(gpath)
        try:
            p = read_valence(pred[key])
        except MalformedFileError as exc:
            raise PredictionError(str(exc)) from None
        p = fit_length(p, y.size, length_policy, pred[key], notes)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            value = file_ccc(y, p)
        notes.extend(f"{gpath.name}: {w.message}" for w in caught)
        per_file[key] = value
        rows.append([gpath.name, key[0], key[1], y.size, value])
    matrix = np.array([[per_file[(s, t)] for t in stories] for s in subjects])
    personalized = matrix.mean(axis=1)
    generalized = matrix.mean(axis=0)
    aggregate = {"personalized_mean_ccc": float(personalized.mean()),
                 "generalized_mean_ccc": float(generalized.mean())}
    for s, v in zip(subjects, personalized):
        aggregate[f"personalized_subject_{s}_ccc"] = float(v)
    for t, v in zip(stories, generalized):
        aggregate[f"generalized_story_{t}_ccc"] = float(v)
    tables = [
        Table("per file (valence CCC)", ["file", "subject", "story", "frames", "ccc"], rows),
        Table("personalized track (mean over stories)", ["subject", "ccc"],
              [[s, float(v)] for s, v in zip(subjects, personalized)]
              + [["mean", aggregate["personalized_mean_ccc"]]]),
        Table("generalized track (mean over subjects)", ["story", "ccc"],
              [[t, float(v)] for t, v in zip(stories, generalized)]
              + [["mean", aggregate["generalized_mean_ccc"]]]),
    ]
    deviations = [n for n in notes if "cropped" in n or "filled" in n]
    return Evaluation(paper=SLUG, aggregate=aggregate, tables=tables,
                      policies={"length_policy": length_policy, "pairing": "by file name",
                                "ccc": "ddof=0, rho:=0 when undefined (as calculateCCC.py)"},
                      warnings=notes, deviations=deviations, n_files=len(gold),
                      official_script=OFFICIAL)


def synthesize_predictions(annotations: Path, out: Path, seed: int = 0) -> None:
    """Plausible predictions for a (synthetic) annotation folder, for ``evaluate --dry-run``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed + 1)
    for p in list_files(annotations).values():
        y = read_valence(p)
        write_valence(out / p.name, np.clip(0.7 * y + rng.normal(scale=0.1, size=y.size) + 0.05,
                                            -1, 1))
