"""Scratch folders under the affrepro home (``<home>/scratch``), never in /tmp.

Each folder's name carries its owner's pid and process start time; ``sweep_scratch`` (run
at every CLI start) removes those whose owner is gone, so a killed run leaves nothing
behind for longer than the next command.
"""
from __future__ import annotations

import contextlib
import os
import re
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

from affrepro import paths

_NAME = re.compile(r"^(?P<prefix>[A-Za-z0-9_.-]+?)-p(?P<pid>\d+)-s(?P<start>\d*)-[0-9a-f]{8}$")


def scratch_root() -> Path:
    return paths.home_dir() / "scratch"


@contextlib.contextmanager
def scratch_dir(prefix: str = "run") -> Iterator[Path]:
    """A fresh folder under the affrepro home, removed when the block ends."""
    from affrepro.tracking import process_start

    root = scratch_root()
    root.mkdir(parents=True, exist_ok=True)
    folder = root / f"{prefix}-p{os.getpid()}-s{process_start(os.getpid())}-{uuid.uuid4().hex[:8]}"
    folder.mkdir()
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def sweep_scratch() -> list[Path]:
    """Remove scratch folders whose owner process is gone; returns them."""
    from affrepro.tracking import owner_alive

    root = scratch_root()
    removed: list[Path] = []
    if not root.is_dir():
        return removed
    for entry in root.iterdir():
        m = _NAME.match(entry.name)
        if not m or owner_alive(int(m["pid"]), m["start"]):
            continue
        shutil.rmtree(entry, ignore_errors=True)
        removed.append(entry)
    return removed
