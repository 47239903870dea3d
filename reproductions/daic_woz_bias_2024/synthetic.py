"""Small synthetic corpora in exactly the real formats (for tests and ``--dry-run``)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from affrepro.fileio import atomic_write_text
from affrepro.reproductions.daic_woz_bias_2024.datasets import SPEAKERS, SPLIT_SIZES
from affrepro.reproductions.daic_woz_bias_2024.loaders import ID_HEADER

_WORDS = ("okay", "yeah", "um", "i", "feel", "sleep", "tired", "good", "family", "work", "therapy",
          "depressed", "diagnosed", "ptsd", "happy", "friends", "travel", "sad", "anxious", "fine")


def id_rows(split: str, rng: np.random.Generator) -> list[tuple[int, int, int, int]]:
    n = SPLIT_SIZES[split]
    start = 300 if split == "train" else 700
    phq8 = rng.integers(0, 25, size=n)
    return [(i + 1, start + i, int(s), int(s >= 10)) for i, s in enumerate(phq8)]


def _id_text(rows) -> str:
    return "\t".join(ID_HEADER) + "\n" + "".join("\t".join(map(str, r)) + "\n" for r in rows)


def _report(y_true: list[int], y_pred: list[int]) -> dict:
    """Classification report in sklearn's output_dict layout."""
    yt, yp = np.asarray(y_true), np.asarray(y_pred)
    out: dict = {}
    precisions, recalls, f1s, supports = [], [], [], []
    for c in (0, 1):
        tp = int(((yp == c) & (yt == c)).sum())
        p = tp / max(int((yp == c).sum()), 1)
        r = tp / max(int((yt == c).sum()), 1)
        f = 2 * p * r / (p + r) if p + r else 0.0
        s = int((yt == c).sum())
        out[str(c)] = {"precision": p, "recall": r, "f1-score": f, "support": s}
        precisions.append(p), recalls.append(r), f1s.append(f), supports.append(s)
    n = len(yt)
    out["accuracy"] = float((yt == yp).mean())
    out["macro avg"] = {"precision": float(np.mean(precisions)), "recall": float(np.mean(recalls)),
                        "f1-score": float(np.mean(f1s)), "support": n}
    w = np.asarray(supports) / n
    out["weighted avg"] = {"precision": float(w @ precisions), "recall": float(w @ recalls),
                           "f1-score": float(w @ f1s), "support": n}
    return out


def write_public(folder: Path, seed: int = 0) -> None:
    """ID lists, two models' dev predictions and reports, and word weights."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    rows = {split: id_rows(split, rng) for split in SPLIT_SIZES}
    for split, r in rows.items():
        atomic_write_text(folder / f"{split}_IDS.txt", _id_text(r))
    y_true = [r[3] for r in rows["dev"]]
    for prefix, flip in (("Ellie_E-GCN", 0.12), ("Participant_P-GCN", 0.15)):
        y_pred = [int(y ^ (rng.random() < flip)) for y in y_true]
        atomic_write_text(folder / f"{prefix}_results_predictions.json",
                          json.dumps({"y_pred": y_pred, "y_true": y_true}))
        atomic_write_text(folder / f"{prefix}_results.json", json.dumps(_report(y_true, y_pred)))
        words = "".join(f"{w},{rng.choice(['positive', 'negative'])},{0.5 + rng.random() / 100}\n"
                        for w in _WORDS)
        atomic_write_text(folder / f"{prefix}_words.csv", words)
    study_rng = np.random.default_rng(seed + 1)  # separate draws: the files above stay as they were
    for prefix, study in (("Ellie_E-GCN", "13_induct-gcn[original-features-1]"),
                          ("Participant_P-GCN", "21_induct-gcn[original-features250]")):
        best = json.loads((folder / f"{prefix}_results.json").read_text())["macro avg"]["f1-score"]
        values = [best] + [float(best * study_rng.uniform(0.7, 1.0)) for _ in range(9)]
        write_optuna_study(folder / f"{prefix}_db.sqlite3", study, values)


def write_optuna_study(path: Path, study: str, values: list[float]) -> None:
    """An Optuna study database (the tables the loader reads) with one COMPLETE trial per value."""
    import os
    import sqlite3

    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    con = sqlite3.connect(tmp)
    with con:
        con.executescript(
            "CREATE TABLE studies (study_id INTEGER PRIMARY KEY, study_name VARCHAR(512) NOT NULL);"
            "CREATE TABLE study_directions (study_direction_id INTEGER PRIMARY KEY, direction VARCHAR(8) NOT NULL,"
            " study_id INTEGER NOT NULL, objective INTEGER NOT NULL);"
            "CREATE TABLE trials (trial_id INTEGER PRIMARY KEY, number INTEGER, study_id INTEGER,"
            " state VARCHAR(8) NOT NULL, datetime_start DATETIME, datetime_complete DATETIME);"
            "CREATE TABLE trial_values (trial_value_id INTEGER PRIMARY KEY, trial_id INTEGER NOT NULL,"
            " objective INTEGER NOT NULL, value FLOAT, value_type VARCHAR(7) NOT NULL);")
        con.execute("INSERT INTO studies VALUES (1, ?)", (study,))
        con.execute("INSERT INTO study_directions VALUES (1, 'MAXIMIZE', 1, 0)")
        for i, v in enumerate(values):
            con.execute("INSERT INTO trials VALUES (?, ?, 1, 'COMPLETE', NULL, NULL)", (i + 1, i))
            con.execute("INSERT INTO trial_values VALUES (?, ?, 0, ?, 'FINITE')", (i + 1, i + 1, v))
    con.close()
    os.replace(tmp, path)


def write_transcripts(folder: Path, seed: int = 0, id_rows_by_split: dict | None = None) -> None:
    """The four split files, labels following the (synthetic or given) ID lists."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    # drawn in write_public's order, so one seed gives matching ID lists and transcripts
    all_rows = {split: id_rows(split, rng) for split in SPLIT_SIZES}
    all_rows.update(id_rows_by_split or {})
    for split in SPLIT_SIZES:
        rows = all_rows[split]
        for speaker in SPEAKERS:
            lines = []
            for r in rows:
                label = "positive" if r[3] else "negative"
                words = rng.choice(_WORDS, size=int(rng.integers(20, 60)))
                opener = "hi i'm ellie thanks for coming in today " if speaker == "Ellie" else ""
                lines.append(f"{label}\t{opener}{' '.join(words)}")
            atomic_write_text(folder / f"{split}_{speaker}.txt", "\n".join(lines) + "\n")
