"""``affrepro features extract --cluster``: one task per file on Dask workers (see
:mod:`affrepro.executor`), the results streamed back and written by the driver in the same
formats as the local path (.npz / .parquet per file, or one .parquet table renamed into
place only when every file is in).

Each input's sha256 is taken by the driver as its task is submitted and checked by the
worker before it reads the file, so a worker on another machine computes from exactly the
bytes the driver saw (a shared folder, or the same path there). The feature's kernels are
compiled (or loaded from the Numba cache) once per worker, before its first task.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np


def warm_feature(name: str, feature, settings: Mapping[str, Any], mono: bool, dtype: str,
                 backend: str) -> None:
    """Run the feature once on one second of noise (two channels unless ``mono``) so the
    worker compiles its kernels, or loads them from the Numba cache, before any task."""
    from affrepro.kernels.spectral import numba_impl

    sr = float(settings.get("target_sample_rate") or 48000)
    rng = np.random.default_rng(0)
    signal = rng.standard_normal(int(sr) if mono else (2, int(sr))).astype(dtype) * 0.05
    with numba_impl.thread_limit(1):
        if backend != "auto":
            feature.extract(signal, sr, backend=backend, **settings)
        else:
            feature.extract(signal, sr, **settings)


def extract_unit(name: str, feature, src: str, sha256: str, settings: Mapping[str, Any],
                 mono: bool, dtype: str, backend: str, as_table: bool):
    """On a worker: check the file's sha256, extract it on one thread; (features or table
    rows, meta, seconds of audio)."""
    from affrepro.fileio import sha256_file
    from affrepro.plugins.features.extract import compute_file, table_of

    path = Path(src)
    if not path.is_file():
        raise ValueError(f"{src}: not found on this worker; give the workers the same folder "
                         "(a shared file system)")
    got = sha256_file(path)
    if got != sha256:
        raise ValueError(f"{src}: sha256 {got} on this worker, {sha256} where it was submitted")
    feats, meta, seconds = compute_file(name, feature, path, settings, mono, dtype, backend, threads=1)
    if as_table:
        return table_of(name, feature, feats, meta, settings), meta, tuple(feats.shape), seconds
    return feats, meta, tuple(feats.shape), seconds


def extract_many_on(executor, name: str, feature, files: list[Path], out: Path,
                    settings: Mapping[str, Any], roots: list[Path], mono: bool, dtype: str,
                    backend: str, progress: Callable[[Any], None] | None = None,
                    fmt: str | None = None, failed: list | None = None):
    """``extract_many`` with each file a task of ``executor``; same outputs, same order.

    A file that fails (unreadable here, or its task raised on a worker) stops the batch
    with an error naming it; with a ``failed`` list (``--keep-going``) it is appended there
    as a :class:`~affrepro.plugins.features.extract.Failed` holding the worker's traceback,
    and the other files go on (a table then holds the good files, in input order)."""
    from affrepro.fileio import sha256_file
    from affrepro.plugins.features import tables
    from affrepro.plugins.features.extract import Extracted, Failed, plan_outputs, store_result

    fmt, one_table, dests = plan_outputs(files, out, roots, fmt)
    as_table = one_table or fmt == "parquet"
    executor.warm(warm_feature, name, feature, dict(settings), mono, dtype, backend)

    index = {str(f): i for i, f in enumerate(files)}

    def fail(i: int, message: str, traceback: str = "") -> None:
        if failed is None:
            raise ValueError(message)
        failed.append(Failed(files[i], message, traceback))
        if progress:
            progress(failed[-1])

    def items() -> Iterator[tuple[str, tuple]]:
        for i, f in enumerate(files):  # hashed as submitted: the driver works while the workers do
            try:
                digest = sha256_file(f)
            except OSError as exc:  # not submitted; with --keep-going the others still are
                fail(i, f"{f}: cannot be read here ({exc})")
                continue
            yield str(f), (name, feature, str(f), digest, dict(settings), mono, dtype, backend, as_table)

    sink = tables.ParquetSink(out, name, settings) if one_table else None
    results: list[Extracted] = []
    window = 4 * max(1, executor.workers)  # results held by the driver stay bounded
    try:
        for outcome in executor.run(extract_unit, items(), ordered=True, window=window):
            i = index[outcome.name]
            if not outcome.ok:
                last = outcome.error.strip().splitlines()[-1]
                fail(i, f"{files[i]}: extraction failed on worker {outcome.worker or '?'}: {last}",
                     outcome.error)
                continue
            data, meta, shape, seconds = outcome.value
            r = store_result(files[i], data, meta, shape, seconds, fmt, sink,
                             out if sink is not None else dests[i], name, settings)
            results.append(r)
            if progress:
                progress(r)
        if sink is not None:
            sink.close()
    except BaseException:
        if sink is not None:
            sink.abort()
        raise
    return results
