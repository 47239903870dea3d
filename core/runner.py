"""``reproduce()``: resolve the paper, check its data, run its protocol, judge each claim,
write the report and track the run. Usable from Python as well as from the CLI."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from affrepro import data as datamod
from affrepro import hardware, paths
from affrepro.card import Card
from affrepro.claims import Claim, ClaimResult, Verdict, errored, judge, skipped
from affrepro.components import Dataset, ProgressCallback, RunContext, StageCallback
from affrepro.errors import AffreproError, CapabilityMissing, ContextTooLong
from affrepro.executor import UnitsFailed
from affrepro.hardware import git_commit  # noqa: F401  (affrepro.runner.git_commit, as before)
from affrepro.registry import Registries
from affrepro.report import Report
from affrepro.status import (datasets_needed, extras_reason, missing_extras,
                             missing_requirements)
from affrepro.validation import MAX_SEED, check_seeds, gpu_problem, resolve_device  # noqa: F401

if TYPE_CHECKING:
    from affrepro.tracking import TrackedRun

__all__ = ["RunContext", "reproduce", "resolve_data", "git_commit", "protocol_hash"]


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def uses_language_model(card: Card) -> bool:
    return card.paper_class == "C" or any(c.requires.llm or c.requires.model for c in card.claims)


def protocol_hash(card: Card, seeds: tuple[int, ...], device: str, model: str | None = None,
                  limit: int | None = None) -> str:
    """sha256 of what fixes the protocol's result: the card, seeds, device and, for a paper
    that asks a language model, the model spec and ``--limit``."""
    what: dict[str, Any] = {"card": card.raw, "seeds": list(seeds), "device": device}
    if model is not None:
        what["model"] = model
    if limit is not None:
        what["limit"] = limit
    blob = json.dumps(what, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


@dataclass
class DataResolution:
    folders: dict[str, Path]
    unavailable: dict[str, str]
    info: dict[str, Any]
    damaged: dict[str, str] = field(default_factory=dict)  # integrity failures (affrepro.integrity)
    warnings: list[str] = field(default_factory=list)


def resolve_data(datasets: list[Dataset], overrides: Mapping[str, Path], dry_run: bool,
                 scratch: Path, seed: int, stage: StageCallback) -> DataResolution:
    from affrepro import integrity, verified
    from affrepro.errors import ChecksumError

    folders: dict[str, Path] = {}
    unavailable: dict[str, str] = {}
    info: dict[str, Any] = {}
    res = DataResolution(folders, unavailable, info)
    for ds in datasets:
        entry: dict[str, Any] = {"access": ds.access, "licence": ds.licence}
        info[ds.name] = entry
        if dry_run and ds.synthesize is not None:
            folder = scratch / "synthetic" / ds.name
            stage(f"writing a synthetic {ds.name}")
            ds.synthesize(folder, seed)
            entry.update(status="synthetic", path=str(folder))
            folders[ds.name] = folder
            continue
        override = overrides.get(ds.name)
        problems = datamod.verify(ds, override)
        if problems and ds.access == "public" and ds.auto_fetch and override is None:
            damaged = integrity.integrity_problems(problems)
            stage(f"re-fetching {ds.name}: {len(damaged)} local file(s) damaged" if damaged
                  else f"fetching {ds.name}")
            try:
                datamod.fetch(ds)
                problems = datamod.verify(ds)
                if damaged and not problems:
                    res.warnings.append(integrity.replaced_warning(ds, damaged))
                    stage(res.warnings[-1])
                    entry["replaced"] = {p.path: {"found": p.actual, "expected": p.expected} for p in damaged}
            except ChecksumError as exc:  # the source itself (mirror or URL) is not the declared file
                problems = [integrity.from_checksum_error(exc)]
            except AffreproError as exc:
                problems = [datamod.Problem(ds.name, str(exc))]
        folder = datamod.dataset_path(ds, override)
        entry["path"] = str(folder)
        damaged = integrity.integrity_problems(problems)
        if damaged:
            if override is None:
                verified.forget(ds)
            res.damaged[ds.name] = integrity.describe(ds, damaged)
            unavailable[ds.name] = res.damaged[ds.name]
            entry.update(status="integrity failure", problems=[str(p) for p in problems])
            continue
        if problems:
            more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
            unavailable[ds.name] = f"{problems[0]}{more}. {datamod.short_how(ds)}"
            entry.update(status="unavailable", problems=[str(p) for p in problems])
            continue
        entry.update(status="verified", sha256=datamod.checksums(ds, override))
        if override is None:
            verified.record(ds, folder, "reproduce (checksums and layout)")
        folders[ds.name] = folder
    return res


def reproduce(slug: str, *, data_dirs: Mapping[str, Path | str] | None = None,
              seeds: tuple[int, ...] | None = None, device: str = "cpu", dry_run: bool = False,
              output_dir: Path | str | None = None, tracking_uri: str | None = None,
              track: bool = True, registries: Registries | None = None,
              stage: StageCallback | None = None, progress: ProgressCallback | None = None,
              model: str | None = None, limit: int | None = None,
              no_cache: bool = False, cluster: Any = None) -> Report:
    """Reproduce one paper and return its report (also written to ``output_dir``).

    ``model`` is the language-model spec (default: ``AFFREPRO_MODEL`` or the embedded
    smollm2-135m), ``limit`` the items per task (``--limit``), ``no_cache`` bypasses the
    request cache. ``cluster`` (``local:N``, ``tcp://HOST:PORT``, an open executor; None:
    ``AFFREPRO_CLUSTER`` or in-process) is where ``ctx.map`` computes the protocol's units."""
    from affrepro.plugin_manager import get_registries

    registries = registries or get_registries()
    stage = stage or (lambda msg: None)
    rep = registries.reproductions.get(slug)
    card = rep.card
    if limit is not None and limit < 1:
        raise ValueError(f"limit must be a positive number of items per task, got {limit}")
    lm_spec = None
    if uses_language_model(card):
        from affrepro.lm import default_spec, lm_backends, parse_spec

        lm_spec = model or default_spec()
        parse_spec(lm_spec, lm_backends(registries))  # an unknown spec fails before the run
    seeds = check_seeds(seeds) if seeds else card.seeds
    # the CLI refuses cuda without a GPU; from Python the protocol decides (and says why)
    device = resolve_device(device, require_gpu=False)
    no_gpu = gpu_problem(device)  # recorded as a warning below, never silently
    out = Path(output_dir) if output_dir else paths.new_run_dir(slug)
    overrides = {k: Path(v) for k, v in (data_dirs or {}).items()}
    for name in overrides:
        registries.datasets.get(name)

    from affrepro.tracking import open_tracker, tracked_run

    started, t_start = _now(), time.perf_counter()  # the whole run's wall time, store opening included
    commit = hardware.git_commit()  # the code that runs, read before it runs
    if track:
        stage("opening the MLflow store")
    from affrepro.tracking import experiment_name

    tracker = open_tracker(tracking_uri, experiment_name(slug, dry_run), track)

    from affrepro import noise

    spec = noise.noise_spec(card)
    needed = datasets_needed(rep)
    # a claim may need a dataset no plugin registers: it is skipped with that reason below
    datasets = [registries.datasets.get(n) for n in needed if n in registries.datasets]
    from affrepro.scratch import scratch_dir

    from affrepro import scaleout

    with scaleout.executor_for(cluster) as executor, scratch_dir(slug) as scratch:
        resolution = resolve_data(datasets, overrides, dry_run, scratch, seeds[0], stage)
        from affrepro import run_mode

        run_on = run_mode.describe(dry_run, resolution.info)  # said everywhere (affrepro.run_mode)
        if dry_run:
            stage(run_on)
        from affrepro.audit import report_audits

        audits = report_audits(slug, registries, datasets, resolution, dry_run, stage, resolve=lambda more: (
            resolve_data(more, overrides, dry_run, scratch, seeds[0], stage)))

        from affrepro import splits

        split_audits = splits.split_audits(datasets, resolution.folders, stage=stage, synthetic=[
            n for n, e in resolution.info.items() if e.get("status") == "synthetic"])
        results: dict[str, ClaimResult] = {}
        measurable: list[str] = []
        from affrepro.integrity import damaged_reason

        for claim in card.claims:
            reasons = missing_requirements(claim, registries, resolution.unavailable, device)
            damaged = damaged_reason([*claim.requires.datasets, *rep.datasets], resolution.damaged)
            if damaged:  # a file that is not the declared one: an error, never a quiet skip
                results[claim.id] = errored(claim, damaged)
            elif reasons:
                results[claim.id] = skipped(claim, "; ".join(r.rstrip(".") for r in reasons))
            else:
                measurable.append(claim.id)
        extras = missing_extras(card.extras)
        protocol_ready = (rep.protocol is not None and not extras
                          and all(d in resolution.folders for d in rep.datasets))
        run_protocol = protocol_ready and (bool(measurable) or not card.claims or rep.run_without_claims)

        plugin_name, plugin_version = _plugin_of(slug, registries)
        ident = hardware.identity()
        ctx = RunContext(paper=rep, card=card, data=resolution.folders, claims_to_measure=measurable,
                         seeds=seeds, device=device, dry_run=dry_run, output_dir=out,
                         registries=registries, deviations=list(card.deviations), stage=stage,
                         model_spec=lm_spec, limit=limit, no_cache=no_cache,
                         model_opener=_open_engine, executor=executor,
                         data_sha256={n: e.get("sha256", {}) for n, e in resolution.info.items()})
        ctx.journal = scaleout.journal_for(slug, protocol_hash(card, seeds, device, lm_spec, limit),
                                           dry_run, resolution.info)
        if progress is not None:
            ctx.progress = progress
        if limit is not None:
            ctx.deviation(f"--limit {limit}: at most the first {limit} items of each task were "
                          "evaluated, not the paper's full test sets")
        if lm_spec is not None:
            _check_capabilities(card, measurable, results, ctx)
        if extras and rep.protocol is not None:
            ctx.note("protocol_not_run", extras_reason(extras))
        ctx.note("run_on", run_on)
        tags = (_run_tags(slug, f"{plugin_name}@{plugin_version}",
                          protocol_hash(card, seeds, device, lm_spec, limit), dry_run, ident)
                if tracker is not None else None)
        if tags is not None and lm_spec is not None:
            tags["model"] = lm_spec
        status, error = "FINISHED", None
        if tags is not None:
            tags["affrepro.run_on"] = run_on
        with tracked_run(tracker, f"{slug}: {run_on}" if dry_run else slug, tags) as run:
            measured: Mapping[str, float] = {}
            ctx.on_unit = scaleout.child_logger(run)
            if run_protocol:
                stage(f"running the {slug} protocol")
                try:
                    measured = noise.run_protocol(rep.protocol, ctx, spec)
                except (CapabilityMissing, ContextTooLong) as exc:
                    # the model cannot do what the claims need: skipped, with the reason
                    measured = {}
                    for cid in measurable:
                        ctx.skipped.setdefault(cid, str(exc))
                except Exception as exc:
                    status = "FAILED"
                    error = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
                    for cid in measurable:
                        results[cid] = errored(card.claim(cid), f"protocol failed: {exc}")
                    if isinstance(exc, UnitsFailed):
                        ctx.note("failed_units", {o.name: o.error for o in exc.failed})
                        error += "".join(f"\nunit {o.name} failed:\n{o.error}" for o in exc.failed)
            elif measurable:
                why = ("the reproduction has no protocol yet" if rep.protocol is None else
                       extras_reason(extras) if extras else
                       "the protocol's datasets are unavailable: "
                       + ", ".join(d for d in rep.datasets if d not in resolution.folders))
                for cid in measurable:
                    results[cid] = skipped(card.claim(cid), why)
            if ctx.details.get("real_inputs"):  # the protocol read real files on a dry run
                run_on = run_mode.describe(dry_run, resolution.info, ctx.details["real_inputs"])
                ctx.note("run_on", run_on)
                run.set_tags({"affrepro.run_on": run_on, **({"mlflow.runName": f"{slug}: {run_on}"}
                                                             if dry_run else {})})
            if ctx._engine is not None:
                ctx.note("language_model", {**ctx._engine.describe(), "spec": lm_spec,
                                            "no_cache": no_cache,
                                            **{k[3:]: v for k, v in ctx._engine.stats.as_metrics().items()}})
            if status == "FINISHED":
                spreads = noise.claim_spreads(ctx.details)
                for cid in measurable:
                    if cid not in results:
                        results[cid] = noise.noise_verdict(_verdict(card.claim(cid), measured, ctx,
                                                                    run_on if dry_run else ""),
                                                           spreads.get(cid))
            if split_audits:
                ctx.note("split_audits", split_audits)
            from affrepro import not_run

            lacking = not_run.nothing_measured(
                results.values(), run_protocol and status == "FINISHED",
                not_run.protocol_needs(rep.protocol is None, rep.datasets, resolution.folders,
                                       resolution.unavailable, extras_reason(extras) if extras else ""))
            if lacking is not None:
                ctx.note("not_run", {"needs": lacking})
            ordered = [results[c.id] for c in card.claims]
            if status == "FINISHED" and any(r.verdict is Verdict.ERROR for r in ordered):
                status = "FAILED"  # an `error` verdict is a failed run: status and exit say so
            if status == "FINISHED" and resolution.damaged:  # also where no claim reads it
                status, error = "FAILED", "\n".join(resolution.damaged.values())
            report = Report(
                paper=slug, title=card.title, status=status, dry_run=dry_run, results=ordered,
                seeds=list(seeds), device=device, versions=dict(ident["packages"]),
                hardware={k: v for k, v in ident.items() if k != "packages"},
                data=resolution.info, deviations=ctx.deviations, records=ctx.records,
                details=ctx.details, audits=audits, started=started, finished=_now(),
                duration_s=time.perf_counter() - t_start,
                run_id=run.run_id, tracking_uri=run.uri, output_dir=str(out), error=error,
            )
            report.warnings.extend(resolution.warnings + _non_finite_warnings(report))
            if no_gpu:
                report.warnings.append(f"{no_gpu} (recorded as {device}; the protocol decided what ran where)")
            if lacking is not None:
                report.warnings.append(not_run.message(slug, lacking, bool(card.claims)))
            report.citation = _citation(slug, card, seeds, device, lm_spec, limit, datasets, resolution, ident,
                                        commit)
            stage("writing the report")
            report.write(out)
            splits.write_table(out, split_audits)
            if tracker is not None:
                from affrepro.tracking import NOTE_TAG, run_description

                _log(run, report, ctx, out, needed)
                run.set_tags({NOTE_TAG: run_description("reproduce", slug, ctx.details["run_on"], status,
                                                        report.verdict_counts(), str(out / "report.md"))})
            if status == "FAILED":
                run.fail()
            elif ctx.journal is not None:
                ctx.journal.clear()  # finished: nothing left to resume
            if ctx._engine is not None:
                ctx._engine.close()
    return report


def _citation(slug: str, card: Card, seeds: tuple[int, ...], device: str, lm_spec: str | None,
              limit: int | None, datasets: list[Dataset], resolution: DataResolution,
              ident: Mapping[str, Any], commit: str) -> dict[str, Any]:
    """The report's citation entry (affrepro.citation): paper record, BibTeX, run provenance."""
    from affrepro import citation

    mirror = paths.mirror_dir()
    return citation.run_citation(
        slug=slug, card=card, protocol_fingerprint=protocol_hash(card, seeds, device, lm_spec, limit),
        commit=commit, version=hardware.package_versions(("affrepro",)).get("affrepro", "unknown"),
        datasets=datasets, data_info=resolution.info, mirror=str(mirror) if mirror else None,
        hardware={k: v for k, v in ident.items() if k != "packages"})


def _non_finite_warnings(report: Report) -> list[str]:
    """One warning per non-finite number (also raised as a Python warning): it stays in the
    report as 'nan'/'inf' and is logged to MLflow as a tag, never dropped silently."""
    import warnings

    out = []
    for name, value in report.non_finite().items():
        msg = (f"{name} is {value} (not a finite number): kept in report.json/report.md as "
               f"'{value}' and logged to MLflow as tag nonfinite.{name}, not as a metric")
        warnings.warn(msg, RuntimeWarning, stacklevel=3)
        out.append(msg)
    return out


def _open_engine(ctx: RunContext):
    from affrepro.lm_engine import open_engine

    return open_engine(ctx.model_spec, no_cache=ctx.no_cache, registries=ctx.registries,
                       progress=ctx.progress)


def _check_capabilities(card: Card, measurable: list[str], results: dict[str, ClaimResult],
                        ctx: RunContext) -> None:
    """Skip the claims whose language-model capabilities the run's model lacks (loading
    the model only when some claim declares capabilities)."""
    needing = [cid for cid in measurable if card.claim(cid).requires.capabilities]
    if not needing:
        return
    from affrepro.errors import ModelError

    try:
        caps = ctx.model.capabilities
    except ModelError:  # the protocol meets the same error and the run fails, named
        return
    for cid in needing:
        lacking = caps.missing(card.claim(cid).requires.capabilities)
        if lacking:
            results[cid] = skipped(card.claim(cid), f"needs {', '.join(lacking)}, which model "
                                   f"{ctx.model.name!r} does not offer")
            measurable.remove(cid)


def model_mismatch(claim: Claim, ctx: RunContext) -> str | None:
    """Why a claim measured on this run's model is reported but not judged, or None."""
    if not claim.requires.model:
        return None
    run_model = ctx._engine.name if ctx._engine is not None else (ctx.model_spec or "")
    if run_model in claim.requires.model:
        return None
    used = " or ".join(claim.requires.model)
    return (f"measured on {run_model}; the paper used {used}, so the value is reported, not "
            "judged")


def _plugin_of(slug: str, registries: Registries) -> tuple[str, str]:
    """(plugin name, its version) of a reproduction; affrepro's version when unknown."""
    from affrepro.plugin_manager import current_state

    plugin_name = registries.reproductions.plugin_of(slug)
    state = current_state()
    info = state.plugins.get(plugin_name) if state and state.registries is registries else None
    version = (info.version if info and info.version else
               hardware.package_versions(("affrepro",)).get("affrepro", "unknown"))
    return plugin_name, version


def _run_tags(slug: str, plugin: str, phash: str, dry_run: bool,
              ident: Mapping[str, Any]) -> dict[str, str]:
    """The MLflow tags of a reproduce run: paper, plugin@version, protocol hash, commit,
    hardware and the backbone packages' versions."""
    tags = {
        "paper": slug, "plugin": plugin, "protocol_hash": phash, "git_commit": hardware.git_commit(),
        "cpu": ident["cpu"], "gpu": ", ".join(g["name"] for g in ident["gpus"]) or "none",
        "gpu_driver": ", ".join(g["driver"] for g in ident["gpus"]) or "none",
        "dry_run": str(dry_run).lower(), "affrepro.command": "reproduce",
    }
    for pkg in ("torch", "triton", "numba", "numpy", "mlflow"):
        tags[f"version.{pkg}"] = ident["packages"].get(pkg, "not installed")
    return tags


def _verdict(claim: Claim, measured: Mapping[str, float], ctx: RunContext,
             dry_run: str) -> ClaimResult:
    """One measurable claim's result after the protocol ran: what the protocol skipped or
    failed (unless it measured the claim anyway), else the judged value; on a dry run
    (``dry_run``: what it ran on, affrepro.run_mode) a judged value is reported as skipped."""
    if claim.id in ctx.skipped and claim.id not in measured:
        return skipped(claim, ctx.skipped[claim.id])
    if claim.id in ctx.failed and claim.id not in measured:
        return errored(claim, ctx.failed[claim.id])
    res = judge(claim, measured.get(claim.id))
    mismatch = model_mismatch(claim, ctx)
    if mismatch and res.verdict in (Verdict.REPRODUCED, Verdict.NOT_REPRODUCED):
        res = ClaimResult(res.claim, Verdict.SKIPPED, res.measured, f"{mismatch} ({res.reason})")
    if dry_run and res.verdict in (Verdict.REPRODUCED, Verdict.NOT_REPRODUCED):
        from affrepro.run_mode import dry_run_reason

        res = ClaimResult(res.claim, Verdict.SKIPPED, res.measured, dry_run_reason(dry_run))
    return res


def _log(run: TrackedRun, report: Report, ctx: RunContext, out: Path, datasets: list[str]) -> None:
    import math

    run.log_params({
        "paper": report.paper, "seeds": report.seeds, "device": report.device,
        "dry_run": report.dry_run, "datasets": datasets or ["none"],
        "claims_measured": ctx.claims_to_measure or ["none"],
        "protocol": ctx.card.raw.get("protocol", {}) or {"defined_in": "code"},
    })
    metrics: dict[str, float] = {}
    for r in report.results:
        if r.measured is not None and math.isfinite(r.measured):
            metrics[f"claim.{r.claim.id}.measured"] = r.measured
            metrics[f"claim.{r.claim.id}.difference"] = r.measured - r.claim.value
    for k, v in report.records.items():
        if math.isfinite(v):
            metrics[k] = v
    from affrepro.noise import mlflow_metrics

    metrics.update(mlflow_metrics(report.details))
    if ctx._engine is not None:
        metrics.update(ctx._engine.stats.as_metrics())
        lm = ctx._engine.describe()
        run.set_tags({"model.backend": lm["backend"], "model.name": lm["name"],
                      "model.fingerprint": lm["fingerprint"]})
    for verdict, n in report.verdict_counts().items():
        metrics[f"verdicts.{verdict.replace(' ', '_')}"] = n
    run.log_metrics(metrics)
    tags = {f"verdict.{r.claim.id}": r.verdict.value for r in report.results}
    non_finite = report.non_finite()
    tags.update({f"nonfinite.{k}": str(v) for k, v in non_finite.items()})
    if non_finite:
        tags["affrepro.non_finite"] = ", ".join(f"{k}={v}" for k, v in non_finite.items())
    run.set_tags(tags)
    run.log_artifacts(out)
