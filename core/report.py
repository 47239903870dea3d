"""The reproduction report: report.json (machine-readable) and report.md (for people)."""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from affrepro.claims import ClaimResult, Verdict, json_number
from affrepro.fileio import atomic_write_json, atomic_write_text
from affrepro.formatting import fmt, fmt_diff

REPORT_VERSION = 1


@dataclass
class Report:
    paper: str
    title: str
    status: str  # FINISHED or FAILED
    dry_run: bool
    results: list[ClaimResult]
    seeds: list[int]
    device: str
    versions: dict[str, str]
    hardware: dict[str, Any]
    data: dict[str, Any]
    deviations: list[str]
    records: dict[str, float] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    audits: list[dict[str, Any]] = field(default_factory=list)  # affrepro.audit, one per dataset
    started: str = ""
    finished: str = ""
    duration_s: float = 0.0
    run_id: str | None = None
    tracking_uri: str | None = None
    output_dir: str | None = None
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    citation: dict[str, Any] = field(default_factory=dict)  # affrepro.citation.run_citation

    def non_finite(self) -> dict[str, float]:
        """Every non-finite number measured (records and claims), by name."""
        out = {k: v for k, v in self.records.items() if not math.isfinite(v)}
        for r in self.results:
            if r.measured is not None and not math.isfinite(r.measured):
                out[f"claim.{r.claim.id}.measured"] = r.measured
        return out

    def verdict_counts(self) -> dict[str, int]:
        counts = Counter(r.verdict.value for r in self.results)
        return {v.value: counts.get(v.value, 0) for v in Verdict}

    def as_dict(self) -> dict[str, Any]:
        return {
            "report_version": REPORT_VERSION,
            "paper": self.paper,
            "title": self.title,
            "status": self.status,
            "dry_run": self.dry_run,
            "claims": [r.as_dict() for r in self.results],
            "verdicts": self.verdict_counts(),
            "records": {k: json_number(v) for k, v in self.records.items()},
            "non_finite": {k: json_number(v) for k, v in self.non_finite().items()},
            "warnings": self.warnings,
            "details": self.details,
            "dataset_audits": self.audits,
            "seeds": self.seeds,
            "device": self.device,
            "versions": self.versions,
            "hardware": self.hardware,
            "data": self.data,
            "deviations": self.deviations,
            "started": self.started,
            "finished": self.finished,
            "duration_s": round(self.duration_s, 3),
            "run_id": self.run_id,
            "tracking_uri": self.tracking_uri,
            "output_dir": self.output_dir,
            "error": self.error,
            "citation": self.citation,
        }

    def to_markdown(self) -> str:
        return render_markdown(self.as_dict())

    def write(self, folder: Path) -> tuple[Path, Path]:
        """report.json, report.md and report.html (affrepro.report_html), each atomically."""
        folder.mkdir(parents=True, exist_ok=True)
        d = self.as_dict()
        j = atomic_write_json(folder / "report.json", d)
        md = render_markdown(d)
        m = atomic_write_text(folder / "report.md", md)
        from affrepro.report_html import write_html

        write_html(d, folder / "report.html", md)
        return j, m


def render_markdown(d: dict[str, Any]) -> str:
    """report.json -> report.md (also used by ``affrepro report RUN``)."""
    lines = [f"# {d['paper']}: {d['title']}", ""]
    run_on = (d.get("details") or {}).get("run_on")  # affrepro.run_mode: what ran on what
    mode = f" ({run_on or 'dry run'})" if d.get("dry_run") else ""
    lines += [f"Status: **{d['status']}**{mode}. Started {d['started']}, took {d['duration_s']} s.", ""]
    counts = ", ".join(f"{n} {v}" for v, n in d["verdicts"].items() if n)
    lines += [f"Verdicts: {counts or 'no claims'}.", ""]
    if d.get("warnings"):
        lines += ["## Warnings", ""] + [f"- {w}" for w in d["warnings"]] + [""]
    if d["claims"]:
        lines += ["| claim | metric | paper | measured | Δ | tolerance | verdict |",
                  "|---|---|---|---|---|---|---|"]
        for c in d["claims"]:
            tol = c["tolerance"]
            tol_s = {"absolute": f"±{tol['amount']:g}", "relative": f"±{tol['amount']:g}×|v|",
                     "std_multiple": f"±{tol['amount']:g}·std"}[tol["kind"]]
            lines.append(f"| {c['id']} | {c['metric']} | {fmt(c['value'])} | {fmt(c['measured'])} "
                         f"| {fmt_diff(c['difference'])} | {tol_s} | **{c['verdict']}** |")
        lines += ["", "### Claims", ""]
        for c in d["claims"]:
            lines += [f"- **{c['id']}** — {c['description']}",
                      f"  - source: {c['source']}",
                      f"  - tolerance: {c['tolerance']['why']}",
                      f"  - verdict: {c['verdict']}; {c['reason']}"]
    from affrepro.noise import render_markdown as render_noise

    lines += render_noise(d)
    from affrepro.splits import render_markdown as render_splits

    lines += render_splits(d)
    for t in (d.get("details") or {}).get("tables", []):  # a protocol's result tables
        lines += ["", f"## {t['title']}", "", "| " + " | ".join(t["columns"]) + " |",
                  "|" + "---|" * len(t["columns"])]
        lines += ["| " + " | ".join(c if isinstance(c, str) else fmt(c) for c in row) + " |"
                  for row in t["rows"]]
    if d.get("records"):
        from affrepro.result_tables import render_markdown as render_records

        lines += render_records(d["records"])
    if d.get("dataset_audits"):
        from affrepro.audit import render_markdown as render_audit

        lines += ["", "## Dataset audits (the published statistics of the data this paper uses)", ""]
        for a in d["dataset_audits"]:
            lines += [render_audit(a, level=3)]
    lines += ["", "## Deviations from the paper", ""]
    lines += [f"- {x}" for x in d["deviations"]] or ["- none"]
    lines += ["", "## Data", ""]
    for name, info in d["data"].items():
        lines.append(f"- **{name}** ({info.get('access', '?')}): {info.get('status', '')} {info.get('path', '')}")
        for fname, digest in (info.get("sha256") or {}).items():
            lines.append(f"  - `{fname}` sha256 `{digest}`")
    if d.get("error"):
        lines += ["", "## Error", "", "```", d["error"], "```"]
    hw = d["hardware"]
    gpu = ", ".join(g["name"] for g in hw.get("gpus", [])) or "none"
    lines += ["", "## Environment", "",
              f"- seeds: {d['seeds']}; device: {d['device']}",
              f"- CPU: {hw.get('cpu')} ({hw.get('cpu_count')} cores); GPU: {gpu}",
              f"- Python {hw.get('python')} on {hw.get('os')}",
              "- versions: " + ", ".join(f"{k} {v}" for k, v in d["versions"].items())]
    if d.get("run_id"):
        lines += [f"- MLflow run `{d['run_id']}` in `{d['tracking_uri']}`"]
    from affrepro.citation import render_markdown as render_citation

    lines += render_citation(d)
    return "\n".join(lines) + "\n"
