"""The ARAUS CNN baseline, registered as the ``araus-cnn`` model (``ArausCNN``).

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

Data: each distinct stimulus's features are computed once into a cache (one ``.npy`` per
stimulus, keyed on the WAVs' contents, the gains and the extractor settings) and streamed
from there in batches (``CachedStimuli`` through torch's DataLoader), so the ~8 GB of
features of the release never sit in memory.
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
# replication_code.ipynb trains with `run = 1` (the seed) and reports mean ± std "across 10
# differently-seeded runs" without listing the seeds; 1..10 continue its numbering
PAPER_SEEDS = tuple(range(1, 11))
DRY_RUN_BUDGET = {"epochs": 1, "patience": 1}  # with one seed: every stage, not the result
DRY_RUN_AUDIO_SECONDS = 0.35  # synthetic WAVs of the dry run: 6 log-mel frames (the release: 644)
CPU_OPT_IN = "AFFREPRO_ARAUS_CNN_CPU"  # =1: train the CNN claims on the CPU all the same
CACHE_ENV = "AFFREPRO_ARAUS_CNN_CACHE"  # feature cache folder (default <data dir>/features/araus-cnn)
WORKERS_ENV = "AFFREPRO_ARAUS_CNN_WORKERS"  # DataLoader processes reading the cache
# one Adam step on a batch of 32 full-size inputs took ~6 s on a 2-core AMD EPYC with 2 torch
# threads (shared machine, Nov 2026): ~1.1 h per epoch of 20,160 stimuli plus validation
CPU_ESTIMATE = ("on a CPU it is slow: one training step (32 stimuli) took ~6 s on a 2-core AMD EPYC, "
                "~1.1 h per epoch, so the 50 trainings (10 seeds x 5 folds) of 11-100 epochs each "
                "would take roughly 600-5,500 hours there")


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


def cache_path(cache_dir: Path, key: str) -> Path:
    """Where the features of ``key`` live: ``<cache_dir>/<key[:2]>/<key>.npy``."""
    return Path(cache_dir) / key[:2] / f"{key}.npy"


def _store(path: Path, feats: np.ndarray) -> None:
    """Write ``feats`` to ``path`` atomically (temp file + rename)."""
    import os

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as f:
        np.save(f, feats)
    os.replace(tmp, path)


def cached_features(cache_dir: Path, key: str, compute) -> np.ndarray:
    """``compute()`` once per key; stored as ``<cache_dir>/<key[:2]>/<key>.npy`` (atomic)."""
    path = cache_path(cache_dir, key)
    if path.is_file():
        return np.load(path)
    feats = compute()
    _store(path, feats)
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


# -- data: map-style datasets for torch's DataLoader -----------------------------------

class ArrayStimuli:
    """Features held in memory: (features (n, frames, mels, 2), labels (n,))."""

    def __init__(self, features: np.ndarray, labels: np.ndarray) -> None:
        if len(features) != len(labels):
            raise ValueError(f"{len(features)} feature arrays for {len(labels)} labels")
        self.features, self.labels = features, np.asarray(labels, dtype=np.float32)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int) -> tuple[np.ndarray, np.float32]:
        return self.__getitems__([i])[0][0], self.labels[i]

    def __getitems__(self, idx: list[int]) -> tuple[np.ndarray, np.ndarray]:
        idx = np.asarray(idx)
        return (np.ascontiguousarray(np.transpose(self.features[idx], (0, 3, 1, 2)), dtype=np.float32),
                self.labels[idx])


class CachedStimuli:
    """Features streamed from the feature cache: one ``.npy`` (frames, mels, 2) per stimulus,
    read only when a batch needs it, so the ~8 GB of the release never sit in memory."""

    def __init__(self, paths: list[Path], labels: np.ndarray) -> None:
        if len(paths) != len(labels):
            raise ValueError(f"{len(paths)} feature files for {len(labels)} labels")
        self.paths, self.labels = [str(p) for p in paths], np.asarray(labels, dtype=np.float32)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int) -> tuple[np.ndarray, np.float32]:
        return np.ascontiguousarray(np.transpose(np.load(self.paths[i]), (2, 0, 1)), dtype=np.float32), self.labels[i]

    def __getitems__(self, idx: list[int]) -> tuple[np.ndarray, np.ndarray]:
        x = np.stack([np.load(self.paths[i]) for i in idx])
        return np.ascontiguousarray(np.transpose(x, (0, 3, 1, 2)), dtype=np.float32), self.labels[np.asarray(idx)]


def _to_tensors(batch: tuple[np.ndarray, np.ndarray]):
    """collate_fn for datasets whose ``__getitems__`` already stacks a batch."""
    import torch

    x, y = batch
    return torch.from_numpy(x), torch.from_numpy(np.asarray(y, dtype=np.float32))


def as_dataset(data: Any) -> Any:
    """A dataset (anything with ``__getitems__``) as it is; an (X, y) pair as ``ArrayStimuli``
    (a bare (n, frames, mels, 2) array gets zero labels: for ``predict``)."""
    if hasattr(data, "__getitems__"):
        return data
    if isinstance(data, np.ndarray):
        return ArrayStimuli(data, np.zeros(len(data), dtype=np.float32))
    X, y = data
    return ArrayStimuli(np.asarray(X), np.asarray(y))


class _EpochBatches:
    """A new shuffled order of batches on every pass, drawn from one seeded NumPy generator."""

    def __init__(self, n: int, batch_size: int, rng: np.random.Generator) -> None:
        self.n, self.batch_size, self.rng = n, batch_size, rng

    def __len__(self) -> int:
        return -(-self.n // self.batch_size)

    def __iter__(self):
        order = self.rng.permutation(self.n)
        for i in range(0, self.n, self.batch_size):
            yield order[i:i + self.batch_size].tolist()


class _InOrder:
    def __init__(self, n: int, batch_size: int) -> None:
        self.n, self.batch_size = n, batch_size

    def __len__(self) -> int:
        return -(-self.n // self.batch_size)

    def __iter__(self):
        for i in range(0, self.n, self.batch_size):
            yield list(range(i, min(i + self.batch_size, self.n)))


def _loader(dataset: Any, batches: Any, workers: int, device: str):
    from torch.utils.data import DataLoader

    return DataLoader(dataset, batch_sampler=batches, collate_fn=_to_tensors, num_workers=workers,
                      pin_memory=str(device).startswith("cuda"), persistent_workers=workers > 0)


# -- the araus-cnn model ----------------------------------------------------------------

class ArausCNN:
    """The ``araus-cnn`` model: the authors' baseline CNN with their training rules.

    ``fit(train, val)`` trains with MSE loss and Adam, shuffled batches, at most ``epochs``
    epochs and early stopping on the validation loss (``patience``), restoring the best
    weights; ``train_mse_`` is Keras's epoch ``loss`` at the best epoch (batch mean, dropout
    on), ``val_mse_`` the best ``val_loss``. ``predict(data)`` and ``mse(data)`` evaluate.
    Data are ``(features (n, frames, mels, 2), labels)`` pairs or datasets such as
    ``CachedStimuli`` (``workers`` DataLoader processes read them). ``on_epoch(done, total)``
    reports progress.
    """

    def __init__(self, seed: int = 0, device: str = "cpu", epochs: int = TRAINING["epochs"],
                 patience: int = TRAINING["patience"], batch_size: int = TRAINING["batch_size"],
                 lr: float = TRAINING["lr"], workers: int = 0, on_epoch=None) -> None:
        self.seed, self.device, self.epochs, self.patience = seed, device, epochs, patience
        self.batch_size, self.lr, self.workers = batch_size, lr, workers
        self.on_epoch = on_epoch or (lambda done, total: None)
        self.model_ = None

    def fit(self, train: Any, val: Any) -> ArausCNN:
        import copy

        import torch

        train, val = as_dataset(train), as_dataset(val)
        torch.manual_seed(self.seed)
        rng = np.random.default_rng(self.seed)
        x0, _ = train.__getitems__([0])
        model = build_model(x0.shape[2], x0.shape[3], seed=self.seed).to(self.device)
        self.model_ = model
        opt = torch.optim.Adam(model.parameters(), lr=self.lr, eps=1e-7)  # Keras Adam epsilon
        batches = _loader(train, _EpochBatches(len(train), self.batch_size, rng), self.workers, self.device)
        val_batches = self._in_order(val)
        history, best, best_state, waited = [], None, None, 0
        for epoch in range(self.epochs):
            model.train()
            total, n = 0.0, 0
            for xb, yb in batches:
                xb, yb = xb.to(self.device, non_blocking=True), yb.to(self.device, non_blocking=True)
                opt.zero_grad()
                loss = torch.mean((model(xb) - yb) ** 2)
                loss.backward()
                opt.step()
                total += float(loss.detach()) * len(yb)
                n += len(yb)
            val_loss = _mse(self._predict(val_batches), val.labels)
            history.append({"loss": total / n, "val_loss": val_loss})
            self.on_epoch(epoch + 1, self.epochs)
            if best is None or val_loss < best:
                best, best_state, waited = val_loss, copy.deepcopy(model.state_dict()), 0
            else:
                waited += 1
                if waited >= self.patience:
                    break
        model.load_state_dict(best_state)
        b = int(np.argmin([h["val_loss"] for h in history]))
        self.history_, self.best_epoch_ = history, b + 1
        self.train_mse_, self.val_mse_ = history[b]["loss"], history[b]["val_loss"]
        return self

    def _in_order(self, data: Any):
        return _loader(data, _InOrder(len(data), self.batch_size), self.workers, self.device)

    def _predict(self, batches) -> np.ndarray:
        import torch

        self.model_.eval()
        with torch.no_grad():
            preds = [self.model_(xb.to(self.device, non_blocking=True)).cpu() for xb, _ in batches]
        return torch.cat(preds).numpy()

    def predict(self, data: Any) -> np.ndarray:
        if self.model_ is None:
            raise RuntimeError("araus-cnn: call fit() before predict()")
        return self._predict(self._in_order(as_dataset(data)))

    def mse(self, data: Any) -> float:
        """Mean squared error over ``data`` (float32, as Keras ``evaluate``)."""
        data = as_dataset(data)
        return _mse(self.predict(data), data.labels)


def _mse(pred: np.ndarray, labels: np.ndarray) -> float:
    return float(np.mean((np.asarray(pred, dtype=np.float32) - labels) ** 2, dtype=np.float32))


def train_fold(train: Any, val: Any, test: Any, seed: int, device: str = "cpu",
               epochs: int = TRAINING["epochs"], patience: int = TRAINING["patience"],
               batch_size: int = TRAINING["batch_size"], lr: float = TRAINING["lr"],
               workers: int = 0, on_epoch=None) -> dict[str, Any]:
    """Train on ``train``, early-stop on ``val``, evaluate ``test``; Keras's reporting rules.

    Each argument is (features (n, frames, mels, 2), labels (n,)) or a dataset.
    """
    model = ArausCNN(seed=seed, device=device, epochs=epochs, patience=patience, batch_size=batch_size,
                     lr=lr, workers=workers, on_epoch=on_epoch).fit(train, val)
    return _fold_result(model, test)


def _fold_result(model: ArausCNN, test: Any) -> dict[str, Any]:
    return {"train": model.train_mse_, "val": model.val_mse_, "test": model.mse(test),
            "best_epoch": model.best_epoch_, "epochs_run": len(model.history_), "history": model.history_}


# -- features of the stimuli -----------------------------------------------------------

def _stimuli(rows: Any) -> list[tuple[str, str, float]]:
    return list(zip(rows["soundscape"], rows["masker"], rows["smr"]))


def feature_files(root: Path, rows: Any, soundscapes: Any, maskers: Any, cache_dir: Path,
                  backend: str = "auto", progress=None) -> list[Path]:
    """The cached log-mel file of every stimulus ``rows`` names (columns soundscape, masker,
    smr), mixing from the WAVs under ``root`` and computing only what the cache lacks.

    Each distinct stimulus is computed once (a stimulus heard by several participants
    shares one file); soundscapes are read once each and maskers kept in a small LRU, as
    stimuli are visited grouped by soundscape. ``progress(done, total)`` counts stimuli.
    """
    from collections import OrderedDict

    import soundfile as sf

    from affrepro.fileio import sha256_file

    sc = soundscapes.set_index("soundscape")
    mk = maskers.set_index("masker")
    digests: dict[Path, str] = {}

    def digest(p: Path) -> str:
        if p not in digests:
            digests[p] = sha256_file(p)
        return digests[p]

    stimuli = _stimuli(rows)
    unique = sorted(set(stimuli), key=lambda t: (t[0], t[1], float(t[2])))
    done = {}
    current: dict[Path, np.ndarray] = {}
    maskers_read: OrderedDict[Path, np.ndarray] = OrderedDict()

    def read(path: Path, channels: int) -> np.ndarray:
        x, sr = sf.read(path, always_2d=channels == 2)
        if sr != C.SAMPLE_RATE:
            raise ValueError(f"{path}: {sr} Hz, expected {C.SAMPLE_RATE}")
        return x

    def soundscape_audio(p: Path) -> np.ndarray:
        if p not in current:
            current.clear()
            current[p] = read(p, 2)
        return current[p]

    def masker_audio(p: Path) -> np.ndarray:
        if p in maskers_read:
            maskers_read.move_to_end(p)
        else:
            maskers_read[p] = read(p, 1)
            if len(maskers_read) > 48:
                maskers_read.popitem(last=False)
        return maskers_read[p]

    for i, (s_name, m_name, smr) in enumerate(unique):
        s_path, m_path = Path(root) / "soundscapes" / s_name, Path(root) / "maskers" / m_name
        gain_s = float(sc.at[s_name, "gain_s"])
        gain_m = masker_gain(mk.loc[m_name], float(sc.at[s_name, "insitu_leq"]), float(smr))
        key = cache_key(digest(s_path), digest(m_path), gain_s, gain_m)
        path = cache_path(cache_dir, key)
        if not path.is_file():
            _store(path, logmel_features(mix(soundscape_audio(s_path), masker_audio(m_path), gain_s, gain_m),
                                         backend=backend))
        done[(s_name, m_name, smr)] = path
        if progress is not None:
            progress(i + 1, len(unique))
    return [done[s] for s in stimuli]


def stimulus_features(root: Path, rows: Any, soundscapes: Any, maskers: Any, cache_dir: Path,
                      backend: str = "auto") -> np.ndarray:
    """(len(rows), frames, 64, 2) log-mel features of the stimuli that ``rows`` name, in
    memory (small sets only: the protocol streams them with ``CachedStimuli``)."""
    return np.stack([np.load(p) for p in feature_files(root, rows, soundscapes, maskers, cache_dir, backend)])


def cross_validate_cnn(frame: Any, root: Path, soundscapes: Any, maskers: Any, seeds, cache_dir: Path,
                       target: str = "pleasantness", device: str = "cpu", stage=lambda msg: None,
                       progress=None, model_factory=None, workers: int = 0, map_units=None,
                       **train_options: Any) -> dict[str, Any]:
    """The CNN over the paper's five folds for every seed.

    ``frame``: responses with the ``target`` label (``protocol.labelled_responses``). Per seed
    the fold MSEs are averaged; the claim value is the mean over seeds of those averages and
    the spread their standard deviation (the published ``value ± std`` over 10 runs).
    Features are computed into ``cache_dir`` once and streamed from it (``CachedStimuli``).
    ``model_factory(seed=, device=, workers=, on_epoch=, **train_options)`` builds the model
    (default ``ArausCNN``, the registered ``araus-cnn``); ``progress(label, done, total)``.
    ``map_units(fn, {name: args})`` (the run's ``ctx.map``) trains the seeds × folds as
    independent units (on Dask workers with ``--cluster``); None trains them here in turn.
    """
    from affrepro.reproductions.araus_2022.folds import SPLITS, fold_split

    factory = model_factory or ArausCNN
    report = progress or (lambda label, done, total: None)
    seeds = tuple(seeds)
    per_seed: dict[int, dict[str, float]] = {}
    folds: dict[int, dict[int, Any]] = {}
    cv = frame[frame["fold_r"].isin(C.CV_FOLDS)]
    _, _, test = fold_split(frame, C.CV_FOLDS[0])  # the same 48 averaged stimuli for every fold
    stage("CNN features of the cross-validation and test stimuli (cached)")
    files = feature_files(root, _stacked(cv, test), soundscapes, maskers, cache_dir,
                          progress=lambda d, t: report("CNN features (stimuli)", d, t))
    cv_files, test_files = files[:len(cv)], files[len(cv):]
    y_cv = cv[target].to_numpy(dtype=np.float32)
    fold_of = cv["fold_r"].to_numpy()
    y_test = test[target].to_numpy(dtype=np.float32)
    if map_units is not None:
        units = {f"seed{seed}/fold{k}": (factory, device, workers, train_options, cv_files, y_cv, fold_of,
                                         test_files, y_test, seed, k)
                 for seed in seeds for k in C.CV_FOLDS}
        trained = map_units(train_seed_fold, units)
        for seed in seeds:
            folds[seed] = {k: trained[f"seed{seed}/fold{k}"] for k in C.CV_FOLDS}
    else:
        runs, done = len(seeds) * len(C.CV_FOLDS), 0
        for seed in seeds:
            folds[seed] = {}
            for k in C.CV_FOLDS:
                stage(f"CNN seed {seed}, validation fold {k}")
                folds[seed][k] = train_seed_fold(
                    factory, device, workers, train_options, cv_files, y_cv, fold_of, test_files, y_test, seed, k,
                    on_epoch=lambda d, t: report("CNN epochs (current seed and fold)", d, t))
                done += 1
                report("CNN training (seeds x folds)", done, runs)
    for seed in seeds:
        per_seed[seed] = {s: float(np.mean([folds[seed][k][s] for k in C.CV_FOLDS])) for s in SPLITS}
    values = {s: np.array([per_seed[seed][s] for seed in seeds]) for s in SPLITS}
    return {"mean": {s: float(v.mean()) for s, v in values.items()},
            "std": {s: float(v.std(ddof=1)) if len(v) > 1 else 0.0 for s, v in values.items()},
            "per_seed": per_seed, "folds": folds}


def train_seed_fold(factory, device: str, workers: int, train_options: dict[str, Any], cv_files: list,
               y_cv: np.ndarray, fold_of: np.ndarray, test_files: list, y_test: np.ndarray, seed: int,
               k: int, on_epoch=None) -> dict[str, Any]:
    """One unit of the CNN grid: train on every cross-validation fold but ``k`` with
    ``seed``, validate on fold ``k``, evaluate on the test stimuli (cached feature files)."""
    from affrepro.reproductions.araus_2022.folds import SPLITS

    tr, va = np.flatnonzero(fold_of != k), np.flatnonzero(fold_of == k)  # fold_split's rule
    model = factory(seed=seed, device=device, workers=workers, on_epoch=on_epoch, **train_options)
    model.fit(CachedStimuli([cv_files[i] for i in tr], y_cv[tr]),
              CachedStimuli([cv_files[i] for i in va], y_cv[va]))
    out = _fold_result(model, CachedStimuli(test_files, y_test))
    return {s: out[s] for s in SPLITS} | {"best_epoch": out["best_epoch"], "epochs_run": out["epochs_run"]}


def _stacked(a: Any, b: Any) -> Any:
    """The stimulus columns of ``a`` then ``b``."""
    import pandas as pd

    cols = ["soundscape", "masker", "smr"]
    return pd.concat([a[cols], b[cols]], ignore_index=True)
