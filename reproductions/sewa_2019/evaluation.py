"""SEWA DB (Kossaifi et al., 2019) as packaged for AVEC 2019 CES: layout and official scoring.

**Data** (licensed, SEWA DB EULA). The AVEC 2019 Cross-cultural Emotion Sub-challenge
(CES) gold standard: one file per recording, ``<Partition>_<Culture>_<NN>.csv`` (partition
``Train``/``Devel``, culture ``DE``/``HU``; the Chinese test set is unlabelled), ``;``-
separated with the header ``name;timestamp;arousal;valence;liking``: the recording name in
single quotes, the time in seconds in steps of 0.1 s (10 Hz), and the three continuous
dimensions. The dataset folder is the folder of these label files.

**Scoring** — the semantics of ``Baseline_systems/CES/evaluate_submission.py`` and
``calc_scores.py`` in github AudioVisualEmotionChallenge/AVEC2019 (facts, re-implemented):

- per dimension, the gold standard and the predictions of all the Devel files of the
  evaluated cultures are *concatenated* (DE+HU, then DE alone, then HU alone), and one CCC
  is computed over the concatenation;
- CCC = 2·cov / (s_x² + s_y² + (x̄ − ȳ)²) with cov = mean((x−x̄)(y−ȳ)) (divided by n)
  but s² = Σ(x−x̄)²/(n−1) (divided by n−1, "as Matlab's nanvar") — a mix that neither
  ddof=0 nor ddof=1 reproduces; PCC = cov/(s_x·s_y) with the same mix (= r·(n−1)/n);
  RMSE = √mean((x−y)²);
- prediction files are ``;``-separated with a column per dimension, either all three in
  one file ``<pred>/<file>`` or one folder per dimension ``<pred>/<dimension>/<file>``;
- a prediction file longer than its gold standard is cropped; a shorter one is padded by
  repeating its last prediction, with a warning (``length_policy="crop-pad"``, the
  default here because it is the script's behaviour; ``"error"`` refuses instead).

Where this module is stricter than the script (stated): a NaN or non-numeric prediction
is an error naming file, line and column (the script's nan-functions would silently
ignore some NaNs and not others), and a missing or unknown prediction file is an error.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from affrepro.components import Problem
from affrepro.errors import MalformedFileError
from affrepro.plugins.evaluate.common import (
    Evaluation, PredictionError, Table, check_length_policy, fit_length, match_files,
    read_columns,
)

SLUG = "sewa-2019"
DATASET = "sewa-avec2019"  # registered by this paper's package
OFFICIAL = "AVEC 2019 CES evaluate_submission.py / calc_scores.py"
DIMENSIONS = ("arousal", "valence", "liking")
COLUMNS = ["name", "timestamp", *DIMENSIONS]
FILE_RE = re.compile(r"^(Train|Devel|Test)_(DE|HU|CN)_(\d{2})\.csv$")
STEP = 0.1


def list_files(folder: Path, partition: str | None = None) -> dict[str, Path]:
    out = {}
    for p in sorted(Path(folder).glob("*.csv")):
        m = FILE_RE.match(p.name)
        if m and (partition is None or m.group(1) == partition):
            out[p.name] = p
    return out


def read_labels(path: Path, dims: tuple[str, ...] = DIMENSIONS) -> np.ndarray:
    """The dimension columns of one ``;``-separated AVEC 2019 file (frames, len(dims))."""
    return read_columns(Path(path), list(dims), delimiter=";", strip_quotes=True)


def verify(folder: Path) -> list[Problem]:
    """Every problem with a folder of AVEC 2019 CES (SEWA) label files."""
    folder = Path(folder)
    files = list_files(folder)
    problems: list[Problem] = []
    if not files:
        return [Problem(str(folder), "no <Train|Devel>_<DE|HU>_<NN>.csv label files")]
    if not list_files(folder, "Devel"):
        problems.append(Problem(str(folder), "no Devel_* label files (the evaluated partition)"))
    for name, p in files.items():
        try:
            t = read_columns(p, ["timestamp"], delimiter=";", strip_quotes=True)[:, 0]
            read_labels(p)
        except MalformedFileError as exc:
            problems.append(Problem(str(p), exc.detail, exc.line, exc.column))
            continue
        if t.size == 0:
            problems.append(Problem(str(p), "no frames"))
            continue
        steps = np.diff(t)
        bad = np.flatnonzero(np.abs(steps - STEP) > 1e-3)
        if bad.size:
            problems.append(Problem(str(p), f"timestamps step by {steps[bad[0]]:.3f} s, expected "
                                            f"{STEP} s (10 Hz)", int(bad[0]) + 3, "timestamp"))
    return problems


def write_file(path: Path, name: str, values: np.ndarray) -> None:
    """One file in the AVEC 2019 format: quoted name, timestamp, arousal, valence, liking."""
    values = np.asarray(values, dtype=np.float64).reshape(-1, 3)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(";".join(COLUMNS) + "\n")
        for i, row in enumerate(values):
            fh.write(f"'{name}';{i * STEP:.6f};" + ";".join(f"{v:.6f}" for v in row) + "\n")


def synthesize(folder: Path, seed: int = 0, *, per_culture: int = 3,
               frames: tuple[int, int] = (150, 300)) -> None:
    """Small synthetic Train and Devel label files (DE, HU) in the AVEC 2019 format."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for part in ("Train", "Devel"):
        for culture in ("DE", "HU"):
            for k in range(1, per_culture + 1):
                name = f"{part}_{culture}_{k:02d}"
                n = int(rng.integers(frames[0], frames[1] + 1))
                vals = 0.4 * np.tanh(np.cumsum(rng.normal(scale=0.05, size=(n, 3)), axis=0))
                write_file(folder / f"{name}.csv", name, vals)


def avec_scores(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """calc_scores(x=gold, y=pred): CCC with cov/n and var/(n−1), PCC, RMSE (see module)."""
    from affrepro.kernels.moments import paired_moments

    m = paired_moments(x, y)
    n = m.n
    if n < 2:
        return float("nan"), float("nan"), float("nan")
    cov = m.c_xy / n
    vx, vy = m.m2_x / (n - 1), m.m2_y / (n - 1)
    dm = m.mean_x - m.mean_y
    denom = vx + vy + dm * dm
    ccc = 2 * cov / denom if denom > 0 else float("nan")
    pcc = cov / np.sqrt(vx * vy) if vx > 0 and vy > 0 else float("nan")
    rmse = float(np.sqrt(m.m2_d / n + m.mean_d ** 2))
    return float(ccc), float(pcc), rmse


def _read_prediction(predictions: Path, name: str, dim: str, per_dim: bool) -> np.ndarray:
    path = predictions / dim / name if per_dim else predictions / name
    try:
        return read_labels(path, (dim,))[:, 0]
    except MalformedFileError as exc:
        raise PredictionError(str(exc)) from None


def evaluate(folder: Path, predictions: Path, *, length_policy: str = "crop-pad") -> Evaluation:
    """Score Devel predictions as the AVEC 2019 CES script does (see module doc)."""
    check_length_policy(length_policy)
    folder, predictions = Path(folder), Path(predictions)
    gold = list_files(folder, "Devel")
    if not gold:
        raise PredictionError(f"{folder}: no Devel_<DE|HU>_<NN>.csv label files")
    per_dim = all((predictions / d).is_dir() for d in DIMENSIONS)
    notes: list[str] = []
    for d in (DIMENSIONS if per_dim else (None,)):
        pdir = predictions / d if d else predictions
        given = {p.name: p for p in pdir.glob("*.csv")}
        match_files(gold, given, "recordings", pdir)
    cultures = sorted({FILE_RE.match(n).group(2) for n in gold})
    groups = [tuple(cultures)] + ([(c,) for c in cultures] if len(cultures) > 1 else [])
    gold_vals = {n: read_labels(p) for n, p in gold.items()}
    pred_vals: dict[str, np.ndarray] = {}
    for n in gold:
        cols = []
        for j, dim in enumerate(DIMENSIONS):
            p = _read_prediction(predictions, n, dim, per_dim)
            cols.append(fit_length(p, gold_vals[n].shape[0], length_policy,
                                   (predictions / dim / n) if per_dim else predictions / n, notes))
        pred_vals[n] = np.stack(cols, axis=1)
    aggregate: dict[str, float] = {}
    rows_agg = []
    for group in groups:
        names = [n for n in gold if FILE_RE.match(n).group(2) in group]
        g = np.concatenate([gold_vals[n] for n in names])
        p = np.concatenate([pred_vals[n] for n in names])
        label = "+".join(group)
        for j, dim in enumerate(DIMENSIONS):
            ccc, pcc, rmse = avec_scores(g[:, j], p[:, j])
            key = f"devel_{label.replace('+', '_')}_{dim}"
            aggregate[f"{key}_ccc"] = ccc
            aggregate[f"{key}_pcc"] = pcc
            aggregate[f"{key}_rmse"] = rmse
            rows_agg.append([f"Devel {label}", dim, len(names), g.shape[0], ccc, pcc, rmse])
    rows_file = []
    for n in gold:
        scores = [avec_scores(gold_vals[n][:, j], pred_vals[n][:, j])[0]
                  for j in range(len(DIMENSIONS))]
        rows_file.append([n, gold_vals[n].shape[0], *scores])
    tables = [Table("per file (CCC, descriptive: the challenge scores the concatenation)",
                    ["file", "frames", *(f"ccc_{d}" for d in DIMENSIONS)], rows_file),
              Table("official (concatenated per culture group)",
                    ["partition", "dimension", "files", "frames", "ccc", "pcc", "rmse"], rows_agg)]
    deviations = [n for n in notes if "cropped" in n or "filled" in n]
    return Evaluation(paper=SLUG, aggregate=aggregate, tables=tables,
                      policies={"length_policy": length_policy,
                                "layout": "one folder per dimension" if per_dim else "all-in-one",
                                "ccc": "cov/n, var/(n-1) (as calc_scores.py)"},
                      warnings=notes, deviations=deviations, n_files=len(gold),
                      official_script=OFFICIAL)


def synthesize_predictions(folder: Path, out: Path, seed: int = 0) -> None:
    """Plausible all-in-one prediction files for the Devel recordings (``evaluate --dry-run``)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed + 1)
    for name, p in list_files(folder, "Devel").items():
        y = read_labels(p)
        write_file(out / name, name[:-4], 0.7 * y + rng.normal(scale=0.05, size=y.shape))
