"""Corpus extraction in batches (issue 24): ``affrepro features extract NAME ...
--backend triton`` for a feature whose ``extract`` keeps leading axes (``Feature.stacks``:
the psychoacoustic ones) reads ``batch`` files, stacks those of the same sample rate and
shape into one (stimuli, [channels,] samples) tensor on the GPU, and extracts them in one
call: every stimulus x channel (x band) of the batch a lane of the same kernels. The
results are split back per file and written as :func:`extract.extract_many` writes them
(one file each, atomically, or one table in input order).

A file that cannot be read fails alone (named, or listed with ``--keep-going``). When a
batch's extraction fails, its files are extracted again one by one, so the error names
the file that caused it."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from affrepro.plugins.features import extract as ex

DEFAULT_BATCH = 16  # 16 x 30 s binaural float64 stimuli: ~340 MB of input on the GPU


def batches_of(items: list, size: int) -> list[list]:
    """``items`` in consecutive runs of ``size`` (the last one shorter)."""
    if size < 1:
        raise ValueError(f"batch must be >= 1, got {size}")
    return [items[i:i + size] for i in range(0, len(items), size)]


def _meta(name, src, sr, channels, settings, mono, dtype, backend, shape, batch_size):
    final_sr = settings.get("target_sample_rate") or sr
    return {"feature": name, "settings": dict(settings), "source": str(src),
            "source_sample_rate": sr, "sample_rate": final_sr, "channels": channels,
            "mono": mono, "read_dtype": dtype, "backend": backend, "shape": list(shape),
            "axes": "(channels,) columns", "hop_seconds": 0.0, "batched_with": batch_size}


def extract_batch(name: str, feature, files: list[Path], settings: Mapping[str, Any],
                  mono: bool, dtype: str, backend: str) -> list:
    """(features, meta, seconds) or a :class:`extract.Failed` per file of one batch."""
    read: dict[int, tuple] = {}
    out: list = [None] * len(files)
    for i, src in enumerate(files):
        try:
            read[i] = ex.read_signal(src, mono, dtype)
        except ValueError as exc:
            out[i] = ex.Failed(src, str(exc))
    groups: dict[tuple, list[int]] = {}
    for i, (signal, sr, _channels, _frames) in read.items():
        groups.setdefault((sr, signal.shape, signal.dtype.str), []).append(i)
    for (sr, _shape, _dt), members in groups.items():
        stacked = np.stack([read[i][0] for i in members])
        try:
            feats = np.asarray(_to_host(feature.extract(ex.on_backend_device(stacked, backend),
                                                        sr, backend=backend, **settings)))
        except (ValueError, TypeError, ArithmeticError, RuntimeError):
            for i in members:  # the same error again, named by its file
                out[i] = _one(name, feature, files[i], settings, mono, dtype, backend)
            continue
        for k, i in enumerate(members):
            signal, sr_i, channels, frames = read[i]
            f = feats[k]
            out[i] = (f, _meta(name, files[i], sr_i, channels, settings, mono, dtype, backend,
                               f.shape, len(members)), frames / sr_i)
    return out


def _to_host(feats):
    return feats.detach().cpu().numpy() if hasattr(feats, "detach") else feats


def _one(name, feature, src, settings, mono, dtype, backend):
    try:
        return ex.compute_file(name, feature, src, settings, mono, dtype, backend)
    except (ValueError, RuntimeError, OSError) as exc:
        return ex.Failed(src, str(exc) if str(src) in str(exc) else f"{src}: {exc}")


def extract_many_batched(name: str, feature, files: list[Path], out: Path,
                         settings: Mapping[str, Any], roots: list[Path], mono: bool,
                         dtype: str, backend: str, batch: int = DEFAULT_BATCH,
                         progress: Callable[[Any], None] | None = None,
                         fmt: str | None = None, failed: list | None = None) -> list:
    """:func:`extract.extract_many` with ``batch`` files a call of the feature's kernels."""
    fmt, one_table, dests = ex.plan_outputs(files, out, roots, fmt)
    sink = None
    if one_table:
        from affrepro.plugins.features import tables

        sink = tables.ParquetSink(out, name, settings)
    results: list = []
    index = list(range(len(files)))
    try:
        for chunk in batches_of(index, batch):
            got = extract_batch(name, feature, [files[i] for i in chunk], settings, mono,
                                dtype, backend)
            for i, r in zip(chunk, got):
                if isinstance(r, ex.Failed):
                    if failed is None:
                        raise ValueError(r.error)
                    failed.append(r)
                    if progress:
                        progress(r)
                    continue
                feats, meta, seconds = r
                data = ex.table_of(name, feature, feats, meta, settings) if fmt == "parquet" else feats
                done = ex.store_result(files[i], data, meta, tuple(feats.shape), seconds, fmt,
                                       sink, out if sink is not None else dests[i], name, settings)
                results.append(done)
                if progress:
                    progress(done)
        if sink is not None:
            sink.close()
    except BaseException:
        if sink is not None:
            sink.abort()
        raise
    return results
