"""Loader and verifier for polarization-2025's per-conversation CSV files.

The authors' pipeline (llm_prompting_*.py) writes one CSV per root tweet, named
``<rootTweetId>_<YYYY-MM-DD>.pkl_conversation_tweets.csv``, UTF-8 with a BOM, into one
folder per topic (``outputs/all_climateChange``, ``outputs/all_gunControl``). Columns, in
order: ``Tweet ID`` (the index), ``Author ID``, ``Tweet Text``, ``Author Stance``,
``Parent Tweet ID`` (``Root Author`` for the root), ``Parent Author ID``, ``Parent Author
Stance``, ``Tweet Stance``, ``Tweet Affect`` (yes/no), ``Tweets Agreement`` (yes/no, empty
for the root), the three ``… Explanation`` columns, and ``Interaction Class`` (0–10,
empty for the root). Only rows with a class, and the root, are kept by the authors.
"""
from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from affrepro.components import Problem

COLUMNS = (
    "Tweet ID", "Author ID", "Tweet Text", "Author Stance", "Parent Tweet ID",
    "Parent Author ID", "Parent Author Stance", "Tweet Stance", "Tweet Affect",
    "Tweets Agreement", "Tweet Stance Explanation", "Tweet Affect Explanation",
    "Tweets Agreement Explanation", "Interaction Class",
)
TOPIC_DIRS = {"climate change": "all_climateChange", "gun control": "all_gunControl"}
FILE_RE = re.compile(r"^(\d+)_(\d{4}-\d{2}-\d{2})\.pkl_conversation_tweets\.csv$")
ROOT = "Root Author"
VALID_CLASSES = {0, 2, 4, 6, 8, 10}
YES_NO = {"yes", "no"}


@dataclass
class Conversation:
    root_id: str
    date: dt.date
    path: Path
    stored_classes: list[float]        # 'Interaction Class' of the replies, as released
    recomputed_classes: list[float]    # from the stance/affect/agreement labels
    n_rows: int = 0

    @property
    def classes(self) -> list[float]:
        return self.stored_classes if self.stored_classes else self.recomputed_classes


@dataclass
class Corpus:
    topic: str
    conversations: list[Conversation] = field(default_factory=list)


def parse_name(name: str) -> tuple[str, dt.date] | None:
    m = FILE_RE.match(name)
    if not m:
        return None
    try:
        return m.group(1), dt.date.fromisoformat(m.group(2))
    except ValueError:
        return None


def _is_missing(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or (isinstance(v, str) and not v.strip())


def _read(path: Path):
    import pandas as pd

    return pd.read_csv(path, dtype=str, keep_default_na=True, encoding="utf-8-sig")


def read_conversation(path: Path) -> Conversation:
    """One conversation file: its stored interaction classes and the classes recomputed
    from the labels (reply vs its parent in the same file)."""
    from affrepro.reproductions.polarization_2025.scoring import interaction_class

    parsed = parse_name(path.name)
    if parsed is None:
        raise ValueError(f"{path.name}: not <rootTweetId>_<YYYY-MM-DD>.pkl_conversation_tweets.csv")
    df = _read(path)
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"{path}: missing columns {', '.join(missing)}")
    by_id = {str(r["Tweet ID"]).strip(): r for _, r in df.iterrows()}
    stored, recomputed = [], []
    for _, row in df.iterrows():
        cls = row["Interaction Class"]
        if not _is_missing(cls):
            stored.append(float(cls))
        parent = row["Parent Tweet ID"]
        if _is_missing(parent) or str(parent).strip() == ROOT:
            continue
        prow = by_id.get(str(parent).strip().split(".")[0])
        if prow is None:
            continue
        recomputed.append(float(interaction_class(
            row["Tweet Stance"], prow["Tweet Stance"], row["Tweet Affect"], prow["Tweet Affect"],
            row["Tweets Agreement"])))
    return Conversation(parsed[0], parsed[1], path, stored, recomputed, n_rows=len(df))


def load_topic(folder: Path, topic: str) -> Corpus:
    sub = Path(folder) / TOPIC_DIRS[topic]
    corpus = Corpus(topic)
    if not sub.is_dir():
        return corpus
    for path in sorted(sub.iterdir()):
        if parse_name(path.name):
            corpus.conversations.append(read_conversation(path))
    return corpus


def verify(folder: Path) -> list[Problem]:
    """Every problem with a folder of conversation files: topic folders, file names,
    columns, label values, interaction classes."""
    folder = Path(folder)
    problems: list[Problem] = []
    if not folder.is_dir():
        return [Problem(str(folder), "not a folder")]
    found_any = False
    for topic, sub in TOPIC_DIRS.items():
        d = folder / sub
        if not d.is_dir():
            problems.append(Problem(sub, f"missing folder for topic {topic!r}"))
            continue
        for path in sorted(d.iterdir()):
            rel = f"{sub}/{path.name}"
            if not path.name.endswith(".csv"):
                continue
            if parse_name(path.name) is None:
                problems.append(Problem(rel, "file name is not <rootTweetId>_<YYYY-MM-DD>"
                                             ".pkl_conversation_tweets.csv"))
                continue
            found_any = True
            try:
                df = _read(path)
            except Exception as exc:  # a truncated or non-CSV file
                problems.append(Problem(rel, f"unreadable CSV: {exc}"))
                continue
            missing = [c for c in COLUMNS if c not in df.columns]
            if missing:
                problems.append(Problem(rel, f"missing columns: {', '.join(missing)}"))
                continue
            roots = 0
            for i, row in df.iterrows():
                line = int(i) + 2  # header is line 1
                if str(row["Parent Tweet ID"]).strip() == ROOT:
                    roots += 1
                for col in ("Tweet Affect", "Tweets Agreement"):
                    v = row[col]
                    if not _is_missing(v) and str(v).strip().lower() not in YES_NO:
                        problems.append(Problem(rel, f"expected yes/no, got {v!r}", line, col))
                cls = row["Interaction Class"]
                if not _is_missing(cls):
                    try:
                        ok = float(cls) in VALID_CLASSES
                    except ValueError:
                        ok = False
                    if not ok:
                        problems.append(Problem(rel, f"expected one of 0,2,4,6,8,10, got {cls!r}",
                                                line, "Interaction Class"))
            if roots != 1:
                problems.append(Problem(rel, f"expected exactly one root row (Parent Tweet ID = "
                                             f"{ROOT!r}), found {roots}", column="Parent Tweet ID"))
    if not found_any and not problems:
        problems.append(Problem(str(folder), "no conversation files"))
    return problems
