"""Where a run's independent units (seed × fold, model × fold, file) are computed.

``open_executor(spec)`` gives the in-process :class:`LocalExecutor` when no cluster is
named, or a :class:`DaskExecutor` on Dask ``distributed`` when ``spec`` (``--cluster``, or
``AFFREPRO_CLUSTER``) names one: ``local:N`` starts a LocalCluster of N worker processes
on this machine, ``tcp://HOST:PORT`` (or ``tls://``) connects to a running scheduler.
Protocols never import Dask: they call ``ctx.map(fn, units)`` (:mod:`affrepro.components`).

Workers compute and return; only the driver writes files and MLflow records. A unit that
raises comes back as an :class:`Outcome` holding its traceback (the other units go on); a
worker that dies mid-task has its task re-run elsewhere by the scheduler, and the driver
takes each unit's result once. Data reaches workers as a :class:`DataRef` (the dataset's
folder and the sha256 of its files), resolved on the worker to its own copy (the same
path, or ``AFFREPRO_DATA_MIRROR``) and verified by checksum there, once per worker.

``distributed`` is imported only when a cluster is named (``pip install 'affrepro[cluster]'``).
"""
from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from affrepro.errors import AffreproError, DataError

ENV = "AFFREPRO_CLUSTER"
NUMBA_CACHE_ENV = "AFFREPRO_NUMBA_CACHE_DIR"  # forwarded to every worker as NUMBA_CACHE_DIR
INSTALL_HINT = "pip install 'affrepro[cluster]'  (Dask distributed)"
CONNECT_TIMEOUT_ENV = "AFFREPRO_CLUSTER_TIMEOUT"  # seconds to reach a scheduler (default 10)


class ClusterError(AffreproError):
    """The cluster named by --cluster cannot be used (not installed, unreachable, malformed)."""


@dataclass(frozen=True)
class Outcome:
    """One unit's result as the driver receives it: ``value`` or ``error`` (a traceback)."""

    name: str
    value: Any = None
    error: str | None = None
    seconds: float = 0.0
    worker: str = ""
    resumed: bool = False  # taken from the journal of an earlier, unfinished run

    @property
    def ok(self) -> bool:
        return self.error is None


class UnitsFailed(AffreproError):
    """Some units raised; every other unit finished first. Names each failed unit."""

    def __init__(self, failed: Sequence[Outcome]):
        self.failed = list(failed)
        names = ", ".join(o.name for o in self.failed)
        last = self.failed[0].error.strip().splitlines()[-1] if self.failed[0].error else ""
        super().__init__(f"{len(self.failed)} unit(s) failed: {names} (first: {last})")


# -- data on the workers -------------------------------------------------------------------

@dataclass(frozen=True)
class DataRef:
    """A dataset folder as a unit's argument: resolved where the unit runs to a local folder
    whose files have the digests the driver verified (``sha256``: file name -> hex)."""

    name: str
    path: str
    mirror_dir: str = ""
    sha256: Mapping[str, str] = field(default_factory=dict)

    def resolve(self) -> Path:
        return _verified_folder(self)


_VERIFIED: dict[tuple, Path] = {}
_VERIFIED_LOCK = threading.Lock()


def _verified_folder(ref: DataRef) -> Path:
    """The folder of ``ref`` on this machine, checked once per process: the driver's path
    when it exists here, else ``$AFFREPRO_DATA_MIRROR/<mirror_dir>``; every listed file's
    sha256 must match the driver's."""
    key = (ref.name, ref.path, tuple(sorted(ref.sha256.items())))
    with _VERIFIED_LOCK:
        if key in _VERIFIED:
            return _VERIFIED[key]
        from affrepro.fileio import sha256_file

        candidates = [Path(ref.path)]
        mirror = os.environ.get("AFFREPRO_DATA_MIRROR")
        if mirror and ref.mirror_dir:
            candidates.append(Path(mirror) / ref.mirror_dir)
        host = socket.gethostname()
        tried = []
        for folder in candidates:
            if not folder.is_dir():
                tried.append(f"{folder} (absent)")
                continue
            bad = []
            for rel, digest in ref.sha256.items():
                f = folder / rel
                got = sha256_file(f) if f.is_file() else "missing"
                if got != digest:
                    bad.append(f"{f}: sha256 {got}, the driver verified {digest}")
            if not bad:
                _VERIFIED[key] = folder
                return folder
            tried.append("; ".join(bad))
        raise DataError(f"dataset {ref.name!r} on worker {host} (pid {os.getpid()}) does not match "
                        f"the driver's: {' | '.join(tried)}. Give workers the same data folder "
                        "(a shared file system) or AFFREPRO_DATA_MIRROR")


def _resolve_args(args: tuple) -> tuple:
    return tuple(a.resolve() if isinstance(a, DataRef) else a for a in args)


def run_unit(fn: Callable[..., Any], name: str, args: tuple) -> Outcome:
    """Run one unit where it is scheduled; an exception becomes an ``error`` Outcome with
    its traceback (KeyboardInterrupt and worker death are not caught)."""
    t0 = time.perf_counter()
    where = f"{socket.gethostname()}:{os.getpid()}"
    try:
        value = fn(*_resolve_args(args))
    except Exception as exc:
        tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        return Outcome(name, error=tb, seconds=time.perf_counter() - t0, worker=where)
    return Outcome(name, value=value, seconds=time.perf_counter() - t0, worker=where)


# -- executors ----------------------------------------------------------------------------

class LocalExecutor:
    """Units one after the other in this process (the default)."""

    kind = "local"
    description = "in-process"
    workers = 1

    def run(self, fn: Callable[..., Any], items: Iterable[tuple[str, tuple]], *,
            ordered: bool = False, window: int | None = None) -> Iterator[Outcome]:
        for name, args in items:
            yield run_unit(fn, name, args)

    def warm(self, fn: Callable[..., Any], *args: Any) -> None:
        fn(*args)

    def close(self) -> None:
        pass


def _warm_plugin_class():
    """A WorkerPlugin (defined lazily: Dask is optional) that runs a warm-up function once
    per worker, now and on every worker that joins later."""
    from distributed.diagnostics.plugin import WorkerPlugin

    class WarmWorker(WorkerPlugin):
        def __init__(self, fn, args, numba_cache_dir):
            self.fn, self.args, self.numba_cache_dir = fn, args, numba_cache_dir
            self.name = f"affrepro-warm-{getattr(fn, '__qualname__', 'fn')}-{uuid.uuid4().hex[:6]}"

        def setup(self, worker):
            set_numba_cache_dir(self.numba_cache_dir)
            self.fn(*self.args)

    return WarmWorker


def set_numba_cache_dir(folder: str | None) -> None:
    """Point this process's Numba cache at ``folder`` (a shared one: every worker loads the
    kernels compiled once instead of compiling its own)."""
    if not folder:
        return
    os.environ["NUMBA_CACHE_DIR"] = folder
    import sys

    if "numba" in sys.modules:
        from numba.core import config

        config.reload_config()


class DaskExecutor:
    """Units as Dask tasks on a LocalCluster or a running scheduler."""

    kind = "dask"

    def __init__(self, client: Any, cluster: Any = None, spec: str = ""):
        self.client, self.cluster, self.spec = client, cluster, spec

    @property
    def workers(self) -> int:
        return max(1, len(self.client.scheduler_info(n_workers=-1).get("workers", {})))

    @property
    def description(self) -> str:
        return f"dask {self.spec} ({self.workers} worker(s), scheduler {self.client.scheduler.address})"

    def warm(self, fn: Callable[..., Any], *args: Any) -> None:
        """``fn(*args)`` once on every worker (compiles kernels, fills the Numba cache)."""
        plugin = _warm_plugin_class()(fn, args, os.environ.get(NUMBA_CACHE_ENV))
        register = getattr(self.client, "register_plugin", None) or self.client.register_worker_plugin
        register(plugin)

    def run(self, fn: Callable[..., Any], items: Iterable[tuple[str, tuple]], *,
            ordered: bool = False, window: int | None = None) -> Iterator[Outcome]:
        """Outcomes as they complete (``ordered``: in the items' order), with at most
        ``window`` tasks submitted and not yet taken (default: all). ``items`` is consumed
        as tasks are submitted (an iterator may compute each unit's arguments lazily)."""
        from distributed import as_completed

        source = iter(items)
        token = uuid.uuid4().hex[:8]
        pending: dict[Any, tuple[int, str]] = {}
        done: dict[int, Outcome] = {}
        submitted = taken = 0
        exhausted = False
        ac = as_completed()

        def submit_more() -> None:
            nonlocal submitted, exhausted
            while not exhausted and (window is None or len(pending) + len(done) < window):
                try:
                    name, args = next(source)
                except StopIteration:
                    exhausted = True
                    return
                fut = self.client.submit(run_unit, fn, name, args, pure=False,
                                         key=f"affrepro-{token}-{submitted}")
                pending[fut] = (submitted, name)
                ac.add(fut)
                submitted += 1

        try:
            submit_more()
            while pending:
                fut = next(ac)
                i, name = pending.pop(fut)
                try:
                    out = fut.result()
                except Exception as exc:  # e.g. KilledWorker: the task killed too many workers
                    tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
                    out = Outcome(name, error=tb)
                fut.release()
                if ordered:
                    done[i] = out
                    while taken in done:
                        yield done.pop(taken)
                        taken += 1
                else:
                    taken += 1
                    yield out
                submit_more()
        finally:
            if pending:
                self.client.cancel(list(pending), force=True)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.client.close(timeout=10)
        if self.cluster is not None:
            with contextlib.suppress(Exception):
                self.cluster.close(timeout=10)


def cluster_spec(spec: str | None) -> str | None:
    """``spec`` or ``AFFREPRO_CLUSTER``; None (or empty, or ``none``) for in-process."""
    spec = spec if spec is not None else os.environ.get(ENV)
    spec = (spec or "").strip()
    return None if spec.lower() in ("", "none", "local") else spec


def check_spec(spec: str) -> tuple[str, Any]:
    """('local', N) or ('address', ADDRESS); ClusterError naming the spec otherwise."""
    if spec.startswith("local:"):
        n = spec[len("local:"):]
        if not n.isdigit() or int(n) < 1:
            raise ClusterError(f"--cluster {spec!r}: local:N needs a positive number of worker "
                               "processes, e.g. local:4")
        return "local", int(n)
    if "://" in spec and spec.split("://", 1)[0] in ("tcp", "tls", "ucx", "inproc") and spec.split("://", 1)[1]:
        return "address", spec
    raise ClusterError(f"--cluster {spec!r}: expected local:N (N worker processes on this "
                       "machine) or a scheduler address such as tcp://HOST:8786")


def _import_distributed():
    try:
        import distributed  # noqa: F401
    except ImportError as exc:
        raise ClusterError(f"--cluster needs Dask distributed, which is not installed here "
                           f"({exc}); install it with: {INSTALL_HINT}") from None
    return distributed


def start(spec: str) -> DaskExecutor:
    """Connect (or start a LocalCluster) before any work; ClusterError when that fails."""
    kind, value = check_spec(spec)
    distributed = _import_distributed()
    if kind == "local":
        import dask

        # one thread per worker; no nanny memory kills of legitimate large tables; quiet
        # logs (the CLI shows progress). The nanny's default MALLOC_TRIM_THRESHOLD_=65536
        # makes glibc map and unmap every large NumPy temporary: measured here, roughness
        # on a 30 s binaural stimulus took 9.5 s in such a worker and 4.1 s without it.
        environ = {k: v for k, v in dask.config.get("distributed.nanny.pre-spawn-environ").items()
                   if k != "MALLOC_TRIM_THRESHOLD_"}
        with dask.config.set({"distributed.worker.daemon": False,
                              "distributed.scheduler.allowed-failures": 3,
                              "distributed.nanny.pre-spawn-environ": environ}):
            cluster = distributed.LocalCluster(n_workers=value, threads_per_worker=1,
                                               processes=True, dashboard_address=":0",
                                               silence_logs=40, memory_limit=0)
            client = distributed.Client(cluster)
        return DaskExecutor(client, cluster, spec)
    try:
        timeout = float(os.environ.get(CONNECT_TIMEOUT_ENV) or 10)
        client = distributed.Client(value, timeout=f"{timeout}s")
    except (OSError, TimeoutError) as exc:
        raise ClusterError(f"--cluster {spec}: the Dask scheduler is unreachable ({exc}); start "
                           "one (`dask scheduler`, then `dask worker ADDRESS` on each machine) "
                           "or use local:N") from None
    return DaskExecutor(client, None, spec)


@contextlib.contextmanager
def open_executor(spec: str | None = None) -> Iterator[LocalExecutor | DaskExecutor]:
    """The executor ``spec`` (or ``AFFREPRO_CLUSTER``) names, closed when the block ends."""
    spec = cluster_spec(spec)
    ex: LocalExecutor | DaskExecutor = LocalExecutor() if spec is None else start(spec)
    try:
        yield ex
    finally:
        ex.close()


def items_of(units: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> list[tuple[str, tuple]]:
    """``{name: args}`` (or pairs) as a list of (name, args tuple); names must be unique."""
    pairs = list(units.items()) if isinstance(units, Mapping) else list(units)
    out, seen = [], set()
    for name, args in pairs:
        name = str(name)
        if name in seen:
            raise ValueError(f"unit {name!r} is named twice; each unit needs its own name")
        seen.add(name)
        out.append((name, args if isinstance(args, tuple) else (args,)))
    return out
