"""Atomic writes and hashing: nothing half-written is ever left at a final path."""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

_CHUNK = 1 << 20


def hash_file(path: Path | str, algorithm: str = "sha256") -> str:
    """Hex digest of a file (``sha256``, ``sha512``, …), read in 1 MiB chunks."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def sha256_file(path: Path | str) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks."""
    return hash_file(path, "sha256")


def _new_file_mode(path: Path) -> int:
    """The mode a plain ``open(path, "w")`` would give: the existing file's, else 0o666
    less the umask (mkstemp's temporary is 0o600, private to its owner)."""
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        return 0o666 & ~_umask()


def _umask() -> int:
    """The process's umask, read without changing it (Linux: /proc/self/status); setting
    and restoring it would, for a moment, apply a wrong one to other threads' files."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    umask = os.umask(0o077)  # elsewhere: the strictest value for the moment it is set
    os.umask(umask)
    return umask


def atomic_write_bytes(path: Path | str, data: bytes) -> Path:
    """Write ``data`` to a temporary file beside ``path``, fsync it, then rename it over ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, _new_file_mode(path))
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: Path | str, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def append_jsonl(path: Path | str, row: Any) -> None:
    """Append one JSON line with a single O_APPEND write (whole lines survive a kill)."""
    path = Path(path)
    line = (json.dumps(row, ensure_ascii=False, sort_keys=True, default=str) + "\n").encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


def atomic_write_json(path: Path | str, obj: Any) -> Path:
    return atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=False, allow_nan=False) + "\n")


def atomic_savefig(fig: Any, path: Path | str, **kwargs: Any) -> Path:
    """``fig.savefig`` to memory, then :func:`atomic_write_bytes`: a kill while plotting
    leaves the previous file or none, never a partial image (format from the suffix)."""
    import io

    path = Path(path)
    buf = io.BytesIO()
    kwargs.setdefault("format", path.suffix.lstrip(".") or "png")
    fig.savefig(buf, **kwargs)
    return atomic_write_bytes(path, buf.getvalue())
