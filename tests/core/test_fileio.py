"""Atomic writes: the final file gets the permissions a plain write would give."""
from __future__ import annotations

import os
import stat

import pytest

from affrepro.fileio import atomic_write_bytes, atomic_write_json


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_new_file_is_readable_by_others_as_open_would_make_it(tmp_path, umask_022):
    plain = tmp_path / "plain.json"
    plain.write_text("{}")
    out = atomic_write_json(tmp_path / "result.json", {"a": 1})
    assert stat.S_IMODE(out.stat().st_mode) == stat.S_IMODE(plain.stat().st_mode) == 0o644
    assert out.read_text() == '{\n  "a": 1\n}\n'
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_overwrite_keeps_the_existing_files_mode(tmp_path, umask_022):
    target = tmp_path / "private.bin"
    target.write_bytes(b"old")
    target.chmod(0o600)
    atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / "keep.json"
    target.write_text("old")

    def interrupted(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        atomic_write_json(target, {"x": 1})
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.json"]


def test_umask_is_read_without_being_changed(monkeypatch):
    """Setting the umask to read it would, for a moment, apply a wrong one to files other
    threads create; on Linux it is read from /proc."""
    from affrepro import fileio

    old = os.umask(0o027)
    try:
        calls = []
        real = os.umask
        monkeypatch.setattr(os, "umask", lambda m: calls.append(m) or real(m))
        assert fileio._umask() == 0o027
        if os.path.exists("/proc/self/status"):
            assert calls == []
    finally:
        os.umask(old)
