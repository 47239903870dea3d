"""The work behind the ``logmel``/``mfcc`` features and ``affrepro features extract``."""
from __future__ import annotations

import json
import math
import os
import warnings
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".aiff", ".aif", ".au", ".mp3")


def resample(signal: np.ndarray, sr_from: float, sr_to: float) -> np.ndarray:
    """Polyphase resampling along the last axis (scipy.signal.resample_poly)."""
    if sr_from == sr_to:
        return signal
    from fractions import Fraction

    from scipy.signal import resample_poly

    if sr_from <= 0 or sr_to <= 0:
        raise ValueError(f"sample rates must be positive, got {sr_from} -> {sr_to}")
    ratio = Fraction(sr_to / sr_from).limit_denominator(10000)
    out = resample_poly(np.asarray(signal, dtype=np.float64), ratio.numerator,
                        ratio.denominator, axis=-1)
    return out.astype(signal.dtype if np.asarray(signal).dtype.kind == "f" else np.float64,
                      copy=False)


def run_extractor(name: str, signal: Any, sample_rate: float, settings: Mapping[str, Any],
                  backend: str = "auto"):
    """Resample to ``settings["target_sample_rate"]`` (when set) and run the kernel."""
    from affrepro.kernels import spectral as sp

    s = dict(settings)
    target = s.pop("target_sample_rate", None) or sample_rate
    if target != sample_rate:
        from affrepro.kernels._dispatch import is_torch_tensor

        if is_torch_tensor(signal):
            import torch

            dev, dt = signal.device, signal.dtype
            signal = torch.from_numpy(resample(signal.detach().cpu().numpy(), sample_rate,
                                               target)).to(device=dev, dtype=dt)
        else:
            signal = resample(np.asarray(signal), sample_rate, target)
    fn = {"logmel": sp.logmel, "mfcc": sp.mfcc}[name]
    return fn(signal, sr=target, backend=backend, **s)


def parse_value(text: str) -> Any:
    """``--set key=value`` values: JSON where it parses (numbers, true/false/null), else text."""
    low = text.strip()
    if low.lower() in ("none", "null"):
        return None
    if low.lower() in ("true", "false"):
        return low.lower() == "true"
    try:
        return json.loads(low)
    except ValueError:
        return low


def audio_files(paths: Iterable[Path]) -> list[Path]:
    """Files as given; folders expanded (recursively) to their audio files, sorted."""
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out.extend(sorted(f for f in p.rglob("*")
                              if f.is_file() and f.suffix.lower() in AUDIO_SUFFIXES))
        else:
            out.append(p)
    return out


@dataclass
class Extracted:
    source: Path
    output: Path
    shape: tuple[int, ...]
    seconds: float


def output_path(src: Path, out: Path, many: bool, roots: list[Path]) -> Path:
    if not many and out.suffix == ".npz":
        return out
    rel = Path(src.name)
    for root in roots:
        if root.is_dir():
            try:
                rel = src.relative_to(root)
                break
            except ValueError:
                continue
    return out / rel.with_suffix(".npz")


def extract_file(name: str, feature, src: Path, dst: Path, settings: Mapping[str, Any],
                 mono: bool, dtype: str, backend: str) -> Extracted:
    import soundfile as sf

    from affrepro.kernels.spectral import numba_impl

    data, sr = sf.read(str(src), dtype=dtype, always_2d=True)  # (frames, channels)
    signal = data.mean(axis=1) if mono else np.ascontiguousarray(data.T)
    if not mono and signal.shape[0] == 1:
        signal = signal[0]
    with numba_impl.thread_limit(1):
        feats = feature.extract(signal, sr, backend=backend, **settings) \
            if backend != "auto" else feature.extract(signal, sr, **settings)
    final_sr = settings.get("target_sample_rate") or sr
    meta = {"feature": name, "settings": dict(settings), "source": str(src),
            "source_sample_rate": sr, "sample_rate": final_sr, "channels": int(data.shape[1]),
            "mono": mono, "shape": list(feats.shape),
            "axes": ("(channels,) rows, frames" if "hop_length" in settings
                     else "(channels,) columns"),
            "hop_seconds": settings.get("hop_length", 0) / final_sr}
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(dst.name + f".tmp{os.getpid()}.npz")
    np.savez(tmp, features=feats, settings=np.array(json.dumps(meta["settings"])),
             meta=np.array(json.dumps(meta)))
    os.replace(tmp, dst)
    return Extracted(src, dst, tuple(feats.shape), data.shape[0] / sr)


def extract_many(name: str, feature, files: list[Path], out: Path, settings: Mapping[str, Any],
                 roots: list[Path], jobs: int, mono: bool, dtype: str, backend: str,
                 progress: Callable[[Extracted], None] | None = None) -> list[Extracted]:
    many = len(files) != 1 or out.suffix != ".npz"
    dests = [output_path(f, out, many, roots) for f in files]
    if len(set(dests)) != len(dests):
        raise ValueError("two inputs map to the same output file; give folders, not files "
                         "with the same name from different folders")
    results: list[Extracted] = []
    jobs = max(1, min(jobs, len(files) or 1))

    def one(i: int) -> Extracted:
        return extract_file(name, feature, files[i], dests[i], settings, mono, dtype, backend)

    if (jobs > 1 and getattr(feature, "numba_parallel", True)
            and numba_threading_layer() == "workqueue"):
        warnings.warn(f"Numba's threading layer here is 'workqueue', which aborts when two "
                      f"threads run parallel kernels at once (feature {name!r} does): "
                      "extracting one file at a time. Install tbb (pip install tbb) or an "
                      "OpenMP runtime to extract files in parallel.", RuntimeWarning,
                      stacklevel=2)
        jobs = 1
    if jobs == 1:
        for i in range(len(files)):
            r = one(i)
            results.append(r)
            if progress:
                progress(r)
    else:
        with ThreadPoolExecutor(jobs) as pool:
            for r in pool.map(one, range(len(files))):
                results.append(r)
                if progress:
                    progress(r)
    return results


def numba_threading_layer() -> str | None:
    """The threading layer Numba's parallel kernels use in this process ('tbb', 'omp' or
    'workqueue'; None without Numba). Numba picks one when its thread pool starts, so this
    starts it (without compiling anything) if no parallel kernel has run yet."""
    try:
        import numba
    except ImportError:
        return None
    try:
        return numba.threading_layer()
    except ValueError:  # the pool has not started in this process yet
        from numba.np.ufunc.parallel import _launch_threads

        _launch_threads()
        return numba.threading_layer()


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover
        return max(1, os.cpu_count() or 1)


__all__ = ["run_extractor", "extract_many", "audio_files", "parse_value", "resample", "math"]
