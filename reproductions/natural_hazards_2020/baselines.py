"""Sentiment baselines: TF-IDF + logistic regression / linear SVM / naive Bayes, and a
fastText-style bag of n-grams in torch, under

- ``cv5_within_event``: stratified 5-fold CV inside each event,
- ``cv5_pooled``: stratified 5-fold CV on all events together (stratified on event x label),
- ``loeo``: leave one event out (train on eight events, test on the ninth),

always with duplicate texts in one fold (``StratifiedGroupKFold`` on the loader's ``group``;
in ``loeo`` training tweets whose text also occurs in the held-out event are removed).
Scores are computed on the out-of-fold predictions of all folds together, with 95%
percentile-bootstrap intervals over tweets.

The paper's own classifiers and their table were not retrieved: these are reported
results, not claims.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

MODELS = ("tfidf_lr", "tfidf_svm", "tfidf_nb", "fasttext")
METRICS = ("accuracy", "f1_macro", "uar")
_TOKEN = re.compile(r"https?://\S+|pic\.twitter\.com/\S+|[#@]?\w+(?:'\w+)?|[^\w\s]", re.UNICODE)


def tokens(text: str) -> list[str]:
    out = []
    for t in _TOKEN.findall(text.lower()):
        out.append("<url>" if t.startswith(("http", "pic.twitter")) else t)
    return out


_NGRAM_CACHE: dict[str, list[str]] = {}


def ngrams(text: str) -> list[str]:
    """Uni- and bigrams of the tokens (cached: every split reuses them)."""
    grams = _NGRAM_CACHE.get(text)
    if grams is None:
        toks = tokens(text)
        grams = toks + [f"{a} {b}" for a, b in zip(toks, toks[1:])]
        _NGRAM_CACHE[text] = grams
    return grams


# -- metrics and bootstrap ------------------------------------------------------------------

def confusion(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """[tn, fp, fn, tp] for binary labels."""
    yt, yp = np.asarray(y_true, int), np.asarray(y_pred, int)
    return np.bincount(2 * yt + yp, minlength=4)


def metrics_from_counts(c: np.ndarray) -> dict[str, np.ndarray]:
    """Accuracy, macro-F1 and UA from confusion counts (last axis [tn, fp, fn, tp]).

    accuracy = (tp + tn) / n; F1_k = 2 TP_k / (2 TP_k + FP_k + FN_k), macro-F1 = mean over the
    two classes; UA = (recall_0 + recall_1) / 2. A class with no true and no predicted items
    gets F1 = 0 and recall = 0, as scikit-learn's zero_division=0 does."""
    c = np.asarray(c, float)
    tn, fp, fn, tp = c[..., 0], c[..., 1], c[..., 2], c[..., 3]
    n = c.sum(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        f1_1 = np.where(2 * tp + fp + fn > 0, 2 * tp / (2 * tp + fp + fn), 0.0)
        f1_0 = np.where(2 * tn + fn + fp > 0, 2 * tn / (2 * tn + fn + fp), 0.0)
        r1 = np.where(tp + fn > 0, tp / (tp + fn), 0.0)
        r0 = np.where(tn + fp > 0, tn / (tn + fp), 0.0)
    return {"accuracy": (tp + tn) / n, "f1_macro": (f1_0 + f1_1) / 2, "uar": (r0 + r1) / 2}


def bootstrap_ci(y_true, y_pred, *, n_resamples: int = 1000, confidence: float = 0.95,
                 seed: int = 0) -> dict[str, tuple[float, float]]:
    """Percentile bootstrap over tweets for accuracy, macro-F1 and UA.

    For metrics of the confusion matrix, resampling n tweets with replacement is the same as
    drawing the four cell counts from Multinomial(n, observed cell shares), which is what
    this does: the same percentile bootstrap as affrepro.plugins.metrics.bootstrap.bootstrap_ci
    (a test checks that the two agree), but one draw per resample instead of a metric call on
    n resampled pairs, which makes ~1,300 intervals a run take well under a second."""
    c = confusion(y_true, y_pred)
    n = int(c.sum())
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(n, c / n, size=n_resamples)
    values = metrics_from_counts(draws)
    lo, hi = (1 - confidence) / 2, 1 - (1 - confidence) / 2
    return {m: (float(np.quantile(v, lo)), float(np.quantile(v, hi))) for m, v in values.items()}


# -- models -----------------------------------------------------------------------------------

def count_matrix(texts):
    """Uni- and bigram counts of every text (documents x n-grams), computed once. Each split
    then selects its vocabulary from its own training rows only (``select``), which is what
    fitting a vectorizer per split does, without tokenising again."""
    from sklearn.feature_extraction.text import CountVectorizer

    return CountVectorizer(analyzer=ngrams, dtype=np.float32).fit_transform(texts).tocsr()


def select(counts, tr, te, min_df: int, max_features: int):
    """Columns seen in >= min_df training documents, the max_features most frequent (in
    training) kept: (train counts, test counts)."""
    xtr = counts[tr]
    df = np.bincount(xtr.indices, minlength=xtr.shape[1])
    cols = np.flatnonzero(df >= min_df)
    if len(cols) > max_features:
        tf = np.asarray(xtr[:, cols].sum(0)).ravel()
        cols = np.sort(cols[np.argsort(-tf, kind="stable")[:max_features]])
    return xtr[:, cols], counts[te][:, cols]


def fit_predict_sklearn(xtr_counts, y_train, xte_counts, seed: int) -> dict[str, np.ndarray]:
    """TF-IDF (sublinear tf, idf from the training rows) shared by the three linear models."""
    from sklearn.feature_extraction.text import TfidfTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.naive_bayes import MultinomialNB
    from sklearn.svm import LinearSVC

    if len(set(y_train)) < 2:  # a fold with one class: every model predicts it
        return {m: np.full(xte_counts.shape[0], y_train[0]) for m in MODELS[:3]}
    tfidf = TfidfTransformer(sublinear_tf=True)
    xtr = tfidf.fit_transform(xtr_counts)
    xte = tfidf.transform(xte_counts)
    models = {
        "tfidf_lr": LogisticRegression(C=1.0, max_iter=2000, solver="liblinear", random_state=seed),
        "tfidf_svm": LinearSVC(C=1.0, random_state=seed),
        "tfidf_nb": MultinomialNB(alpha=0.1),
    }
    return {name: model.fit(xtr, y_train).predict(xte) for name, model in models.items()}


@dataclass(frozen=True)
class FastTextConfig:
    dim: int = 16
    epochs: int = 5
    lr: float = 0.05
    batch_size: int = 1024
    min_count: int = 2
    max_ngrams: int = 20_000


def fit_predict_fasttext(xtr_counts, y_train, xte_counts, seed: int,
                         cfg: FastTextConfig = FastTextConfig()) -> np.ndarray:
    """fastText-style classifier (Joulin et al. 2017): the mean of learned uni- and bigram
    embeddings (an EmbeddingBag whose per-n-gram weights are the row-normalised counts), then
    a linear layer, trained with Adam on a class-weighted cross-entropy."""
    import scipy.sparse as sp
    import torch

    if len(set(y_train)) < 2:
        return np.full(xte_counts.shape[0], y_train[0])

    def mean_rows(x):
        s = np.asarray(x.sum(1), dtype=np.float32).ravel()
        s[s == 0] = 1
        return sp.csr_matrix(sp.diags(1 / s) @ x, dtype=np.float32)

    def bags(x):  # CSR rows -> EmbeddingBag input, offsets and per-n-gram weights
        return (torch.from_numpy(x.indices.astype(np.int64)),
                torch.from_numpy(x.indptr[:-1].astype(np.int64)), torch.from_numpy(x.data))

    xtr, xte = mean_rows(xtr_counts), mean_rows(xte_counts)
    torch.manual_seed(seed)
    gen = np.random.default_rng(seed)
    emb = torch.nn.EmbeddingBag(xtr.shape[1], cfg.dim, mode="sum")
    head = torch.nn.Linear(cfg.dim, 2)
    opt = torch.optim.Adam([*emb.parameters(), *head.parameters()], lr=cfg.lr)
    y = torch.tensor(np.asarray(y_train), dtype=torch.long)
    # class weights keep the minority class from being ignored (60-93% of labels are 1)
    freq = torch.bincount(y, minlength=2).float()
    loss_fn = torch.nn.CrossEntropyLoss(weight=freq.sum() / (2 * freq))
    n = xtr.shape[0]
    for _ in range(cfg.epochs):
        order = gen.permutation(n)
        for b in range(0, n, cfg.batch_size):
            idx = order[b:b + cfg.batch_size]
            ids, offsets, weights = bags(xtr[idx])
            loss = loss_fn(head(emb(ids, offsets, per_sample_weights=weights)), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    with torch.no_grad():
        ids, offsets, weights = bags(xte)
        return head(emb(ids, offsets, per_sample_weights=weights)).argmax(1).numpy()


# -- protocols --------------------------------------------------------------------------------

def splits(table, seed: int):
    """Yield (protocol, scope, fold, train_index, test_index) for all three protocols."""
    from sklearn.model_selection import StratifiedGroupKFold

    groups = table["group"].to_numpy()
    labels = table["label"].to_numpy()
    events = table["event"].to_numpy()
    for ev in dict.fromkeys(events):
        idx = np.flatnonzero(events == ev)
        cv = StratifiedGroupKFold(n_splits=5, shuffle=True, random_state=seed)
        for k, (tr, te) in enumerate(cv.split(idx, labels[idx], groups[idx])):
            yield "cv5_within_event", ev, k, idx[tr], idx[te]
    strat = np.char.add(events.astype(str), labels.astype(str))
    cv = StratifiedGroupKFold(n_splits=5, shuffle=True, random_state=seed)
    for k, (tr, te) in enumerate(cv.split(np.arange(len(table)), strat, groups)):
        yield "cv5_pooled", "all", k, tr, te
    for ev in dict.fromkeys(events):
        te = np.flatnonzero(events == ev)
        held = set(groups[te])
        tr = np.flatnonzero((events != ev) & ~np.isin(groups, list(held)))
        yield "loeo", ev, 0, tr, te


def run_baselines(table, seed: int = 0, models=MODELS, stage=lambda msg: None,
                  progress=lambda label, done, total: None,
                  fasttext_cfg: FastTextConfig = FastTextConfig(), map_units=None,
                  root=None) -> dict[str, Any]:
    """Out-of-fold predictions of every model under every protocol, and their scores.

    ``map_units(fn, {name: args})`` (the run's ``ctx.map``) computes each fold × model group
    (the TF-IDF linear models share a vocabulary; fastText) as an independent unit, reading
    the corpus from ``root`` where the unit runs; None computes them here in turn."""
    import torch

    torch.set_num_threads(1)  # small batches: one thread is faster than two on a busy machine
    y = table["label"].to_numpy(int)
    folds = list(splits(table, seed))
    preds: dict[tuple[str, str, str], np.ndarray] = {}
    leaks_removed = {}
    seconds = dict.fromkeys(("vocabulary", "tfidf_linear_models", "fasttext"), 0.0)
    groups = [g for g in (tuple(m for m in models if m.startswith("tfidf")),
                          tuple(m for m in models if m == "fasttext")) if g]
    if map_units is not None:
        stage("baselines: folds x model groups as units")
        done = map_units(fold_unit, {f"{p}/{sc}/fold{k}/{'+'.join(g)}": (root, seed, i, g, fasttext_cfg)
                                     for i, (p, sc, k, _, _) in enumerate(folds) for g in groups})
        per_fold = []
        for p, sc, k, _, _ in folds:
            out: dict[str, np.ndarray] = {}
            for g in groups:
                got, secs = done[f"{p}/{sc}/fold{k}/{'+'.join(g)}"]
                out.update(got)
                for name, v in secs.items():
                    seconds[name] += v
            per_fold.append(out)
    else:
        stage("baselines: counting uni- and bigrams")
        counts = count_matrix(table["text"].tolist())
        per_fold = None
    for i, (proto, scope, k, tr, te) in enumerate(folds):
        progress("baselines: folds", i, len(folds))
        if per_fold is not None:
            out = per_fold[i]
        else:
            out = {}
            for g in groups:
                got, secs = fold_predictions(counts, y, tr, te, g, seed, fasttext_cfg)
                out.update(got)
                for name, v in secs.items():
                    seconds[name] += v
        if proto == "loeo":
            ev_mask = table["event"].to_numpy() != scope
            leaks_removed[scope] = int(ev_mask.sum() - len(tr))
        for m in models:
            key = (proto, scope, m)
            if key not in preds:
                preds[key] = np.full(len(table), -1)
            preds[key][te] = out[m]
    progress("baselines: folds", len(folds), len(folds))
    events = list(dict.fromkeys(table["event"]))
    # within-event CV and leave-one-event-out: also one score over every event's predictions
    for proto in ("cv5_within_event", "loeo"):
        for m in models:
            p = np.full(len(table), -1)
            for ev in events:
                q = preds[(proto, ev, m)]
                p[q >= 0] = q[q >= 0]
            preds[(proto, "all", m)] = p
    results = []
    for (proto, scope, m), p in preds.items():
        mask = p >= 0
        results.append(_score(proto, scope, m, y[mask], p[mask], seed))
    for m in models:  # pooled CV broken down by event
        p = preds[("cv5_pooled", "all", m)]
        for ev in events:
            mask = (table["event"] == ev).to_numpy()
            results.append(_score("cv5_pooled", ev, m, y[mask], p[mask], seed))
    confusions = {f"{proto}/{scope}/{m}": confusion(y[p >= 0], p[p >= 0]).tolist()
                  for (proto, scope, m), p in preds.items() if scope == "all"}
    return {"results": results, "confusion": confusions, "n_folds": len(folds),
            "seconds": {k: round(v, 2) for k, v in seconds.items()},
            "loeo_training_tweets_removed_as_duplicates_of_test": leaks_removed,
            "predictions": preds}


def fold_predictions(counts, y: np.ndarray, tr: np.ndarray, te: np.ndarray, models: tuple[str, ...],
                     seed: int, fasttext_cfg: FastTextConfig) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """The test-fold predictions of ``models`` (TF-IDF linear ones, or fastText) trained on
    ``tr``, and the seconds each step took."""
    out: dict[str, np.ndarray] = {}
    seconds: dict[str, float] = {}
    if any(m.startswith("tfidf") for m in models):
        t0 = time.perf_counter()
        xtr, xte = select(counts, tr, te, min_df=2, max_features=50_000)
        t1 = time.perf_counter()
        got = fit_predict_sklearn(xtr, y[tr], xte, seed)
        out.update({m: got[m] for m in models if m in got})
        seconds["vocabulary"] = t1 - t0
        seconds["tfidf_linear_models"] = time.perf_counter() - t1
    if "fasttext" in models:
        t0 = time.perf_counter()
        xtr, xte = select(counts, tr, te, fasttext_cfg.min_count, fasttext_cfg.max_ngrams)
        out["fasttext"] = fit_predict_fasttext(xtr, y[tr], xte, seed, fasttext_cfg)
        seconds["fasttext"] = time.perf_counter() - t0
    return out, seconds


_CORPORA: dict[str, Any] = {}


def fold_unit(root, seed: int, i: int, models: tuple[str, ...],
              fasttext_cfg: FastTextConfig) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """One unit (``ctx.map``): fold ``i`` of ``splits(table, seed)`` for ``models``, with the
    corpus read from ``root`` where the unit runs (once per process, with its counts)."""
    import torch

    from affrepro.reproductions.natural_hazards_2020.loaders import load_corpus

    torch.set_num_threads(1)  # as run_baselines: the same arithmetic as a local run
    from pathlib import Path

    key = str([(str(f), f.stat().st_mtime_ns, f.stat().st_size)  # files rewritten are read again
               for f in sorted(Path(root).rglob("*")) if f.is_file()])
    if key not in _CORPORA:
        table = load_corpus(root).table
        _CORPORA.clear()
        _CORPORA[key] = (table, count_matrix(table["text"].tolist()), {})
    table, counts, fold_cache = _CORPORA[key]
    if seed not in fold_cache:
        fold_cache[seed] = list(splits(table, seed))
    _, _, _, tr, te = fold_cache[seed][i]
    return fold_predictions(counts, table["label"].to_numpy(int), tr, te, models, seed, fasttext_cfg)


def _score(proto, scope, model, y_true, y_pred, seed) -> dict[str, Any]:
    c = confusion(y_true, y_pred)
    point = {k: float(v) for k, v in metrics_from_counts(c).items()}
    ci = bootstrap_ci(y_true, y_pred, seed=seed)
    return {"protocol": proto, "scope": scope, "model": model, "n": int(c.sum()),
            **point, **{f"{k}_ci": list(v) for k, v in ci.items()}}
