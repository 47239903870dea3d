"""Dataset audits: a dataset's published statistics as claims.

A corpus publishes tables (counts per split, label distributions, vocabulary, lengths) and
papers build on them; when a copy disagrees, every result on it is suspect. A dataset
plugin attaches a :class:`DatasetAudit` to its :class:`~affrepro.components.Dataset`:

- ``claims``: an ``audit.toml`` holding ``[[claims]]`` in exactly a paper card's claim
  schema (id, description, source, metric, value, tolerance with its ``why``), plus optional
  ``title``, ``notes`` and ``deviations``;
- ``recipe``: ``"module:function"`` (imported on first use) taking an :class:`AuditContext`
  and returning ``{claim_id: measured}``; it may record deviations (a definition the source
  does not give, chosen by the recipe) and structured details (the evidence behind a
  "not reproduced").

``run_audit`` judges every claim with :func:`affrepro.claims.judge`, exactly as a paper's
claims are judged. ``affrepro data audit NAME`` prints the result, and ``reproduce``
includes the audit of every dataset a paper uses in its report.
"""
from __future__ import annotations

import sys
import time
import traceback
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from affrepro.claims import Claim, ClaimResult, Verdict, errored, judge, skipped
from affrepro.errors import CardError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


@dataclass(frozen=True)
class AuditCard:
    path: Path
    dataset: str
    title: str
    notes: str
    deviations: tuple[str, ...]
    claims: tuple[Claim, ...]
    papers: tuple[str, ...] = ()  # papers whose reports include this audit without reading the dataset

    def claim(self, claim_id: str) -> Claim:
        for c in self.claims:
            if c.id == claim_id:
                return c
        raise KeyError(f"{self.path}: no claim {claim_id!r}")


@dataclass(frozen=True)
class DatasetAudit:
    """What a dataset plugin declares: its claims file and the recipe that measures them."""

    claims: Path
    recipe: str  # "module:function", imported when the audit runs

    @property
    def card(self) -> AuditCard:
        return load_audit_card(self.claims)

    def load_recipe(self) -> Callable[[AuditContext], Mapping[str, float]]:
        import importlib

        module, _, func = self.recipe.partition(":")
        if not func:
            raise CardError(f"audit recipe {self.recipe!r}: expected 'module:function'")
        return getattr(importlib.import_module(module), func)


@dataclass
class AuditContext:
    """What a recipe sees: the verified folder and where to put its evidence."""

    dataset: str
    folder: Path
    claims_to_measure: list[str]
    deviations: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    evidence: dict[str, str] = field(default_factory=dict)

    def explain(self, claim_id: str, text: str) -> None:
        """Evidence shown with this claim's verdict when it is not reproduced (which rows,
        which definition gives what)."""
        self.evidence[claim_id] = text

    def deviation(self, text: str) -> None:
        """A choice the source does not make for us (a definition, an encoding)."""
        if text not in self.deviations:
            self.deviations.append(text)

    def note(self, key: str, value: Any) -> None:
        """Structured evidence for the report (counts, the rows that differ)."""
        self.details[key] = value

    def skip(self, claim_id: str, reason: str) -> None:
        self.skipped[claim_id] = reason


@dataclass
class AuditReport:
    dataset: str
    title: str
    status: str  # FINISHED | FAILED | UNAVAILABLE
    results: list[ClaimResult]
    deviations: list[str]
    details: dict[str, Any]
    path: str = ""
    duration_s: float = 0.0
    error: str | None = None

    def verdict_counts(self) -> dict[str, int]:
        counts = Counter(r.verdict.value for r in self.results)
        return {v.value: counts.get(v.value, 0) for v in Verdict}

    def as_dict(self) -> dict[str, Any]:
        return {"dataset": self.dataset, "title": self.title, "status": self.status,
                "path": self.path, "claims": [r.as_dict() for r in self.results],
                "verdicts": self.verdict_counts(), "deviations": self.deviations,
                "details": self.details, "duration_s": round(self.duration_s, 3),
                "error": self.error}


def parse_audit_card(path: Path, doc: dict[str, Any]) -> AuditCard:
    """Validate an audit card with the paper cards' claim rules (same errors, same fields)."""
    from affrepro.card import _parse_claim, _Reader  # one claim schema for papers and datasets

    r = _Reader(path)
    dataset = r.get(doc, "dataset", str, "", default="")
    title = r.get(doc, "title", str, "", required=False, default="") or ""
    notes = r.get(doc, "notes", str, "", required=False, default="") or ""
    deviations = r.str_list(doc, "deviations", "")
    papers = r.str_list(doc, "papers", "")
    raw = doc.get("claims", [])
    if not isinstance(raw, list) or not raw:
        r.err("claims", "an audit card needs at least one [[claims]] table")
        raw = []
    claims, seen = [], set()
    for i, c in enumerate(raw):
        claim = _parse_claim(r, c, f"claims[{i}].")
        if claim is None:
            continue
        if claim.id in seen:
            r.err(f"claims[{i}].id", f"duplicate claim id {claim.id!r}")
        seen.add(claim.id)
        claims.append(claim)
    if r.problems:
        raise CardError(f"{path}: invalid audit card:\n  " + "\n  ".join(r.problems))
    return AuditCard(path, dataset, title, notes, deviations, tuple(claims), papers)


@lru_cache(maxsize=None)
def load_audit_card(path: Path | str) -> AuditCard:
    path = Path(path)
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CardError(f"{path}: cannot read the audit card: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise CardError(f"{path}: not valid TOML: {exc}") from exc
    return parse_audit_card(path, doc)


def run_audit(dataset, folder: Path) -> AuditReport:
    """Run a dataset's recipe on a verified folder and judge every claim."""
    spec: DatasetAudit = dataset.audit
    card = spec.card
    if card.dataset != dataset.name:
        raise CardError(f"{card.path}: dataset = {card.dataset!r}, but it is attached to {dataset.name!r}")
    ctx = AuditContext(dataset.name, Path(folder), [c.id for c in card.claims],
                       deviations=list(card.deviations))
    t0 = time.perf_counter()
    status, error, measured = "FINISHED", None, {}
    try:
        measured = dict(spec.load_recipe()(ctx) or {})
    except Exception as exc:
        status = "FAILED"
        error = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    results = []
    for claim in card.claims:
        if status == "FAILED":
            results.append(errored(claim, f"audit recipe failed: {error.strip().splitlines()[-1]}"))
        elif claim.id in ctx.skipped and claim.id not in measured:
            results.append(skipped(claim, ctx.skipped[claim.id]))
        else:
            res = judge(claim, measured.get(claim.id))
            if res.verdict is not Verdict.REPRODUCED and claim.id in ctx.evidence:
                res.reason = f"{res.reason}. Evidence: {ctx.evidence[claim.id]}"
            results.append(res)
    return AuditReport(dataset.name, card.title, status, results, ctx.deviations, ctx.details,
                       str(folder), time.perf_counter() - t0, error)


def unavailable(dataset, reason: str) -> AuditReport:
    """An audit that could not run: every claim skipped with the reason."""
    card = dataset.audit.card
    return AuditReport(dataset.name, card.title, "UNAVAILABLE",
                       [skipped(c, reason) for c in card.claims], list(card.deviations), {},
                       error=None)


def number(value: float | None, published: float, sign: bool = False) -> str:
    """Counts (a whole published value and a whole measured one) without decimals,
    everything else as the paper reports print it."""
    from affrepro.formatting import fmt, fmt_diff

    if value is not None and float(published).is_integer() and float(value).is_integer():
        return f"{value:{'+' if sign else ''},.0f}"
    return fmt_diff(value) if sign else fmt(value)


def render_markdown(d: dict[str, Any], level: int = 1) -> str:
    """An audit (``AuditReport.as_dict()``) as Markdown; ``level`` sets the heading depth."""
    h = "#" * level
    lines = [f"{h} Dataset audit: {d['dataset']}" + (f" ({d['title']})" if d.get("title") else ""), ""]
    counts = ", ".join(f"{n} {v}" for v, n in d["verdicts"].items() if n)
    lines += [f"Status: **{d['status']}**. Verdicts: {counts or 'no claims'}.", ""]
    lines += ["| claim | paper | measured | Δ | tolerance | verdict |", "|---|---|---|---|---|---|"]
    for c in d["claims"]:
        tol = c["tolerance"]
        tol_s = {"absolute": f"±{tol['amount']:g}", "relative": f"±{tol['amount']:g}×|v|",
                 "std_multiple": f"±{tol['amount']:g}·std"}[tol["kind"]]
        lines.append(f"| {c['id']} | {number(c['value'], c['value'])} | {number(c['measured'], c['value'])} | "
                     f"{number(c['difference'], c['value'], sign=True)} | {tol_s} | **{c['verdict']}** |")
    lines += ["", f"{h}# Claims", ""]
    for c in d["claims"]:
        lines += [f"- **{c['id']}** — {c['description']}", f"  - source: {c['source']}",
                  f"  - tolerance: {c['tolerance']['why']}", f"  - verdict: {c['verdict']}; {c['reason']}"]
    lines += ["", f"{h}# Definitions chosen and deviations", ""]
    lines += [f"- {x}" for x in d["deviations"]] or ["- none"]
    if d.get("error"):
        lines += ["", "```", d["error"], "```"]
    return "\n".join(lines) + "\n"


def audited_with(slug: str, registries, already: list[str]) -> list:
    """Datasets whose audit card names this paper in ``papers`` (data it builds on without
    reading it in its protocol), beyond the ones the run resolves anyway."""
    out = []
    for e in registries.datasets.entries():
        ds = e.obj
        if ds.audit is not None and ds.name not in already and slug in ds.audit.card.papers:
            out.append(ds)
    return out


def audits_for(datasets, folders: Mapping[str, Path], unavailable_reasons: Mapping[str, str],
               dry_run: bool, stage: Callable[[str], None] = lambda msg: None) -> list[dict[str, Any]]:
    """The audits of the datasets a run resolved (for its report); a dataset without data,
    or synthetic data on a dry run, gets its claims skipped with the reason."""
    from affrepro.errors import AffreproError

    out = []
    for ds in datasets:
        if getattr(ds, "audit", None) is None:
            continue
        try:
            ds.audit.card
        except AffreproError as exc:  # a broken audit card must not stop the paper's run
            out.append(AuditReport(ds.name, "", "FAILED", [], [], {}, error=str(exc)).as_dict())
            continue
        if dry_run:
            out.append(unavailable(ds, "dry run: synthetic data is not audited").as_dict())
        elif ds.name in folders:
            stage(f"auditing {ds.name}")
            out.append(run_audit(ds, folders[ds.name]).as_dict())
        else:
            out.append(unavailable(ds, unavailable_reasons.get(ds.name, "the data is unavailable")).as_dict())
    return out


def report_audits(slug: str, registries, datasets, resolution, dry_run: bool,
                  stage: Callable[[str], None], resolve: Callable[[list], Any]) -> list[dict[str, Any]]:
    """The audits a paper's report carries: of the datasets its run resolved, and of the
    datasets whose audit card names the paper (resolved here with ``resolve``)."""
    extra = audited_with(slug, registries, [d.name for d in datasets])
    folders, unavailable = dict(resolution.folders), dict(resolution.unavailable)
    if extra:
        more = resolve(extra)
        folders.update(more.folders)
        unavailable.update(more.unavailable)
    return audits_for(list(datasets) + extra, folders, unavailable, dry_run, stage)


def audit_dataset(dataset, folder: Path | str | None = None, output_dir: Path | str | None = None,
                  stage: Callable[[str], None] = lambda msg: None) -> AuditReport:
    """``affrepro data audit``: verify (fetching a missing public dataset), run the audit,
    write ``audit.json`` and ``audit.md`` atomically, and return the report."""
    import datetime as dt
    import uuid

    from affrepro import data as datamod
    from affrepro import paths
    from affrepro.errors import AffreproError, DataError
    from affrepro.fileio import atomic_write_json, atomic_write_text

    if dataset.audit is None:
        raise DataError(f"dataset {dataset.name!r} publishes no statistics affrepro audits "
                        "(its plugin attaches no DatasetAudit)")
    override = Path(folder) if folder is not None else None
    problems = datamod.verify(dataset, override)
    if problems and dataset.access == "public" and override is None:
        stage(f"fetching {dataset.name}")
        try:
            datamod.fetch(dataset)
            problems = datamod.verify(dataset)
        except AffreproError as exc:
            problems = [datamod.Problem(dataset.name, str(exc))]
    if problems:
        report = unavailable(dataset, f"{problems[0]}. {datamod.short_how(dataset)}")
    else:
        stage(f"auditing {dataset.name}")
        report = run_audit(dataset, datamod.dataset_path(dataset, override))
    if output_dir is None:
        stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        output_dir = paths.runs_dir() / "_audits" / dataset.name / f"{stamp}-{uuid.uuid4().hex[:6]}"
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    d = report.as_dict()
    d["finished"] = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    atomic_write_json(out / "audit.json", d)
    atomic_write_text(out / "audit.md", render_markdown(d))
    report.path = report.path or str(out)
    return report
