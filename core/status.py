"""What each paper needs before it can run here: the datasets it reads, what keeps each
claim from being measured, and the status column of ``list`` and ``report``. ``reproduce``,
``list``/``report`` and the CLI's ``--data-dir`` all ask these functions."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from affrepro.components import Reproduction
from affrepro.registry import Registries

if TYPE_CHECKING:
    from affrepro.claims import Claim


def datasets_needed(rep: Reproduction) -> list[str]:
    """The datasets a paper reads, each once: its protocol's, then those its claims name."""
    claims = rep.card.claims
    return list(dict.fromkeys([*rep.datasets, *(d for c in claims for d in c.requires.datasets)]))


def missing_extras(extras: tuple[str, ...] | list[str]) -> dict[str, list[str]]:
    """For each extra of affrepro (``pip install 'affrepro[EXTRA]'``) that a paper names
    and that is not fully installed here: the packages it lacks."""
    import re
    from importlib.metadata import PackageNotFoundError, distribution

    if not extras:
        return {}
    try:
        requires = distribution("affrepro").requires or []
    except PackageNotFoundError:
        return {}
    missing: dict[str, list[str]] = {}
    for extra in extras:
        marker = re.compile(rf"""extra\s*==\s*["']{re.escape(extra)}["']""")
        names = [re.match(r"[A-Za-z0-9_.\-]+", r).group(0) for r in requires if marker.search(r)]
        if not names:
            missing[extra] = [f"(affrepro declares no extra {extra!r})"]
            continue
        absent = [n for n in names if not _installed(n)]
        if absent:
            missing[extra] = absent
    return missing


def _installed(name: str) -> bool:
    from importlib.metadata import PackageNotFoundError, version

    try:
        version(name)
    except PackageNotFoundError:
        return False
    return True


def extras_reason(missing: dict[str, list[str]]) -> str:
    """``missing_extras``'s answer as the reason a claim is skipped."""
    return "; ".join(f"needs the {extra} extra (missing: {', '.join(names)}): "
                     f"pip install 'affrepro[{extra}]'" for extra, names in missing.items())


def missing_requirements(claim: Claim, registries: Registries, unavailable: Mapping[str, str],
                         device: str | None = None) -> list[str]:
    """Why ``claim`` cannot be measured here, one reason each (empty: it can).
    ``unavailable`` maps a dataset that is not at hand to why and how to get it;
    ``device=None`` leaves the GPU out (a status, not a run)."""
    reasons = []
    for name in claim.requires.datasets:
        if name not in registries.datasets:
            reasons.append(f"needs dataset {name!r}, which no plugin registers")
        elif name in unavailable:
            reasons.append(f"needs dataset {name!r}: {unavailable[name]}")
    for name in claim.requires.models:
        if name not in registries.models:
            reasons.append(f"needs model {name!r}, which affrepro does not implement yet "
                           "(no plugin registers it)")
    # claim.requires.llm: an LLM backend is always there (the embedded default model)
    if device is not None and claim.requires.gpu and not device.startswith("cuda"):
        reasons.append("needs a GPU: run with --device cuda on a machine with one")
    return reasons


@dataclass(frozen=True)
class PaperStatus:
    slug: str
    title: str
    paper_class: str
    n_claims: int
    status: str  # "runnable here" | "needs data" | "needs a model backend" | "no computational claims" | "card error"
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {"slug": self.slug, "title": self.title, "class": self.paper_class,
                "claims": self.n_claims, "status": self.status, "detail": self.detail}


def paper_status(rep: Reproduction, registries: Registries, here: bool = True) -> PaperStatus:
    """What the paper needs. ``here=True`` looks at this machine's verified data (the markers
    of :mod:`affrepro.verified`: a stat per file, no hashing, no network); ``here=False`` describes a fresh install, where licensed
    data is never present (the README's table)."""
    from affrepro import data as datamod
    from affrepro.errors import AffreproError
    from affrepro.verified import verified_folder

    def here_and_verified(ds) -> bool:  # verified data, never a folder's mere existence
        return here and verified_folder(ds, datamod.dataset_path(ds))

    try:
        card = rep.card
    except AffreproError as exc:
        return PaperStatus(rep.slug, "?", "?", 0, "card error", str(exc).splitlines()[0])
    base = dict(slug=rep.slug, title=card.title, paper_class=card.paper_class, n_claims=len(card.claims))
    if card.paper_class == "D":
        return PaperStatus(**base, status="no computational claims", detail="card only")
    if not card.claims and rep.protocol is None:
        if card.paper_class == "C":
            return PaperStatus(**base, status="needs a model backend",
                               detail="needs an LLM/MLLM backend; published numbers: " + card.numbers)
        if card.paper_class == "B":
            return PaperStatus(**base, status="needs data",
                               detail=f"data {card.data_access}; published numbers: {card.numbers}")
        return PaperStatus(**base, status="no computational claims", detail="no protocol or claims yet")
    needed = datasets_needed(rep)
    missing, fetchable, missing_names = [], [], set()
    for name in needed:
        if name not in registries.datasets:
            missing.append(f"{name} (no plugin registers it)")
            missing_names.add(name)
            continue
        ds = registries.datasets.get(name)
        if ds.access == "public" and not ds.auto_fetch and not here_and_verified(ds):
            missing.append(f"{name} (`affrepro data fetch {name}`, large)")
            missing_names.add(name)
        elif ds.access == "public":
            fetchable.append(name)
        elif not here_and_verified(ds):
            linked = here and datamod.dataset_path(ds).is_dir()
            missing.append(f"{name} ({ds.access}: " + (f"linked but not verified: `affrepro data verify {name}`)"
                                                       if linked else f"`affrepro data link {name} PATH`)"))
            missing_names.add(name)
    models = sorted({m for c in card.claims for m in c.requires.models if m not in registries.models})
    llm = any(c.requires.llm for c in card.claims)
    unavailable = dict.fromkeys(missing_names, "missing")
    # an LLM backend is always present (the embedded default model)
    runnable_claims = [c for c in card.claims
                       if not missing_requirements(c, registries, unavailable)]
    if llm and rep.protocol is None:
        return PaperStatus(**base, status="needs a model backend",
                           detail="claims need an LLM protocol, not written yet")
    # a protocol that runs without claims (results beside the card's claims) is runnable once
    # its own datasets are here, whatever its claims still need
    own_missing = [d for d in rep.datasets if d in missing_names or d not in registries.datasets]
    extension = rep.protocol is not None and rep.run_without_claims and not own_missing
    if missing and not runnable_claims and not extension:
        return PaperStatus(**base, status="needs data", detail="; ".join(missing))
    parts = []
    if fetchable:
        parts.append("fetches " + ", ".join(fetchable))
    if len(runnable_claims) < len(card.claims):
        rest = []
        if missing:
            rest.append("data " + ", ".join(sorted(missing_names)))
        if models:
            rest.append("models " + ", ".join(models))
        parts.append(f"{len(runnable_claims)}/{len(card.claims)} claims; others need " + " and ".join(rest))
    if rep.protocol is None:
        return PaperStatus(**base, status="needs data" if missing else "no computational claims",
                           detail="protocol not implemented yet")
    return PaperStatus(**base, status="runnable here", detail="; ".join(parts))


def here_line(slug: str, registries: Registries) -> str:
    """``show``'s status line, from verified data as ``list`` has it."""
    st = paper_status(registries.reproductions.get(slug), registries)
    return f"  here: {st.status}" + (f" ({st.detail})" if st.detail else "")
