import numpy as np
import pytest

from affrepro.plugins.metrics.bootstrap import bootstrap_ci, bootstrap_distribution


def _mae(a, b):
    return float(np.mean(np.abs(np.asarray(a) - np.asarray(b))))


def test_reproducible_and_brackets_the_point_estimate():
    rng = np.random.default_rng(1)
    y = rng.normal(size=200)
    p = y + rng.normal(scale=0.5, size=200)
    lo, hi = bootstrap_ci(_mae, y, p, n_resamples=300, seed=3)
    assert (lo, hi) == bootstrap_ci(_mae, y, p, n_resamples=300, seed=3)
    assert lo < _mae(y, p) < hi
    assert bootstrap_ci(_mae, y, p, n_resamples=300, seed=4) != (lo, hi)


def test_matches_scipy_percentile_bootstrap_roughly():
    scipy_stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(2)
    y = rng.normal(size=300)
    p = y + rng.normal(size=300)
    lo, hi = bootstrap_ci(_mae, y, p, n_resamples=2000, seed=0)
    res = scipy_stats.bootstrap((y, p), _mae, paired=True, vectorized=False, n_resamples=2000,
                                method="percentile", random_state=0)
    assert lo == pytest.approx(res.confidence_interval.low, abs=0.03)
    assert hi == pytest.approx(res.confidence_interval.high, abs=0.03)


def test_percentiles_of_the_replicates():
    y = np.arange(50.0)
    p = y[::-1].copy()
    reps = bootstrap_distribution(_mae, y, p, n_resamples=100, seed=0)
    lo, hi = bootstrap_ci(_mae, y, p, n_resamples=100, confidence=0.9, seed=0)
    assert (lo, hi) == tuple(np.percentile(reps, [5, 95]))


def test_nan_resamples_dropped_with_warning():
    def sometimes_nan(a, b):
        return float("nan") if a[0] < 1 else float(np.mean(a))
    y = np.array([0.0, 1.0, 2.0, 3.0])
    with pytest.warns(RuntimeWarning, match="gave NaN"):
        lo, hi = bootstrap_ci(sometimes_nan, y, y, n_resamples=200)
    assert np.isfinite(lo) and np.isfinite(hi)


def test_too_short_and_bad_arguments():
    with pytest.warns(RuntimeWarning, match="at least 2"):
        assert np.isnan(bootstrap_ci(_mae, [1.0], [1.0])[0])
    with pytest.raises(ValueError):
        bootstrap_ci(_mae, [1, 2], [1, 2], confidence=1.5)
    with pytest.raises(ValueError):
        bootstrap_ci(_mae, [1, 2, 3], [1, 2])
