"""The ARAUS statistics of a level series, on hand-computed cases."""
from __future__ import annotations

import numpy as np
import pytest

from affrepro.plugins.psychoacoustics.stats import (
    EXCEEDANCE, LEVEL_STATS, exceedance, level_statistics, stat_names,
)


def test_names_follow_araus():
    assert stat_names("LA", "_r")[:6] == ["LAavg_r", "LAmin_r", "LAargmin_r", "LAmax_r",
                                          "LAargmax_r", "LA05_r"]
    assert len(LEVEL_STATS) == 16 and LEVEL_STATS[-1] == "95"


def test_hand_computed_series():
    # 0..99 dB sampled at 10 Hz: L_XX is exceeded XX % of the time
    lv = np.arange(100.0)
    s = dict(zip(LEVEL_STATS, level_statistics(lv, 10.0)))
    assert s["min"] == 0 and s["max"] == 99
    assert s["argmin"] == 0.0 and s["argmax"] == pytest.approx(9.9)
    assert s["05"] == pytest.approx(np.percentile(lv, 95)) == pytest.approx(94.05)
    assert s["50"] == pytest.approx(49.5) and s["95"] == pytest.approx(4.95)
    # energy mean: dominated by the loudest samples
    assert s["avg"] == pytest.approx(10 * np.log10(np.mean(10 ** (lv / 10))))
    assert s["avg"] > 85  # arithmetic mean: 49.5


def test_energy_mean_of_two_levels():
    # 60 dB and 70 dB half the time each: 10 log10((1e6 + 1e7) / 2) = 67.40 dB
    s = level_statistics(np.array([60.0, 70.0]), 1.0)
    assert s[0] == pytest.approx(67.4036, abs=1e-4)


def test_argmax_is_the_first_maximum_and_channels_are_kept():
    lv = np.array([[1.0, 5.0, 5.0, 2.0], [3.0, 3.0, 0.0, 0.0]])
    s = level_statistics(lv, 2.0)
    assert s.shape == (2, 16)
    assert s[0, 4] == 0.5 and s[1, 2] == 1.0 and s[1, 4] == 0.0


def test_silence_gives_minus_infinity_not_nan():
    lv = np.array([-np.inf, -np.inf, -np.inf, 50.0])
    s = level_statistics(lv, 1.0)
    assert not np.isnan(s).any()
    assert s[1] == -np.inf and s[3] == 50.0
    assert s[0] == pytest.approx(50 - 10 * np.log10(4))
    all_silent = level_statistics(np.full(5, -np.inf), 1.0)
    assert np.isneginf(all_silent[[0, 1, 3]]).all()
    assert np.isneginf(exceedance(np.array([-np.inf, -np.inf]))).all()


def test_nan_propagates():
    s = level_statistics(np.array([1.0, np.nan, 3.0]), 1.0)
    assert np.isnan(s[0]) and np.isnan(s[5:]).all()


def test_empty_is_an_error():
    with pytest.raises(ValueError, match="at least one"):
        level_statistics(np.zeros(0), 1.0)


def test_exceedance_percent_list():
    assert EXCEEDANCE == (5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95)


def test_series_statistics_loudness_and_sharpness_sets():
    from affrepro.plugins.psychoacoustics.stats import (
        LOUDNESS_STATS, SHARPNESS_STATS, series_statistics, stat_names,
    )

    x = np.array([[1.0, 3.0, 2.0, 3.0, 0.5], [2.0, 2.0, 2.0, 2.0, 2.0]])
    out = series_statistics(x, 500.0, LOUDNESS_STATS, t0=0.1)
    assert out.shape == (2, 15)
    row = dict(zip(LOUDNESS_STATS, out[0]))
    assert row["avg"] == pytest.approx(1.9)  # arithmetic, not an energy mean
    assert row["rmc"] == pytest.approx(((1 + 27 + 8 + 27 + 0.125) / 5) ** (1 / 3))
    assert row["max"] == 3.0 and row["argmax"] == pytest.approx(0.1 + 1 / 500)
    assert row["05"] == pytest.approx(np.percentile(x[0], 95))
    assert row["95"] == pytest.approx(np.percentile(x[0], 5))
    np.testing.assert_allclose(out[1, [0, 1, 2]], 2.0)
    s = series_statistics(x, 500.0, SHARPNESS_STATS)
    assert s.shape == (2, 14) and s[0, 2] == pytest.approx(1 / 500)
    assert stat_names("N", "_r", LOUDNESS_STATS)[:2] == ["Navg_r", "Nrmc_r"]
    with pytest.raises(ValueError, match="at least one"):
        series_statistics(np.zeros((2, 0)), 500.0, SHARPNESS_STATS)
    with pytest.raises(KeyError):
        series_statistics(x, 500.0, ("median",))


@pytest.mark.parametrize("n", [1, 2, 3, 7, 100, 1001])
def test_mean_square_statistics_equal_those_of_the_level_series(n):
    from affrepro.plugins.psychoacoustics.stats import mean_square_statistics

    rng = np.random.default_rng(n)
    ms = (2e-5 * 10 ** (rng.uniform(20, 90, size=(3, n)) / 20)) ** 2
    ms[1, :: max(1, n // 3)] = 0.0  # digital silence: -inf dB
    ms[2, 0] = ms[2, -1]  # a tie between the first and last sample
    with np.errstate(divide="ignore"):
        want = level_statistics(10 * np.log10(ms / 4e-10), 44100.0)
    got = mean_square_statistics(ms, 44100.0, 2e-5)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-9)
    assert np.array_equal(np.isneginf(got), np.isneginf(want))


def test_mean_square_statistics_nan_and_silence():
    from affrepro.plugins.psychoacoustics.stats import mean_square_statistics

    ms = np.array([[1e-4, np.nan, 4e-4], [0.0, 0.0, 0.0]])
    got = mean_square_statistics(ms, 1.0)
    with np.errstate(divide="ignore"):
        want = level_statistics(10 * np.log10(ms / 4e-10), 1.0)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_array_equal(got[1], want[1])  # all -inf but the argmin/argmax times
    with pytest.raises(ValueError, match="at least one sample"):
        mean_square_statistics(np.zeros((2, 0)), 1.0)
