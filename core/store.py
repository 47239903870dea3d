"""The local MLflow SQLite store: created whole or not at all, checked on open, repairable.

A new store is built aside (``.mlflow.db.building-<pid>`` in the same folder, MLflow's
migrations run there) under the store's file lock, then renamed into place: a kill at any
moment leaves either no store or a complete one, never a half-migrated file. A store that
is damaged anyway (written by an older affrepro, a full disk) is refused with a message
naming the file and ``affrepro store repair``, which moves it aside and copies every row
it can read into a freshly built store.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from affrepro.errors import TrackingError

BUILD_PREFIX = ".building-"


class StoreDamagedError(TrackingError):
    """The SQLite store exists but is not a complete MLflow store."""


def lock_path(db: Path) -> Path:
    return Path(str(db) + ".lock")


@contextlib.contextmanager
def store_lock(db: Path, timeout: float = 300) -> Iterator[None]:
    """The lock every writer of ``db`` holds (the tracker's writes, creation, repair)."""
    from filelock import FileLock

    with FileLock(str(lock_path(db)), timeout=timeout):
        yield


def _tables(db: Path) -> tuple[set[str], str | None]:
    """(table names, alembic revision) read with the standard library; raises sqlite3.Error."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        names = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        rev = None
        if "alembic_version" in names:
            row = con.execute("SELECT version_num FROM alembic_version").fetchone()
            rev = row[0] if row else None
        return names, rev
    finally:
        con.close()


def head_revision() -> str:
    from mlflow.store.db.utils import _get_latest_schema_revision

    return _get_latest_schema_revision()


def problem(db: Path) -> str | None:
    """Why ``db`` is not a complete MLflow store of this MLflow version, or None."""
    try:
        names, rev = _tables(db)
    except sqlite3.Error as exc:
        return f"it cannot be read as SQLite ({exc})"
    tmp = sorted(n for n in names if n.startswith("_alembic_tmp_"))
    if tmp:
        return f"a schema migration was interrupted (leftover table {tmp[0]})"
    if rev is None:
        return "it has no MLflow schema version (its creation was interrupted)"
    head = head_revision()
    if rev != head:
        return f"its schema is at revision {rev}, not {head} (interrupted or from another MLflow version)"
    return None


def damaged_message(db: Path, why: str) -> str:
    return (f"MLflow store {db} is damaged: {why}. Run `affrepro store repair` "
            f"(it keeps a copy of the damaged file and every run it can read), or point "
            f"--tracking-uri elsewhere.")


def _build(target: Path) -> None:
    """Create a complete, empty MLflow store at ``target`` (a fresh path)."""
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    artifacts = (target.parent / "mlartifacts").resolve().as_uri()
    store = SqlAlchemyStore("sqlite:///" + str(target), artifacts)
    store.engine.dispose()


def _sweep_builds(db: Path) -> None:
    """Builds left by killed processes (only ever called under the store lock)."""
    for old in db.parent.glob(f".{db.name}{BUILD_PREFIX}*"):
        old.unlink(missing_ok=True)


def _build_aside_and_replace(db: Path, fill=None) -> None:
    tmp = db.parent / f".{db.name}{BUILD_PREFIX}{os.getpid()}"
    tmp.unlink(missing_ok=True)
    try:
        _build(tmp)
        if fill is not None:
            fill(tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, db)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    with contextlib.suppress(OSError):
        fd = os.open(db.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def ensure(db: Path) -> None:
    """Make sure ``db`` is a complete MLflow store: build it aside when absent (or empty),
    raise :class:`StoreDamagedError` when it is damaged."""
    if db.is_file() and db.stat().st_size > 0:
        why = problem(db)
        if why:
            raise StoreDamagedError(damaged_message(db, why))
        return
    db.parent.mkdir(parents=True, exist_ok=True)
    with store_lock(db):
        _sweep_builds(db)
        if db.is_file() and db.stat().st_size > 0:  # another process built it meanwhile
            return
        _build_aside_and_replace(db)


def repair(db: Path) -> dict[str, object]:
    """Move a damaged ``db`` aside and rebuild it with every row that can be read from it.

    Returns ``{"backup": path, "runs_kept": n, "tables": {table: rows}, "skipped": {...}}``."""
    with store_lock(db):
        _sweep_builds(db)
        summary: dict[str, object] = {"backup": None, "runs_kept": 0, "tables": {}, "skipped": {}}
        if not db.exists():
            _build_aside_and_replace(db)
            return summary
        stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        backup = db.with_name(f"{db.name}.damaged-{stamp}")
        os.replace(db, backup)
        summary["backup"] = str(backup)

        def fill(fresh: Path) -> None:
            _copy_rows(backup, fresh, summary)

        _build_aside_and_replace(db, fill)
        return summary


def _copy_rows(old: Path, fresh: Path, summary: dict) -> None:
    """Copy the columns both stores share, table by table, keeping what is readable."""
    con = sqlite3.connect(str(fresh))
    try:
        try:
            con.execute("ATTACH DATABASE ? AS old", (f"file:{old}?mode=ro",))
        except sqlite3.Error as exc:
            summary["skipped"]["*"] = f"the damaged file cannot be read: {exc}"
            return
        try:
            old_tables = {r[0] for r in con.execute("SELECT name FROM old.sqlite_master WHERE type='table'")}
        except sqlite3.Error as exc:
            summary["skipped"]["*"] = f"the damaged file cannot be read: {exc}"
            return
        new_tables = [r[0] for r in con.execute("SELECT name FROM main.sqlite_master WHERE type='table'")]
        for table in new_tables:
            if table == "alembic_version" or table.startswith("_alembic_tmp_") or table not in old_tables:
                continue
            try:
                new_cols = [r[1] for r in con.execute(f'PRAGMA main.table_info("{table}")')]
                old_cols = {r[1] for r in con.execute(f'PRAGMA old.table_info("{table}")')}
                cols = ", ".join(f'"{c}"' for c in new_cols if c in old_cols)
                if not cols:
                    continue
                cur = con.execute(f'INSERT OR IGNORE INTO main."{table}" ({cols}) '
                                  f'SELECT {cols} FROM old."{table}"')
                summary["tables"][table] = cur.rowcount
                con.commit()
            except sqlite3.Error as exc:
                con.rollback()
                summary["skipped"][table] = str(exc)
        with contextlib.suppress(sqlite3.Error):
            summary["runs_kept"] = con.execute("SELECT COUNT(*) FROM main.runs").fetchone()[0]
        con.commit()
        con.execute("DETACH DATABASE old")
    finally:
        con.close()
