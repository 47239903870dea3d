"""Which datasets are verified here: a marker written only after verification succeeded.

``list``/``report``/``show`` call a paper "runnable here" from these markers, never from a
folder's existence (a failed ``data fetch`` leaves a folder holding only its lock).
A marker is ``<data dir>/.verified/<dataset>.json``, written atomically once ``data
fetch``, ``data verify``, ``data link`` or ``reproduce`` has checked every file's checksum
(and the dataset's own layout check, where one ran). It records the folder and, per
declared file, the digest it matched, its size and modification time, so reading it costs
a ``stat`` per file: a file replaced, removed or grown since, a link moved elsewhere, or a
plugin that now declares another digest makes the marker stale (not verified).
"""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from affrepro import paths
from affrepro.components import Dataset
from affrepro.fileio import atomic_write_json


def marker_path(dataset: Dataset) -> Path:
    return paths.data_dir() / ".verified" / f"{dataset.name}.json"


def _files(dataset: Dataset, root: Path) -> dict[str, dict[str, Any]]:
    out = {}
    for f in dataset.files:
        p = root / f.name
        if f.digest and p.is_file():
            st = p.stat()
            out[f.name] = {"digest": f"{f.digest[0]}:{f.digest[1]}", "size": st.st_size,
                           "mtime_ns": st.st_mtime_ns}
    return out


def record(dataset: Dataset, root: Path, how: str) -> Path:
    """Write the marker for ``dataset`` in ``root``: call only after verification passed."""
    return atomic_write_json(marker_path(dataset), {
        "dataset": dataset.name, "folder": str(Path(root).resolve()), "how": how,
        "verified_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "files": _files(dataset, Path(root)),
    })


def forget(dataset: Dataset) -> None:
    """Remove the marker (a verification failed, or a fetch is about to change the files)."""
    marker_path(dataset).unlink(missing_ok=True)


def verified_folder(dataset: Dataset, root: Path) -> bool:
    """Whether ``root`` holds ``dataset`` as it was when last verified (see the module doc)."""
    try:
        mark = json.loads(marker_path(dataset).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(mark, dict) or mark.get("folder") != str(Path(root).resolve()):
        return False
    recorded, now = mark.get("files") or {}, _files(dataset, Path(root))
    for f in dataset.files:
        if not f.digest:
            continue
        entry, current = recorded.get(f.name), now.get(f.name)
        if f.extract and current is None:
            continue  # an unpacked archive may be deleted; its contents were verified
        if entry is None or entry.get("digest") != f"{f.digest[0]}:{f.digest[1]}" or current != entry:
            return False
    return True


def mark(dataset: Dataset, root: Path, problems: list, how: str) -> None:
    """After a verification: the marker when it found no problem, none otherwise."""
    if problems:
        forget(dataset)
    else:
        record(dataset, root, how)
