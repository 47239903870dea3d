"""Split audits: is a dataset's train/dev/test (or fold) partition clean?

A dataset plugin names a function (``Dataset.splits = "module:function"``) that reads the
verified folder and returns one or more :class:`Partition`: a table with one row per item,
the column saying which split it is in, the identity columns (the dataset's unit:
speakers, participants, dialogues, soundscapes), the item's text or a fingerprint of its
decoded signal, and its label. For each partition the audit reports, as facts (never as
failures):

- **identity overlap**: every unit found in more than one split, with the splits (units
  with the most items first);
- **exact duplicates**: distinct texts (or fingerprints) found in more than one split, and
  per split how many of its items have one;
- **near duplicates**: texts equal only after normalisation (:func:`normalise_text`:
  Unicode NFKC, case folded, URLs, @mentions and a leading "RT" removed, punctuation and
  white space collapsed) found in more than one split, beyond the exact ones;
- **label distribution shift**: each split's label shares and the total variation
  distance TV(p, q) = ½ Σ_c |p_c − q_c| between the split and all the other splits pooled.

Every reproduction that reads the dataset runs its split audit; the findings go to
report.json (``details.split_audits``), report.md and ``split_audit.tsv`` (an MLflow
artifact with every cross-split unit and text).
"""
from __future__ import annotations

import csv
import hashlib
import io
import re
import traceback
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_URL = re.compile(r"https?://\S+|www\.\S+")
_MENTION = re.compile(r"@\w+")
_RT = re.compile(r"^rt\b:?")
_NON_WORD = re.compile(r"[\W_]+")
MARKDOWN_LIST_LIMIT = 30  # units/texts listed in report.md per check; the TSV has them all


@dataclass(frozen=True)
class Partition:
    """One way a dataset is split. ``rows``: dicts with the split column, the unit columns,
    ``item`` (text, or an audio fingerprint when ``audio``) and ``label``. A unit value may
    be a list (an utterance spoken by two characters)."""

    name: str
    split_column: str
    rows: list[dict[str, Any]]
    units: tuple[str, ...] = ()
    audio: bool = False  # items are fingerprints or identifiers: no text normalisation
    note: str = ""
    items: str = ""  # what the items are, for the report ("stimuli"); default texts/fingerprints


def normalise_text(text: str) -> str:
    t = unicodedata.normalize("NFKC", str(text)).casefold()
    t = _URL.sub(" ", t)
    t = _MENTION.sub(" ", t)
    t = _RT.sub(" ", t.strip())
    return _NON_WORD.sub(" ", t).strip()


def exact_key(text: str) -> str:
    return str(text).strip()


def audio_fingerprint(signal: Any, bands: int = 32) -> str:
    """A cheap fingerprint of a decoded signal: the signal (channels averaged) cut into
    ``bands`` equal segments, each segment's RMS level in dB rounded to 1 dB, hashed. Equal
    recordings (whatever the file container) share it; a re-encoded copy usually does."""
    import numpy as np

    x = np.asarray(signal, dtype=np.float64)
    if x.ndim > 1:
        x = x.mean(axis=-1)
    if x.size == 0:
        return "empty"
    segs = np.array_split(x, bands)
    levels = [round(10 * np.log10(np.mean(s * s) + 1e-12)) if s.size else -120 for s in segs]
    return hashlib.sha256(np.asarray(levels, dtype=np.int16).tobytes()).hexdigest()[:16]


def _cross(keys_by_split: Mapping[str, Iterable[str]]) -> dict[str, list[str]]:
    """key -> sorted splits, for keys found in more than one split."""
    where: dict[str, set[str]] = defaultdict(set)
    for split, keys in keys_by_split.items():
        for k in keys:
            if k != "":
                where[k].add(split)
    return {k: sorted(v) for k, v in sorted(where.items()) if len(v) > 1}


def _unit_values(value: Any) -> list[str]:
    """An item's units: one value, or several (a list/tuple: an utterance with two speakers)."""
    if value is None or value == "":
        return []
    if isinstance(value, (list, tuple, set, frozenset)):
        return [str(v) for v in value if v not in (None, "")]
    return [str(value)]


def audit_partition(p: Partition) -> dict[str, Any]:
    by_split: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in p.rows:
        by_split[str(r[p.split_column])].append(r)
    splits = list(by_split)  # in order of appearance (train, dev, test; events by date)
    out: dict[str, Any] = {"partition": p.name, "split_column": p.split_column, "note": p.note,
                           "splits": {s: len(by_split[s]) for s in splits}, "units": {}}
    for unit in p.units:
        cross = _cross({s: {v for r in rows for v in _unit_values(r.get(unit))} for s, rows in by_split.items()})
        items = Counter(v for r in p.rows for v in _unit_values(r.get(unit)))
        cross = dict(sorted(cross.items(), key=lambda kv: (-items[kv[0]], kv[0])))  # most items first
        out["units"][unit] = {"distinct": len({v for r in p.rows for v in _unit_values(r.get(unit))}),
                              "in_more_than_one_split": len(cross), "cross_split": cross}
    exact_fn = exact_key if not p.audio else str
    exact = _cross({s: {exact_fn(r["item"]) for r in rows} for s, rows in by_split.items()})
    kind = p.items or ("fingerprints" if p.audio else "texts")
    dup = {"kind": kind, "distinct_in_more_than_one_split": len(exact), "cross_split": exact,
           "items_with_a_copy_in_another_split": {s: sum(exact_fn(r["item"]) in exact for r in by_split[s])
                                                  for s in splits}}
    if not p.audio:
        norm = _cross({s: {normalise_text(r["item"]) for r in rows} for s, rows in by_split.items()})
        exact_norm = {normalise_text(k) for k in exact}
        near = {k: v for k, v in norm.items() if k not in exact_norm}
        dup["near"] = {"distinct_in_more_than_one_split": len(near), "cross_split": near,
                       "items_with_a_near_copy_in_another_split": {
                           s: sum(normalise_text(r["item"]) in near for r in by_split[s]) for s in splits}}
    out["duplicates"] = dup
    out["labels"] = _label_shift(by_split)
    return out


def _label_shift(by_split: Mapping[str, list[dict[str, Any]]]) -> dict[str, Any]:
    counts = {s: Counter(str(r["label"]) for r in rows) for s, rows in by_split.items()}
    labels = sorted(set().union(*counts.values())) if counts else []
    shares, tv = {}, {}
    for s, c in counts.items():
        n = sum(c.values())
        rest = Counter()
        for t, ct in counts.items():
            if t != s:
                rest.update(ct)
        m = sum(rest.values())
        shares[s] = {lab: c[lab] / n if n else 0.0 for lab in labels}
        tv[s] = (0.5 * sum(abs(c[lab] / n - rest[lab] / m) for lab in labels)) if n and m else 0.0
    return {"labels": labels, "shares": shares, "tv_distance_to_other_splits": tv,
            "max_tv_distance": max(tv.values()) if tv else 0.0}


def run_split_audit(dataset: Any, folder: Path, synthetic: bool = False) -> dict[str, Any]:
    """The split audit of one dataset (its ``splits`` function on ``folder``)."""
    import importlib

    module, _, func = dataset.splits.partition(":")
    entry: dict[str, Any] = {"dataset": dataset.name, "synthetic": synthetic, "partitions": [], "error": None}
    try:
        fn: Callable[[Path], list[Partition]] = getattr(importlib.import_module(module), func)
        entry["partitions"] = [audit_partition(p) for p in fn(Path(folder))]
    except Exception as exc:  # a broken split reader must not stop the paper's run
        entry["error"] = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        entry["traceback"] = traceback.format_exc()
    return entry


def split_audits(datasets: Iterable[Any], folders: Mapping[str, Path], synthetic: Iterable[str] = (),
                 stage: Callable[[str], None] = lambda msg: None) -> list[dict[str, Any]]:
    """Split audits of the datasets a run resolved that declare their splits."""
    synthetic = set(synthetic)
    out = []
    for ds in datasets:
        if getattr(ds, "splits", "") and ds.name in folders:
            stage(f"auditing the splits of {ds.name}")
            out.append(run_split_audit(ds, folders[ds.name], ds.name in synthetic))
    return out


def table_rows(audits: Iterable[Mapping[str, Any]]) -> list[list[str]]:
    """Every finding as a row: dataset, partition, check, key, splits, count."""
    rows = [["dataset", "partition", "check", "key", "splits", "count"]]
    for a in audits:
        for p in a["partitions"]:
            base = [a["dataset"], p["partition"]]
            for s, n in p["splits"].items():
                rows.append(base + ["items", s, s, str(n)])
            for unit, u in p["units"].items():
                for key, splits in u["cross_split"].items():
                    rows.append(base + [f"{unit} in several splits", key, ",".join(splits), str(len(splits))])
            d = p["duplicates"]
            for key, splits in d["cross_split"].items():
                rows.append(base + [f"exact duplicate ({d['kind']})", key, ",".join(splits), str(len(splits))])
            for key, splits in (d.get("near") or {}).get("cross_split", {}).items():
                rows.append(base + ["near-duplicate text (normalised)", key, ",".join(splits), str(len(splits))])
            for s, tv in p["labels"]["tv_distance_to_other_splits"].items():
                rows.append(base + ["label TV distance to the other splits", s, s, f"{tv:.4f}"])
        if a.get("error"):
            rows.append([a["dataset"], "", "error", a["error"], "", ""])
    return rows


def write_table(folder: Path, audits: list[Mapping[str, Any]]) -> Path | None:
    """``split_audit.tsv`` (atomically) in the run folder, logged with the run's artifacts."""
    if not audits:
        return None
    from affrepro.fileio import atomic_write_text

    buf = io.StringIO()
    w = csv.writer(buf, delimiter="\t", lineterminator="\n")
    for row in table_rows(audits):
        w.writerow([c.replace("\t", " ").replace("\n", " ") for c in row])
    return atomic_write_text(Path(folder) / "split_audit.tsv", buf.getvalue())


def _listing(cross: Mapping[str, list[str]]) -> str:
    items = [f"{k} ({', '.join(v)})" for k, v in list(cross.items())[:MARKDOWN_LIST_LIMIT]]
    more = len(cross) - MARKDOWN_LIST_LIMIT
    return "; ".join(items) + (f"; … and {more} more (split_audit.tsv)" if more > 0 else "")


def render_markdown(d: Mapping[str, Any]) -> list[str]:
    audits = (d.get("details") or {}).get("split_audits")
    if not audits:
        return []
    lines = ["", "## Split audits (facts about the splits, not failures)", ""]
    for a in audits:
        lines += [f"### {a['dataset']}" + (" (synthetic data: says nothing about the corpus)" if a["synthetic"] else ""), ""]
        if a.get("error"):
            lines += [f"The split audit failed: {a['error']}", ""]
        for p in a["partitions"]:
            lines += [f"**{p['partition']}** — splits by `{p['split_column']}`: "
                      + ", ".join(f"{s} {n:,}" for s, n in p["splits"].items()) + "."]
            if p["note"]:
                lines.append(f"{p['note']}")
            for unit, u in p["units"].items():
                lines.append(f"- {unit}: {u['in_more_than_one_split']:,} of {u['distinct']:,} in more than one split"
                             + (f": {_listing(u['cross_split'])}" if u["cross_split"] else ""))
            dup = p["duplicates"]
            per = ", ".join(f"{s} {n:,}" for s, n in dup["items_with_a_copy_in_another_split"].items())
            lines.append(f"- exact duplicate {dup['kind']} across splits: {dup['distinct_in_more_than_one_split']:,} "
                         f"distinct; items with a copy in another split: {per}")
            if "near" in dup:
                near = dup["near"]
                per = ", ".join(f"{s} {n:,}" for s, n in near["items_with_a_near_copy_in_another_split"].items())
                lines.append(f"- near-duplicate texts (equal once normalised, beyond the exact ones): "
                             f"{near['distinct_in_more_than_one_split']:,} distinct; items: {per}")
            lab = p["labels"]
            tv = ", ".join(f"{s} {v:.3f}" for s, v in lab["tv_distance_to_other_splits"].items())
            lines.append(f"- label shift (total variation distance to the other splits pooled): {tv}")
            lines.append("")
    return lines
