"""affectnet-vad-2026: VAD -> class probabilities against scipy, far-away points, the
transcribed Gaussians against the mirrored CSV, and the probability-file loader."""
from __future__ import annotations

import csv

import numpy as np
import pytest
from scipy.stats import multivariate_normal

from affrepro.reproductions.affectnet_vad_2026 import loaders, relabel


def test_log_likelihoods_match_scipy():
    means, stds = relabel.class_parameters()
    rng = np.random.default_rng(0)
    pts = rng.uniform(-1, 1, size=(7, 3))
    ll = relabel.log_likelihoods(pts, means, stds)
    for k in range(means.shape[0]):
        ref = multivariate_normal(means[k], np.diag(stds[k] ** 2)).logpdf(pts)
        np.testing.assert_allclose(ll[:, k], ref, rtol=1e-12, atol=1e-12)
    probs = relabel.relabel(pts)
    dens = np.stack([multivariate_normal(means[k], np.diag(stds[k] ** 2)).pdf(pts)
                     for k in range(means.shape[0])], axis=1)
    np.testing.assert_allclose(probs, dens / dens.sum(1, keepdims=True), rtol=1e-9, atol=1e-15)


def test_far_points_do_not_underflow():
    probs = relabel.relabel([[50.0, -50.0, 50.0], [0.0, 0.0, 0.0], [0.81, 0.51, 0.46]])
    assert np.isfinite(probs).all()
    np.testing.assert_allclose(probs.sum(1), 1.0)
    assert probs[1].argmax() == relabel.UNIVERSAL_ORDER.index("neutral")
    assert probs[2].argmax() == relabel.UNIVERSAL_ORDER.index("happy")


def test_gaussians_equal_the_mirrored_csv(mirror):
    path = mirror / "affectnet_b" / "russell_mehrabian_1977_7terms_vad_gaussians.csv"
    with open(path, newline="", encoding="utf-8") as fh:
        rows = {r["class"]: tuple(float(r[k]) for k in ("valence mean", "valence std", "arousal mean",
                                                         "arousal std", "dominance mean", "dominance std"))
                for r in csv.DictReader(fh)}
    assert rows == relabel.GAUSSIANS


def test_probability_file_loader(tmp_path):
    ann = tmp_path / "train_set" / "annotations"
    ann.mkdir(parents=True)
    (tmp_path / "val_set" / "annotations").mkdir(parents=True)
    (ann / "100002_prob_rank_universal.txt").write_text(
        "0.000001,0.000085,0.000004,0.000000,0.000000,0.000000,0.000013,0.999897\n")
    (ann / "100002_prob_rank.txt").write_text(",".join(["0.000000"] * 14 + ["1.000000"]) + "\n")
    uni = loaders.load_split(tmp_path, "train_set")
    assert list(uni) == ["100002"] and uni["100002"][-1] == pytest.approx(0.999897)
    assert len(loaders.load_split(tmp_path, "train_set", "rank")["100002"]) == 15
    assert loaders.verify(tmp_path) == []
    (ann / "7_prob_rank_universal.txt").write_text("0.5,0.5\n")
    (ann / "8_prob_rank_universal.txt").write_text("0.9,0,0,0,0,0,0,0.3\n")
    problems = [str(p) for p in loaders.verify(tmp_path)]
    assert any("7_prob" in p and "expected 8 values" in p for p in problems)
    assert any("8_prob" in p and "sum to" in p for p in problems)


def test_distributions_compare_with_registered_divergences(registries):
    if "js_divergence" not in registries.metrics:
        pytest.skip("no plugin registers js_divergence")
    p, q = relabel.relabel([[0.8, 0.5, 0.4], [-0.6, 0.6, -0.2]])
    js = registries.metrics.get("js_divergence")(p, q)
    from scipy.spatial.distance import jensenshannon

    assert js == pytest.approx(jensenshannon(p, q) ** 2, rel=1e-6)  # natural log
