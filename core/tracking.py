"""MLflow tracking.

The default store is a SQLite file under the affrepro home (``AFFREPRO_HOME`` or the
user data dir); ``--tracking-uri`` or ``MLFLOW_TRACKING_URI`` point elsewhere, e.g. at a
shared MLflow server. Writes to a SQLite store are serialised with a file lock beside
the database, so several processes can log to one store at once. Non-finite metrics
are refused with an error naming the metric. ``tracked_run`` ends a run FINISHED on
success, FAILED on an exception and KILLED on Ctrl-C or SIGTERM.
"""
from __future__ import annotations

import contextlib
import logging
import math
import os
import signal
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from affrepro import paths
from affrepro.errors import NonFiniteMetricError, TrackingError

MAX_PARAM_LENGTH = 6000
OWNER_HOST, OWNER_PID, OWNER_START = "affrepro.owner.host", "affrepro.owner.pid", "affrepro.owner.started"
SWEPT_TAG = "affrepro.swept"


def _utc_now() -> str:
    import datetime as dt

    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def _proc_stat(pid: int) -> list[str]:
    """Fields 3… of /proc/PID/stat (state first), [] where unknown."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read().decode("ascii", "replace")
        return stat[stat.rindex(")") + 2:].split()
    except (OSError, ValueError):
        return []


def process_start(pid: int) -> str:
    """The process's start time as the kernel counts it (Linux: clock ticks since boot,
    field 22 of /proc/PID/stat), '' where unknown; with the pid it names one process."""
    fields = _proc_stat(pid)
    return fields[19] if len(fields) > 19 else ""


def owner_alive(pid: int, started: str) -> bool:
    """Whether process ``pid`` that started at ``started`` still runs (a recycled pid with
    another start time is another process)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by someone else
    fields = _proc_stat(pid)
    if fields and fields[0] in ("Z", "X"):  # dead, not yet reaped
        return False
    now = fields[19] if len(fields) > 19 else ""
    return not (started and now and now != started)


def owner_tags() -> dict[str, str]:
    """The tags that name the process owning a run: host, pid, process start time."""
    return {OWNER_HOST: socket.gethostname(), OWNER_PID: str(os.getpid()),
            OWNER_START: process_start(os.getpid())}


class Terminated(KeyboardInterrupt):
    """Raised in the main thread when the process receives SIGTERM."""


def default_tracking_uri() -> str:
    return "sqlite:///" + str((paths.home_dir() / "mlflow.db").resolve())


def resolve_tracking_uri(uri: str | None = None) -> str:
    return uri or os.environ.get("MLFLOW_TRACKING_URI") or default_tracking_uri()


def sqlite_path(uri: str) -> Path | None:
    if not uri.startswith("sqlite:///"):
        return None
    return Path(uri[len("sqlite:///"):].split("?", 1)[0])


def check_finite(metrics: Mapping[str, float]) -> dict[str, float]:
    """Return the metrics as floats, or raise NonFiniteMetricError naming the first bad one."""
    clean = {}
    for name, value in metrics.items():
        try:
            v = float(value)
        except (TypeError, ValueError):
            raise NonFiniteMetricError(f"metric {name!r} is {value!r}, not a number") from None
        if not math.isfinite(v):
            raise NonFiniteMetricError(f"metric {name!r} is {v}; MLflow runs hold finite numbers only")
        clean[name] = v
    return clean


def flatten(prefix: str, obj: Any) -> dict[str, str]:
    """Nested dicts/lists -> {"a.b.0": "value"} for MLflow params."""
    out: dict[str, str] = {}
    if isinstance(obj, Mapping):
        for k, v in obj.items():
            out.update(flatten(f"{prefix}.{k}" if prefix else str(k), v))
    elif isinstance(obj, (list, tuple)) and any(isinstance(v, (Mapping, list, tuple)) for v in obj):
        for i, v in enumerate(obj):
            out.update(flatten(f"{prefix}.{i}", v))
    else:
        text = ",".join(map(str, obj)) if isinstance(obj, (list, tuple)) else str(obj)
        out[prefix] = text[:MAX_PARAM_LENGTH]
    return out


class MlflowTracker:
    """One MLflow run at a time, through ``MlflowClient`` (no global fluent state)."""

    def __init__(self, uri: str | None = None, experiment: str = "affrepro"):
        self.uri = resolve_tracking_uri(uri)
        self.experiment = experiment
        self.run_id: str | None = None
        self.experiment_id: str | None = None
        self._client = None
        self._db = sqlite_path(self.uri)
        self.swept: list[str] = []

    # -- plumbing --
    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        if self._db is None:
            yield
            return
        from affrepro.store import store_lock

        with store_lock(self._db):
            yield

    def _call(self, what: str, fn, *args, **kwargs):
        try:
            with self._locked():
                return fn(*args, **kwargs)
        except NonFiniteMetricError:
            raise
        except Exception as exc:
            raise TrackingError(f"MLflow store {self.uri}: {what} failed: {exc}") from exc

    @property
    def client(self):
        if self._client is None:
            os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")
            os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2")
            os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "30")
            from mlflow.tracking import MlflowClient

            for name in ("alembic", "mlflow"):  # mlflow sets its own level on import
                logging.getLogger(name).setLevel(logging.WARNING)

            self._client = MlflowClient(tracking_uri=self.uri)
        return self._client

    # -- API --
    def preflight(self, create_default_dir: bool = True) -> str:
        """Reach the store and get (or create) the experiment; fail before any work is done."""
        if self._db is not None:
            parent = self._db.parent
            if not parent.exists() and create_default_dir and self.uri == default_tracking_uri():
                parent.mkdir(parents=True, exist_ok=True)
            if not parent.is_dir():
                raise TrackingError(f"MLflow store {self.uri} is unreachable: folder {parent} does not exist")
            if not os.access(parent, os.W_OK):
                raise TrackingError(f"MLflow store {self.uri} is unreachable: folder {parent} is not writable")
            from affrepro.store import ensure

            ensure(self._db)  # built aside and renamed into place; a damaged one is refused
        elif self.uri.startswith(("http://", "https://")):
            health = self.uri.rstrip("/") + "/health"
            try:
                with urllib.request.urlopen(health, timeout=5) as resp:
                    resp.read()
            except (urllib.error.URLError, OSError) as exc:
                raise TrackingError(f"MLflow server {self.uri} is unreachable ({exc}); "
                                    "start it, or drop --tracking-uri to use the local store") from exc
        self.experiment_id = self._call("opening the experiment", self._get_or_create_experiment)
        self.swept = self.sweep_stale_runs()
        return self.experiment_id

    def sweep_stale_runs(self) -> list[str]:
        """End as KILLED every RUNNING run whose owner process (on this host) is gone: a
        run whose process was SIGKILLed never ends itself. Returns the swept run ids."""
        from mlflow.entities import RunTag, ViewType

        def find():
            exps = [e.experiment_id for e in self.client.search_experiments(view_type=ViewType.ALL)]
            if not exps:
                return []
            return self.client.search_runs(exps, filter_string="attributes.status = 'RUNNING'",
                                           run_view_type=ViewType.ALL, max_results=5000)

        swept = []
        for r in self._call("looking for stale runs", find):
            tags = r.data.tags
            if tags.get(OWNER_HOST) != socket.gethostname() or OWNER_PID not in tags:
                continue  # another machine's run, or not affrepro's: nothing can be known
            try:
                pid = int(tags[OWNER_PID])
            except ValueError:
                continue
            if owner_alive(pid, tags.get(OWNER_START, "")):
                continue
            note = (f"swept to KILLED by affrepro (pid {os.getpid()}) at {_utc_now()}: its owner, "
                    f"pid {pid} started {tags.get(OWNER_START, '?')} on {tags[OWNER_HOST]}, is gone")
            now_ms = int(time.time() * 1000)
            self._call("sweeping a stale run", self.client.log_batch, r.info.run_id,
                       tags=[RunTag(SWEPT_TAG, note), RunTag("mlflow.note.content", note)])
            self._call("sweeping a stale run", self.client.set_terminated, r.info.run_id,
                       "KILLED", now_ms)
            swept.append(r.info.run_id)
        return swept

    def _get_or_create_experiment(self) -> str:
        exp = self.client.get_experiment_by_name(self.experiment)
        if exp is not None:
            return exp.experiment_id
        artifact_location = None
        if self._db is not None:
            artifact_location = (self._db.parent / "mlartifacts" / self.experiment).resolve().as_uri()
        try:
            return self.client.create_experiment(self.experiment, artifact_location=artifact_location)
        except Exception:  # created meanwhile by another process on a server store
            exp = self.client.get_experiment_by_name(self.experiment)
            if exp is None:
                raise
            return exp.experiment_id

    def start(self, run_name: str, tags: Mapping[str, str]) -> str:
        if self.experiment_id is None:
            self.preflight()
        tags = {**{k: str(v) for k, v in tags.items()}, **owner_tags()}
        run = self._call("starting a run", self.client.create_run, self.experiment_id,
                         run_name=run_name, tags=tags)
        self.run_id = run.info.run_id
        return self.run_id

    def log_params(self, params: Mapping[str, Any]) -> None:
        from mlflow.entities import Param

        flat = flatten("", dict(params))
        items = [Param(k, v) for k, v in flat.items()]
        for i in range(0, len(items), 100):
            self._call("logging params", self.client.log_batch, self.run_id, params=items[i:i + 100])

    def log_metrics(self, metrics: Mapping[str, float], step: int = 0) -> None:
        import time

        from mlflow.entities import Metric

        clean = check_finite(metrics)
        now = int(time.time() * 1000)
        items = [Metric(k, v, now, step) for k, v in clean.items()]
        for i in range(0, len(items), 500):
            self._call("logging metrics", self.client.log_batch, self.run_id, metrics=items[i:i + 500])

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        from mlflow.entities import RunTag

        items = [RunTag(k, str(v)[:MAX_PARAM_LENGTH]) for k, v in tags.items()]
        self._call("setting tags", self.client.log_batch, self.run_id, tags=items)

    def log_artifacts(self, folder: Path) -> None:
        self._call("uploading artifacts", self.client.log_artifacts, self.run_id, str(folder))

    def end(self, status: str) -> None:
        if self.run_id is not None:
            self._call(f"ending the run as {status}", self.client.set_terminated, self.run_id, status)

    def log_child(self, run_name: str, status: str, tags: Mapping[str, Any],
                  metrics: Mapping[str, float]) -> str:
        """A finished child run of the current run (one unit of a scaled-out protocol),
        written by the driver: created, logged and ended in one go."""
        from mlflow.entities import Metric, RunTag

        tags = {**{k: str(v)[:MAX_PARAM_LENGTH] for k, v in tags.items()},
                "mlflow.parentRunId": self.run_id, **owner_tags()}
        run = self._call("starting a child run", self.client.create_run, self.experiment_id,
                         run_name=run_name, tags=tags)
        child = run.info.run_id
        now = int(time.time() * 1000)
        items = [Metric(k, v, now, 0) for k, v in check_finite(metrics).items()]
        if items:
            self._call("logging a child run", self.client.log_batch, child, metrics=items)
        self._call("ending a child run", self.client.set_terminated, child, status)
        return child


@contextlib.contextmanager
def sigterm_as_exception() -> Iterator[None]:
    """Turn SIGTERM into ``Terminated`` (a KeyboardInterrupt) in the main thread."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise Terminated(f"received signal {signum}")

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class TrackedRun:
    """The run a :func:`tracked_run` block logs to; every call does nothing when tracking
    is off (no tracker), so the block is written once for both cases."""

    def __init__(self, tracker: MlflowTracker | None):
        self.tracker = tracker
        self.status = "FINISHED"

    @property
    def run_id(self) -> str | None:
        return self.tracker.run_id if self.tracker is not None else None

    @property
    def uri(self) -> str | None:
        return self.tracker.uri if self.tracker is not None else None

    def fail(self) -> None:
        """End the run FAILED although the block finishes (a failure it handled and reported)."""
        self.status = "FAILED"

    def log_params(self, params: Mapping[str, Any]) -> None:
        if self.tracker is not None:
            self.tracker.log_params(params)

    def log_metrics(self, metrics: Mapping[str, float]) -> None:
        if self.tracker is not None:
            self.tracker.log_metrics(metrics)

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        if self.tracker is not None:
            self.tracker.set_tags(tags)

    def log_artifacts(self, folder: Path) -> None:
        if self.tracker is not None:
            self.tracker.log_artifacts(folder)

    def end(self, status: str) -> None:
        if self.tracker is not None:
            self.tracker.end(status)

    def log_child(self, run_name: str, status: str, tags: Mapping[str, Any],
                  metrics: Mapping[str, float]) -> str | None:
        if self.tracker is not None:
            return self.tracker.log_child(run_name, status, tags, metrics)
        return None


DRY_RUN_SUFFIX = " (dry runs)"
NOTE_TAG = "mlflow.note.content"  # the run's description in the MLflow UI


def experiment_name(paper: str, dry_run: bool) -> str:
    """One experiment per paper for real runs; its dry runs in a sibling experiment
    ``"<paper> (dry runs)"``, so a synthetic number never sits among real ones."""
    return paper + (DRY_RUN_SUFFIX if dry_run else "")


def run_description(command: str, paper: str, run_on: str, status: str,
                    verdicts: Mapping[str, int] | None = None, report: str | None = None) -> str:
    """The run's description (tag ``mlflow.note.content``): what ran on what, how it
    ended, the verdict counts and where the report is."""
    text = f"`affrepro {command} {paper}` on {run_on}; {status}"
    counts = ", ".join(f"{n} {v}" for v, n in (verdicts or {}).items() if n)
    if verdicts is not None:
        text += f": {counts or 'no claims'}"
    if report:
        text += f". Report: {report}"
    return text + "."


def open_tracker(uri: str | None, experiment: str, track: bool = True) -> MlflowTracker | None:
    """The store a run will log to, reached (and its experiment made) before any work is
    done, so an unreachable store fails first; None when ``track`` is false."""
    if not track:
        return None
    tracker = MlflowTracker(uri, experiment=experiment)
    tracker.preflight()
    return tracker


@contextlib.contextmanager
def tracked_run(tracker: MlflowTracker | None, run_name: str,
                tags: Mapping[str, str] | None = None) -> Iterator[TrackedRun]:
    """The one run lifecycle (``reproduce``, ``evaluate``, ``bench``): start a run when a
    tracker is given, turn SIGTERM into an exception inside the block, and end the run
    FINISHED (FAILED after ``run.fail()``), FAILED on an exception, KILLED on Ctrl-C or
    SIGTERM; exceptions propagate."""
    run = TrackedRun(tracker)
    if tracker is not None:
        tracker.start(run_name, tags or {})
    try:
        with sigterm_as_exception():
            yield run
    except KeyboardInterrupt:
        run.end("KILLED")
        raise
    except BaseException:
        run.end("FAILED")
        raise
    run.end(run.status)
