"""`affrepro features extract logmel` end to end against the librosa script a researcher
writes for the same files: read, resample to 16 kHz, log-mel, save.

Run:  affrepro bench run --kernels features
or    python -m pytest benchmarks/test_features_bench.py --benchmark-only -s

Workload ``araus``: 8 ARAUS-style stimuli, 30 s binaural 44.1 kHz 24-bit WAV (1/f noise
at 65 dB SPL), the ``logmel`` feature's defaults (16 kHz, n_fft 1024, hop 160, 64 mels,
dB with top_db 80, channels kept), each file saved as .npz. The peer is
``librosa.load(sr=16000, mono=False)`` (soxr_hq), ``melspectrogram``, ``power_to_db``
per channel (as ours: top_db per channel) and ``np.savez``; both take the files on the same
number of threads. Before timing, every file's features are checked against librosa's
(|difference| <= 2e-3 dB, float32 rounding).
"""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from affrepro.hardware import versions

N_FILES, SECONDS, SR_IN = 8, 30.0, 44100
SETTINGS = dict(n_fft=1024, hop_length=160, n_mels=64)
SETTLE_S = 0.5


@pytest.fixture(scope="module")
def stimuli(tmp_path_factory, binaural_noise):
    sf = pytest.importorskip("soundfile")
    folder = tmp_path_factory.mktemp("stimuli")
    for i in range(N_FILES):
        x = binaural_noise(SECONDS, SR_IN, seed=i)
        sf.write(str(folder / f"stim_{i:02d}.wav"), (x / np.abs(x).max() * 0.5).T, SR_IN,
                 subtype="PCM_24")
    return folder, sorted(folder.glob("*.wav"))


def _jobs() -> int:
    from affrepro.plugins.features.extract import default_jobs

    return default_jobs()


def ours(folder, files, out):
    from affrepro.plugin_manager import get_registries
    from affrepro.plugins.features.extract import extract_many

    feature = get_registries().features.get("logmel")
    extract_many("logmel", feature, files, out, dict(feature.settings), [folder], _jobs(),
                 False, "float32", "auto")


def librosa_script(folder, files, out):
    import librosa

    out.mkdir(parents=True, exist_ok=True)

    def one(path):
        y, sr = librosa.load(str(path), sr=16000, mono=False)
        S = librosa.feature.melspectrogram(y=y, sr=sr, **SETTINGS)
        db = np.stack([librosa.power_to_db(s, top_db=80.0) for s in S])
        np.savez(out / f"{path.stem}.npz", features=db)

    with ThreadPoolExecutor(_jobs()) as pool:
        list(pool.map(one, files))


def _check(tmp_path, stimuli):
    folder, files = stimuli
    ours(folder, files, tmp_path / "ours")
    librosa_script(folder, files, tmp_path / "librosa")
    err = 0.0
    for f in files:
        with np.load(tmp_path / "ours" / f"{f.stem}.npz") as a, \
                np.load(tmp_path / "librosa" / f"{f.stem}.npz") as b:
            assert a["features"].shape == b["features"].shape == (2, 64, 3001)
            err = max(err, float(np.max(np.abs(a["features"] - b["features"]))))
    assert err <= 2e-3, err
    return err


@pytest.mark.parametrize("impl", ["ours", "librosa"])
def test_cpu_features_extract(benchmark, tmp_path, stimuli, impl):
    pytest.importorskip("librosa")
    err = _check(tmp_path, stimuli)
    folder, files = stimuli
    fn = ours if impl == "ours" else librosa_script
    benchmark.extra_info.update(versions())
    benchmark.extra_info.update({"kernel": "features-extract", "workload": "araus",
                                 "impl": impl, "device": "cpu", "threads": _jobs(),
                                 "files": N_FILES, "audio_s": N_FILES * SECONDS * 2,
                                 "max_abs_diff_vs_librosa_db": err})
    benchmark.pedantic(lambda: fn(folder, files, tmp_path / "timed"), rounds=3, iterations=1,
                       warmup_rounds=1)
    print(f"\n[features-extract/{impl}] {benchmark.stats['min'] * 1e3:.0f} ms for "
          f"{N_FILES} x {SECONDS:.0f} s binaural, |ours - librosa| <= {err:.1e} dB")


def test_cpu_features_extract_interleaved(benchmark, tmp_path, stimuli):
    """ours and the librosa script timed in alternation (a shared VM's load drifts)."""
    pytest.importorskip("librosa")
    folder, files = stimuli
    best = {"ours": float("inf"), "librosa": float("inf")}
    impls = {"ours": ours, "librosa": librosa_script}
    for name, fn in impls.items():  # warm: JIT cache, imports
        fn(folder, files, tmp_path / name)

    def round_():
        for name, fn in impls.items():
            time.sleep(SETTLE_S)
            t = time.perf_counter()
            fn(folder, files, tmp_path / name)
            best[name] = min(best[name], time.perf_counter() - t)

    benchmark.extra_info.update(versions())
    benchmark.extra_info.update({"kernel": "features-extract-interleaved", "workload": "araus",
                                 "impl": "ours+peers", "device": "cpu", "threads": _jobs()})
    benchmark.pedantic(round_, rounds=3, iterations=1, warmup_rounds=0)
    ratio = best["librosa"] / best["ours"]
    benchmark.extra_info.update({"min_s": best, "interleaved_speedups": {"vs_librosa": ratio},
                                 "realtime_factor": N_FILES * SECONDS / best["ours"]})
    print(f"\n[features-extract interleaved] ours {best['ours'] * 1e3:.0f} ms, librosa "
          f"{best['librosa'] * 1e3:.0f} ms: {ratio:.2f}x")
