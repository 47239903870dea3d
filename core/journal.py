"""The driver's record of finished units, so an interrupted run resumes where it stopped.

Each unit that finishes is written (pickled, atomically) to ``<home>/units/<run key>/``
before its child run is logged; a run of the same paper, protocol, data and code that
finds the folder takes those units from it instead of computing them again. A run that
ends FINISHED removes its folder; one that is killed or fails keeps it for the next try.
"""
from __future__ import annotations

import hashlib
import json
import pickle
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from affrepro import paths


def run_key(*parts: Any) -> str:
    blob = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


class UnitJournal:
    def __init__(self, folder: Path):
        self.folder = Path(folder)

    @classmethod
    def for_run(cls, slug: str, identity: Mapping[str, Any]) -> UnitJournal:
        """The journal of a run: one folder per (paper, everything that fixes its result)."""
        return cls(paths.home_dir() / "units" / f"{slug}-{run_key(slug, dict(identity))}")

    def _file(self, key: str, seeds: tuple[int, ...]) -> Path:
        return self.folder / f"{run_key(key, list(seeds))}.pkl"

    def get(self, key: str, seeds: tuple[int, ...] = ()) -> Any | None:
        """The recorded outcome of unit ``key`` (under ``seeds``), or None."""
        f = self._file(key, seeds)
        if not f.is_file():
            return None
        try:
            with open(f, "rb") as fh:
                return pickle.load(fh)
        except Exception:  # unreadable (another version's classes): compute it again
            return None

    def put(self, key: str, outcome: Any, seeds: tuple[int, ...] = ()) -> None:
        from affrepro.fileio import atomic_write_bytes

        atomic_write_bytes(self._file(key, seeds), pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL))

    def count(self) -> int:
        return len(list(self.folder.glob("*.pkl"))) if self.folder.is_dir() else 0

    def clear(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
