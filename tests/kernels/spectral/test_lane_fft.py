"""The lane FFT (kernels/spectral/numba_impl.py: stockham, packed_power) against NumPy's FFT, and the Numba
spectrogram on it against the same spectrogram on pocketfft."""
import numpy as np
import pytest

from affrepro.kernels import spectral as sp
from affrepro.kernels.spectral import numba_impl

SIZES = [8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192]  # odd and even log2(M)


@pytest.mark.parametrize("n_fft", SIZES)
@pytest.mark.parametrize("lanes", [1, 3, 16])
def test_stockham_matches_numpy_fft(n_fft, lanes):
    m = n_fft // 2
    rng = np.random.default_rng(n_fft + lanes)
    z = rng.standard_normal((m, lanes)) + 1j * rng.standard_normal((m, lanes))
    xr, xi = z.real.ravel().copy(), z.imag.ravel().copy()
    yr, yi = np.empty_like(xr), np.empty_like(xi)
    in_y = numba_impl.stockham(xr, xi, yr, yi, lanes, *numba_impl.lane_fft_plan(n_fft)[:4])
    got = (yr + 1j * yi if in_y else xr + 1j * xi).reshape(m, lanes)
    ref = np.fft.fft(z, axis=0)
    # a float64 FFT's rounding: ~1e-16 · log2(M) of the largest coefficient
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-14 * np.abs(ref).max())


def _frames(kind: str, n_fft: int, lanes: int) -> np.ndarray:
    rng = np.random.default_rng(7)
    n = np.arange(n_fft)
    return {"noise": rng.standard_normal((lanes, n_fft)),
            "impulse": np.eye(lanes, n_fft, k=3),
            "dc": np.ones((lanes, n_fft)),
            "nyquist": np.tile((-1.0) ** n, (lanes, 1)),
            "zeros": np.zeros((lanes, n_fft)),
            "tone": np.sin(2 * np.pi * (n[None] + 1) * (np.arange(lanes)[:, None] + 1) / n_fft)
            }[kind]


@pytest.mark.parametrize("n_fft", [8, 64, 1024, 4096])
@pytest.mark.parametrize("kind", ["noise", "impulse", "dc", "nyquist", "zeros", "tone"])
@pytest.mark.parametrize("power", [2.0, 1.0])
def test_packed_power_is_the_real_fft_power(n_fft, kind, power):
    lanes = 16
    x = _frames(kind, n_fft, lanes)
    z = x[:, 0::2] + 1j * x[:, 1::2]  # (lanes, M): the packing _frames_packed does
    zr, zi = z.real.T.ravel().copy(), z.imag.T.ravel().copy()
    wr, wi = np.empty_like(zr), np.empty_like(zi)
    plan = numba_impl.lane_fft_plan(n_fft)
    in_y = numba_impl.stockham(zr, zi, wr, wi, lanes, *plan[:4])
    pt = np.empty((n_fft // 2 + 1, lanes))
    numba_impl.packed_power(*((wr, wi) if in_y else (zr, zi)), lanes, plan[4], plan[5], power, pt)
    ref = np.abs(np.fft.rfft(x, axis=-1)).T ** power
    scale = max(float(np.abs(ref).max()), 1.0)
    np.testing.assert_allclose(pt, ref, rtol=0, atol=1e-13 * scale)


@pytest.mark.parametrize("n_fft", [0, 4, 6, 12, 1000, 1023])
def test_plan_refuses_sizes_it_cannot_transform(n_fft):
    assert not numba_impl.lane_fft_supported(n_fft)
    with pytest.raises(ValueError, match="power of two"):
        numba_impl.lane_fft_plan(n_fft)


def test_plan_is_cached_and_read_only():
    plan = numba_impl.lane_fft_plan(256)
    assert numba_impl.lane_fft_plan(256) is plan
    assert not any(a.flags.writeable for a in plan)


def _both(monkeypatch, fn, *args, **kw):
    out = []
    for choice in ("pocketfft", "lanes"):
        monkeypatch.setenv("AFFREPRO_NUMBA_FFT", choice)
        out.append(fn(*args, **kw, backend="numba"))
    return out


@pytest.mark.parametrize("n", [1, 63, 64, 65, 511, 1000, 4099])
@pytest.mark.parametrize("center,pad_mode", [(True, "constant"), (True, "reflect"),
                                             (True, "edge"), (True, "symmetric"),
                                             (False, "constant")])
def test_lanes_and_pocketfft_spectrograms_agree(monkeypatch, n, center, pad_mode):
    # n_fft 64, hop 16: n = 1000 gives 63 frames (partial last group), 4099 several blocks
    y = np.random.default_rng(n).standard_normal((2, n))
    kw = dict(n_fft=64, hop_length=16, center=center, pad_mode=pad_mode)
    pocket, lanes = _both(monkeypatch, sp.power_spectrogram, y, **kw)
    assert pocket.shape == lanes.shape
    np.testing.assert_allclose(lanes, pocket, rtol=0, atol=1e-12 * max(pocket.max(initial=0), 1))
    mel = dict(kw, sr=8000, n_mels=20)
    pocket, lanes = _both(monkeypatch, sp.logmel, y, **mel)
    np.testing.assert_allclose(lanes, pocket, rtol=0, atol=1e-9)


def test_lanes_keep_a_nan_in_its_own_frames_and_power_one(monkeypatch):
    y = np.random.default_rng(3).standard_normal(3000)
    y[1234] = np.nan
    kw = dict(sr=8000, n_fft=128, hop_length=32, n_mels=16, power=1.0)
    pocket, lanes = _both(monkeypatch, sp.melspectrogram, y, **kw)
    np.testing.assert_array_equal(np.isnan(lanes), np.isnan(pocket))
    assert 0 < np.isnan(lanes[0]).sum(axis=0).astype(bool).sum() < lanes.shape[-1]
    ok = ~np.isnan(pocket)
    np.testing.assert_allclose(lanes[ok], pocket[ok], rtol=1e-12)


def test_float32_fft_precision_odd_and_large_sizes_use_pocketfft(monkeypatch):
    # the float32 FFT option, a non-power-of-two n_fft and one above MAX_LANE_NFFT do not
    # reach the lane FFT
    calls = []
    real = numba_impl._lane_fft_block
    monkeypatch.setattr(numba_impl, "_lane_fft_block", lambda *a: calls.append(a) or real(*a))
    y = np.random.default_rng(4).standard_normal(2000).astype(np.float32)
    sp.melspectrogram(y, sr=8000, n_fft=100, hop_length=25, n_mels=10, backend="numba")
    sp.melspectrogram(y, sr=8000, n_fft=128, hop_length=25, n_mels=10, backend="numba",
                      fft_precision="float32")
    big = numba_impl.MAX_LANE_NFFT * 2
    sp.melspectrogram(np.zeros(big + 10), sr=8000, n_fft=big, n_mels=10, backend="numba")
    assert calls == []
    sp.melspectrogram(y, sr=8000, n_fft=128, hop_length=25, n_mels=10, backend="numba")
    assert len(calls) == 1


@pytest.mark.parametrize("n_fft", [128, 100, 8192])  # lane FFT, pocketfft by size, by cap
def test_bad_fft_choice_names_the_variable_whatever_the_size(monkeypatch, n_fft):
    monkeypatch.setenv("AFFREPRO_NUMBA_FFT", "fftw")
    with pytest.raises(ValueError, match="AFFREPRO_NUMBA_FFT"):
        sp.melspectrogram(np.zeros(9000), sr=8000, n_fft=n_fft, n_mels=10, backend="numba")


@pytest.mark.parametrize("fn", [sp.melspectrogram, sp.logmel])
def test_zero_mels_give_an_empty_mel_axis_not_power_rows(monkeypatch, fn):
    # the lane block once took "no bands" for "power spectrogram" and wrote n_fft/2 + 1
    # rows into a 0-row output (heap corruption); now it is told which it computes
    y = np.random.default_rng(0).standard_normal((4, 40000))
    for _ in range(3):
        pocket, lanes = _both(monkeypatch, fn, y, sr=16000, n_fft=64, hop_length=16, n_mels=0)
        assert lanes.shape == pocket.shape == (4, 0, 2501)


def test_an_inf_sample_makes_its_frames_nan_on_the_lane_path(monkeypatch):
    # the packed transform forms Z[k] ± conj Z[M−k], inf − inf: the frames holding an inf
    # sample come out NaN in every bin, where pocketfft gives inf in most; both mark the
    # same frames non-finite, and no other frame changes
    y = np.random.default_rng(1).standard_normal(400)
    y[133] = np.inf
    pocket, lanes = _both(monkeypatch, sp.power_spectrogram, y, n_fft=16, hop_length=16)
    bad = ~np.isfinite(pocket).all(axis=0)
    assert bad.sum() == 1
    assert np.isnan(lanes[:, bad]).all()
    np.testing.assert_array_equal(~np.isfinite(lanes).all(axis=0), bad)
    np.testing.assert_allclose(lanes[:, ~bad], pocket[:, ~bad], rtol=1e-12)
