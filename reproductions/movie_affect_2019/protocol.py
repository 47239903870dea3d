"""movie-affect-2019 protocol: early fusion of audio-visual features for the valence and
arousal experienced while watching movies (extended COGNIMUSE), evaluated per time step.

- Data: ``cognimuse-extended`` (see :mod:`.cognimuse`): per movie, audio and visual
  feature vectors and the valence/arousal target of each 1 s step.
- Split: leave one movie out (every movie is the test movie once; features standardised
  with the training movies' mean and standard deviation).
- Models (the paper's early fusion): the audio and visual vectors of a step concatenated
  into fully connected layers (``early-fusion-mlp``, one step at a time) or into an LSTM
  over windows of ``WINDOW`` steps (``early-fusion-lstm``), one output per target
  (valence, arousal), trained with MSE, Adam, seeded.
- Metrics (the paper's): MSE and the Pearson correlation coefficient (PCC) between
  predicted and annotated values over the test movie's steps, averaged over the folds,
  for valence and arousal; computed by affrepro's paired-moments kernel. The label-mean
  baseline's MSE is recorded beside them.

No published number was retrieved, so the card has no claim: the run records its
measurements and says what it assumed (deviations).
"""
from __future__ import annotations

import math

import numpy as np

from affrepro.reproductions.movie_affect_2019 import cognimuse

TARGETS = ("valence", "arousal")
WINDOW = 30
SETTINGS = {  # (full run, dry run)
    "early-fusion-mlp": ({"hidden": (512, 128), "epochs": 40, "lr": 1e-3, "batch_size": 64},
                         {"hidden": (64,), "epochs": 12, "lr": 3e-3, "batch_size": 64}),
    "early-fusion-lstm": ({"hidden": 128, "epochs": 40, "lr": 1e-3, "batch_size": 16},
                          {"hidden": 32, "epochs": 15, "lr": 1e-2, "batch_size": 8}),
}


def pcc_mse(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[float, float]:
    """Pearson r and MSE of one target, from the paired-moments kernel."""
    from affrepro.kernels.moments import paired_moments

    m = paired_moments(np.asarray(y_pred, np.float64), np.asarray(y_true, np.float64))
    denom = math.sqrt(m.m2_x * m.m2_y)
    r = m.c_xy / denom if denom > 0 else float("nan")
    return r, m.m2_d / m.n + m.mean_d ** 2


def _windows(x: np.ndarray, width: int) -> np.ndarray:
    """(T, d) → (ceil(T / width), width, d), the last window padded by repeating its end."""
    n = -(-len(x) // width)
    pad = n * width - len(x)
    if pad:
        x = np.concatenate([x, np.repeat(x[-1:], pad, axis=0)])
    return x.reshape(n, width, x.shape[1])


def evaluate(movies: list[cognimuse.Movie], model_name: str, registries, seed: int,
             dry_run: bool, device: str = "cpu") -> dict[str, float]:
    """Leave-one-movie-out: {"<target>.pcc", "<target>.mse", "<target>.mse_label_mean"}
    averaged over the folds (and the per-fold values under "fold.<movie>.<...>")."""
    params = dict(SETTINGS[model_name][1 if dry_run else 0])
    factory = registries.models.get(model_name).factory
    per_fold: dict[str, list[float]] = {}
    out: dict[str, float] = {}
    for test in range(len(movies)):
        train = [m for i, m in enumerate(movies) if i != test]
        feats = [np.concatenate([m.audio, m.visual], 1) for m in train]
        mu = np.concatenate(feats).mean(0)
        sd = np.concatenate(feats).std(0) + 1e-6
        d_a = movies[0].audio.shape[1]

        def split(m):
            z = (np.concatenate([m.audio, m.visual], 1) - mu) / sd
            return z[:, :d_a].astype(np.float32), z[:, d_a:].astype(np.float32)

        model = factory(dims=(d_a, movies[0].visual.shape[1]), n_out=2, seed=seed,
                        device=device, **params)
        tm = movies[test]
        if model_name == "early-fusion-lstm":
            xa = np.concatenate([_windows(split(m)[0], WINDOW) for m in train])
            xv = np.concatenate([_windows(split(m)[1], WINDOW) for m in train])
            y = np.concatenate([_windows(m.targets, WINDOW) for m in train])
            model.fit((xa, xv), y)
            a, v = split(tm)
            pred = model.predict((a[None], v[None]))[0]
        else:
            parts = [split(m) for m in train]
            model.fit((np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])),
                      np.concatenate([m.targets for m in train]))
            pred = model.predict(split(tm))
        label_mean = np.concatenate([m.targets for m in train]).mean(0)
        for c, target in enumerate(TARGETS):
            r, mse = pcc_mse(tm.targets[:, c], pred[:, c])
            _, mse0 = pcc_mse(tm.targets[:, c], np.full(len(tm.targets), label_mean[c]))
            for key, val in (("pcc", r), ("mse", mse), ("mse_label_mean", mse0)):
                per_fold.setdefault(f"{target}.{key}", []).append(val)
                out[f"fold.{tm.name}.{target}.{key}"] = val
    for key, vals in per_fold.items():
        out[key] = float(np.mean(vals))
    return out


def run(ctx) -> dict[str, float]:
    movies = cognimuse.load(ctx.data_path(cognimuse.NAME))
    if len(movies) < 2:
        raise ValueError(f"leave-one-movie-out needs at least 2 movies, {cognimuse.NAME} has "
                         f"{len(movies)}")
    ctx.deviation("the paper's exact time step, experienced-emotion averaging and train/test "
                  "split were not retrieved: 1 s steps (mean of 25 frames), leave-one-movie-"
                  "out cross-validation")
    ctx.deviation("the features are read as given per step (audio.npy, visual.npy); the "
                  "paper's own audio and visual feature extractors are not rerun")
    if ctx.dry_run:
        ctx.deviation("dry run: smaller networks and fewer epochs (SETTINGS[...][1])")
    summary = {}
    for name in SETTINGS:
        for seed in ctx.seeds:
            ctx.stage(f"{name}, seed {seed}: leave-one-movie-out over {len(movies)} movies")
            res = evaluate(movies, name, ctx.registries, seed, ctx.dry_run, ctx.device)
            for key, val in res.items():
                if not key.startswith("fold.") and math.isfinite(val):
                    ctx.record(f"{name}.seed{seed}.{key}", val)
            summary[f"{name}/seed{seed}"] = res
    ctx.note("movie_affect", {"movies": [m.name for m in movies], "step_s": cognimuse.STEP_S,
                              "window_steps": WINDOW, "settings": {
                                  k: v[1 if ctx.dry_run else 0] for k, v in SETTINGS.items()},
                              "results": summary})
    return {}
