import numpy as np
import pytest

from affrepro.plugins.metrics._base import DegenerateInputWarning
from affrepro.plugins.metrics.distribution import (
    JSDivergence, KLDivergence, Wasserstein1D, js_divergence, kl_divergence, wasserstein_1d,
)

stats = pytest.importorskip("scipy.stats")
distance = pytest.importorskip("scipy.spatial.distance")


def test_wasserstein_against_scipy():
    rng = np.random.default_rng(0)
    u, v = rng.integers(1, 8, 60), rng.integers(1, 8, 90)
    assert wasserstein_1d(u, v) == pytest.approx(stats.wasserstein_distance(u, v), rel=1e-12)
    a, b = rng.normal(size=40), rng.normal(loc=0.5, size=33)
    wa, wb = rng.random(40), rng.random(33)
    assert wasserstein_1d(a, b, wa, wb) == pytest.approx(
        stats.wasserstein_distance(a, b, wa, wb), rel=1e-10)


def test_wasserstein_ordinal_categories_and_streaming():
    cats = ["strongly disagree", "disagree", "neutral", "agree", "strongly agree"]
    u = ["agree", "agree", "neutral", "strongly agree"]
    v = ["disagree", "neutral", "neutral", "agree"]
    # positions 3,3,2,4 vs 1,2,2,3: mean shift of 1 with ordered CDFs -> W1 = 1
    assert wasserstein_1d(u, v, categories=cats) == pytest.approx(1.0)
    s = Wasserstein1D(categories=cats).update(u[:2], v[:1]).merge(
        Wasserstein1D(categories=cats).update(u[2:], v[1:]))
    assert s.compute() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="not in categories"):
        wasserstein_1d(["maybe"], ["agree"], categories=cats)


def test_kl_js_against_scipy():
    rng = np.random.default_rng(1)
    p, q = rng.random(7), rng.random(7)
    assert kl_divergence(p, q) == pytest.approx(stats.entropy(p, q), rel=1e-12)
    assert kl_divergence(p, q, base=2) == pytest.approx(stats.entropy(p, q, base=2), rel=1e-12)
    assert js_divergence(p, q) == pytest.approx(distance.jensenshannon(p, q) ** 2, rel=1e-10)
    assert js_divergence(p, q, base=2) <= 1.0
    assert kl_divergence(p, p) == 0.0


def test_divergences_stream_counts():
    p1, q1 = np.array([3, 0, 1]), np.array([1, 1, 1])
    p2, q2 = np.array([1, 2, 1]), np.array([2, 0, 2])
    for cls, fn in [(KLDivergence, kl_divergence), (JSDivergence, js_divergence)]:
        merged = cls().update(p1, q1).merge(cls().update(p2, q2)).compute()
        assert merged == pytest.approx(fn(p1 + p2, q1 + q2))
        assert cls().update(np.stack([p1, p2]), np.stack([q1, q2])).compute() == pytest.approx(merged)


def test_kl_infinite_and_smoothing():
    with pytest.warns(RuntimeWarning, match="inf"):
        assert kl_divergence([0.5, 0.5], [1.0, 0.0]) == float("inf")
    assert np.isfinite(kl_divergence([0.5, 0.5], [1.0, 0.0], smoothing=1e-3))
    assert js_divergence([1.0, 0.0], [0.0, 1.0]) == pytest.approx(np.log(2))


def test_degenerate_and_bad():
    with pytest.warns(DegenerateInputWarning):
        assert np.isnan(wasserstein_1d([], [1.0]))
    with pytest.warns(DegenerateInputWarning):
        assert np.isnan(kl_divergence([0, 0], [1, 1]))
    with pytest.warns(DegenerateInputWarning, match="NaN"):
        assert np.isnan(js_divergence([np.nan, 1], [1, 1]))
    with pytest.raises(ValueError):
        kl_divergence([-1, 2], [1, 1])
    with pytest.raises(ValueError):
        kl_divergence([1, 2], [1, 1, 1])
