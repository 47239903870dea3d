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


RES_TYPES = ("soxr_hq", "soxr_vhq", "polyphase")


def check_res_type(res_type: str) -> str:
    if res_type not in RES_TYPES:
        raise ValueError(f"res_type must be one of {', '.join(RES_TYPES)}, got {res_type!r}")
    return res_type


def resample(signal: np.ndarray, sr_from: float, sr_to: float,
             res_type: str = "soxr_hq") -> np.ndarray:
    """Resample along the last axis as ``librosa.resample(res_type=...)`` does: ``soxr_hq``
    (its default, and ``librosa.load``'s; python-soxr's band-limited sinc, HQ) or
    ``soxr_vhq``, or ``polyphase`` (``scipy.signal.resample_poly`` with the rates' ratio);
    the result has ``ceil(n · sr_to / sr_from)`` samples (zero-padded or cut, like
    librosa's ``fix=True``) and float signals keep their dtype."""
    check_res_type(res_type)
    if sr_from <= 0 or sr_to <= 0:
        raise ValueError(f"sample rates must be positive, got {sr_from} -> {sr_to}")
    if sr_from == sr_to:
        return signal
    x = np.asarray(signal)
    dtype = x.dtype if x.dtype.kind == "f" else np.float64
    n = x.shape[-1]
    n_out = int(math.ceil(n * float(sr_to) / sr_from))
    if n == 0:
        return np.zeros(x.shape, dtype=dtype)
    if res_type == "polyphase":
        from fractions import Fraction

        from scipy.signal import resample_poly

        ratio = Fraction(sr_to / sr_from).limit_denominator(10000)
        out = resample_poly(x.astype(np.float64), ratio.numerator, ratio.denominator, axis=-1)
    else:
        import soxr

        # soxr: (samples, channels) in float32/float64 (float16 goes through float32)
        rows = x.reshape(-1, n).astype(np.float64 if dtype == np.float64 else np.float32,
                                        copy=False)
        out = soxr.resample(np.ascontiguousarray(rows.T), sr_from, sr_to,
                            quality=res_type[len("soxr_"):].upper()).T
        out = out.reshape(x.shape[:-1] + (out.shape[-1],))
    if out.shape[-1] != n_out:
        fixed = np.zeros(x.shape[:-1] + (n_out,), dtype=out.dtype)
        keep = min(n_out, out.shape[-1])
        fixed[..., :keep] = out[..., :keep]
        out = fixed
    return out.astype(dtype, copy=False)


def run_extractor(name: str, signal: Any, sample_rate: float, settings: Mapping[str, Any],
                  backend: str = "auto"):
    """Resample to ``settings["target_sample_rate"]`` (when set; ``settings["res_type"]``
    says how) and run the kernel."""
    from affrepro.kernels import spectral as sp

    s = dict(settings)
    target = s.pop("target_sample_rate", None)
    if target is not None:
        from affrepro.kernels.spectral.reference import as_float

        try:
            target = as_float("target_sample_rate", target, above=0.0)
        except (TypeError, ValueError):
            raise ValueError(f"target_sample_rate must be a positive number of Hz or none, "
                             f"got {target!r}") from None
    target = target or sample_rate
    res_type = check_res_type(s.pop("res_type", "soxr_hq"))  # even where not resampling
    if target != sample_rate:
        from affrepro.kernels._dispatch import is_torch_tensor

        if is_torch_tensor(signal):
            import torch

            dev, dt = signal.device, signal.dtype
            signal = torch.from_numpy(resample(signal.detach().cpu().numpy(), sample_rate,
                                               target, res_type)).to(device=dev, dtype=dt)
        else:
            signal = resample(np.asarray(signal), sample_rate, target, res_type)
    if isinstance(s.get("window"), list):  # --set 'window=["kaiser", 8]' parses as a list
        s["window"] = tuple(s["window"])
    fn = {"logmel": sp.logmel, "mfcc": sp.mfcc}[name]
    return fn(signal, sr=target, backend=backend, **s)


def parse_value(text: str) -> Any:
    """``--set key=value`` values: JSON where it parses (numbers, true/false/null), else text."""
    low = text.strip()
    if low.lower() in ("none", "null"):
        return None
    if low.lower() in ("true", "false"):
        return low.lower() == "true"
    if low.lower().lstrip("+-") in ("inf", "infinity"):  # e.g. --set norm=inf (max norm)
        return float(low)
    try:
        return json.loads(low)
    except ValueError:
        return low


def audio_files(paths: Iterable[Path]) -> list[Path]:
    """Files as given; folders expanded (recursively) to their audio files, sorted. Inside
    a folder, hidden entries (a name starting with '.': ``.venv``, ``.git``, macOS's
    ``._x.wav``) are skipped and never entered; a hidden file named itself is kept."""
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            found = []
            for folder, dirs, names in os.walk(p):
                dirs[:] = [d for d in dirs if not d.startswith(".")]
                found += [Path(folder) / n for n in names
                          if not n.startswith(".") and Path(n).suffix.lower() in AUDIO_SUFFIXES]
            out.extend(sorted(f for f in found if f.is_file()))
        else:
            out.append(p)
    return out


@dataclass
class Failed:
    """A file ``extract_many(..., failed=[])`` (``--keep-going``) could not extract, and why."""

    source: Path
    error: str
    traceback: str = ""  # where it failed on a cluster worker (``--cluster --keep-going``)


@dataclass
class Extracted:
    source: Path
    output: Path
    shape: tuple[int, ...]
    seconds: float


FORMATS = ("npz", "parquet")


def output_path(src: Path, out: Path, roots: list[Path], fmt: str = "npz") -> Path:
    """Where one input's file goes in the output folder: ``out/<path below the folder it
    was found in, or its name>.<fmt>``."""
    rel = Path(src.name)
    for root in roots:
        if root.is_dir():
            try:
                rel = src.relative_to(root)
                break
            except ValueError:
                continue
    return out / rel.with_suffix(f".{fmt}")


def compute_file(name: str, feature, src: Path, settings: Mapping[str, Any], mono: bool,
                 dtype: str, backend: str, threads: int = 1) -> tuple[np.ndarray, dict, float]:
    """(features, meta, seconds of audio) of one audio file; the spectral kernels use at
    most ``threads`` threads on it."""
    from affrepro.kernels.spectral import numba_impl

    signal, sr, channels, frames = read_signal(src, mono, dtype)
    signal = on_backend_device(signal, backend)
    try:
        with numba_impl.thread_limit(threads):
            feats = feature.extract(signal, sr, backend=backend, **settings) \
                if backend != "auto" else feature.extract(signal, sr, **settings)
    except (ValueError, TypeError, ArithmeticError) as exc:
        raise ValueError(f"{src}: {name}: {exc}") from exc
    if hasattr(feats, "detach"):  # a torch tensor (the triton backend)
        feats = feats.detach().cpu().numpy()
    feats = np.asarray(feats)
    final_sr = settings.get("target_sample_rate") or sr
    meta = {"feature": name, "settings": dict(settings), "source": str(src),
            "source_sample_rate": sr, "sample_rate": final_sr, "channels": channels,
            "mono": mono, "read_dtype": dtype, "backend": backend, "shape": list(feats.shape),
            "axes": ("(channels,) rows, frames" if "hop_length" in settings
                     else "(channels,) columns"),
            "hop_seconds": _hop(settings) / final_sr}
    return feats, meta, frames / sr


def read_signal(src: Path, mono: bool, dtype: str) -> tuple[np.ndarray, int, int, int]:
    """(signal ([channels,] samples), sample rate, channels in the file, frames) of an
    audio file; refuses what cannot be read and non-finite samples, naming the file."""
    import soundfile as sf

    try:
        data, sr = sf.read(str(src), dtype=dtype, always_2d=True)  # (frames, channels)
    except (sf.LibsndfileError, RuntimeError, UnicodeError) as exc:
        raise ValueError(f"{src}: cannot read it as audio ({exc})") from exc
    check_finite(data, src)
    if data.shape[0] == 0:
        warnings.warn(f"{src}: the audio has 0 frames; its features are empty", UserWarning,
                      stacklevel=3)
    signal = data.mean(axis=1) if mono else np.ascontiguousarray(data.T)
    if not mono and signal.shape[0] == 1:
        signal = signal[0]
    return signal, sr, int(data.shape[1]), int(data.shape[0])


def check_finite(data: np.ndarray, src: Path) -> None:
    """Refuse audio (frames, channels) holding NaN or ±inf, naming the first such sample:
    one of them turns a whole log-mel matrix into NaN (``top_db`` floors every frame
    against the NaN peak); librosa refuses such buffers too."""
    bad = ~np.isfinite(data)
    if bad.any():
        frame, channel = (int(i) for i in np.argwhere(bad)[0])
        raise ValueError(f"{src}: sample {frame} of channel {channel} is "
                         f"{data[frame, channel]} ({int(bad.sum())} non-finite samples in "
                         "the file); features need finite audio")


def _hop(settings: Mapping[str, Any]) -> int:
    """The hop a frame-wise feature used (librosa's 512 where the setting is None), 0 for
    per-file features."""
    if "hop_length" not in settings:
        return 0
    from affrepro.kernels.spectral.reference import FEATURE_HOP

    return settings["hop_length"] if settings["hop_length"] is not None else FEATURE_HOP


def on_backend_device(signal: np.ndarray, backend: str):
    """The signal where ``backend`` runs: the triton kernels take torch tensors on a CUDA
    GPU (on the CPU only under TRITON_INTERPRET=1, slowly); the others NumPy arrays."""
    if backend != "triton":
        return signal
    import torch

    from affrepro.kernels._dispatch import triton_interpreting

    if torch.cuda.is_available():
        return torch.from_numpy(signal).to("cuda", non_blocking=True)
    if triton_interpreting():
        return torch.from_numpy(signal)
    raise ValueError("--backend triton needs a CUDA GPU (or TRITON_INTERPRET=1 to run the "
                     "kernels on the CPU, slowly); torch sees none here")


def write_npz(dst: Path, feats: np.ndarray, meta: Mapping[str, Any]) -> None:
    """``features``, ``settings`` (JSON) and ``meta`` (JSON) in one .npz, written atomically."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.tmp{os.getpid()}.npz")  # hidden from folder readers
    try:
        np.savez(tmp, features=feats, settings=np.array(json.dumps(meta["settings"],
                                                                   default=str)),
                 meta=np.array(json.dumps(meta, default=str)))
        os.replace(tmp, dst)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def table_of(name: str, feature, feats: np.ndarray, meta: Mapping[str, Any],
             settings: Mapping[str, Any]):
    """One file's features as table rows (see :mod:`.tables`)."""
    from affrepro.plugins.features import tables

    frame_wise = tables.is_frame_wise(settings)
    n_cols = feats.shape[-2] if frame_wise else feats.shape[-1]
    names = tables.column_names(feature, settings, n_cols)
    return tables.to_table(feats, meta["source"], names, frame_wise, meta["hop_seconds"], name)


def store_result(src: Path, data, meta: Mapping[str, Any], shape: tuple, seconds: float,
                 fmt: str, sink, dest: Path, name: str,
                 settings: Mapping[str, Any]) -> Extracted:
    """Write one file's result where the run's outputs go: appended to the one-table
    ``sink`` (in the caller's order; ``dest`` is then the table), its own .parquet, or its
    own .npz (both atomic). ``data``: the features, or their rows (:func:`table_of`) for a
    table."""
    if sink is not None:
        sink.append(data, meta)
        return Extracted(src, dest, shape, seconds)
    if fmt == "parquet":
        from affrepro.plugins.features import tables

        tables.write_parquet(dest, data, name, settings, meta)
    else:
        write_npz(dest, data, meta)
    return Extracted(src, dest, shape, seconds)


def extract_file(name: str, feature, src: Path, dst: Path, settings: Mapping[str, Any],
                 mono: bool, dtype: str, backend: str, fmt: str = "npz",
                 threads: int = 1) -> Extracted:
    """Extract one file into its own ``dst`` (.npz or .parquet)."""
    feats, meta, seconds = compute_file(name, feature, src, settings, mono, dtype, backend,
                                        threads)
    if fmt == "parquet":
        from affrepro.plugins.features import tables

        tables.write_parquet(dst, table_of(name, feature, feats, meta, settings), name,
                             settings, meta)
    else:
        write_npz(dst, feats, meta)
    return Extracted(src, dst, tuple(feats.shape), seconds)


def plan_outputs(files: list[Path], out: Path, roots: list[Path],
                 fmt: str | None) -> tuple[str, bool, list[Path]]:
    """(format, one table for all inputs?, the files to write) for ``-o out``:
    ``FILE.parquet`` is one table for every input, ``FILE.npz`` one input's arrays, anything
    else a folder with one file per input in ``fmt`` (default npz)."""
    if fmt is not None and fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    from affrepro.plugins.features.tables import path_key

    seen: dict[str, Path] = {}
    for f in files:
        key = path_key(f)
        if key in seen:
            raise ValueError(f"{f} is an input twice (as {seen[key]} and {f}): give each "
                             "file once (a file and the folder holding it count twice)")
        seen[key] = f
    suffix = out.suffix.lower().lstrip(".")
    if suffix in FORMATS and out.is_dir():
        raise ValueError(f"-o {out} is a folder; a .{suffix} output names a file")
    if suffix in FORMATS:
        if fmt is not None and fmt != suffix:
            raise ValueError(f"-o {out} is a .{suffix} file but the format asked for is {fmt}")
        if suffix == "parquet":
            return "parquet", True, [out]
        if len(files) != 1:
            raise ValueError(f"-o {out}: a .npz file holds one input's features, and there "
                             f"are {len(files)} inputs; give a folder (one file per input) "
                             "or FILE.parquet (one table)")
        return "npz", False, [out]
    fmt = fmt or "npz"
    dests = [output_path(f, out, roots, fmt) for f in files]
    first: dict[Path, Path] = {}
    for f, d in zip(files, dests):
        if d in first:
            raise ValueError(f"{first[d]} and {f} would both be written to {d} (same name but "
                             f"for the suffix, or from different folders); rename one, or "
                             f"write one table with -o FILE.parquet")
        first[d] = f
    return fmt, False, dests


def extract_many(name: str, feature, files: list[Path], out: Path, settings: Mapping[str, Any],
                 roots: list[Path], jobs: int, mono: bool, dtype: str, backend: str,
                 progress: Callable[[Extracted], None] | None = None,
                 fmt: str | None = None, failed: list[Failed] | None = None) -> list[Extracted]:
    """Extract every file: one output file each, or (``-o FILE.parquet``) one table whose
    row groups are the files in order, renamed into place only once all of them are in.

    A file that cannot be extracted stops the batch with an error naming it (the files
    written before it stay, each whole); with a ``failed`` list (``--keep-going``) it is
    appended there instead and the others go on (a table then holds the good files)."""
    fmt, one_table, dests = plan_outputs(files, out, roots, fmt)
    results: list[Extracted] = []
    jobs = max(1, min(jobs, len(files) or 1))
    sink = None
    if one_table:
        from affrepro.plugins.features import tables

        sink = tables.ParquetSink(out, name, settings)

    def one(i: int):
        if sink is None:
            return extract_file(name, feature, files[i], dests[i], settings, mono, dtype,
                                backend, fmt, threads)
        feats, meta, seconds = compute_file(name, feature, files[i], settings, mono, dtype,
                                            backend, threads)
        return table_of(name, feature, feats, meta, settings), meta, \
            Extracted(files[i], out, tuple(feats.shape), seconds)

    def guarded(i: int):
        try:
            return one(i)
        except (ValueError, RuntimeError, OSError) as exc:
            message = str(exc) if str(files[i]) in str(exc) else f"{files[i]}: {exc}"
            if failed is None:
                if message == str(exc):
                    raise
                raise ValueError(message) from exc
            return Failed(files[i], message)

    def done(r) -> None:
        if isinstance(r, Failed):
            failed.append(r)
            if progress:
                progress(r)
            return
        if sink is not None:
            table, meta, r = r
            sink.append(table, meta)  # in input order, on this thread
        results.append(r)
        if progress:
            progress(r)

    if (jobs > 1 and getattr(feature, "numba_parallel", True)
            and numba_threading_layer() == "workqueue"):
        warnings.warn(f"Numba's threading layer here is 'workqueue', which aborts when two "
                      f"threads run parallel kernels at once (feature {name!r} does): "
                      "extracting one file at a time. Install tbb (pip install tbb) or an "
                      "OpenMP runtime to extract files in parallel.", RuntimeWarning,
                      stacklevel=2)
        jobs = 1
    # the CPUs not taken by parallel files go to each file's kernels (one long recording
    # gets them all)
    threads = max(1, default_jobs() // jobs)
    try:
        if jobs == 1:
            for i in range(len(files)):
                done(guarded(i))
        else:
            for r in _ordered_map(guarded, len(files), jobs):
                done(r)
        if sink is not None:
            sink.close()
    except BaseException:
        if sink is not None:
            sink.abort()
        raise
    return results


def _ordered_map(fn: Callable[[int], Any], n: int, jobs: int):
    """fn(0), fn(1), ... in order, ``jobs`` at a time, with at most 2 × jobs results done
    but not yet taken (a slow early file does not let the rest pile up in memory)."""
    from collections import deque

    with ThreadPoolExecutor(jobs) as pool:
        pending: deque = deque()
        nxt = 0
        try:
            while nxt < n or pending:
                while nxt < n and len(pending) < 2 * jobs:
                    pending.append(pool.submit(fn, nxt))
                    nxt += 1
                yield pending.popleft().result()
        finally:
            for f in pending:
                f.cancel()


def load_features(path: str | Path, source: str | Path | None = None) -> tuple[np.ndarray, dict]:
    """(features, meta) from a file ``features extract`` wrote: ``.npz``, or ``.parquet``
    (``source`` picks one input from a table that holds several: the path as it was given
    to ``features extract``, or the same file by another spelling of its path)."""
    path = Path(path)
    if path.suffix.lower() == ".parquet":
        from affrepro.plugins.features.tables import read_parquet_features

        return read_parquet_features(path, source)
    if path.suffix.lower() != ".npz":
        raise ValueError(f"{path}: expected a .npz or .parquet file from features extract")
    with np.load(path) as z:
        if "features" not in z.files or "meta" not in z.files:
            raise ValueError(f"{path}: not written by features extract (it needs the "
                             f"arrays 'features' and 'meta'; it has {z.files})")
        return z["features"], json.loads(str(z["meta"]))


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


__all__ = ["run_extractor", "extract_many", "audio_files", "Failed", "parse_value", "resample",
           "load_features", "math"]
