"""One-third-octave band levels: tones at the exact mid-band frequencies, the Butterworth
band shape, white-noise power bookkeeping, A weighting, Numba against the reference, and
parity with MoSQITo's time-domain filter bank (``noct_spectrum``)."""
from __future__ import annotations

import numpy as np
import pytest

from affrepro.kernels import sound_level as sl
from affrepro.kernels._dispatch import BackendUnavailableError
from affrepro.kernels.sound_level import reference as ref

FS = 48000
L94 = 20 * np.log10(1.0 / 2e-5)  # 1 Pa rms


def tone(freq, seconds=2.0, fs=FS, rms=1.0):
    t = np.arange(int(seconds * fs)) / fs
    return np.sqrt(2.0) * rms * np.sin(2 * np.pi * freq * t)


def test_37_araus_bands():
    fm = sl.band_centres()
    assert len(fm) == 37 == len(sl.NOMINAL_BANDS)
    assert fm[23] == pytest.approx(1000.0)
    # nominal and exact mid-band frequencies agree to the rounding IEC 61260-1 uses
    np.testing.assert_allclose(fm, sl.NOMINAL_BANDS, rtol=0.03)


@pytest.mark.parametrize("backend", ["reference", "numba"])
def test_tone_at_mid_band_gives_its_level(backend):
    fm = sl.band_centres()
    # 50 Hz .. 20 kHz, 2 s, each tone on the FFT bin nearest fm (no leakage; <= 0.25 Hz off)
    fb = np.round(fm * 2.0) / 2.0
    x = np.stack([tone(f) for f in fb[10:]])
    got = sl.third_octave_levels(x, FS, "Z", backend=backend)
    np.testing.assert_allclose(np.diagonal(got[:, 10:]), L94, atol=0.01)
    # the neighbouring bands hold a third-order Butterworth skirt (> 13 dB down)
    assert (np.diagonal(got[:, 10:], offset=1) < L94 - 13).all()
    a_got = sl.third_octave_levels(x, FS, "A", backend=backend)
    np.testing.assert_allclose(np.diagonal(a_got[:, 10:]),
                               L94 + sl.analog_response_db(fb[10:], "A"), atol=0.01)


def test_band_shape():
    fm = 1000.0
    f = fm * np.array([1.0, ref.G10 ** (1 / 6), ref.G10 ** (-1 / 6), 2.0, 0.5])
    db = 10 * np.log10(ref.band_response_power(f, fm))
    assert db[0] == 0.0
    # ANSI S1.11 design bandwidth: the nominal edges sit a little below -3 dB
    assert db[1] == pytest.approx(db[2]) and -4.0 < db[1] < -3.3
    # IEC 61260-1 class 1 asks for >= 16.6 dB relative attenuation an octave from fm
    assert db[3] < -16.6 and db[4] < -16.6


def test_effective_bandwidth_equals_the_nominal_one():
    fm = 1000.0
    f = np.linspace(1.0, 50000.0, 2_000_001)
    enbw = np.trapezoid(ref.band_response_power(f, fm), f)
    nominal = fm * (ref.G10 ** (1 / 6) - ref.G10 ** (-1 / 6))
    assert enbw == pytest.approx(nominal, rel=2e-3)


def test_white_noise_band_powers_add_up():
    x = np.random.default_rng(3).normal(size=FS * 2)
    bands = sl.third_octave_levels(x, FS, "Z", indices=np.arange(-30, 21), backend="numba")
    total = 10 * np.log10(np.mean(x ** 2) / 2e-5 ** 2)
    assert 10 * np.log10(np.sum(10 ** (bands / 10))) == pytest.approx(total, abs=0.05)


def edge_signals():
    rng = np.random.default_rng(11)
    cases = {f"n={n}": rng.normal(size=(2, n)) for n in (1, 2, 3, 127, 128, 129, 997)}
    cases["3d"] = rng.normal(size=(2, 2, 300))
    cases["non-contiguous"] = rng.normal(size=(4, 1000))[::2, ::3]
    cases["float32"] = rng.normal(size=(1, 640)).astype(np.float32)
    silent = rng.normal(size=(2, 500))
    silent[0] = 0.0
    cases["silent-channel"] = silent
    return cases


@pytest.mark.parametrize("name", list(edge_signals()))
def test_numba_matches_the_reference(name):
    x = edge_signals()[name]
    for w in ("A", "C", "Z"):
        r = sl.third_octave_levels(x, 8000, w, backend="reference")
        g = sl.third_octave_levels(x, 8000, w, backend="numba")
        assert g.shape == x.shape[:-1] + (37,)
        np.testing.assert_allclose(g, r, rtol=1e-9, atol=1e-9)


def test_bad_input():
    with pytest.raises(ValueError, match="at least one sample"):
        sl.third_octave_levels(np.zeros((2, 0)), FS)
    with pytest.raises(ValueError, match="weighting"):
        sl.third_octave_levels(np.ones(10), FS, "D")
    with pytest.raises(BackendUnavailableError):
        sl.third_octave_levels(np.ones(10), FS, backend="triton")
    with pytest.raises(TypeError, match="real numbers"):
        sl.third_octave_levels(np.ones(10, dtype=complex), FS)


def test_parity_with_mosqito_noct_spectrum():
    mosqito = pytest.importorskip("mosqito.sound_level_meter")
    x = np.random.default_rng(0).normal(size=FS * 4) * 0.2
    spec, _ = mosqito.noct_spectrum(x, FS, 5, 20000)
    theirs = 20 * np.log10(np.asarray(spec).ravel() / 2e-5)
    ours = sl.third_octave_levels(x, FS, "Z")
    assert theirs.shape == ours.shape == (37,)
    diff = ours - theirs
    # 315 Hz and up: the two filter banks agree to 0.03 dB (MoSQITo's edges are base-2,
    # ours base-10); below, MoSQITo filters decimated signals and reads ~0.1 dB low,
    # and its filters' start-up transients weigh on a 4 s noise (MoSQITo vs ours on 30 s
    # of noise: 0.08-0.17 dB for 5-250 Hz, <= 0.02 dB above)
    assert np.abs(diff[18:]).max() < 0.04, np.round(diff, 3)
    assert np.abs(diff[10:18]).max() < 0.5, np.round(diff, 3)  # 30 s: < 0.17 dB


@pytest.mark.parametrize("order", [3, 4])
def test_numba_matches_the_reference_across_bin_chunks(order):
    """Longer than one 4096-bin chunk of the Numba band sums (20011 samples: 10006 bins,
    three chunks), several channels, and the generic-order response path."""
    x = np.random.default_rng(12).normal(size=(3, 20011)) * [[0.01], [1.0], [30.0]]
    for w in ("A", "Z"):
        r = sl.third_octave_levels(x, 44100, w, order=order, backend="reference")
        g = sl.third_octave_levels(x, 44100, w, order=order, backend="numba")
        np.testing.assert_allclose(g, r, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("fs", [0, -48000, float("nan"), float("inf"), "48k", "48000", None])
def test_a_bad_sample_rate_is_named(fs):
    with pytest.raises(ValueError, match=r"fs \(sample rate\) must be a positive number"):
        sl.mean_square(np.ones(4800), fs)
