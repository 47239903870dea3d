"""Building blocks of the ARAUS CNN baseline (not yet registered as the ``araus-cnn`` model).

Facts from github ntudsp/araus-dataset-baseline-models (``code/araus_utils.py``,
``code/araus_tf.py``, ``code/replication_code.ipynb``):

* Mixing (``make_augmented_soundscapes``): the soundscape is scaled by ``gain_s``; the
  masker's target level is L_m = insitu_leq − smr; with L = round(L_m) (NumPy rounding),
  its gain is gain_L·10^((L_m − leq_at_gain_L)/20) from maskers.csv (``gain_{L}dB``,
  ``leq_at_gain_{L}dB``); the mono masker is duplicated to both ears and added.
* Features (``make_logmel_spectrograms``): per channel, librosa STFT (Hann, n_fft 4096,
  hop 2048, center=False) → power → 64 Slaney mel bands 20 Hz-20 kHz at 44.1 kHz →
  ``power_to_db(ref=1.0)`` (amin 1e-10, top_db 80 per channel); a 30 s stimulus gives
  644 frames, stacked as (644, 64, 2).
* Model (``make_baseline_model``, ~140k parameters): Conv 16@7x7 same → BN → ReLU →
  Conv 16@7x7 same → BN → ReLU → MaxPool 5x5 → Dropout .3 → Conv 32@7x7 same → BN → ReLU
  → MaxPool (4, 100) same → Dropout .3 → Flatten → Dense 100 ReLU → Dropout .3 → Dense 1.
* Training (``train_model``): MSE loss, Adam lr 1e-4, batches of 32, ≤ 100 epochs, early
  stopping on the validation loss with patience 10 and the best weights restored; the
  reported train MSE is Keras's epoch ``loss`` (mean over the epoch's batches, dropout on)
  at the best epoch, the val MSE the best ``val_loss``, the test MSE ``evaluate`` on the 48
  averaged test stimuli.

Here the log-mel comes from ``affrepro.kernels.spectral.logmel`` (librosa's definition,
checked against librosa by its own tests) and the network is PyTorch with Keras's
initialisation (Glorot-uniform weights, zero biases) and BatchNorm settings (ε 1e-3,
momentum 0.99).
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from affrepro.reproductions.araus_2022 import columns as C

FEATURE_SETTINGS: dict[str, Any] = {
    "sr": C.SAMPLE_RATE, "n_fft": 4096, "hop_length": 2048, "center": False, "n_mels": 64,
    "fmin": 20.0, "fmax": 20000.0, "window": "hann", "power": 2.0, "htk": False, "norm": "slaney",
    "ref": 1.0, "amin": 1e-10, "top_db": 80.0,
}
N_FRAMES = 1 + (C.STIMULUS_SECONDS * C.SAMPLE_RATE - 4096) // 2048  # 644
TRAINING = {"lr": 1e-4, "batch_size": 32, "epochs": 100, "patience": 10}


def masker_gain(masker: Any, insitu_leq: float, smr: float) -> float:
    """The masker's gain for ``insitu_leq − smr`` dB (``masker``: its maskers.csv row)."""
    target = float(insitu_leq) - float(smr)
    level = int(np.round(target))
    if level not in C.MASKER_GAIN_LEVELS:
        raise ValueError(f"masker level {target:.2f} dB rounds to {level} dB, outside the calibrated "
                         f"{C.MASKER_GAIN_LEVELS[0]}-{C.MASKER_GAIN_LEVELS[-1]} dB of maskers.csv")
    gain_c, leq_c = float(masker[f"gain_{level}dB"]), float(masker[f"leq_at_gain_{level}dB"])
    return gain_c * 10 ** ((target - leq_c) / 20)


def mix(soundscape: np.ndarray, masker: np.ndarray, gain_s: float, gain_m: float) -> np.ndarray:
    """gain_s·soundscape (n, 2) + gain_m·masker (n,) in both ears."""
    soundscape = np.asarray(soundscape, dtype=np.float64)
    masker = np.asarray(masker, dtype=np.float64)
    if soundscape.ndim != 2 or soundscape.shape[1] != 2:
        raise ValueError(f"soundscape must be (samples, 2), got {soundscape.shape}")
    if masker.ndim != 1 or len(masker) != len(soundscape):
        raise ValueError(f"masker must be mono with {len(soundscape)} samples, got {masker.shape}")
    return gain_s * soundscape + gain_m * masker[:, None]


def logmel_features(stimulus: np.ndarray, backend: str = "auto") -> np.ndarray:
    """(frames, 64, 2) float32 log-mel of a (samples, 2) stimulus, as the authors stack it."""
    from affrepro.kernels.spectral import logmel

    s = {k: v for k, v in FEATURE_SETTINGS.items()}
    out = logmel(np.ascontiguousarray(np.asarray(stimulus, dtype=np.float64).T), backend=backend, **s)
    return np.transpose(np.asarray(out), (2, 1, 0)).astype(np.float32)  # (2, 64, t) -> (t, 64, 2)


def cache_key(soundscape_sha256: str, masker_sha256: str, gain_s: float, gain_m: float) -> str:
    """Feature-cache key: the two WAVs' contents, the gains and every extractor setting."""
    blob = json.dumps({"soundscape": soundscape_sha256, "masker": masker_sha256,
                       "gain_s": repr(float(gain_s)), "gain_m": repr(float(gain_m)),
                       "features": FEATURE_SETTINGS, "extractor": "affrepro.kernels.spectral.logmel"},
                      sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def cached_features(cache_dir: Path, key: str, compute) -> np.ndarray:
    """``compute()`` once per key; stored as ``<cache_dir>/<key[:2]>/<key>.npy`` (atomic)."""
    import os

    path = Path(cache_dir) / key[:2] / f"{key}.npy"
    if path.is_file():
        return np.load(path)
    feats = compute()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as f:
        np.save(f, feats)
    os.replace(tmp, path)
    return feats


def build_model(n_frames: int = N_FRAMES, n_mels: int = 64, seed: int = 0):
    """The authors' baseline CNN in PyTorch, initialised from ``seed``; input (batch, 2, frames, mels)."""
    import torch
    from torch import nn

    class BaselineCNN(nn.Module):
        def __init__(self) -> None:
            super().__init__()

            def bn(c):
                return nn.BatchNorm2d(c, eps=1e-3, momentum=0.01)  # Keras momentum 0.99

            self.block1 = nn.Sequential(nn.Conv2d(2, 16, 7, padding=3), bn(16), nn.ReLU())
            self.block2 = nn.Sequential(nn.Conv2d(16, 16, 7, padding=3), bn(16), nn.ReLU(),
                                        nn.MaxPool2d(5), nn.Dropout(0.3))
            self.block3 = nn.Sequential(nn.Conv2d(16, 32, 7, padding=3), bn(32), nn.ReLU())
            h, w = n_frames // 5, n_mels // 5
            # Keras MaxPooling2D((4, 100), padding="same"): ceil(h/4) rows; the 100-wide window
            # covers every one of the w ≤ 100 columns, so the width pool is a max over all of them
            if w > 100:
                raise ValueError("the width pool of (4, 100) assumes at most 500 mel bands")
            self.pool_rows = nn.MaxPool2d((4, 1), ceil_mode=True)
            self.drop3 = nn.Dropout(0.3)
            self.head = nn.Sequential(nn.Flatten(), nn.Linear(32 * -(-h // 4), 100), nn.ReLU(),
                                      nn.Dropout(0.3), nn.Linear(100, 1))
            for m in self.modules():
                if isinstance(m, (nn.Conv2d, nn.Linear)):
                    nn.init.xavier_uniform_(m.weight)
                    nn.init.zeros_(m.bias)

        def forward(self, x):
            x = self.block3(self.block2(self.block1(x)))
            x = self.pool_rows(x).amax(dim=3, keepdim=True)
            return self.head(self.drop3(x)).squeeze(-1)

    torch.manual_seed(seed)
    return BaselineCNN()


def to_input(features: np.ndarray):
    """(n, frames, mels, 2) features -> (n, 2, frames, mels) float32 tensor."""
    import torch

    return torch.from_numpy(np.ascontiguousarray(np.transpose(features, (0, 3, 1, 2)), dtype=np.float32))


def train_fold(train: tuple[np.ndarray, np.ndarray], val: tuple[np.ndarray, np.ndarray],
               test: tuple[np.ndarray, np.ndarray], seed: int, device: str = "cpu",
               epochs: int = TRAINING["epochs"], patience: int = TRAINING["patience"],
               batch_size: int = TRAINING["batch_size"], lr: float = TRAINING["lr"]) -> dict[str, Any]:
    """Train on ``train``, early-stop on ``val``, evaluate ``test``; Keras's reporting rules.

    Each argument is (features (n, frames, mels, 2), labels (n,)).
    """
    import copy

    import torch

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    Xtr, ytr = to_input(train[0]), torch.as_tensor(train[1], dtype=torch.float32)
    model = build_model(train[0].shape[1], train[0].shape[2], seed=seed).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=lr, eps=1e-7)  # Keras Adam epsilon

    def evaluate(X, y) -> float:
        model.eval()
        with torch.no_grad():
            preds = [model(to_input(X[i:i + batch_size]).to(device)).cpu() for i in range(0, len(X), batch_size)]
        return float(torch.mean((torch.cat(preds) - torch.as_tensor(y, dtype=torch.float32)) ** 2))

    history, best, best_state, waited = [], None, None, 0
    for epoch in range(epochs):
        model.train()
        order = rng.permutation(len(ytr))
        total, n = 0.0, 0
        for i in range(0, len(order), batch_size):
            idx = order[i:i + batch_size]
            xb, yb = Xtr[idx].to(device), ytr[idx].to(device)
            opt.zero_grad()
            loss = torch.mean((model(xb) - yb) ** 2)
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(idx)
            n += len(idx)
        val_loss = evaluate(*val)
        history.append({"loss": total / n, "val_loss": val_loss})
        if best is None or val_loss < best:
            best, best_state, waited = val_loss, copy.deepcopy(model.state_dict()), 0
        else:
            waited += 1
            if waited >= patience:
                break
    model.load_state_dict(best_state)
    b = int(np.argmin([h["val_loss"] for h in history]))
    return {"train": history[b]["loss"], "val": history[b]["val_loss"], "test": evaluate(*test),
            "best_epoch": b + 1, "epochs_run": len(history), "history": history}


def stimulus_features(root: Path, rows: Any, soundscapes: Any, maskers: Any, cache_dir: Path,
                      backend: str = "auto") -> np.ndarray:
    """(len(rows), frames, 64, 2) log-mel features of the stimuli that ``rows`` name
    (columns soundscape, masker, smr), mixed from the WAVs under ``root`` and cached."""
    import soundfile as sf

    from affrepro.fileio import sha256_file

    sc = soundscapes.set_index("soundscape")
    mk = maskers.set_index("masker")
    digests: dict[Path, str] = {}

    def digest(p: Path) -> str:
        if p not in digests:
            digests[p] = sha256_file(p)
        return digests[p]

    out, seen = [], {}
    for s_name, m_name, smr in zip(rows["soundscape"], rows["masker"], rows["smr"]):
        if (s_name, m_name, smr) in seen:  # the same stimulus heard by another participant
            out.append(seen[(s_name, m_name, smr)])
            continue
        s_path, m_path = Path(root) / "soundscapes" / s_name, Path(root) / "maskers" / m_name
        gain_s = float(sc.at[s_name, "gain_s"])
        gain_m = masker_gain(mk.loc[m_name], float(sc.at[s_name, "insitu_leq"]), float(smr))
        key = cache_key(digest(s_path), digest(m_path), gain_s, gain_m)

        def compute(s_path=s_path, m_path=m_path, gain_s=gain_s, gain_m=gain_m):
            x_s, sr_s = sf.read(s_path, always_2d=True)
            x_m, sr_m = sf.read(m_path)
            if sr_s != C.SAMPLE_RATE or sr_m != C.SAMPLE_RATE:
                raise ValueError(f"{s_path.name} / {m_path.name}: {sr_s} / {sr_m} Hz, expected {C.SAMPLE_RATE}")
            return logmel_features(mix(x_s, x_m, gain_s, gain_m), backend=backend)

        seen[(s_name, m_name, smr)] = cached_features(cache_dir, key, compute)
        out.append(seen[(s_name, m_name, smr)])
    return np.stack(out)


def cross_validate_cnn(frame: Any, root: Path, soundscapes: Any, maskers: Any, seeds, cache_dir: Path,
                       target: str = "pleasantness", device: str = "cpu", stage=lambda msg: None,
                       **train_options: Any) -> dict[str, Any]:
    """The CNN over the paper's five folds for every seed.

    ``frame``: responses with the ``target`` label (``protocol.labelled_responses``). Per seed
    the fold MSEs are averaged; the claim value is the mean over seeds of those averages and
    the spread their standard deviation (the published ``value ± std`` over 10 runs).
    """
    from affrepro.reproductions.araus_2022.protocol import SPLITS, fold_split

    per_seed: dict[int, dict[str, float]] = {}
    folds: dict[int, dict[int, Any]] = {}
    cv = frame[frame["fold_r"].isin(C.CV_FOLDS)]
    stage("CNN features of the cross-validation stimuli")
    X_cv = stimulus_features(root, cv, soundscapes, maskers, cache_dir)
    y_cv = cv[target].to_numpy(dtype=np.float32)
    fold_of = cv["fold_r"].to_numpy()
    _, _, test = fold_split(frame, C.CV_FOLDS[0])  # the same 48 averaged stimuli for every fold
    test_xy = (stimulus_features(root, test, soundscapes, maskers, cache_dir), test[target].to_numpy(dtype=np.float32))
    for seed in seeds:
        folds[seed] = {}
        for k in C.CV_FOLDS:
            stage(f"CNN seed {seed}, validation fold {k}")
            tr, va = fold_of != k, fold_of == k  # fold_split's rule on the cross-validation rows
            out = train_fold((X_cv[tr], y_cv[tr]), (X_cv[va], y_cv[va]), test_xy, seed=seed, device=device,
                             **train_options)
            folds[seed][k] = {s: out[s] for s in SPLITS} | {"best_epoch": out["best_epoch"]}
        per_seed[seed] = {s: float(np.mean([folds[seed][k][s] for k in C.CV_FOLDS])) for s in SPLITS}
    values = {s: np.array([per_seed[seed][s] for seed in seeds]) for s in SPLITS}
    return {"mean": {s: float(v.mean()) for s, v in values.items()},
            "std": {s: float(v.std(ddof=1)) if len(v) > 1 else 0.0 for s, v in values.items()},
            "per_seed": per_seed, "folds": folds}
