"""``affrepro runs``: past reproduce runs from the tracking store (MLflow), newest first,
and ``affrepro runs show RUN``: one run's report.

Each row: the run id, the paper, when it started (UTC), its verdict counts (the run's
``verdicts.*`` metrics), its status (FINISHED, FAILED, KILLED, RUNNING; "(dry)" for a dry
run) and where its report is (the report.md artifact; a local path for a local store).
"""
from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from affrepro.errors import AffreproError

VERDICT_SHORT = (("reproduced", "repr"), ("within_noise", "noise"), ("not_reproduced", "not repr"),
                 ("skipped", "skip"), ("error", "err"))


def _local(uri: str) -> str:
    """A file: artifact URI as a local path; any other URI as it is."""
    parsed = urlparse(uri)
    return unquote(parsed.path) if parsed.scheme in ("file", "") else uri


def list_runs(tracking_uri: str | None = None, paper: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
    """The newest ``limit`` affrepro runs in the store (all experiments), as plain dicts."""
    from mlflow.entities import ViewType

    from affrepro.tracking import MlflowTracker, sqlite_path

    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    tracker = MlflowTracker(tracking_uri)
    db = sqlite_path(tracker.uri)
    if db is not None and not db.is_file():
        return []  # no run was ever tracked here; reading must not create the store

    def search() -> list[Any]:
        exps = [e.experiment_id for e in tracker.client.search_experiments(view_type=ViewType.ALL)]
        if not exps:
            return []
        where = "tags.paper != ''" if paper is None else f"tags.paper = '{paper}'"
        return tracker.client.search_runs(exps, filter_string=where, run_view_type=ViewType.ACTIVE_ONLY,
                                          max_results=limit, order_by=["attributes.start_time DESC"])

    rows = []
    for r in tracker._call("listing runs", search):
        metrics, tags = r.data.metrics, r.data.tags
        counts = {name: int(metrics[f"verdicts.{name}"]) for name, _ in VERDICT_SHORT
                  if f"verdicts.{name}" in metrics}
        start = dt.datetime.fromtimestamp(r.info.start_time / 1000, dt.timezone.utc)
        artifacts = _local(r.info.artifact_uri or "")
        report = f"{artifacts}/report.md" if artifacts else None
        rows.append({"run_id": r.info.run_id, "paper": tags.get("paper", "?"),
                     "started": start.isoformat(timespec="seconds"), "status": r.info.status,
                     "dry_run": tags.get("dry_run") == "true", "verdicts": counts,
                     "report": report, "report_exists": bool(report and Path(report).is_file()),
                     "report_html": f"{artifacts}/report.html" if artifacts else None})
    return rows


def verdict_summary(counts: dict[str, int]) -> str:
    """``44 repr · 2 skip`` (zero counts left out); "—" when the run logged none."""
    parts = [f"{counts[name]} {short}" for name, short in VERDICT_SHORT if counts.get(name)]
    return " · ".join(parts) if parts else ("no claims" if counts else "—")


def render_table(rows: list[dict[str, Any]]) -> Any:
    """A narrow rich table (id prefix, paper, started, verdicts, status); the report paths
    are printed after it, one per line, unbroken."""
    from rich.table import Table

    table = Table(show_edge=False, pad_edge=False, box=None, header_style="bold")
    # ids, slugs, times and statuses are never broken; the verdict counts wrap between words
    for col, kw in (("run", {"no_wrap": True}), ("paper", {"no_wrap": True}), ("started (UTC)", {"no_wrap": True}),
                    ("verdicts", {"ratio": 1}), ("status", {"no_wrap": True})):
        table.add_column(col, **kw)
    for r in rows:
        status = r["status"] + (" (dry)" if r["dry_run"] else "")
        table.add_row(r["run_id"][:8], r["paper"], r["started"][:16].replace("T", " "),
                      verdict_summary(r["verdicts"]), status)
    return table


def resolve_run_id(prefix: str, tracking_uri: str | None = None) -> str:
    """A full run id from an id or a prefix of one (at least 4 characters, unambiguous)."""
    if len(prefix) == 32:
        return prefix
    if len(prefix) < 4:
        raise AffreproError(f"run id {prefix!r}: give at least 4 characters of an id `affrepro runs` lists")
    matches = [r["run_id"] for r in list_runs(tracking_uri, limit=5000) if r["run_id"].startswith(prefix)]
    if len(matches) > 1:
        raise AffreproError(f"run id {prefix!r} is ambiguous: {', '.join(m[:12] for m in matches[:5])}…")
    if not matches:
        raise AffreproError(f"no run whose id starts with {prefix!r} in the tracking store "
                            "(`affrepro runs` lists them)")
    return matches[0]


def load(ref: str, tracking_uri: str | None = None) -> dict[str, Any]:
    """report.json of a run: a report.json, its folder, or an MLflow run id (or a prefix)."""
    from affrepro.compare import load_report

    path = Path(ref)
    if path.exists() or "/" in ref or ref.endswith(".json"):
        return load_report(ref, tracking_uri)
    return load_report(resolve_run_id(ref, tracking_uri), tracking_uri)
