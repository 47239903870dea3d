"""The real-data verdict ledger: how many claims each paper (and each dataset audit)
reproduced on real data in its last recorded run.

``affrepro report`` reads the latest real-data runs on this machine (``report.json`` and
``audit.json`` under the runs dir) and, for papers or datasets without one, the ledger
shipped with affrepro (``affrepro/real_data_verdicts.json``), written from such runs
by ``affrepro report --record`` so that a fresh install (and the README) shows the counts.
Dry runs never count."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def ledger_path() -> Path:
    """The shipped ledger, package data of the core (``affrepro/real_data_verdicts.json``)."""
    return Path(__file__).resolve().with_name("real_data_verdicts.json")


def load_ledger(path: Path | None = None) -> dict[str, dict[str, Any]]:
    path = path or ledger_path()
    if not path.is_file():
        return {"papers": {}, "datasets": {}}
    d = json.loads(path.read_text(encoding="utf-8"))
    return {"papers": d.get("papers", {}), "datasets": d.get("datasets", {})}


def _entry(d: dict[str, Any], when: str) -> dict[str, Any]:
    v = d["verdicts"]
    return {"reproduced": v.get("reproduced", 0), "not reproduced": v.get("not reproduced", 0),
            "within noise": v.get("within noise", 0),
            "skipped": v.get("skipped", 0), "error": v.get("error", 0), "when": when}


def latest_runs(runs_dir: Path) -> dict[str, dict[str, Any]]:
    """Counts from the newest real-data report of each paper and audit of each dataset
    (audits run inside a paper's report count too)."""
    papers: dict[str, dict[str, Any]] = {}
    datasets: dict[str, dict[str, Any]] = {}
    if not runs_dir.is_dir():
        return {"papers": papers, "datasets": datasets}
    for f in runs_dir.glob("*/*/report.json"):
        try:
            d = json.loads(f.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        if d.get("dry_run") or d.get("status") != "FINISHED":
            continue
        when = d.get("started", "")
        if d.get("paper") and when > papers.get(d["paper"], {}).get("when", ""):
            papers[d["paper"]] = _entry(d, when)
        for a in d.get("dataset_audits", []):
            if a.get("status") == "FINISHED" and when > datasets.get(a["dataset"], {}).get("when", ""):
                datasets[a["dataset"]] = _entry(a, when)
    for f in runs_dir.glob("_audits/*/*/audit.json"):
        try:
            a = json.loads(f.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        when = a.get("finished", "")
        if a.get("status") == "FINISHED" and when > datasets.get(a["dataset"], {}).get("when", ""):
            datasets[a["dataset"]] = _entry(a, when)
    return {"papers": papers, "datasets": datasets}


def merged(runs: dict[str, dict[str, Any]], ledger: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """This machine's runs where there are any, else the shipped ledger."""
    return {k: {**ledger.get(k, {}), **runs.get(k, {})} for k in ("papers", "datasets")}


def record(runs: dict[str, dict[str, Any]], path: Path) -> Path:
    """Write the ledger from runs (keeping entries the runs do not cover), atomically."""
    from affrepro.fileio import atomic_write_json

    current = load_ledger(path)
    new = merged(runs, current)
    atomic_write_json(path, {"about": "claims reproduced / not reproduced on real data in the last recorded "
                                      "run of each paper and dataset audit (affrepro report --record)",
                             "papers": dict(sorted(new["papers"].items())),
                             "datasets": dict(sorted(new["datasets"].items()))})
    return path
