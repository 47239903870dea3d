"""``affrepro plugins check NAME``: does a plugin follow the rules?

Checks: it loaded and its hooks match the specifications; it registered something (a
component or a command); every card it ships validates and names its own slug; claims use
registered metrics and datasets; every public dataset declares a URL and sha256 per file
and every licensed one a verifier and a synthetic generator; and a dry run of each
reproduction finishes with no claim in error.
"""
from __future__ import annotations

import inspect
import re
from dataclasses import dataclass
from pathlib import Path

from affrepro.errors import AffreproError, UnknownNameError
from affrepro.plugin_manager import PluginManagerState
from affrepro.scratch import scratch_dir


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str = ""

    def as_dict(self) -> dict:
        return {"check": self.name, "ok": self.ok, "detail": self.detail}


def find_plugin(state: PluginManagerState, name: str) -> str:
    if name in state.plugins:
        return name
    by_dist = [p.name for p in state.plugins.values() if p.distribution == name]
    if len(by_dist) == 1:
        return by_dist[0]
    owners = {e.plugin for e in state.registries.reproductions.entries() if e.name == name}
    if owners:
        return owners.pop()
    raise UnknownNameError("plugin", name, state.plugins)


# a metric's formula: a "Formula: ..." line, or an equation line "NAME = EXPRESSION"
# (one "=" between two non-empty sides, not "==", "<=" or ">=")
FORMULA_LINE = re.compile(r"^\s*(?:Formula:\s*\S.*|[^=<>!\s][^=<>!]*?\s=\s*[^=\s].*)$", re.M)


def has_formula(doc: str | None) -> bool:
    """Whether a metric's docstring gives its formula (FORMULA_LINE)."""
    return bool(doc and FORMULA_LINE.search(doc))


def check_plugin(state: PluginManagerState, name: str, dry_run: bool = True) -> list[Check]:
    plugin = find_plugin(state, name)
    info = state.plugins[plugin]
    reg = state.registries
    checks = [Check("loads and its hooks match the specifications", info.error is None, info.error or
                    f"hooks: {', '.join(info.hooks) or 'none'}")]
    if info.error:
        return checks
    registered = sum(len(v) for v in info.registered.values())
    commands = "register_commands" in info.hooks
    checks.append(Check("registers at least one component or command", registered > 0 or commands,
                        ", ".join(f"{k}: {', '.join(v)}" for k, v in info.registered.items())
                        or ("commands" if commands else "nothing")))

    for ds_name in info.registered.get("datasets", []):
        ds = reg.datasets.get(ds_name)
        if ds.access == "public":
            lengths = {"sha256": 64, "sha512": 128}
            bad = [f.name for f in ds.files
                   if not (f.digest and len(f.digest[1]) == lengths[f.digest[0]] and (f.url or ds.mirror_dir))]
            ok = bool(ds.files) and not bad
            detail = (f"{len(ds.files)} files with a digest" if ok else
                      "no files declared" if not ds.files else f"no sha256/sha512 or URL for {', '.join(bad)}")
            checks.append(Check(f"dataset {ds_name}: every file has a checksum and a source", ok, detail))
        else:
            ok = ds.verify is not None and ds.synthesize is not None
            checks.append(Check(f"dataset {ds_name}: licensed, with a verifier and a synthetic generator",
                                ok, "" if ok else "needs both verify= and synthesize="))
            if ok:
                with scratch_dir("conformance") as tmp:
                    try:
                        ds.synthesize(Path(tmp), 0)
                        problems = ds.verify(Path(tmp))
                    except Exception as exc:
                        problems = [f"{type(exc).__name__}: {exc}"]
                checks.append(Check(f"dataset {ds_name}: its synthetic corpus passes its own verifier",
                                    not problems, "; ".join(map(str, problems[:3]))))

    for metric_name in info.registered.get("metrics", []):
        fn = reg.metrics.get(metric_name).fn
        ok = has_formula(inspect.getdoc(fn))
        checks.append(Check(f"metric {metric_name}: its docstring gives the formula", ok,
                            "" if ok else f"the docstring of {getattr(fn, '__qualname__', fn)!r} needs "
                            "a line 'Formula: ...' or an equation 'NAME = EXPRESSION' (docs/plugin-api.md)"))

    for slug in info.registered.get("reproductions", []):
        rep = reg.reproductions.get(slug)
        try:
            card = rep.card
        except AffreproError as exc:
            checks.append(Check(f"{slug}: card is valid", False, str(exc)))
            continue
        checks.append(Check(f"{slug}: card is valid", card.slug == slug,
                            "" if card.slug == slug else f"card says slug {card.slug!r}"))
        unknown_metrics = sorted({c.metric for c in card.claims if c.metric not in reg.metrics})
        checks.append(Check(f"{slug}: claims use registered metrics", not unknown_metrics,
                            ", ".join(unknown_metrics)))
        unknown_data = sorted({d for c in card.claims for d in c.requires.datasets if d not in reg.datasets}
                              | {d for d in rep.datasets if d not in reg.datasets})
        if rep.protocol is None:  # a card-only paper may name data no plugin provides yet
            checks.append(Check(f"{slug}: card only (no protocol yet)", True,
                                f"claims stay skipped; unregistered datasets: {', '.join(unknown_data) or 'none'}"))
        else:
            checks.append(Check(f"{slug}: datasets it names are registered", not unknown_data,
                                ", ".join(unknown_data)))
        if dry_run and rep.protocol is not None:
            checks.append(_dry_run(slug, reg))
    return checks


def _dry_run(slug: str, registries) -> Check:
    from affrepro.runner import reproduce

    with scratch_dir("conformance-dry-run") as tmp:
        try:
            report = reproduce(slug, dry_run=True, track=False, output_dir=Path(tmp) / "run",
                               registries=registries)
        except Exception as exc:
            return Check(f"{slug}: dry run passes", False, f"{type(exc).__name__}: {exc}")
    errors = [r.claim.id for r in report.results if r.verdict.value == "error"]
    ok = report.status == "FINISHED" and not errors
    detail = (report.error or "").strip().splitlines()[-1:] or [f"claims in error: {', '.join(errors)}" if errors else
                                                                  f"{len(report.results)} claims exercised"]
    return Check(f"{slug}: dry run passes", ok, detail[0])
