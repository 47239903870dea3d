import pickle
import warnings

import numpy as np
import pytest

from affrepro.plugins.metrics._base import DegenerateInputWarning
from affrepro.plugins.metrics.regression import (
    CCC, MAE, MSE, RMSE, Pearson, Spearman, ccc, mae, mse, pearson, rankdata, rmse, spearman,
)

scipy_stats = pytest.importorskip("scipy.stats")


def _np_ccc(x, y, ddof=0):
    x, y = np.asarray(x, float), np.asarray(y, float)
    cov = ((x - x.mean()) * (y - y.mean())).sum() / (x.size - ddof)
    return 2 * cov / (x.var(ddof=ddof) + y.var(ddof=ddof) + (x.mean() - y.mean()) ** 2)


@pytest.fixture(params=[0, 1, 2])
def data(request):
    rng = np.random.default_rng(request.param)
    n = [7, 257, 1000][request.param]
    x = rng.normal(size=n)
    return x, 0.6 * x + rng.normal(scale=0.8, size=n) + 0.3


def test_against_scipy_and_numpy(data):
    x, y = data
    assert ccc(x, y) == pytest.approx(_np_ccc(x, y), rel=1e-12)
    assert pearson(x, y) == pytest.approx(scipy_stats.pearsonr(x, y)[0], rel=1e-12)
    assert spearman(x, y) == pytest.approx(scipy_stats.spearmanr(x, y)[0], rel=1e-12)
    assert mse(x, y) == pytest.approx(np.mean((x - y) ** 2), rel=1e-12)
    assert rmse(x, y) == pytest.approx(np.sqrt(np.mean((x - y) ** 2)), rel=1e-12)
    assert mae(x, y) == pytest.approx(np.mean(np.abs(x - y)), rel=1e-12)


def test_against_torchmetrics(data):
    torch = pytest.importorskip("torch")
    tmf = pytest.importorskip("torchmetrics.functional.regression")
    x, y = data
    tx, ty = torch.tensor(x), torch.tensor(y)
    # torchmetrics' CCC uses sample variances: our ddof=1
    assert ccc(x, y, ddof=1) == pytest.approx(float(tmf.concordance_corrcoef(ty, tx)), rel=1e-9)
    assert pearson(x, y) == pytest.approx(float(tmf.pearson_corrcoef(ty, tx)), rel=1e-9)
    assert spearman(x, y) == pytest.approx(float(tmf.spearman_corrcoef(ty, tx)), rel=1e-6)
    assert mse(x, y) == pytest.approx(float(tmf.mean_squared_error(ty, tx)), rel=1e-12)
    assert mae(x, y) == pytest.approx(float(tmf.mean_absolute_error(ty, tx)), rel=1e-12)


def test_large_offset_small_noise_keeps_precision():
    rng = np.random.default_rng(5)
    x = 1e8 + rng.normal(scale=1e-3, size=10_001)
    y = x + rng.normal(scale=1e-3, size=x.size)
    exact_r = scipy_stats.pearsonr(x - 1e8, y - 1e8)[0]
    assert pearson(x, y) == pytest.approx(exact_r, abs=1e-6)
    assert ccc(x, y) == pytest.approx(_np_ccc(x - 1e8, y - 1e8), abs=1e-6)
    assert mse(x, y) == pytest.approx(np.mean((x - y) ** 2), rel=1e-6)


def test_float32_input_accumulates_in_float64():
    rng = np.random.default_rng(6)
    x = rng.normal(size=5000).astype(np.float32)
    y = (x + rng.normal(size=5000)).astype(np.float32)
    assert ccc(x, y) == pytest.approx(_np_ccc(x.astype(float), y.astype(float)), rel=1e-10)


def test_streaming_equals_functional_and_merges(data):
    x, y = data
    for cls, fn in [(CCC, ccc), (Pearson, pearson), (Spearman, spearman), (MSE, mse),
                    (RMSE, rmse), (MAE, mae)]:
        k = x.size // 3
        a = cls().update(x[:k], y[:k])
        b = cls().update(x[k:], y[k:])
        merged = a.merge(b).compute()
        assert merged == pytest.approx(fn(x, y), rel=1e-12, abs=1e-14)
        s = cls()
        for i in range(0, x.size, 50):
            s.update(x[i:i + 50], y[i:i + 50])
        assert s.compute() == pytest.approx(fn(x, y), rel=1e-12, abs=1e-14)
        # the state crosses process boundaries
        again = pickle.loads(pickle.dumps(cls.from_state(s.state_dict())))
        assert again.compute() == pytest.approx(s.compute(), rel=1e-15)


def test_reset_keeps_options():
    m = CCC(ddof=1).update([1.0, 2, 3], [1.0, 2, 4])
    m.reset()
    assert m.moments.n == 0 and m.ddof == 1


def test_constant_predictions_warn_and_give_nan():
    x = np.arange(10.0)
    for fn in (ccc, pearson, spearman):
        with pytest.warns(DegenerateInputWarning, match="constant"):
            assert np.isnan(fn(x, np.full(10, 3.3)))
    with pytest.warns(DegenerateInputWarning):
        assert np.isnan(pearson(np.full(10, 0.1), np.full(10, 0.1)))
    # the formula's value, as the challenge scripts compute it
    assert ccc(x, np.full(10, 3.3), on_constant="formula") == 0.0
    with pytest.warns(DegenerateInputWarning, match="same constant"):
        assert np.isnan(ccc(np.full(4, 2.0), np.full(4, 2.0), on_constant="formula"))


def test_constant_with_large_offset_is_detected():
    with pytest.warns(DegenerateInputWarning, match="constant"):
        assert np.isnan(pearson(np.full(3001, 1e8 + 0.1), np.arange(3001.0)))


@pytest.mark.parametrize("n", [0, 1])
def test_too_short(n):
    x = np.arange(float(n))
    for fn in (ccc, pearson, spearman):
        with pytest.warns(DegenerateInputWarning, match="at least 2"):
            assert np.isnan(fn(x, x))
    if n == 0:
        with pytest.warns(DegenerateInputWarning):
            assert np.isnan(mse(x, x))
    else:
        assert mse(x, x + 2) == 4.0 and mae(x, x + 2) == 2.0


def test_length_two():
    assert pearson([0.0, 1.0], [2.0, 5.0]) == pytest.approx(1.0)
    assert ccc([0.0, 1.0], [0.0, 1.0]) == pytest.approx(1.0)


def test_nan_policies():
    x = np.array([1.0, 2.0, np.nan, 4.0, 5.0])
    y = np.array([1.1, 1.9, 3.0, 4.2, np.nan])
    with pytest.warns(DegenerateInputWarning, match="NaN"):
        assert np.isnan(ccc(x, y))
    ok = ~(np.isnan(x) | np.isnan(y))
    assert ccc(x, y, nan_policy="omit") == pytest.approx(ccc(x[ok], y[ok]))
    with pytest.raises(ValueError, match="index 2"):
        pearson(x, y, nan_policy="raise")
    with pytest.raises(ValueError):
        ccc(x, y, nan_policy="ignore")


def test_non_contiguous_and_shape_mismatch():
    rng = np.random.default_rng(7)
    big = rng.normal(size=(400, 2))
    x, y = big[:, 0], big[:, 1]
    assert not x.flags.c_contiguous
    assert ccc(x, y) == pytest.approx(_np_ccc(x.copy(), y.copy()), rel=1e-12)
    with pytest.raises(ValueError):
        ccc([1.0, 2.0], [1.0, 2.0, 3.0])


def test_rankdata_matches_scipy():
    rng = np.random.default_rng(8)
    a = rng.integers(0, 5, size=100).astype(float)
    np.testing.assert_array_equal(rankdata(a), scipy_stats.rankdata(a))


def test_perfect_and_anti():
    x = np.linspace(-1, 1, 50)
    assert ccc(x, x) == pytest.approx(1.0)
    assert ccc(x, -x) == pytest.approx(-1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert pearson(x, 3 * x + 1) == pytest.approx(1.0)
