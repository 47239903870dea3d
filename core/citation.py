"""What a citation needs: the paper's bibliographic record (from its card, never invented),
its BibTeX entry, and a "cite this run" block (affrepro version and commit, protocol
fingerprint, data origin with checksums, machine, wall time).

A field the card does not hold is left out of the BibTeX entry and shown as
"not recorded" in the report.
"""
from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

NOT_RECORDED = "not recorded"
_BIB_SPECIAL = re.compile(r"([&%#_$])")


def paper_metadata(card: Any) -> dict[str, Any]:
    """The card's bibliographic fields; an empty one is None."""
    links = (card.raw or {}).get("links") or {}
    return {"title": card.title or None, "authors": list(card.authors) or None, "venue": card.venue or None,
            "year": card.year or None, "doi": card.doi or None, "arxiv": card.arxiv or None,
            "code": list(links.get("code") or []), "data": list(links.get("data") or [])}


def entry_type(venue: str | None) -> str:
    """@misc for a preprint, @article for a journal or transactions, else @inproceedings."""
    if not venue or venue.lower().startswith("arxiv"):
        return "misc"
    if re.search(r"\b(journal|transactions|letters|magazine|review)\b", venue, re.I):
        return "article"
    return "inproceedings"


def bibtex_key(meta: Mapping[str, Any], slug: str) -> str:
    """surname + year + first title word, ASCII (``meng2020natural``); the slug without one."""
    authors = meta.get("authors") or []
    if not authors:
        return re.sub(r"[^a-z0-9]", "", slug)
    surname = authors[0].split()[-1]
    word = next((w for w in re.findall(r"[A-Za-z0-9]+", _ascii(meta.get("title") or ""))
                 if w.lower() not in {"a", "an", "the", "on", "of", "in"}), "")
    return re.sub(r"[^a-z0-9]", "", _ascii(surname).lower()) + str(meta.get("year") or "") + word.lower()


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def _bib_value(text: str) -> str:
    return _BIB_SPECIAL.sub(r"\\\1", str(text).replace("\\", "")).replace("{", "").replace("}", "")


def bibtex(meta: Mapping[str, Any], slug: str) -> str:
    """The paper's BibTeX entry, with only the fields the card records."""
    kind = entry_type(meta.get("venue"))
    fields: list[tuple[str, str]] = []
    if meta.get("title"):
        fields.append(("title", meta["title"]))
    if meta.get("authors"):
        fields.append(("author", " and ".join(meta["authors"])))
    venue = meta.get("venue")
    if venue and kind == "article":
        fields.append(("journal", venue))
    elif venue and kind == "inproceedings":
        fields.append(("booktitle", venue))
    elif venue and not venue.lower().startswith("arxiv"):
        fields.append(("howpublished", venue))
    if meta.get("year"):
        fields.append(("year", str(meta["year"])))
    if meta.get("doi"):
        fields.append(("doi", meta["doi"]))
    if meta.get("arxiv"):
        fields += [("eprint", meta["arxiv"]), ("archiveprefix", "arXiv")]
    if meta.get("doi"):
        fields.append(("url", f"https://doi.org/{meta['doi']}"))
    elif meta.get("arxiv"):
        fields.append(("url", f"https://arxiv.org/abs/{meta['arxiv']}"))
    body = ",\n".join(f"  {k} = {{{_bib_value(v) if k not in ('url', 'doi') else v}}}" for k, v in fields)
    return f"@{kind}{{{bibtex_key(meta, slug)},\n{body}\n}}\n"


def data_origin(datasets: Iterable[Any], info: Mapping[str, Mapping[str, Any]],
                mirror: str | None) -> dict[str, Any]:
    """Per dataset: where its files come from (each file's original URL; the mirror folder
    when one was configured and holds it; the user's folder for licensed data) and the
    sha256 of every file the run verified."""
    from pathlib import Path

    out: dict[str, Any] = {}
    for ds in datasets:
        entry = info.get(ds.name, {})
        mirror_copy = None
        if mirror and (Path(mirror) / ds.mirror_dir).is_dir():
            mirror_copy = str(Path(mirror) / ds.mirror_dir)
        out[ds.name] = {
            "access": ds.access, "status": entry.get("status"), "folder": entry.get("path"),
            "urls": {f.name: f.url for f in ds.files if f.url},
            "mirror": mirror_copy,
            "sha256": dict(entry.get("sha256") or {}),
        }
    return out


def run_citation(*, slug: str, card: Any, protocol_fingerprint: str, commit: str, version: str,
                 datasets: Iterable[Any], data_info: Mapping[str, Mapping[str, Any]], mirror: str | None,
                 hardware: Mapping[str, Any]) -> dict[str, Any]:
    """The report's ``citation`` entry: the paper (metadata and BibTeX) and the run."""
    meta = paper_metadata(card)
    gpus = ", ".join(g["name"] for g in hardware.get("gpus", [])) or "none"
    return {"paper": {**meta, "bibtex": bibtex(meta, slug)},
            "run": {"affrepro_version": version, "git_commit": commit,
                    "protocol_fingerprint": protocol_fingerprint,
                    "machine": f"{hardware.get('cpu')} ({hardware.get('cpu_count')} cores); GPU: {gpus}; "
                               f"{hardware.get('os')}; Python {hardware.get('python')}",
                    "data": data_origin(datasets, data_info, mirror)}}


def consistency_checks(details: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The checks a protocol ran on its inputs and outputs, as it noted them: a
    ``consistency_checks`` table, and every yes/no fact it noted (e.g. "the CSV is the public
    copy"). Each: name, value, and ok (True/False for a yes/no check, None for a number)."""
    rows: list[dict[str, Any]] = []
    for name, value in (details.get("consistency_checks") or {}).items():
        rows.append({"name": name, "value": value, "ok": value if isinstance(value, bool) else None})
    for name, value in details.items():
        if isinstance(value, bool):
            rows.append({"name": name, "value": value, "ok": value})
    return rows


def _v(value: Any) -> str:
    if value is None or value == "" or value == []:
        return NOT_RECORDED
    return ", ".join(value) if isinstance(value, list) else str(value)


def render_markdown(d: Mapping[str, Any]) -> list[str]:
    """The report's "Consistency checks", "Cite the paper" and "Cite this run" sections."""
    lines: list[str] = []
    checks = consistency_checks(d.get("details") or {})
    n_splits = len((d.get("details") or {}).get("split_audits") or [])
    n_data = len(d.get("dataset_audits") or [])
    lines += ["", "## Consistency checks this run made", ""]
    if not checks and not n_splits and not n_data:
        lines.append("- none recorded by the protocol")
    for c in checks:
        mark = "passed" if c["ok"] is True else "FAILED" if c["ok"] is False else "value"
        lines.append(f"- `{c['name']}`: {c['value']} ({mark})")
    if n_splits:
        lines.append(f"- split audits of {n_splits} dataset(s): see \"Split audits\"")
    if n_data:
        lines.append(f"- published statistics of {n_data} dataset(s) recomputed: see \"Dataset audits\"")
    cit = d.get("citation")
    if not cit:
        return lines + ["", "## Cite", "", f"- citation data: {NOT_RECORDED} (a report from before affrepro "
                        "recorded it)"]
    p, r = cit["paper"], cit["run"]
    lines += ["", "## Cite the paper", "",
              f"- authors: {_v(p.get('authors'))}", f"- title: {_v(p.get('title'))}",
              f"- venue: {_v(p.get('venue'))}", f"- year: {_v(p.get('year'))}",
              f"- DOI: {_v(p.get('doi'))}", f"- arXiv: {_v(p.get('arxiv'))}", "", "```bibtex",
              p["bibtex"].rstrip(), "```"]
    lines += ["", "## Cite this run", "", "```",
              f"paper:                {d['paper']}",
              f"affrepro:             {r['affrepro_version']} (git commit {r['git_commit']})",
              f"protocol fingerprint: {r['protocol_fingerprint']}",
              f"seeds / device:       {d.get('seeds')} / {d.get('device')}",
              f"machine:              {r['machine']}",
              f"started:              {d.get('started')}",
              f"wall time:            {d.get('duration_s')} s (the whole run)",
              f"MLflow run:           {d.get('run_id') or 'not tracked'}"]
    for name, o in r["data"].items():
        urls = sorted(set(o["urls"].values()))
        base = os.path.commonprefix(urls).rsplit("/", 1)[0] + "/" if len(urls) > 1 else ""
        origin = (urls[0] if len(urls) == 1 else base if urls else
                  "the user's own copy" if o["access"] != "public" else NOT_RECORDED)
        lines.append(f"data {name} ({o['access']}, {o['status']}): origin {origin}"
                     + (f"; mirror {o['mirror']}" if o.get("mirror") else ""))
        for fname, digest in o["sha256"].items():
            rest = o["urls"].get(fname, "")[len(base):] if base else ""
            lines.append(f"  sha256 {digest}  {fname}" + (f"  <- {rest}" if rest and rest != fname else ""))
    lines.append("```")
    return lines
