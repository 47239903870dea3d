"""Feature arrays as tables, written as Parquet.

One row per (source, channel) for a per-file feature (its last axis becomes the columns),
one row per (source, channel, frame) for a frame-wise one (its rows become the columns,
plus ``frame`` and ``time_s`` = frame × hop / sample rate, as ``librosa.frames_to_time``).
The extractor's name and settings and each source's ``meta`` (the same JSON as in the
``.npz`` files) are stored in the file's key-value metadata, so a table read back gives
the exact array (:func:`read_parquet_features`) and a folder of them reads as one table
(``pandas.read_parquet(folder)``).
"""
from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

FEATURE_KEY = b"affrepro.feature"
SETTINGS_KEY = b"affrepro.settings"
FILES_KEY = b"affrepro.files"  # a JSON list: one meta per source, in row order
INDEX_COLUMNS = ("source", "channel", "frame", "time_s")
# sources are gathered into row groups of at least this many rows: one row group per
# source would make per-file features (one row each) a file that is mostly footer
ROW_GROUP_ROWS = 1 << 16


def is_frame_wise(settings: Mapping[str, Any]) -> bool:
    """Frame-wise features are the ones with a hop (``[channels,] rows, frames``)."""
    return "hop_length" in settings


def numbered(prefix: str, n: int, min_width: int = 1) -> list[str]:
    """``<prefix>_0``, ``<prefix>_1``... zero-padded to the widest index (at least
    ``min_width`` digits)."""
    width = max(min_width, len(str(max(n - 1, 0))))
    return [f"{prefix}_{i:0{width}d}" for i in range(n)]


def path_key(path: str | os.PathLike) -> str:
    """One spelling per file path (absolute, normalised, case-folded where the OS is)."""
    return os.path.normcase(os.path.abspath(path))


def column_names(feature, settings: Mapping[str, Any], n: int) -> list[str]:
    """The feature's own names (``Feature.columns``) or ``<name>_00``, ``<name>_01``..."""
    if getattr(feature, "columns", None) is not None:
        names = [str(c) for c in feature.columns(settings, n)]
        if len(names) != n:
            raise ValueError(f"feature {feature.name!r} names {len(names)} columns for an "
                             f"array with {n}")
    else:
        names = numbered(feature.name, n)
    clash = sorted(set(names) & set(INDEX_COLUMNS))
    if clash or len(set(names)) != n:
        raise ValueError(f"feature {feature.name!r}: column names must be unique and not "
                         f"{', '.join(INDEX_COLUMNS)}; got {clash or 'duplicates'}")
    return names


def _channels_first(feats: np.ndarray, frame_wise: bool, name: str) -> np.ndarray:
    """[channels,] rows, frames -> (channels, rows, frames); [channels,] columns ->
    (channels, columns)."""
    core = 2 if frame_wise else 1
    if feats.ndim == core:
        return feats[None]
    if feats.ndim == core + 1:
        return feats
    want = "[channels,] rows, frames" if frame_wise else "[channels,] columns"
    raise ValueError(f"feature {name!r} returned an array of shape {feats.shape}; a table "
                     f"needs {want}")


def to_table(feats: np.ndarray, source: str, names: Sequence[str], frame_wise: bool,
             hop_seconds: float, name: str):
    """The rows of one source's features (see the module docstring)."""
    import pyarrow as pa

    arr = _channels_first(np.asarray(feats), frame_wise, name)
    n_ch = arr.shape[0]
    if arr.shape[1] != len(names):
        raise ValueError(f"feature {name!r}: {len(names)} column names for {arr.shape[1]} "
                         "columns")
    if frame_wise:
        n_fr = arr.shape[2]
        frame = np.tile(np.arange(n_fr, dtype=np.int32), n_ch)
        index = {"channel": np.repeat(np.arange(n_ch, dtype=np.int32), n_fr), "frame": frame,
                 "time_s": frame * float(hop_seconds)}
        values = [np.ascontiguousarray(arr[:, j, :]).reshape(-1) for j in range(len(names))]
    else:
        index = {"channel": np.arange(n_ch, dtype=np.int32)}
        values = [np.ascontiguousarray(arr[:, j]) for j in range(len(names))]
    n_rows = len(index["channel"])
    cols = {"source": pa.array([source] * n_rows, type=pa.string()), **index,
            **dict(zip(names, values))}
    return pa.table(cols)


def _schema_difference(a, b) -> str:
    """The columns where schema ``a`` differs from ``b``, for an error message."""
    fa, fb = dict(zip(a.names, a.types)), dict(zip(b.names, b.types))
    parts = [f"{n}: {fa.get(n, 'missing')} vs {fb.get(n, 'missing')}"
             for n in list(dict.fromkeys(a.names + b.names)) if fa.get(n) != fb.get(n)]
    return "; ".join(parts[:5]) + (f"; and {len(parts) - 5} more" if len(parts) > 5 else "")


class ParquetSink:
    """Appends each source's table to one Parquet file (row groups of at least
    ``ROW_GROUP_ROWS`` rows, sources in order); the file appears (atomically renamed from a
    hidden temporary beside it) only when :meth:`close` runs, and :meth:`abort` removes
    the temporary, so a failed run leaves nothing half-written. Each source's meta is kept
    without the settings, which are stored once."""

    def __init__(self, path: Path, feature_name: str, settings: Mapping[str, Any]):
        self.path = Path(path)
        self.tmp = self.path.with_name(f".{self.path.name}.tmp{os.getpid()}")
        self.feature_name = feature_name
        self.settings = json.dumps(dict(settings), default=str)
        self.metas: list[dict] = []
        self._writer = None
        self._schema = None
        self._buffer: list = []
        self._buffered = 0

    def append(self, table, meta: Mapping[str, Any]) -> None:
        import pyarrow.parquet as pq

        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._schema = table.schema
            self._writer = pq.ParquetWriter(str(self.tmp), self._schema)
        elif not table.schema.equals(self._schema):
            raise ValueError(f"{meta.get('source')}: its table does not match the first "
                             f"file's ({_schema_difference(table.schema, self._schema)}); "
                             "one table needs the same columns and types for every file")
        self._buffer.append(table)
        self._buffered += table.num_rows
        if self._buffered >= ROW_GROUP_ROWS:
            self._flush()
        self.metas.append({k: v for k, v in meta.items() if k != "settings"})

    def _flush(self) -> None:
        import pyarrow as pa

        if self._buffer:
            self._writer.write_table(pa.concat_tables(self._buffer),
                                     row_group_size=max(self._buffered, 1))
        self._buffer, self._buffered = [], 0

    def close(self) -> None:
        if self._writer is None:
            return
        self._flush()
        self._writer.add_key_value_metadata({
            FEATURE_KEY: self.feature_name.encode(), SETTINGS_KEY: self.settings.encode(),
            FILES_KEY: json.dumps(self.metas, default=str).encode()})
        self._writer.close()
        self._writer = None
        os.replace(self.tmp, self.path)

    def abort(self) -> None:
        self._buffer = []
        if self._writer is not None:
            try:
                self._writer.close()
            finally:
                self._writer = None
        self.tmp.unlink(missing_ok=True)


def write_parquet(path: Path, table, feature_name: str, settings: Mapping[str, Any],
                  meta: Mapping[str, Any]) -> None:
    """One source's table as its own Parquet file (atomic)."""
    sink = ParquetSink(path, feature_name, settings)
    try:
        sink.append(table, meta)
        sink.close()
    except BaseException:
        sink.abort()
        raise


def parquet_metadata(path: Path) -> tuple[str, dict, list[dict]]:
    """(feature name, settings, one meta per source) stored in an affrepro Parquet file."""
    import pyarrow.parquet as pq

    kv = pq.read_metadata(str(path)).metadata or {}
    if FILES_KEY not in kv:
        raise ValueError(f"{path}: not a features table written by affrepro (no "
                         f"{FILES_KEY.decode()!r} in its metadata)")
    return (kv.get(FEATURE_KEY, b"").decode(), json.loads(kv.get(SETTINGS_KEY, b"{}")),
            json.loads(kv[FILES_KEY]))


def read_parquet_features(path: Path, source: str | Path | None = None
                          ) -> tuple[np.ndarray, dict]:
    """One source's array, shaped as ``features extract`` wrote it to ``.npz``, and its
    meta. ``source`` may be left out when the table holds one source; it matches the path
    as it was given, or another spelling of the same path (relative to this directory)."""
    import pyarrow.parquet as pq

    _, settings, metas = parquet_metadata(path)
    sources = [m["source"] for m in metas]
    if source is None:
        if len(sources) != 1:
            raise ValueError(f"{path} holds {len(sources)} sources; name one with source=... "
                             f"(e.g. {sources[0]!r})")
        source = sources[0]
    want = str(source)
    if want not in sources:
        same = [s for s in sources if path_key(s) == path_key(want)]
        if len(same) != 1:
            raise KeyError(f"{path} holds no source {want!r} (sources are stored as the paths "
                           f"given to features extract; it has {len(sources)}, e.g. "
                           f"{sources[:3]})")
        want = same[0]
    meta = {**metas[sources.index(want)], "settings": settings}
    table = pq.read_table(str(path), filters=[("source", "==", want)])
    names = [c for c in table.column_names if c not in INDEX_COLUMNS]
    shape = tuple(meta["shape"])
    values = np.stack([table[c].to_numpy() for c in names], axis=-1) if names else \
        np.zeros((table.num_rows, 0))
    if values.size != int(np.prod(shape)):
        raise ValueError(f"{path}: source {want!r} has {values.size} values in the table but "
                         f"its meta says shape {list(shape)}")
    if is_frame_wise(settings):
        n_ch = shape[0] if len(shape) == 3 else 1
        values = values.reshape(n_ch, shape[-1], len(names)).transpose(0, 2, 1)
    return np.ascontiguousarray(values.reshape(shape)), meta
