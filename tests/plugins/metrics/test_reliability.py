import numpy as np
import pytest

from affrepro.plugins.metrics._base import DegenerateInputWarning
from affrepro.plugins.metrics.reliability import ICC, ICC_KINDS, CronbachAlpha, cronbach_alpha, icc

# Shrout & Fleiss (1979), Table 2: 6 targets rated by 4 judges, and their Table 4 values
SF = np.array([[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9],
               [6, 2, 4, 7]], dtype=float)
SF_PUBLISHED = {"ICC(1,1)": 0.17, "ICC(2,1)": 0.29, "ICC(3,1)": 0.71, "ICC(1,k)": 0.44,
                "ICC(2,k)": 0.62, "ICC(3,k)": 0.91}


def _anova_icc(x, kind):
    n, k = x.shape
    g = x.mean()
    ssr = k * ((x.mean(1) - g) ** 2).sum()
    ssc = n * ((x.mean(0) - g) ** 2).sum()
    sse = ((x - g) ** 2).sum() - ssr - ssc
    msr, msc, mse = ssr / (n - 1), ssc / (k - 1), sse / ((n - 1) * (k - 1))
    msw = (ssc + sse) / (n * (k - 1))
    return {"ICC(1,1)": (msr - msw) / (msr + (k - 1) * msw),
            "ICC(2,1)": (msr - mse) / (msr + (k - 1) * mse + k * (msc - mse) / n),
            "ICC(3,1)": (msr - mse) / (msr + (k - 1) * mse),
            "ICC(1,k)": (msr - msw) / msr, "ICC(2,k)": (msr - mse) / (msr + (msc - mse) / n),
            "ICC(3,k)": (msr - mse) / msr}[kind]


@pytest.mark.parametrize("kind", ICC_KINDS)
def test_shrout_fleiss_table(kind):
    assert icc(SF, kind=kind) == pytest.approx(SF_PUBLISHED[kind], abs=0.006)
    assert icc(SF, kind=kind) == pytest.approx(_anova_icc(SF, kind), rel=1e-12)


def test_streaming_rows_merge_and_offset():
    rng = np.random.default_rng(0)
    x = 1e6 + rng.normal(size=(200, 3)) + rng.normal(size=(200, 1)) * 2
    one = icc(x, kind="ICC(2,1)")
    a = ICC(kind="ICC(2,1)").update(x[:77])
    b = ICC(kind="ICC(2,1)").update(x[77:])
    assert a.merge(b).compute() == pytest.approx(one, rel=1e-10)
    assert one == pytest.approx(_anova_icc(x - 1e6, "ICC(2,1)"), rel=1e-8)


def test_two_raters_form():
    y = np.array([1.0, 2, 3, 4, 5])
    p = np.array([1.5, 2, 2.5, 4.5, 5])
    assert icc(y, p) == pytest.approx(icc(np.stack([y, p], 1)))


def test_cronbach_alpha_formula_and_identity():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(50, 1)) + rng.normal(scale=0.7, size=(50, 6))
    k = x.shape[1]
    expected = k / (k - 1) * (1 - x.var(0, ddof=1).sum() / x.sum(1).var(ddof=1))
    assert cronbach_alpha(x) == pytest.approx(expected, rel=1e-12)
    assert cronbach_alpha(x) == pytest.approx(icc(x, kind="ICC(3,k)"), rel=1e-12)
    s = CronbachAlpha()
    for i in range(0, 50, 7):
        s.update(x[i:i + 7])
    assert s.compute() == pytest.approx(expected, rel=1e-12)


def test_degenerate():
    with pytest.warns(DegenerateInputWarning, match="2 rows"):
        assert np.isnan(icc(np.ones((1, 3))))
    with pytest.warns(DegenerateInputWarning, match="2 columns"):
        assert np.isnan(cronbach_alpha(np.ones((5, 1))))
    with pytest.warns(DegenerateInputWarning):
        assert np.isnan(icc(np.ones((4, 3))))
    with pytest.warns(DegenerateInputWarning, match="NaN"):
        assert np.isnan(icc(np.array([[1.0, 2], [np.nan, 1], [3, 3]])))
    with pytest.raises(ValueError):
        icc(np.ones(3))
