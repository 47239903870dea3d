"""Daniel & Weber roughness: the reference unit (1 kHz, 60 dB, 100 % AM at 70 Hz = 1
asper), parity with MoSQITo's ``roughness_dw`` frame by frame (AM tones, noise, two
channels, 44.1 and 48 kHz, overlap 0 and 0.5), Numba against the reference, edge cases.

Tolerances: against MoSQITo 1e-8 relative per frame. We get about 1e-14 (the same model,
only the FFT formulation differs) except where MoSQITo correlates the rounding noise of an
unmodulated channel with its neighbour (we take k = 0 there, see reference.MOD_FLOOR):
up to 2e-9 on these signals. Numba against the reference: 1e-12 (issue 24)."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from affrepro.kernels import roughness as rk
from affrepro.kernels._dispatch import BackendFallbackWarning, BackendUnavailableError

FS = 44100
RTOL_MOSQITO = 1e-8
RTOL_NUMBA = 1e-12


def am_tone(fc, fm, db=60.0, seconds=0.5, fs=FS, depth=1.0, phase=0.0):
    t = np.arange(int(seconds * fs)) / fs
    s = (1 + depth * np.sin(2 * np.pi * fm * t + phase)) * np.sin(2 * np.pi * fc * t)
    return s * 2e-5 * 10 ** (db / 20) / np.sqrt(np.mean(s ** 2))


def noise(db, seconds, fs=FS, seed=0):
    x = np.random.default_rng(seed).normal(size=int(seconds * fs))
    return x * 2e-5 * 10 ** (db / 20) / np.sqrt(np.mean(x ** 2))


def mosqito(x, fs, overlap=0.5):
    sq = pytest.importorskip("mosqito.sq_metrics")
    r, r_spec, bark, time = sq.roughness_dw(x, fs, overlap=overlap)
    np.testing.assert_allclose(bark, rk.BARK)
    return np.atleast_1d(r), np.asarray(r_spec).reshape(47, -1), time


def assert_matches_mosqito(x, fs, overlap=0.5, backend="auto"):
    r, r_spec, time = rk.roughness_dw(x, fs, overlap, backend=backend)
    m_r, m_spec, m_time = mosqito(x, fs, overlap)
    assert r.shape == m_r.shape and r_spec.shape == m_spec.shape
    np.testing.assert_allclose(time, m_time, rtol=0, atol=1e-9)
    np.testing.assert_allclose(r, m_r, rtol=RTOL_MOSQITO, atol=1e-15)
    # channel terms: to 1e-6 of the largest (MoSQITo's noise-correlated terms are ~1e-8)
    np.testing.assert_allclose(r_spec, m_spec, rtol=1e-6,
                               atol=1e-6 * np.abs(m_spec).max() + 1e-15)
    return r


def test_reference_signal_is_one_asper():
    # the calibration signal of the model: 1 kHz, 60 dB, 100 % AM at 70 Hz
    r = assert_matches_mosqito(am_tone(1000, 70), FS)
    assert r.shape == (4,)
    np.testing.assert_allclose(r, 1.0, rtol=0.03)  # 1.0193 in this implementation


@pytest.mark.parametrize("fc, fm", [(1000, 20), (1000, 40), (1000, 140), (500, 70),
                                    (2000, 70), (2000, 140), (500, 40)])
def test_am_tones_match_mosqito(fc, fm):
    assert_matches_mosqito(am_tone(fc, fm, phase=0.3), FS)


def test_roughness_peaks_near_70_hz():
    # Daniel & Weber / Zwicker: roughness of AM tones is largest around 70 Hz at 1 kHz
    r = {fm: rk.roughness_dw(am_tone(1000, fm), FS)[0].mean() for fm in (20, 40, 70, 140)}
    assert max(r, key=r.get) == 70 and r[20] < r[40] < r[70] > r[140]


def test_noise_matches_mosqito():
    assert_matches_mosqito(noise(65, 0.3, seed=3), FS)  # MoSQITo takes ~1 s per frame


def test_48k_overlap_0_matches_mosqito():
    assert_matches_mosqito(am_tone(1000, 70, seconds=0.45, fs=48000), 48000, overlap=0.0)
    assert_matches_mosqito(noise(70, 0.2, fs=48000, seed=4), 48000, overlap=0.0)


def test_two_channels_match_mosqito_per_channel():
    x = np.stack([am_tone(2000, 40, db=70), am_tone(500, 140, db=55, phase=1.0)])
    r, r_spec, time = rk.roughness_dw(x, FS)
    assert r.shape == (2, 4) and r_spec.shape == (2, 47, 4) and time.shape == (4,)
    for ch in range(2):
        m_r, m_spec, _ = mosqito(x[ch], FS)
        np.testing.assert_allclose(r[ch], m_r, rtol=RTOL_MOSQITO)
        np.testing.assert_allclose(r_spec[ch], m_spec, rtol=RTOL_MOSQITO,
                                   atol=RTOL_MOSQITO * np.abs(m_spec).max())


def test_unmodulated_tone_is_not_rough():
    t = np.arange(int(0.5 * FS)) / FS
    r, r_spec, _ = rk.roughness_dw(np.sqrt(2) * 2e-2 * np.sin(2 * np.pi * 1000 * t), FS)
    assert np.all(r < 1e-3)  # 5e-4 asper: the Blackman frame's own envelope
    assert np.allclose(r, 0.25 * r_spec.sum(axis=-2))


def test_specific_roughness_sums_to_the_total():
    r, r_spec, _ = rk.roughness_dw(am_tone(1000, 70), FS)
    np.testing.assert_allclose(r, 0.25 * r_spec.sum(axis=-2), rtol=1e-12)
    assert np.argmax(r_spec[:, 0]) in (15, 16, 17)  # 8 .. 9 Bark, around 1 kHz


def test_silence_is_zero():
    r, r_spec, _ = rk.roughness_dw(np.zeros((2, FS // 2)), FS)
    assert np.all(r == 0) and np.all(r_spec == 0)
    r, _, _ = rk.roughness_dw(np.zeros(FS // 2), FS, backend="reference")
    assert np.all(r == 0)


@pytest.mark.parametrize("x, fs, overlap", [
    (np.stack([noise(65, 0.5, seed=1), am_tone(1000, 70)]), FS, 0.5),
    (np.stack([[am_tone(500, 40), am_tone(2000, 140, db=80)],
               [noise(50, 0.5, seed=2), np.zeros(FS // 2)]]), FS, 0.75),
    (am_tone(1000, 70, seconds=1.0, fs=11025), 11025, 0.5),  # odd frame (2205 samples)
    (am_tone(1000, 70, seconds=0.3, fs=48000) + am_tone(16000, 70, db=100, seconds=0.3,
                                                        fs=48000), 48000, 0.0),  # >= 24 Bark
])
def test_numba_matches_reference(x, fs, overlap):
    a = rk.roughness_dw(x, fs, overlap, backend="numba")
    b = rk.roughness_dw(x, fs, overlap, backend="reference")
    for u, v in zip(a, b):
        assert u.shape == v.shape
        np.testing.assert_allclose(u, v, rtol=RTOL_NUMBA, atol=1e-15)


def test_loud_component_above_24_bark_where_mosqito_raises():
    """A 100 dB AM tone at 16 kHz (24.2 Bark) reaches the channel past the 47th: MoSQITo
    indexes out of its tables there; ours gives a finite roughness, Numba = reference."""
    sq = pytest.importorskip("mosqito.sq_metrics")
    x = am_tone(1000, 70, seconds=0.3, fs=48000) + am_tone(16000, 70, db=100, seconds=0.3,
                                                           fs=48000)
    with pytest.raises(IndexError):
        sq.roughness_dw(x, 48000, overlap=0.0)
    r, _, _ = rk.roughness_dw(x, 48000, 0.0)
    assert np.isfinite(r).all() and r.max() > 0


@pytest.mark.parametrize("length, frames", [(8820, 1), (8821, 1), (13229, 1), (13230, 2), (16383, 2),
                                           (16385, 2), (17640, 3)])
def test_lengths(length, frames):
    # one frame, one sample more, a prime one short of a hop, a hop, 2^14 -/+ 1, two hops
    x = noise(60, 1.0, seed=length)[:length]
    a = rk.roughness_dw(x, FS, backend="numba")
    b = rk.roughness_dw(x, FS, backend="reference")
    assert a[0].shape == (frames,) and a[1].shape == (47, frames)
    for u, v in zip(a, b):
        np.testing.assert_allclose(u, v, rtol=RTOL_NUMBA, atol=1e-15)


def test_frames_and_hop():
    x = am_tone(1000, 70, seconds=1.0)
    for overlap, hop in ((0.0, 8820), (0.5, 4410), (0.75, 2205)):
        r, _, time = rk.roughness_dw(x, FS, overlap)
        assert rk.frame_hop(FS, overlap) == hop
        assert r.shape == ((FS - 8820) // hop + 1,)
        np.testing.assert_allclose(np.diff(time), hop / FS)
        assert time[0] == pytest.approx(8819 / 2 / FS)


def test_non_contiguous_and_float32():
    x = np.stack([am_tone(1000, 70), noise(60, 0.5, seed=5)])
    want = rk.roughness_dw(x, FS)[0]
    wide = np.zeros((2, 2 * x.shape[1]))
    wide[:, ::2] = x
    np.testing.assert_allclose(rk.roughness_dw(wide[:, ::2], FS)[0], want, rtol=1e-12)
    np.testing.assert_allclose(rk.roughness_dw(np.asfortranarray(x), FS)[0], want, rtol=1e-12)
    np.testing.assert_allclose(rk.roughness_dw(x.T.copy().T, FS)[0], want, rtol=1e-12)
    x32 = x.astype(np.float32)
    got = rk.roughness_dw(x32, FS)[0]
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, rk.roughness_dw(x32.astype(np.float64), FS)[0], rtol=1e-12)
    np.testing.assert_allclose(got, want, rtol=1e-4)
    rk.roughness_dw((x * 1e5).astype(np.int32), FS)  # integer input is accepted


def test_clear_errors():
    x = am_tone(1000, 70)
    with pytest.raises(ValueError, match="x is empty"):
        rk.roughness_dw(np.zeros(0), FS)
    with pytest.raises(ValueError, match="x is empty"):
        rk.roughness_dw(np.zeros((0, FS)), FS)
    with pytest.raises(ValueError, match="scalar"):
        rk.roughness_dw(1.0, FS)
    with pytest.raises(ValueError, match="shorter than one 200 ms frame"):
        rk.roughness_dw(x[:8819], FS)
    bad = x.copy()
    bad[100] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        rk.roughness_dw(bad, FS)
    with pytest.raises(TypeError, match="real"):
        rk.roughness_dw(x.astype(complex), FS)
    for fs in (0, -FS, float("nan"), float("inf"), 1000):
        with pytest.raises(ValueError, match="fs"):
            rk.roughness_dw(x, fs)
    with pytest.raises(TypeError, match="fs"):
        rk.roughness_dw(x, "fast")
    for overlap in (1.0, -0.1):
        with pytest.raises(ValueError, match="overlap"):
            rk.roughness_dw(x, FS, overlap)
    with pytest.raises(ValueError, match="backend"):
        rk.roughness_dw(x, FS, backend="cuda")
    with pytest.raises(BackendUnavailableError, match="triton"):
        rk.roughness_dw(x, FS, backend="triton")


def test_auto_falls_back_without_numba(monkeypatch):
    import sys

    x = am_tone(1000, 70)
    want = rk.roughness_dw(x, FS, backend="reference")[0]
    monkeypatch.setitem(sys.modules, "affrepro.kernels.roughness.numba_impl", None)
    monkeypatch.delattr(rk, "numba_impl", raising=False)
    with pytest.warns(BackendFallbackWarning, match="numba"):
        got = rk.roughness_dw(x, FS)[0]
    np.testing.assert_array_equal(got, want)
    with pytest.raises(BackendUnavailableError, match="numba"):
        rk.roughness_dw(x, FS, backend="numba")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rk.roughness_dw(x, FS, backend="reference")


def test_auto_falls_back_without_ducc0(monkeypatch):
    import sys

    x = am_tone(1000, 70)
    want = rk.roughness_dw(x, FS, backend="reference")[0]
    monkeypatch.setitem(sys.modules, "ducc0.fft", None)
    with pytest.warns(BackendFallbackWarning, match="ducc0"):
        got = rk.roughness_dw(x, FS)[0]
    np.testing.assert_array_equal(got, want)
    with pytest.raises(BackendUnavailableError, match="ducc0"):
        rk.roughness_dw(x, FS, backend="numba")


def test_numba_matches_the_issue7_kernels():
    # the parallel kernel with the recurrent slope gains (issue 24) against the serial
    # one it replaced, kept for the benchmarks: rounding only
    from affrepro.kernels.roughness.baseline import roughness_baseline

    x = np.stack([noise(75, 0.5, seed=3), am_tone(3000, 50, db=85)])
    for u, v in zip(rk.roughness_dw(x, FS, backend="numba"), roughness_baseline(x, FS)):
        np.testing.assert_allclose(u, v, rtol=1e-12, atol=1e-15)
