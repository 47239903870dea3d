"""``affrepro reproduce --all``: every paper runnable here, each paper one unit of the
run's executor (in-process, or a Dask worker with ``--cluster``), under one MLflow parent
run with a child run per paper.

A worker reproduces its paper untracked into a scratch folder of its own, resolving and
verifying the paper's data there (data dir, mirror, checksums), and returns the report and
the folder's files; the driver writes them under ``OUT/<paper>/`` (atomically) and logs
the child run. Papers finished by an interrupted earlier ``--all`` run with the same
options are taken from its journal.
"""
from __future__ import annotations

import json
import math
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from affrepro import paths
from affrepro.registry import Registries


def runnable_here(registries: Registries) -> list[str]:
    """The papers ``affrepro list`` calls runnable here, in its order."""
    from affrepro.status import paper_status

    out = []
    for slug in sorted(registries.reproductions.names()):
        if paper_status(registries.reproductions.get(slug), registries).status == "runnable here":
            out.append(slug)
    return out


def paper_unit(slug: str, options: Mapping[str, Any],
               registries_factory: Callable[[], Registries] | None = None) -> dict[str, Any]:
    """One paper where it is scheduled: reproduced untracked (its own units in-process)
    into a scratch folder; its report and output files come back to the driver."""
    from affrepro.runner import reproduce
    from affrepro.scratch import scratch_dir

    registries = registries_factory() if registries_factory is not None else None
    with scratch_dir(f"all-{slug}") as tmp:
        report = reproduce(slug, output_dir=tmp / "out", track=False, cluster="none",
                           registries=registries, **dict(options))
        files = {str(p.relative_to(tmp / "out")): p.read_bytes()
                 for p in sorted((tmp / "out").rglob("*")) if p.is_file()}
    return {"status": report.status, "report": report.as_dict(), "files": files,
            "scratch": str(tmp / "out")}


def _metrics(report: Mapping[str, Any]) -> dict[str, float]:
    out: dict[str, float] = {}
    for r in report.get("claims", []):
        v = r.get("measured")
        if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
            out[f"claim.{r['id']}.measured"] = float(v)
    return out


def reproduce_all(slugs: list[str], *, cluster: Any = None, output_dir: Path | str | None = None,
                  tracking_uri: str | None = None, track: bool = True,
                  options: Mapping[str, Any] | None = None,
                  registries_factory: Callable[[], Registries] | None = None,
                  stage: Callable[[str], None] | None = None,
                  progress: Callable[[str, int, int], None] | None = None) -> dict[str, Any]:
    """Reproduce ``slugs`` as units; returns {"status", "papers": {slug: {...}}, "run_id"}.
    ``options`` go to each paper's ``reproduce`` (dry_run, seeds, device, ...)."""
    import dataclasses

    from affrepro import hardware
    from affrepro.fileio import atomic_write_bytes
    from affrepro.journal import UnitJournal
    from affrepro.scaleout import executor_for
    from affrepro.tracking import open_tracker, tracked_run

    stage = stage or (lambda msg: None)
    progress = progress or (lambda label, done, total: None)
    options = dict(options or {})
    out = Path(output_dir) if output_dir else paths.new_run_dir("all")
    tracker = open_tracker(tracking_uri, "affrepro-all", track)
    journal = UnitJournal.for_run("all", {"papers": slugs, "options": options,
                                          "commit": hardware.git_commit()})
    papers: dict[str, Any] = {}
    with executor_for(cluster) as executor:
        stage(f"{len(slugs)} paper(s) on {executor.description}")
        tags = {"affrepro.command": "reproduce --all", "papers": ",".join(slugs),
                "executor": executor.description, "git_commit": hardware.git_commit()}
        with tracked_run(tracker, "reproduce --all", tags) as run:
            todo = []
            for slug in slugs:
                prev = journal.get(slug)
                if prev is not None:
                    papers[slug] = _record(run, dataclasses.replace(prev, resumed=True), out, atomic_write_bytes)
                else:
                    todo.append((slug, (slug, options, registries_factory)))
            progress("papers", len(papers), len(slugs))
            for outcome in executor.run(paper_unit, todo):
                if outcome.ok:
                    journal.put(outcome.name, outcome)
                papers[outcome.name] = _record(run, outcome, out, atomic_write_bytes)
                progress("papers", len(papers), len(slugs))
                stage(f"{outcome.name}: {papers[outcome.name]['status']}")
            failed = [s for s in slugs if papers[s]["status"] != "FINISHED"]
            summary = {"status": "FAILED" if failed else "FINISHED", "output_dir": str(out),
                       "run_id": run.run_id, "failed": failed,
                       "papers": {s: papers[s] for s in slugs}}
            atomic_write_bytes(out / "all.json", (json.dumps(summary, indent=2) + "\n").encode())
            if failed:
                run.fail()
    if not failed:
        journal.clear()
    return summary


def _record(run, outcome, out: Path, write) -> dict[str, Any]:
    """Write a paper's files under ``out/<slug>/`` and log its child run; its summary."""
    slug = outcome.name
    folder = out / slug
    entry: dict[str, Any] = {"worker": outcome.worker, "seconds": round(outcome.seconds, 2),
                             "resumed": outcome.resumed, "output_dir": str(folder)}
    tags = {"paper": slug, "affrepro.unit": slug, "affrepro.unit.worker": outcome.worker,
            "affrepro.unit.resumed": str(outcome.resumed).lower()}
    if outcome.ok:
        value = outcome.value
        scratch = value["scratch"].encode()
        for rel, data in value["files"].items():
            if rel in ("report.json", "report.md", "report.html"):  # they name the folder they were written to
                data = data.replace(scratch, str(folder).encode())
            write(folder / rel, data)
        entry["status"] = value["status"]
        entry["verdicts"] = {r["id"]: r["verdict"] for r in value["report"].get("claims", [])}
        tags.update({f"verdict.{k}": v for k, v in entry["verdicts"].items()})
        metrics = {"unit.seconds": outcome.seconds, **_metrics(value["report"])}
    else:
        if folder.exists():
            shutil.rmtree(folder, ignore_errors=True)
        entry["status"] = "FAILED"
        entry["error"] = outcome.error
        tags["affrepro.unit.traceback"] = outcome.error[-4000:]
        metrics = {"unit.seconds": outcome.seconds}
    run.log_child(slug, "FINISHED" if entry["status"] == "FINISHED" else "FAILED", tags, metrics)
    return entry


def all_command(registries: Registries, *, cluster: Any, as_json: bool, output_dir: Path | None,
                tracking_uri: str | None, track: bool, stage: Callable[[str], None],
                options: Mapping[str, Any]) -> int:
    """``affrepro reproduce --all``: run, print a line per paper (or the JSON summary);
    the exit status (0 every paper finished, 1 otherwise)."""
    import click

    slugs = runnable_here(registries)
    if not slugs:
        raise click.ClickException("no paper is runnable here (`affrepro list` says what each needs)")
    summary = reproduce_all(slugs, cluster=cluster, output_dir=output_dir, tracking_uri=tracking_uri,
                            track=track, options={k: v for k, v in options.items() if v not in (None, False)},
                            stage=stage)
    if as_json:
        click.echo(json.dumps(summary | {"papers": {s: {k: v for k, v in p.items() if k != "error"}
                                                    for s, p in summary["papers"].items()}}, indent=2))
    else:
        for slug, p in summary["papers"].items():
            counts: dict[str, int] = {}
            for v in p.get("verdicts", {}).values():
                counts[v] = counts.get(v, 0) + 1
            what = ", ".join(f"{n} {v}" for v, n in sorted(counts.items()))
            if p.get("error"):
                what = p["error"].strip().splitlines()[-1]
            click.echo(f"{slug:<28} {p['status']:<9} {what}")
        click.echo(f"{len(summary['papers']) - len(summary['failed'])}/{len(summary['papers'])} finished "
                   f"-> {summary['output_dir']}")
    return 0 if summary["status"] == "FINISHED" else 1
