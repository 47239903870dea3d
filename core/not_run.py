"""What a run that measured nothing needed: said in the terminal, report.json
(``details.not_run``), report.md (its warnings) and MLflow, never an empty table alone.

A paper whose protocol did not run and none of whose claims was measured (no claims at
all, as sewa-2019's results-only protocol, or every claim skipped) still ends FINISHED,
with every claim ``skipped``: nothing failed, something is missing here. The message
names each missing thing and how to get it (dataset: fetch or link; model; extra).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping

from affrepro.claims import ClaimResult, Verdict


def protocol_needs(protocol_missing: bool, protocol_datasets: Iterable[str], folders: Mapping,
                   unavailable: Mapping[str, str], extras_reason: str) -> list[str]:
    """Why the protocol itself could not run, one item per missing thing."""
    needs = []
    if protocol_missing:
        needs.append("a protocol: affrepro has none for this paper yet")
    if extras_reason:
        needs.append(extras_reason)
    for d in protocol_datasets:
        if d not in folders:
            needs.append(f"dataset {d!r}: {unavailable.get(d, 'no plugin registers it')}")
    return needs


def nothing_measured(results: Iterable[ClaimResult], protocol_ran: bool, needs: list[str]) -> list[str] | None:
    """Everything the run lacked when it measured nothing (None when something was measured):
    the protocol's needs, then each distinct reason its claims were skipped."""
    results = list(results)
    if protocol_ran or any(r.measured is not None for r in results):
        return None
    if any(r.verdict is Verdict.ERROR for r in results):
        return None  # a failed run explains itself
    out = list(needs)
    for r in results:
        reason = r.reason[len("needs "):] if r.reason.startswith("needs ") else r.reason
        if r.verdict is Verdict.SKIPPED and not any(reason in n or n in reason for n in out):
            out.append(reason)
    return out


def message(paper: str, needs: list[str], has_claims: bool) -> str:
    """One line for the terminal and report.md; with claims, their skip reasons (shown
    per claim already) are not repeated."""
    if has_claims:
        return f"nothing was measured for {paper}: every claim was skipped (the reasons are listed per claim)"
    if not needs:
        return f"nothing was measured for {paper}"
    return f"nothing was measured for {paper}; it needs " + "; ".join(needs)
