"""SemEval-2007 as released by the REDAffectiveLM authors: a 1-D array of headline strings and
an (n, 5) array of normalised label distributions, read without unpickling."""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from affrepro.errors import MalformedFileError
from affrepro.reproductions.redaffectivelm_2023.datasets import HEADLINES, LABELS

EMOTIONS = ("anger", "fear", "joy", "sadness", "surprise")
# the characters the authors' corpus-statistics script deletes before tokenising
DELETED = "~!@#$%^&*()_-+={}[]|\\/><'?.,-+`:;"


@dataclass(frozen=True)
class SemEval:
    headlines: list[str]
    labels: np.ndarray  # (n_label_rows, 5), rows sum to 1


def read_semeval(folder: Path) -> SemEval:
    h_path, l_path = folder / HEADLINES, folder / LABELS
    try:
        headlines = np.load(h_path, allow_pickle=False)
        labels = np.load(l_path, allow_pickle=False)
    except ValueError as exc:  # an object array would need unpickling: refused
        raise MalformedFileError(h_path, f"not a plain NumPy array: {exc}") from None
    if headlines.ndim != 1 or headlines.dtype.kind != "U":
        raise MalformedFileError(h_path, f"expected a 1-D array of strings, got {headlines.dtype} {headlines.shape}")
    if labels.ndim != 2 or labels.shape[1] != len(EMOTIONS) or labels.dtype.kind != "f":
        raise MalformedFileError(l_path, f"expected an (n, 5) float array, got {labels.dtype} {labels.shape}")
    if not np.isfinite(labels).all() or (labels < 0).any():
        raise MalformedFileError(l_path, "labels must be finite and non-negative")
    return SemEval([str(x) for x in headlines], labels)


def tokens(headline: str) -> list[str]:
    """The authors' corpus-statistics tokens: lower case, ``DELETED`` characters removed,
    then runs of word characters (``RegexpTokenizer(r'\\w+')``)."""
    return re.findall(r"\w+", headline.lower().translate(str.maketrans("", "", DELETED)))


def corpus_statistics(headlines: list[str], n_documents: int = 1250) -> dict[str, float]:
    toks = [tokens(h) for h in headlines]
    total = sum(len(t) for t in toks)
    return {"tokens": total, "words_per_document": total / n_documents,
            "unique_words": len(Counter(w for t in toks for w in t))}


def write_synthetic(folder: Path, seed: int = 0) -> None:
    """40 headlines and 38 label rows (the real files also disagree in length)."""
    from affrepro.fileio import atomic_write_bytes, atomic_write_text

    rng = np.random.default_rng(seed)
    words = np.array(["storm", "hits", "coast", "stocks", "rally", "pope", "visits", "iraq", "new", "cancer",
                      "drug", "approved", "mars", "rover", "finds", "water", "us", "elections", "2008"])
    headlines = np.array([" ".join(rng.choice(words, size=int(rng.integers(2, 9)))) for _ in range(40)])
    raw = rng.random((38, 5))
    labels = raw / raw.sum(axis=1, keepdims=True)
    import io

    for name, arr in ((HEADLINES, headlines), (LABELS, labels)):
        buf = io.BytesIO()
        np.save(buf, arr, allow_pickle=False)
        atomic_write_bytes(folder / name, buf.getvalue())
    atomic_write_text(folder / "NRC-AffectIntensity-Lexicon.txt", "term\tscore\tAffectDimension\nstorm\t0.5\tfear\n")
