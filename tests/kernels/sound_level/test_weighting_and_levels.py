"""A/C weighting filters against IEC 61672-1 (Table 3 values and class-1 limits), Fast
levels against a calibrated sine, the Fast time constant and tone bursts, and the Numba
backend against the reference on edge cases."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import sosfreqz

from affrepro.kernels import sound_level as sl
from affrepro.kernels._dispatch import BackendUnavailableError

# IEC 61672-1:2013 Table 3: nominal frequency, A and C weightings (dB), and the class-1
# acceptance limits (+, -) at that frequency (None = -infinity).
IEC_61672 = [
    (10, -70.4, -14.3, 3.5, None), (12.5, -63.4, -11.2, 3.0, None),
    (16, -56.7, -8.5, 2.0, 4.0), (20, -50.5, -6.2, 2.0, 2.0), (25, -44.7, -4.4, 2.0, 1.5),
    (31.5, -39.4, -3.0, 1.5, 1.5), (40, -34.6, -2.0, 1.0, 1.0), (50, -30.2, -1.3, 1.0, 1.0),
    (63, -26.2, -0.8, 1.0, 1.0), (80, -22.5, -0.5, 1.0, 1.0), (100, -19.1, -0.3, 1.0, 1.0),
    (125, -16.1, -0.2, 1.0, 1.0), (160, -13.4, -0.1, 1.0, 1.0), (200, -10.9, 0.0, 1.0, 1.0),
    (250, -8.6, 0.0, 1.0, 1.0), (315, -6.6, 0.0, 1.0, 1.0), (400, -4.8, 0.0, 1.0, 1.0),
    (500, -3.2, 0.0, 1.0, 1.0), (630, -1.9, 0.0, 1.0, 1.0), (800, -0.8, 0.0, 1.0, 1.0),
    (1000, 0.0, 0.0, 0.7, 0.7), (1250, 0.6, 0.0, 1.0, 1.0), (1600, 1.0, -0.1, 1.0, 1.0),
    (2000, 1.2, -0.2, 1.0, 1.0), (2500, 1.3, -0.3, 1.0, 1.0), (3150, 1.2, -0.5, 1.0, 1.0),
    (4000, 1.0, -0.8, 1.0, 1.0), (5000, 0.5, -1.3, 1.5, 1.5), (6300, -0.1, -2.0, 1.5, 2.0),
    (8000, -1.1, -3.0, 1.5, 2.5), (10000, -2.5, -4.4, 2.0, 3.0), (12500, -4.3, -6.2, 2.0, 5.0),
    (16000, -6.6, -8.5, 2.5, 16.0), (20000, -9.3, -11.2, 3.0, None),
]
# the table is computed at the exact base-10 frequencies 1000 * 10^(n/10)
EXACT = 1000.0 * 10.0 ** (np.arange(-20, 14) / 10.0)
TABLE = {"A": np.array([r[1] for r in IEC_61672]), "C": np.array([r[2] for r in IEC_61672])}
UPPER = np.array([r[3] for r in IEC_61672])
LOWER = np.array([np.inf if r[4] is None else r[4] for r in IEC_61672])
RNG = np.random.default_rng(61672)


@pytest.mark.parametrize("w", ["A", "C"])
def test_analog_weighting_equals_the_iec_table(w):
    np.testing.assert_allclose(sl.analog_response_db(EXACT, w), TABLE[w], atol=0.05)


@pytest.mark.parametrize("fs", [44100, 48000])
@pytest.mark.parametrize("w", ["A", "C"])
def test_digital_weighting_within_class_1(w, fs):
    _, h = sosfreqz(sl.weighting_sos(w, fs), worN=EXACT, fs=fs)
    dev = 20 * np.log10(np.abs(h)) - TABLE[w]
    assert (dev <= UPPER).all() and (dev >= -LOWER).all(), np.round(dev, 2)
    # and much tighter than the limits where it matters for soundscapes (up to 10 kHz)
    exact_dev = 20 * np.log10(np.abs(h)) - sl.analog_response_db(EXACT, w)
    assert np.abs(exact_dev[EXACT < 11000]).max() < 0.2
    _, h1k = sosfreqz(sl.weighting_sos(w, fs), worN=[1000.0], fs=fs)
    assert abs(20 * np.log10(abs(h1k[0]))) < 1e-9


def sine(freq, rms_pa, seconds, fs=44100):
    t = np.arange(int(seconds * fs)) / fs
    return np.sqrt(2.0) * rms_pa * np.sin(2 * np.pi * freq * t)


@pytest.mark.parametrize("backend", ["reference", "numba"])
def test_calibrated_sine_levels(backend):
    fs = 44100
    # 1 Pa rms = 93.98 dB; after 0.5 s the Fast level is settled
    for freq, a_db, c_db in [(1000.0, 0.0, 0.0), (100.0, -19.1, -0.3), (4000.0, 1.0, -0.8)]:
        x = sine(freq, 1.0, 1.0, fs)
        la = sl.level(x, fs, "A", backend=backend)[fs // 2:]
        lc = sl.level(x, fs, "C", backend=backend)[fs // 2:]
        lz = sl.level(x, fs, "Z", backend=backend)[fs // 2:]
        # the Fast average ripples at twice the tone frequency (< 0.03 dB at 100 Hz)
        assert np.abs(lz - 93.979).max() < 0.03 and abs(lz.mean() - 93.979) < 0.002
        assert np.abs(la - (93.979 + a_db)).max() < 0.1  # table values are rounded to 0.1
        assert np.abs(lc - (93.979 + c_db)).max() < 0.1


def test_fast_decay_rate_is_34_7_db_per_second():
    fs = 8000
    x = np.concatenate([sine(1000.0, 1.0, 1.0, fs), np.zeros(fs // 2)])
    lv = sl.level(x, fs, "Z", tau=0.125, backend="numba")
    t1, t2 = fs + fs // 10, fs + 4 * fs // 10  # 0.1 .. 0.4 s after the tone stops
    rate = (lv[t1] - lv[t2]) / 0.3
    assert rate == pytest.approx(10 * np.log10(np.e) / 0.125, rel=1e-3)  # 34.74 dB/s


@pytest.mark.parametrize("burst_ms, expected", [(200, -1.0), (2, -18.0), (0.25, -27.0)])
def test_tone_burst_response_iec_61672(burst_ms, expected):
    """IEC 61672-1 Table 4: LAFmax of a 4 kHz tone burst relative to the steady level."""
    fs = 48000
    steady = sine(4000.0, 1.0, 1.0, fs)
    n = int(round(burst_ms * 1e-3 * fs))
    # the burst comes after 0.3 s of silence: the averager's warm start (the mean square
    # of the first 125 ms) then holds only silence
    x = np.concatenate([np.zeros(3 * fs // 10), steady[:n], np.zeros(fs // 2)])
    l_steady = sl.level(steady, fs, "A", backend="numba")[-1]
    lmax = sl.level(x, fs, "A", backend="numba").max()
    assert lmax - l_steady == pytest.approx(expected, abs=0.3)


def edge_signals():
    cases = {f"n={n}": RNG.normal(size=(2, n)) for n in (1, 2, 31, 127, 128, 129, 1009)}
    cases["1d"] = RNG.normal(size=700)
    cases["past the warm start"] = RNG.normal(size=(2, 2500))  # n0 = 1000 at 8 kHz
    cases["3d"] = RNG.normal(size=(2, 3, 257))
    wide = RNG.normal(size=(4, 1200))
    cases["non-contiguous"] = wide[::2, ::3]
    cases["float32"] = RNG.normal(size=(2, 500)).astype(np.float32)
    cases["int16"] = RNG.integers(-3000, 3000, size=(1, 400)).astype(np.int16)
    zero = RNG.normal(size=(3, 600))
    zero[1] = 0.0  # a silent channel: mean square 0, level -inf
    cases["silent-channel"] = zero
    special = RNG.normal(size=(3, 600))
    special[0, 300] = np.nan
    special[1, 200] = np.inf
    cases["nan-inf"] = special
    return cases


@pytest.mark.parametrize("name", list(edge_signals()))
@pytest.mark.parametrize("w", ["A", "C"])
def test_numba_matches_the_reference(name, w):
    x = edge_signals()[name]
    fs = 8000
    ref = sl.mean_square(x, fs, w, backend="reference")
    got = sl.mean_square(x, fs, w, backend="numba")
    assert got.shape == x.shape and got.dtype == np.float64
    np.testing.assert_allclose(got, ref, rtol=1e-9, atol=1e-300, equal_nan=True)
    assert np.array_equal(np.isnan(got), np.isnan(ref))


def test_empty_signal_and_auto():
    assert sl.mean_square(np.zeros((2, 0)), 8000, backend="numba").shape == (2, 0)
    x = RNG.normal(size=300)
    np.testing.assert_allclose(sl.level(x, 8000), sl.level(x, 8000, backend="reference"),
                               rtol=1e-9)
    assert np.isneginf(sl.level(np.zeros(50), 8000, backend="numba")).all()


def test_bad_arguments():
    with pytest.raises(ValueError, match="weighting"):
        sl.mean_square(np.ones(10), 8000, "B")
    with pytest.raises(ValueError, match="sample rate"):
        sl.mean_square(np.ones(10), 0)
    with pytest.raises(ValueError, match="time constant"):
        sl.mean_square(np.ones(10), 8000, tau=0)
    with pytest.raises(BackendUnavailableError):
        sl.mean_square(np.ones(10), 8000, backend="triton")
    with pytest.raises(ValueError, match="backend"):
        sl.mean_square(np.ones(10), 8000, backend="cuda")


@pytest.mark.parametrize("w", ["A", "C", "Z"])
def test_fused_pass_matches_the_issue7_two_pass_kernel(w):
    # the one-pass kernel (issue 24) against the section-by-section kernel it replaced
    from affrepro.kernels.sound_level import numba_impl, reference

    fs = 44100
    x = np.ascontiguousarray(RNG.normal(size=(2, 9000)))
    sos = np.ascontiguousarray(sl.weighting_sos(w, fs))
    a = reference.time_coefficient(fs, 0.125)
    want = numba_impl.mean_square_2d(x, sos, a, 5512)
    np.testing.assert_allclose(sl.mean_square(x, fs, w, backend="numba"), want, rtol=1e-12)


@pytest.mark.parametrize("channels", [1, 3, 5])
@pytest.mark.parametrize("threads", [1, 2])
def test_numba_pairs_of_channels_match_the_reference(channels, threads):
    # issue 24: channels two to a task, an odd one alone, tasks in parallel from three
    # channels on; each row as SciPy filters it alone
    import numba

    from affrepro.kernels.sound_level import reference

    x = np.random.default_rng(channels).normal(size=(channels, 3001)) * 0.1
    x[-1, :1500] = 0.0  # the odd channel starts silent
    previous = numba.get_num_threads()
    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    try:
        for w in "ACZ":
            np.testing.assert_allclose(sl.mean_square(x, 8000, w, backend="numba"),
                                       reference.mean_square(x, 8000, w), rtol=1e-11,
                                       atol=1e-300)
    finally:
        numba.set_num_threads(previous)
