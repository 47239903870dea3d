"""The audit and baseline helpers, a dry run on the synthetic corpus, and one end-to-end run
on the mirrored real data."""
from __future__ import annotations

import json

import numpy as np
import pytest

from affrepro.reproductions.natural_hazards_2020.audit import auc, best_threshold, cohen_kappa
from affrepro.reproductions.natural_hazards_2020.baselines import (
    bootstrap_ci, confusion, metrics_from_counts, splits, tokens)


def test_agreement_helpers():
    score = np.array([-0.5, -0.1, 0.0, 0.2, 0.4, 0.9])
    label = np.array([1, 1, 1, 0, 0, 0])  # label 1 exactly when score <= 0
    assert auc(score, label) == 0.0 and auc(-score, label) == 1.0
    agree, t, rule = best_threshold(score, label)
    assert agree == 1.0 and rule == "1 = score <= t" and 0.0 <= t < 0.2
    assert cohen_kappa(label, label) == 1.0 and cohen_kappa(label, 1 - label) == -1.0
    assert best_threshold(np.array([0.0, 0.0, 0.0]), np.array([1, 0, 1]))[0] == pytest.approx(2 / 3)


def test_local_metrics_equal_registered_ones(registries):
    rng = np.random.default_rng(0)
    y, p = rng.integers(0, 2, 500), rng.integers(0, 2, 500)
    local = metrics_from_counts(confusion(y, p))
    for name in ("accuracy", "f1_macro", "uar"):
        assert local[name] == pytest.approx(registries.metrics.get(name)(y.tolist(), p.tolist()), abs=1e-12)


def test_bootstrap_interval_brackets_the_estimate_and_is_seeded():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 2000)
    p = np.where(rng.random(2000) < 0.8, y, 1 - y)
    ci = bootstrap_ci(y, p, seed=3)
    point = metrics_from_counts(confusion(y, p))
    for m, (lo, hi) in ci.items():
        assert lo < point[m] < hi and hi - lo < 0.06
    assert ci == bootstrap_ci(y, p, seed=3)


def test_splits_keep_repeated_texts_together_and_leave_events_out(tmp_path):
    from affrepro.reproductions.natural_hazards_2020.loaders import load_corpus
    from affrepro.reproductions.natural_hazards_2020.synthetic import write_corpus

    write_corpus(tmp_path, seed=0, n_per_event=40)
    t = load_corpus(tmp_path).table
    groups, events = t["group"].to_numpy(), t["event"].to_numpy()
    seen = {}
    for proto, scope, fold, tr, te in splits(t, seed=0):
        assert not set(groups[tr]) & set(groups[te])
        if proto == "loeo":
            assert set(events[te]) == {scope} and scope not in set(events[tr])
        else:
            seen.setdefault((proto, scope), []).append(te)
    for (proto, scope), tests in seen.items():
        covered = np.sort(np.concatenate(tests))
        expect = np.flatnonzero(events == scope) if proto == "cv5_within_event" else np.arange(len(t))
        assert len(tests) == 5 and np.array_equal(covered, expect)


def test_tokens():
    assert tokens("RT @Bob: Food! https://t.co/x #Sandy don't") == [
        "rt", "@bob", ":", "food", "!", "<url>", "#sandy", "don't"]


def test_dry_run_on_synthetic_data(tmp_path, registries, tracking_uri):
    """Every stage on the synthetic corpus, tracked (MLflow refuses some metric names)."""
    from affrepro.runner import reproduce

    report = reproduce("natural-hazards-2020", dry_run=True, output_dir=tmp_path / "out",
                       tracking_uri=tracking_uri, registries=registries)
    assert report.status == "FINISHED", report.error
    assert {r.verdict.value for r in report.results} == {"skipped"}
    for name in ("tables.md", "confusion_cv5_pooled.png", "per_event_f1_macro.png", "label_audit_agreement.png"):
        assert (tmp_path / "out" / name).stat().st_size > 0
    assert report.details["metric_consistency_with_registered_metrics"] is True


@pytest.mark.realdata
def test_end_to_end_on_the_real_data(mirror, monkeypatch, tmp_path, tracking_uri, registries):
    """The whole reproduction on the nine real files, tracked in MLflow."""
    from affrepro.runner import reproduce

    monkeypatch.setenv("AFFREPRO_DATA_MIRROR", str(mirror))
    out = tmp_path / "out"
    report = reproduce("natural-hazards-2020", output_dir=out, tracking_uri=tracking_uri,
                       registries=registries)
    assert report.status == "FINISHED", report.error
    by_id = {r.claim.id: r for r in report.results}
    # the files hold 41,998 records, not the 49,816 the README states
    assert by_id["dataset-size"].measured == 41998
    assert by_id["dataset-size"].verdict.value == "not reproduced"
    assert by_id["dataset-size-abstract"].verdict.value == "not reproduced"
    d = json.loads((out / "report.json").read_text())
    assert d["details"]["dataset"]["kept"] == 39965
    audit = d["details"]["label_audit"]["by_text"]["text"]
    # Matthew and Michael: label 1 exactly when TextBlob polarity <= 0
    for ev in ("2016-matthew", "2018-michael"):
        assert audit[ev]["textblob>0"]["agree_1_is_not_positive"] == 1.0
    base = {(r["protocol"], r["scope"], r["model"]): r for r in d["details"]["baselines"]["results"]}
    for proto in ("cv5_within_event", "cv5_pooled", "loeo"):
        for model in ("tfidf_lr", "tfidf_svm", "tfidf_nb", "fasttext"):
            r = base[(proto, "all", model)]
            assert r["n"] == 39965 and 0.5 < r["f1_macro"] < 1
            assert r["f1_macro_ci"][0] <= r["f1_macro"] <= r["f1_macro_ci"][1]
    import mlflow

    run = mlflow.MlflowClient(tracking_uri).get_run(report.run_id)
    assert run.info.status == "FINISHED"
    assert "baseline.cv5_pooled.all.tfidf_lr.f1_macro" in run.data.metrics
    artifacts = {a.path for a in mlflow.MlflowClient(tracking_uri).list_artifacts(report.run_id)}
    assert {"tables.md", "confusion_cv5_pooled.png", "per_event_f1_macro.png"} <= artifacts


def test_multinomial_bootstrap_agrees_with_the_shared_pair_bootstrap():
    """For confusion-matrix metrics, drawing the four cell counts from a multinomial is the
    same distribution as resampling (y_true, y_pred) pairs, which the shared helper does."""
    shared = pytest.importorskip("affrepro.plugins.metrics.bootstrap")
    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, 3000)
    p = np.where(rng.random(3000) < 0.75, y, 1 - y)
    local = bootstrap_ci(y, p, n_resamples=2000, seed=0)
    for name in ("accuracy", "f1_macro", "uar"):
        fn = lambda a, b, name=name: float(metrics_from_counts(confusion(a, b))[name])  # noqa: E731
        lo, hi = shared.bootstrap_ci(fn, y, p, n_resamples=2000, seed=0)
        assert local[name][0] == pytest.approx(lo, abs=0.004)
        assert local[name][1] == pytest.approx(hi, abs=0.004)
