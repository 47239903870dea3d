"""redaffectivelm-2023 on the released SemEval-2007 arrays: the corpus statistics in the
authors' ``Dataset/dataset_details_scrapper_sem_eval.py`` (tokens, words per document,
unique words), and the evidence on how 1,250 headlines relate to 1,246 label rows.

Alignment: the arrays carry no key. The protocol measures how often the strongest NRC
Affect Intensity emotion of a headline (anger, fear, joy, sadness: summed lexicon
intensities of its words) equals the strongest label of the row paired with it, for the
label row i paired with headline i + k, k = 0..4. Positional alignment (k = 0) would be
expected to agree far above the 25 % of chance; the numbers are recorded, not claimed.
"""
from __future__ import annotations

import csv
from collections import Counter
import re

import numpy as np

from affrepro.reproductions.redaffectivelm_2023.loaders import corpus_statistics, read_semeval

LEXICON_EMOTIONS = ("anger", "fear", "joy", "sadness")  # the label columns the lexicon also has


def read_lexicon(path) -> dict[str, dict[str, float]]:
    from affrepro.errors import MalformedFileError

    lex: dict[str, dict[str, float]] = {}
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh, delimiter="\t")
        if reader.fieldnames != ["term", "score", "AffectDimension"]:
            raise MalformedFileError(path, f"expected the header term, score, AffectDimension, got {reader.fieldnames}",
                                     line=1)
        for n, row in enumerate(reader, start=2):
            try:
                lex.setdefault(row["term"], {})[row["AffectDimension"]] = float(row["score"])
            except (TypeError, ValueError):
                raise MalformedFileError(path, f"score {row['score']!r} is not a number", line=n, column="score") from None
    return lex


def offset_agreement(headlines: list[str], labels: np.ndarray, lexicon, offsets=range(5)) -> dict[int, dict]:
    """For each offset k: headlines with a lexicon hit paired with label row i = j - k, and the
    share whose strongest lexicon emotion is the row's strongest of anger/fear/joy/sadness."""
    scores = np.zeros((len(headlines), len(LEXICON_EMOTIONS)))
    for j, h in enumerate(headlines):
        for w in re.findall(r"\w+", h.lower()):
            for e, emo in enumerate(LEXICON_EMOTIONS):
                scores[j, e] += lexicon.get(w, {}).get(emo, 0.0)
    hit = scores.sum(axis=1) > 0
    out = {}
    for k in offsets:
        pairs = [(i, i + k) for i in range(len(labels)) if i + k < len(headlines) and hit[i + k]]
        agree = [int(np.argmax(scores[j]) == np.argmax(labels[i, :4])) for i, j in pairs]
        out[k] = {"pairs": len(pairs), "agreement": float(np.mean(agree)) if agree else float("nan")}
    return out


def run(ctx) -> dict[str, float]:
    root = ctx.data_path("semeval2007")
    data = read_semeval(root)
    stats = corpus_statistics(data.headlines, n_documents=len(data.headlines))
    ctx.deviation("words per document divides by the number of headlines in the file; the authors' script "
                  "divides by the constant 1250 (the same when the file holds 1,250 headlines)")
    n_h, n_l = len(data.headlines), len(data.labels)
    repeated = {h: n for h, n in Counter(data.headlines).items() if n > 1}
    agreement = offset_agreement(data.headlines, data.labels, read_lexicon(root / "NRC-AffectIntensity-Lexicon.txt"))
    ctx.note("alignment", {
        "headlines": n_h, "label_rows": n_l, "headlines_without_a_label_row_if_paired_by_position": n_h - n_l,
        "distinct_headlines": len(set(data.headlines)), "repeated_headlines": len(repeated),
        "label_rows_sum_to_one": bool(np.allclose(data.labels.sum(axis=1), 1.0)),
        "lexicon_argmax_agreement_by_offset": agreement,
        "chance_agreement": 1 / len(LEXICON_EMOTIONS),
        "conclusion": ("the files carry no key; paired by position the lexicon agrees with the labels "
                       f"{agreement[0]['agreement']:.1%} of the time against 25% by chance, no better than "
                       "other offsets by a margin that would identify an alignment, so headlines and labels "
                       "are not paired by this loader (the script's comment calls the headlines 'shuffled')"),
    })
    for k, a in agreement.items():
        ctx.record(f"alignment.lexicon_agreement.offset_{k}", a["agreement"])
    ctx.record("alignment.headlines", n_h)
    ctx.record("alignment.label_rows", n_l)
    ctx.deviation(f"{n_h} headlines and {n_l} label rows with no key between them: the loader does not pair "
                  "them (label-based claims would need the authors' alignment, which is not released)")
    measured = {"semeval2007.tokens": stats["tokens"], "semeval2007.words-per-document": stats["words_per_document"],
                "semeval2007.unique-words": stats["unique_words"]}
    return {k: v for k, v in measured.items() if k in ctx.claims_to_measure}
