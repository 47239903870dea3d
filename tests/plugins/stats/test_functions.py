"""The stats plugin against SciPy and hand-computed values."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from affrepro.plugins.stats import functions as F


def test_relative_gain_and_improvement_by_hand():
    assert F.relative_gain_percent(0.5, 0.54) == pytest.approx(8.0)
    assert F.relative_gain_percent(0.2, 0.43) == pytest.approx(115.0)
    assert F.relative_gain_percent(-2.0, -1.0) == pytest.approx(50.0)
    assert F.relative_improvement_percent(1.0, 0.13) == pytest.approx(87.0)
    with pytest.warns(RuntimeWarning):
        assert math.isnan(F.relative_gain_percent(0.0, 1.0))
    with pytest.warns(RuntimeWarning):
        assert math.isnan(F.relative_improvement_percent(0.0, 1.0))


def test_percent_count_mean():
    assert F.percent([True, False, True, True]) == 75.0
    assert F.count(["a"] * 7) == 7.0
    assert F.mean([1, 2, 3, 4]) == 2.5
    with pytest.warns(RuntimeWarning):
        assert math.isnan(F.percent([]))


@pytest.mark.parametrize("ddof", [0, 1])
def test_sem_matches_scipy(ddof):
    x = [5.2, 4.8, 6.0, 5.5, 4.9, 7.1]
    assert F.sem(x, ddof=ddof) == pytest.approx(stats.sem(x, ddof=ddof))


def test_cohens_d_hand_made():
    a, b = [2, 4, 6, 8], [1, 3, 5]
    # pooled sd by hand: s_a² = 20/3, s_b² = 4; s_p² = (3·20/3 + 2·4)/5 = 28/5
    assert F.cohens_d(a, b) == pytest.approx((5 - 3) / math.sqrt(28 / 5))
    # against the t statistic of scipy's pooled t-test: d = t·sqrt(1/n_a + 1/n_b)
    rng = np.random.default_rng(0)
    x, y = rng.normal(1, 2, 40), rng.normal(0, 1, 25)
    t = stats.ttest_ind(x, y).statistic
    assert F.cohens_d(x, y) == pytest.approx(t * math.sqrt(1 / 40 + 1 / 25))
    with pytest.warns(RuntimeWarning):
        assert math.isnan(F.cohens_d([1, 1], [1, 1]))


def test_welch_matches_scipy():
    a = [5.0, 6.5, 7.0, 4.5, 8.0]
    b = [3.0, 3.5, 9.0, 2.0, 4.0, 6.0, 1.0]
    ours = F.welch_ttest(a, b)
    ref = stats.ttest_ind(a, b, equal_var=False)
    assert ours.statistic == pytest.approx(ref.statistic)
    assert ours.pvalue == pytest.approx(ref.pvalue)
    assert ours.df == pytest.approx(ref.df)
    with pytest.warns(RuntimeWarning):
        assert math.isnan(F.welch_ttest([1.0], [2.0, 3.0]).pvalue)


def test_two_proportion_ztest_matches_chi2():
    res = F.two_proportion_ztest(30, 80, 45, 90)
    chi2, p, _, _ = stats.chi2_contingency([[30, 50], [45, 45]], correction=False)
    assert res.statistic ** 2 == pytest.approx(chi2)
    assert res.pvalue == pytest.approx(p)
    assert res.statistic < 0  # 0.375 < 0.5
    with pytest.warns(RuntimeWarning):
        assert math.isnan(F.two_proportion_ztest(0, 10, 0, 10).pvalue)


def test_one_proportion_is_binomtest():
    res = F.one_proportion_test(3, 8, 0.5)
    assert res.statistic == 0.375
    assert res.pvalue == pytest.approx(stats.binomtest(3, 8, 0.5).pvalue)


def test_wasserstein_ordinal_hand_made_and_scipy():
    levels = ["strongly disagree", "disagree", "agree", "strongly agree"]
    p = F.ordinal_distribution(["disagree", "agree", "agree", "strongly agree"], levels)
    assert p == [0.0, 0.25, 0.5, 0.25]
    q = [0.25, 0.25, 0.25, 0.25]
    # by hand: CDFs P = 0, .25, .75, 1 and Q = .25, .5, .75, 1 -> W = .25 + .25 + 0 = 0.5
    assert F.wasserstein_ordinal(p, q) == pytest.approx(0.5)
    assert F.wasserstein_ordinal(p, q) == pytest.approx(
        stats.wasserstein_distance([0, 1, 2, 3], [0, 1, 2, 3], p, q))
    # moving all mass from level 0 to level 3 on a 1..7 scale costs 6 positions
    assert F.wasserstein_ordinal([1, 0], [0, 1], positions=[1, 7]) == pytest.approx(6.0)
    # a supplied 1-D Wasserstein function is used
    calls = []
    F.wasserstein_ordinal(p, q, wasserstein=lambda *a: calls.append(a) or 0.0)
    assert len(calls) == 1
    # improvement as persona-binding-2025 reports it
    base, new = F.wasserstein_ordinal([1, 0, 0], [0, 0, 1]), F.wasserstein_ordinal([0, 1, 0], [0, 0, 1])
    assert F.relative_improvement_percent(base, new) == pytest.approx(50.0)
    with pytest.raises(ValueError):
        F.ordinal_distribution(["maybe"], levels)


def test_registered_metrics(registries):
    for name in ("relative_gain_percent", "relative_improvement_percent", "percent", "count",
                 "mean", "cohens_d"):
        assert name in registries.metrics
    assert registries.metrics.get("relative_gain_percent")(1.0, 1.5) == pytest.approx(50.0)


def test_wasserstein_with_the_registered_metric_matches_scipy(registries):
    if "wasserstein_1d" not in registries.metrics:
        pytest.skip("no plugin registers wasserstein_1d")
    w1 = registries.metrics.get("wasserstein_1d")
    p, q = [0.1, 0.2, 0.3, 0.4], [0.4, 0.3, 0.2, 0.1]
    ref = stats.wasserstein_distance(range(4), range(4), p, q)
    assert F.wasserstein_ordinal(p, q, wasserstein=w1) == pytest.approx(ref)
    assert F.wasserstein_ordinal(p, q) == pytest.approx(ref)


def test_wasserstein_improvement_hand_made():
    human = [0, 0, 1]
    # baseline puts all mass 2 levels away (W = 2), candidate 1 level away (W = 1): 50 %
    assert F.wasserstein_improvement_percent(human, [1, 0, 0], [0, 1, 0]) == pytest.approx(50.0)
    # a perfect candidate: 100 %
    assert F.wasserstein_improvement_percent(human, [1, 0, 0], [0, 0, 1]) == pytest.approx(100.0)


def test_replication_rate_three_of_eight():
    outcomes = [F.replicates(1, 0.4, 0.01), F.replicates(1, -0.4, 0.01), F.replicates(-1, -0.2, 0.03),
                F.replicates(1, 0.3, 0.2), F.replicates(1, 0.5, 0.001), F.replicates(-1, 0.1, 0.04),
                F.replicates(1, 0.0, 0.9), F.replicates(-1, 0.2, 0.5)]
    assert outcomes.count(True) == 3
    assert F.replication_rate_percent(outcomes) == 37.5  # diversity-of-thought-2023's 3 of 8
