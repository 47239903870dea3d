"""Label audit: were the undocumented binary labels produced by a lexicon labeller?

Each tweet is scored with TextBlob (pattern analyser, ``polarity`` in [-1, 1]) and VADER
(``compound`` in [-1, 1]), on the repaired text and on the raw text as released. Each
decision rule below turns a score into "lexicon positive" (1) or not (0):

- ``textblob>0``      polarity > 0 (neutral counted as not positive)
- ``textblob>=0``     polarity >= 0 (neutral counted as positive)
- ``vader>=0.05``     compound >= 0.05 (Hutto & Gilbert's positive threshold)
- ``vader>-0.05``     compound > -0.05 (Hutto & Gilbert's "not negative")
- ``vader>0``, ``vader>=0``

Agreement is reported under both readings of the label: ``1 = positive`` and
``1 = not positive`` (the two are complements: a = 1 - a'), with Cohen's kappa (its sign
says which reading fits) per event and overall. Because a label might come from a score
with a threshold other than the common ones, the audit also reports, per event, the ROC
AUC of each score for separating the labels (1.0 or 0.0: the label is a monotone function
of the score, whatever the threshold) and the best single-threshold agreement.
"""
from __future__ import annotations

from typing import Any

import numpy as np

RULES = {
    "textblob>0": ("textblob", lambda s: s > 0),
    "textblob>=0": ("textblob", lambda s: s >= 0),
    "vader>=0.05": ("vader", lambda s: s >= 0.05),
    "vader>-0.05": ("vader", lambda s: s > -0.05),
    "vader>0": ("vader", lambda s: s > 0),
    "vader>=0": ("vader", lambda s: s >= 0),
}


def lexicon_versions() -> dict[str, str]:
    from importlib.metadata import version

    return {p: version(p) for p in ("textblob", "vaderSentiment", "ftfy")}


def score_texts(texts: list[str], progress=lambda label, done, total: None) -> dict[str, dict[str, float]]:
    """{text: {"textblob": polarity, "vader": compound}} for every distinct text."""
    from textblob import TextBlob
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    vader = SentimentIntensityAnalyzer()
    unique = list(dict.fromkeys(texts))
    out = {}
    step = max(1, len(unique) // 10)
    for i, t in enumerate(unique):
        if i % step == 0:
            progress("label audit: TextBlob and VADER", i, len(unique))
        out[t] = {"textblob": float(TextBlob(t).sentiment.polarity),
                  "vader": float(vader.polarity_scores(t)["compound"])}
    progress("label audit: TextBlob and VADER", len(unique), len(unique))
    return out


def cohen_kappa(a: np.ndarray, b: np.ndarray) -> float:
    """κ = (p_o − p_e) / (1 − p_e) for two binary raters; NaN when p_e = 1."""
    a, b = np.asarray(a, int), np.asarray(b, int)
    po = float((a == b).mean())
    pe = float(a.mean() * b.mean() + (1 - a.mean()) * (1 - b.mean()))
    return (po - pe) / (1 - pe) if pe < 1 else float("nan")


def auc(score: np.ndarray, label: np.ndarray) -> float:
    """P(score of a label-1 tweet > score of a label-0 tweet), ties counting one half."""
    from scipy.stats import rankdata

    score, label = np.asarray(score, float), np.asarray(label, int)
    n1, n0 = int(label.sum()), int((1 - label).sum())
    if n1 == 0 or n0 == 0:
        return float("nan")
    ranks = rankdata(score)
    return float((ranks[label == 1].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def best_threshold(score: np.ndarray, label: np.ndarray) -> tuple[float, float, str]:
    """The threshold t and direction maximising agreement of [score > t] (or [score <= t])
    with the label: (agreement, t, "1 = score > t" | "1 = score <= t")."""
    score, label = np.asarray(score, float), np.asarray(label, int)
    order = np.argsort(score, kind="stable")
    s, y = score[order], label[order]
    n = len(s)
    # predict 1 above the cut: cut after position k (k = 0..n): ones above = total1 - cum1
    cum1 = np.concatenate([[0], np.cumsum(y)])
    total1 = cum1[-1]
    k = np.arange(n + 1)
    zeros_below = k - cum1
    agree_up = (zeros_below + (total1 - cum1)) / n
    valid = np.concatenate([[True], s[1:] != s[:-1], [True]])  # cut only between distinct scores
    agree_up = np.where(valid, agree_up, -1)
    agree_down = np.where(valid, 1 - agree_up, -1)
    i_up, i_down = int(np.argmax(agree_up)), int(np.argmax(agree_down))

    def cut(i):
        return float(s[i - 1]) if i > 0 else float(s[0]) - 1e-9

    if agree_up[i_up] >= agree_down[i_down]:
        return float(agree_up[i_up]), cut(i_up), "1 = score > t"
    return float(agree_down[i_down]), cut(i_down), "1 = score <= t"


def run_audit(table, progress=lambda label, done, total: None) -> dict[str, Any]:
    """Agreement tables (per event and overall) for every rule, on repaired and raw text."""
    texts = list(table["text"]) + list(table["raw_text"])
    scores = score_texts(texts, progress)
    label = table["label"].to_numpy(int)
    events = list(dict.fromkeys(table["event"]))
    result: dict[str, Any] = {"rules": {k: RULES[k][0] for k in RULES}, "versions": lexicon_versions()}
    per_source = {}
    for source in ("text", "raw_text"):
        sc = {lex: np.array([scores[t][lex] for t in table[source]]) for lex in ("textblob", "vader")}
        rows = {}
        for scope in events + ["all"]:
            mask = np.ones(len(table), bool) if scope == "all" else (table["event"] == scope).to_numpy()
            y = label[mask]
            row: dict[str, Any] = {"n": int(mask.sum()), "label_1_share": float(y.mean())}
            for rule, (lex, fn) in RULES.items():
                pos = fn(sc[lex][mask]).astype(int)
                row[rule] = {"agree_1_is_positive": float((pos == y).mean()),
                             "agree_1_is_not_positive": float((pos != y).mean()),
                             "kappa_1_is_positive": cohen_kappa(pos, y)}
            for lex in ("textblob", "vader"):
                s = sc[lex][mask]
                agree, t, direction = best_threshold(s, y)
                row[f"{lex}_auc"] = auc(s, y)
                row[f"{lex}_best_threshold"] = {"agreement": agree, "threshold": t, "rule": direction}
                row[f"{lex}_neutral"] = {"n": int((s == 0).sum()), "label_1": int(y[s == 0].sum())}
                row[f"{lex}_sign_by_label"] = {
                    str(lab): {"negative": int(((s < 0) & (y == lab)).sum()),
                               "zero": int(((s == 0) & (y == lab)).sum()),
                               "positive": int(((s > 0) & (y == lab)).sum())} for lab in (0, 1)}
            rows[scope] = row
        per_source[source] = rows
    result["by_text"] = per_source
    result["findings"] = findings(per_source["text"], events)
    return result


def findings(rows: dict[str, Any], events: list[str]) -> list[str]:
    """Plain statements the tables support, computed (not written by hand)."""
    out = []
    exact, near, weak = [], [], []
    for ev in events:
        r = rows[ev]
        best_rule = max(RULES, key=lambda k: max(r[k]["agree_1_is_positive"], r[k]["agree_1_is_not_positive"]))
        a_pos, a_not = r[best_rule]["agree_1_is_positive"], r[best_rule]["agree_1_is_not_positive"]
        reading = "1 = positive" if a_pos >= a_not else "1 = not positive"
        best = max(a_pos, a_not)
        line = (f"{ev}: best common rule {best_rule} with label {reading}: agreement {best:.3f}; "
                f"TextBlob AUC {r['textblob_auc']:.3f}, VADER AUC {r['vader_auc']:.3f}; best single "
                f"TextBlob threshold agrees {r['textblob_best_threshold']['agreement']:.3f} "
                f"({r['textblob_best_threshold']['rule']}, t = {r['textblob_best_threshold']['threshold']:.3f})")
        out.append(line)
        (exact if best >= 0.999 else near if best >= 0.95 else weak).append(ev)
    out.append(f"label is exactly a common lexicon rule (>= 99.9% agreement): {', '.join(exact) or 'none'}")
    thresholded = [f"{ev} (label 1 = polarity <= {rows[ev]['textblob_best_threshold']['threshold']:.3f}, "
                   f"{rows[ev]['textblob_best_threshold']['agreement']:.4f})" for ev in events
                   if ev not in exact and rows[ev]["textblob_best_threshold"]["agreement"] >= 0.999
                   and rows[ev]["textblob_best_threshold"]["rule"] == "1 = score <= t"]
    out.append("label is a TextBlob polarity threshold other than the common ones (>= 99.9%): "
               + (", ".join(thresholded) or "none"))
    out.append(f"nearly a common rule (95-99.9%): {', '.join(near) or 'none'}")
    out.append(f"no common rule reaches 95%: {', '.join(weak) or 'none'}")
    unexplained = [ev for ev in events if ev not in exact + near
                   and max(rows[ev][f"{lex}_best_threshold"]["agreement"] for lex in ("textblob", "vader")) < 0.95]
    out.append("neither a common rule nor any single TextBlob or VADER threshold reaches 95% "
               f"(labels of unknown origin): {', '.join(unexplained) or 'none'}")
    r = rows["all"]
    best_all = max(max(r[k]["agree_1_is_positive"], r[k]["agree_1_is_not_positive"]) for k in RULES)
    out.append(f"overall, the best common rule agrees with {best_all:.3f} of the labels")
    return out
