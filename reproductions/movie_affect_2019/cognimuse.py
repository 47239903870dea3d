"""The extended COGNIMUSE corpus as movie-affect-2019 uses it: per movie, continuous
experienced valence and arousal (one value per video frame, 40 ms) and the audio and
visual feature vectors of each time step.

Layout read here (one folder per movie clip; ``data verify cognimuse-extended`` checks it):

    <root>/<movie>/annotations.csv   header ``time_s,valence,arousal``, one row per 40 ms
                                     frame, values in [-1, 1], time increasing from 0
    <root>/<movie>/audio.npy         (T, d_a) float, the audio features of each time step
    <root>/<movie>/visual.npy        (T, d_v) float, the visual features of each time step

A time step is ``STEP_S`` = 1 s (25 annotation frames); its target is the mean of its
frames, and T = the number of whole steps in the annotation. The corpus's own release
format (file names, the averaging of the experienced-emotion streams) was not retrieved;
this layout is the one documented in docs/fusion.md, and the report says so.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from affrepro.components import Problem

NAME = "cognimuse-extended"
FRAME_S = 0.04
STEP_S = 1.0
FRAMES_PER_STEP = int(round(STEP_S / FRAME_S))
HEADER = ["time_s", "valence", "arousal"]


@dataclass
class Movie:
    name: str
    audio: np.ndarray    # (T, d_a)
    visual: np.ndarray   # (T, d_v)
    targets: np.ndarray  # (T, 2): valence, arousal per step


def _read_annotations(path: Path) -> tuple[np.ndarray, list[Problem]]:
    problems: list[Problem] = []
    rows: list[tuple[float, float, float]] = []
    with path.open(newline="") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header != HEADER:
            return np.empty((0, 3)), [Problem(str(path), f"header must be {','.join(HEADER)}, "
                                                         f"got {header}", line=1)]
        for line, row in enumerate(reader, start=2):
            if len(row) != 3:
                problems.append(Problem(str(path), f"expected 3 values, got {len(row)}", line=line))
                continue
            try:
                vals = tuple(float(x) for x in row)
            except ValueError:
                problems.append(Problem(str(path), f"not a number: {row}", line=line))
                continue
            for col, val in zip(HEADER, vals):
                if not np.isfinite(val):
                    problems.append(Problem(str(path), f"{val} is not finite", line, col))
            for col, val in zip(HEADER[1:], vals[1:]):
                if np.isfinite(val) and not -1.0 <= val <= 1.0:
                    problems.append(Problem(str(path), f"{val} is outside [-1, 1]", line, col))
            if rows and vals[0] <= rows[-1][0]:
                problems.append(Problem(str(path), "time_s must increase", line, "time_s"))
            rows.append(vals)
    return np.asarray(rows, dtype=float).reshape(-1, 3), problems


def _steps(frames: np.ndarray) -> np.ndarray:
    n = len(frames) // FRAMES_PER_STEP
    return frames[:n * FRAMES_PER_STEP, 1:].reshape(n, FRAMES_PER_STEP, 2).mean(axis=1)


def verify(root: Path) -> list[Problem]:
    """Every problem with a linked folder, each naming the file (and line/column)."""
    root = Path(root)
    movies = sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
    if not movies:
        return [Problem(str(root), "no movie folders (expected <movie>/annotations.csv, "
                                   "audio.npy, visual.npy)")]
    problems: list[Problem] = []
    dims: dict[str, set[int]] = {"audio": set(), "visual": set()}
    for movie in movies:
        ann = movie / "annotations.csv"
        if not ann.is_file():
            problems.append(Problem(str(ann), "missing"))
            continue
        frames, bad = _read_annotations(ann)
        problems += bad
        n_steps = len(frames) // FRAMES_PER_STEP
        if n_steps == 0 and not bad:
            problems.append(Problem(str(ann), f"fewer than {FRAMES_PER_STEP} frames (one step)"))
        for kind in ("audio", "visual"):
            path = movie / f"{kind}.npy"
            if not path.is_file():
                problems.append(Problem(str(path), "missing"))
                continue
            try:
                arr = np.load(path, mmap_mode="r", allow_pickle=False)
            except (ValueError, OSError) as exc:
                problems.append(Problem(str(path), f"not a NumPy .npy array: {exc}"))
                continue
            if arr.ndim != 2 or arr.dtype.kind != "f":
                problems.append(Problem(str(path), f"must be a 2-D float array (steps, "
                                                   f"features), got {arr.dtype} {arr.shape}"))
                continue
            if arr.shape[0] != n_steps:
                problems.append(Problem(str(path), f"has {arr.shape[0]} steps but "
                                                   f"annotations.csv has {n_steps} whole "
                                                   f"{STEP_S:g} s steps"))
            if not np.isfinite(arr).all():
                problems.append(Problem(str(path), "holds NaN or infinite values"))
            dims[kind].add(arr.shape[1])
    for kind, ds in dims.items():
        if len(ds) > 1:
            problems.append(Problem(str(root), f"{kind}.npy feature widths differ across "
                                               f"movies: {sorted(ds)}"))
    return problems


def load(root: Path) -> list[Movie]:
    root = Path(root)
    problems = verify(root)
    if problems:
        raise ValueError(f"{NAME} at {root} is not usable:\n" + "\n".join(map(str, problems)))
    out = []
    for movie in sorted(p for p in root.iterdir() if p.is_dir()):
        frames, _ = _read_annotations(movie / "annotations.csv")
        out.append(Movie(movie.name, np.load(movie / "audio.npy").astype(np.float32),
                         np.load(movie / "visual.npy").astype(np.float32),
                         _steps(frames).astype(np.float32)))
    return out


def synthesize(root: Path, seed: int = 0, n_movies: int = 3, minutes: float = 2.0,
               d_audio: int = 24, d_visual: int = 32) -> None:
    """A small synthetic corpus in the layout above whose targets the features predict:
    valence and arousal follow smooth latent trajectories that a few audio and visual
    feature dimensions carry (with noise); the rest of the features are noise."""
    from affrepro.fileio import atomic_write_text

    rng = np.random.default_rng(seed)
    root = Path(root)
    w_audio = rng.standard_normal((2, d_audio)) * (rng.random((2, d_audio)) < 0.3)
    w_visual = rng.standard_normal((2, d_visual)) * (rng.random((2, d_visual)) < 0.3)
    for m in range(n_movies):
        n_steps = int(minutes * 60 / STEP_S)
        # latent valence/arousal per step: a smoothed random walk squashed into (-1, 1)
        walk = np.cumsum(rng.standard_normal((n_steps, 2)) * 0.15, axis=0)
        kernel = np.hanning(9) / np.hanning(9).sum()
        latent = np.stack([np.convolve(walk[:, c], kernel, mode="same") for c in range(2)], 1)
        latent = np.tanh(latent - latent.mean(0))
        audio = latent @ w_audio + 0.5 * rng.standard_normal((n_steps, d_audio))
        visual = latent @ w_visual + 0.5 * rng.standard_normal((n_steps, d_visual))
        frames = np.repeat(latent, FRAMES_PER_STEP, axis=0)
        frames = np.clip(frames + 0.05 * rng.standard_normal(frames.shape), -1, 1)
        folder = root / f"synthetic_movie_{m + 1:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        np.save(folder / "audio.npy", audio.astype(np.float32))
        np.save(folder / "visual.npy", visual.astype(np.float32))
        lines = [",".join(HEADER)] + [f"{i * FRAME_S:.2f},{v:.5f},{a:.5f}"
                                      for i, (v, a) in enumerate(frames)]
        atomic_write_text(folder / "annotations.csv", "\n".join(lines) + "\n")
