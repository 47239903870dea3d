"""What ``reproduce`` adds for scaled-out units: the executor it opens, the journal an
interrupted run resumes from, and a child MLflow run per unit, logged by the driver."""
from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator, Mapping
from numbers import Real
from typing import TYPE_CHECKING, Any

from affrepro.executor import DaskExecutor, LocalExecutor, Outcome, open_executor
from affrepro.journal import UnitJournal

if TYPE_CHECKING:
    from affrepro.tracking import TrackedRun


@contextlib.contextmanager
def executor_for(cluster: Any) -> Iterator[LocalExecutor | DaskExecutor]:
    """An executor object passed in is used as it is (``reproduce --all`` shares one); a spec
    (``local:N``, ``tcp://...``, None for ``AFFREPRO_CLUSTER``/in-process) is opened here,
    before any work, and closed at the end."""
    if isinstance(cluster, (LocalExecutor, DaskExecutor)):
        yield cluster
        return
    with open_executor(cluster) as ex:
        yield ex


def journal_for(slug: str, phash: str, dry_run: bool, data_info: Mapping[str, Any]) -> UnitJournal:
    """The journal of this run: same paper, protocol hash, data digests and code."""
    from affrepro import hardware

    identity = {"protocol": phash, "dry_run": dry_run, "commit": hardware.git_commit(),
                "version": hardware.package_versions(("affrepro",)).get("affrepro", ""),
                "data": {n: e.get("sha256") or e.get("status") for n, e in data_info.items()}}
    return UnitJournal.for_run(slug, identity)


def unit_metrics(value: Any, prefix: str = "") -> dict[str, float]:
    """The finite numbers of a unit's result (a number, or a mapping of them, nested), as
    MLflow metric names."""
    out: dict[str, float] = {}
    if isinstance(value, Real) and not isinstance(value, bool):
        if math.isfinite(float(value)):
            out[prefix or "value"] = float(value)
    elif isinstance(value, Mapping):
        for k, v in value.items():
            name = f"{prefix}.{k}" if prefix else str(k)
            if all(c.isalnum() or c in "_-. /:" for c in name):
                out.update(unit_metrics(v, name))
    return out


def child_logger(run: TrackedRun) -> Callable[[str, Outcome], None]:
    """The driver's record of each unit: a child run FINISHED (its numbers as metrics) or
    FAILED (its traceback as a tag), named ``<label>/<unit>``."""
    def log(label: str, out: Outcome) -> None:
        tags = {"affrepro.unit": out.name, "affrepro.unit.group": label,
                "affrepro.unit.worker": out.worker, "affrepro.unit.resumed": str(out.resumed).lower()}
        if out.error:
            tags["affrepro.unit.traceback"] = out.error[-4000:]
        metrics = {"unit.seconds": out.seconds, **unit_metrics(out.value)} if out.ok else {"unit.seconds": out.seconds}
        run.log_child(f"{label}/{out.name}", "FINISHED" if out.ok else "FAILED", tags, metrics)
    return log
