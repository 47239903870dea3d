"""affrepro.kernels.spectral: the Numba backend against the float64 reference on edge
cases, the reference against librosa on speech and noise, and dispatch behaviour.
(The Triton kernel is tested under TRITON_INTERPRET=1 in test_spectral_triton.py.)"""
import os
import subprocess
import sys

import numpy as np
import pytest

from affrepro.kernels import spectral as sp
from affrepro.kernels.spectral import reference

SMALL = dict(sr=8000, n_fft=64, hop_length=20, n_mels=12)


def _close(a, b, tol):
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    assert a.shape == b.shape
    np.testing.assert_array_equal(np.isfinite(a), np.isfinite(b))
    fin = np.isfinite(a)
    if fin.any():
        assert np.max(np.abs(a[fin] - b[fin])) <= tol


# ---------------------------------------------------------------- edge cases vs reference
@pytest.mark.parametrize("n", [0, 1, 2, 31, 32, 33, 63, 64, 65, 127, 211, 1021, 1024, 1025])
@pytest.mark.parametrize("center,pad_mode", [(True, "constant"), (True, "reflect"),
                                             (True, "edge"), (True, "symmetric"),
                                             (False, "constant")])
def test_numba_logmel_sizes_and_padding(n, center, pad_mode):
    y = np.random.default_rng(n).standard_normal((2, n))
    kw = dict(SMALL, center=center, pad_mode=pad_mode)
    ref = sp.logmel(y, **kw, backend="reference")
    got = sp.logmel(y, **kw, backend="numba")
    assert got.shape == ref.shape == (2, 12, reference.n_frames(n, 64, 20, center))
    _close(got, ref, 1e-9)


@pytest.mark.parametrize("n", [0, 1, 63, 64, 65, 1009])
def test_numba_power_spectrogram_against_numpy_fft(n):
    y = np.random.default_rng(1).standard_normal(n)
    ref = reference.power_spectrogram(y, 64, 16, None, "hann", True, "reflect", 2.0)
    got = sp.power_spectrogram(y, n_fft=64, hop_length=16, pad_mode="reflect", backend="numba")
    _close(got, ref, 1e-12 * max(1.0, float(np.abs(ref).max(initial=0))))


def test_short_signal_without_centering_has_no_frames():
    y = np.ones(63)
    for b in ("reference", "numba"):
        assert sp.melspectrogram(y, **SMALL, center=False, backend=b).shape == (12, 0)
        assert sp.mfcc(y, **SMALL, n_mfcc=5, center=False, backend=b).shape == (5, 0)


@pytest.mark.parametrize("dtype,tol", [(np.float32, 1e-3), (np.float64, 1e-9)])
def test_dtypes_follow_the_input(dtype, tol):
    y = np.random.default_rng(2).standard_normal(3001).astype(dtype)
    ref = sp.logmel(y, **SMALL, backend="reference")
    got = sp.logmel(y, **SMALL, backend="numba")
    assert got.dtype == dtype and ref.dtype == dtype
    _close(got, ref, tol)


def test_float32_fft_option():
    y = np.random.default_rng(12).standard_normal((2, 3001)).astype(np.float32)
    ref = sp.logmel(y, **SMALL, backend="reference")
    got = sp.logmel(y, **SMALL, fft_precision="float32", backend="numba")
    assert got.dtype == np.float32
    _close(got, ref, 1e-3)
    with pytest.raises(ValueError, match="fft_precision"):
        sp.logmel(y, **SMALL, fft_precision="float16")


def test_integer_input_becomes_float64():
    y = (np.random.default_rng(3).standard_normal(500) * 3000).astype(np.int16)
    got = sp.logmel(y, **SMALL, backend="numba")
    assert got.dtype == np.float64
    _close(got, sp.logmel(y.astype(np.float64), **SMALL, backend="reference"), 1e-9)


def test_non_contiguous_views_and_batches():
    base = np.random.default_rng(4).standard_normal((3, 2, 1601))
    view = base[:, :, ::2].transpose(1, 0, 2)  # (2, 3, 801), neither C nor F contiguous
    assert not view.flags.c_contiguous
    got = sp.mfcc(view, **SMALL, n_mfcc=6, lifter=8, backend="numba")
    assert got.shape[:2] == (2, 3)
    for i in range(2):
        for j in range(3):
            one = sp.mfcc(np.ascontiguousarray(view[i, j]), **SMALL, n_mfcc=6, lifter=8,
                          backend="reference")
            _close(got[i, j], one, 1e-9)


def test_nan_and_inf_positions_propagate_like_the_reference():
    y = np.random.default_rng(5).standard_normal((3, 1000))
    y[0, 10] = np.nan
    y[1, 500] = np.inf
    for fn in (sp.melspectrogram, sp.power_spectrogram):
        kw = SMALL if fn is sp.melspectrogram else {"n_fft": 64, "hop_length": 20}
        ref = fn(y, **kw, backend="reference")
        got = fn(y, **kw, backend="numba")
        # NaN stays NaN; inf becomes inf or NaN depending on the FFT's order of operations
        np.testing.assert_array_equal(np.isnan(got[0]), np.isnan(ref[0]))
        np.testing.assert_array_equal(np.isfinite(got), np.isfinite(ref))
        assert not np.isfinite(got[1]).all()
        _close(got[2], ref[2], 1e-9 * float(np.abs(ref[2]).max()))
    # the dB floor takes the peak per signal: one NaN blanks its own signal only (librosa)
    got = sp.logmel(y, **SMALL, backend="numba")
    ref = sp.logmel(y, **SMALL, backend="reference")
    assert np.isnan(got[0]).all() and np.isnan(ref[0]).all()
    _close(got[2], ref[2], 1e-9)


@pytest.mark.parametrize("log,ref_,top_db", [("db", 1.0, 80.0), ("db", "max", 40.0),
                                            ("db", 0.01, None), ("log", 1.0, 80.0),
                                            ("log", 1.0, 20.0), ("log", "max", 10.0),
                                            ("log", "max", None)])
def test_log_options(log, ref_, top_db):
    y = np.random.default_rng(6).standard_normal((2, 2000)) * np.array([[1.0], [1e-4]])
    kw = dict(SMALL, log=log, ref=ref_, top_db=top_db, amin=1e-8)
    _close(sp.logmel(y, **kw, backend="numba"), sp.logmel(y, **kw, backend="reference"), 1e-9)
    S = sp.melspectrogram(y, **SMALL, backend="reference")
    a = sp.power_to_db(S, log=log, ref=ref_, top_db=top_db, amin=1e-8, backend="numba")
    _close(a, sp.logmel(y, **kw, backend="reference"), 1e-9)


def _ln_edge_cases() -> np.ndarray:
    """Where a bit-split log goes wrong if it does: the √½ and √2 mantissa boundaries,
    exact powers of two, the ends of the normal range, and a log-uniform sweep."""
    r2, h = np.sqrt(2.0), np.sqrt(0.5)
    exact = [1.0, 2.0, 0.5, 3.0, 1e-10, 1e10, np.finfo(float).tiny, np.finfo(float).max,
             np.nextafter(np.finfo(float).tiny, 1.0)]
    edges = [np.nextafter(v, d) for v in (h, r2, 1.0) for d in (0.0, 4.0)] + [h, r2]
    scaled = [e * 2.0 ** k for e in edges for k in (-1000, -40, -1, 1, 40, 1000)]
    sweep = np.exp(np.random.default_rng(11).uniform(-700.0, 700.0, 4096))
    return np.concatenate([exact, edges, scaled, sweep])


def test_vectorised_ln_matches_numpy_log_on_edge_cases():
    from affrepro.kernels.spectral import numba_impl
    x = _ln_edge_cases()
    out, scratch = np.empty_like(x), np.empty_like(x)
    numba_impl._ln_block(x, scratch, x.size, out)
    ref = np.log(x)
    # 1e-13 in ln is ~4e-13 dB; k·ln 2 for |k| ~ 1000 adds its own rounding (rtol)
    np.testing.assert_allclose(out, ref, rtol=1e-15, atol=1e-13)
    assert out[0] == 0.0  # ln 1 is exactly 0: k = 0, m = 1, s = 0


@pytest.mark.parametrize("amin", [1e-10, 1e-300, 5e-324])
def test_fused_log_clamps_keeps_nan_inf_and_falls_back_below_the_normal_range(amin):
    from affrepro.kernels.spectral import numba_impl
    sums = np.array([0.0, amin / 2, amin, 1.0, np.nan, np.inf, 1e300, 3e-5])
    n = sums.size
    work = [np.empty(n) for _ in range(3)]
    got = sums.copy()
    numba_impl._log_sums(got, n, 10.0, amin, 2.5, *work)
    with np.errstate(divide="ignore", invalid="ignore"):
        ref = 10.0 * np.log(np.maximum(amin, sums)) - 2.5
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-12)
    assert np.isnan(got[4]) and got[5] == np.inf


def test_power_other_than_two():
    y = np.random.default_rng(8).standard_normal(999)
    _close(sp.melspectrogram(y, **SMALL, power=1.0, backend="numba"),
           sp.melspectrogram(y, **SMALL, power=1.0, backend="reference"), 1e-9)


def test_torch_cpu_tensors_round_trip():
    torch = pytest.importorskip("torch")
    y = torch.randn(2, 1500, dtype=torch.float32)
    got = sp.logmel(y, **SMALL)
    assert isinstance(got, torch.Tensor) and got.dtype == torch.float32
    _close(got.numpy(), sp.logmel(y.double().numpy(), **SMALL, backend="reference"), 1e-3)


@pytest.mark.parametrize("name", ["hann", "han", "hamming", "hamm", "ham", "blackman",
                                  "black", "blk", "bartlett", "bart", "brt", "boxcar", "box",
                                  "ones", "rect", "rectangular"])
def test_numpy_built_windows_equal_scipy_get_window(name):
    from scipy.signal import get_window

    for length in (1, 2, 3, 4, 5, 16, 31, 400, 1024, 4096):
        ours = reference.window_vector(name, length)
        theirs = get_window(name, length, fftbins=True)
        assert ours.dtype == np.float64 and ours.shape == (length,)
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-15)
    ours = reference.window_vector(name, 1024, win_length=400)  # centred in n_fft
    np.testing.assert_array_equal(ours[:312], 0.0)
    np.testing.assert_allclose(ours[312:712], get_window(name, 400), rtol=0, atol=1e-15)


def test_other_windows_and_unknown_names_go_to_scipy():
    from scipy.signal import get_window

    np.testing.assert_array_equal(reference.window_vector(("kaiser", 8.0), 64),
                                  get_window(("kaiser", 8.0), 64))
    for bad in ("Hann", "hanning-ish"):  # scipy's names are case-sensitive
        with pytest.raises(ValueError, match="window"):
            reference.window_vector(bad, 64)


def test_a_hann_logmel_does_not_import_scipy_signal():
    """scipy.signal takes about a second to import: the CLI's common path avoids it."""
    code = ("import sys, numpy as np\n"
            "from affrepro.kernels import spectral as sp\n"
            "sp.logmel(np.zeros(4000), sr=8000, n_fft=64, hop_length=20, n_mels=12,"
            " backend='reference')\n"
            "print('scipy.signal' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=300).stdout.split()
    assert out[-1] == "False"


# ---------------------------------------------------------------- dispatch
def test_explicit_triton_on_numpy_raises():
    with pytest.raises(sp.BackendUnavailableError):
        sp.logmel(np.zeros(100), **SMALL, backend="triton")
    with pytest.raises(ValueError):
        sp.logmel(np.zeros(100), **SMALL, backend="cuda")


def test_auto_falls_back_with_a_warning_when_numba_cannot_load(monkeypatch):
    def broken():
        raise sp.BackendUnavailableError("numba backend needs numba: simulated")

    monkeypatch.setattr(sp, "_numba", broken)
    y = np.random.default_rng(9).standard_normal(700)
    with pytest.warns(sp.BackendFallbackWarning, match="simulated"):
        got = sp.logmel(y, **SMALL)
    _close(got, sp.logmel(y, **SMALL, backend="reference"), 0)
    with pytest.raises(sp.BackendUnavailableError):
        sp.logmel(y, **SMALL, backend="numba")


def test_bad_parameters():
    with pytest.raises(ValueError, match="pad_mode"):
        sp.logmel(np.zeros(10), **SMALL, pad_mode="wrap")
    with pytest.raises(ValueError, match="hop_length"):
        sp.logmel(np.zeros(10), **dict(SMALL, hop_length=0))
    with pytest.raises(ValueError, match="amin"):
        sp.logmel(np.zeros(10), **SMALL, amin=0)
    with pytest.raises(ValueError, match="n_mfcc"):
        sp.mfcc(np.zeros(10), **SMALL, n_mfcc=13 + 12)


# ---------------------------------------------------------------- librosa parity
librosa = pytest.importorskip("librosa")


@pytest.mark.parametrize("htk", [False, True])
@pytest.mark.parametrize("norm", ["slaney", None, 1, 2, np.inf])
def test_mel_filterbank_matches_librosa(htk, norm):
    for sr, n_fft, n_mels, fmin, fmax in [(16000, 1024, 64, 0.0, None),
                                          (44100, 4096, 64, 20.0, 20000.0),
                                          (22050, 2048, 128, 300.0, 8000.0)]:
        ours = sp.mel_filterbank(sr, n_fft, n_mels, fmin, fmax, htk, norm)
        theirs = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax,
                                     htk=htk, norm=norm, dtype=np.float64)
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)


# workload (a) settings, workload (b) settings (on a short clip), and an HTK variant
CONFIGS = [
    dict(sr=16000, n_fft=1024, hop_length=160, n_mels=64),
    dict(sr=16000, n_fft=4096, hop_length=2048, n_mels=64, center=False),
    dict(sr=16000, n_fft=512, hop_length=128, win_length=400, n_mels=40, htk=True, norm=None,
         fmin=20.0, fmax=7600.0, pad_mode="reflect"),
]


def _librosa_logmel(y, cfg, dtype):
    cfg = dict(cfg)
    sr = cfg.pop("sr")
    S = librosa.feature.melspectrogram(y=y.astype(dtype), sr=sr, dtype=np.float64
                                       if dtype == np.float64 else np.float32, **cfg)
    return S, librosa.power_to_db(S)


@pytest.mark.parametrize("cfg", CONFIGS, ids=["a", "b", "htk"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("signal", ["speech", "noise"])
def test_parity_with_librosa(cfg, dtype, signal, request):
    y = request.getfixturevalue("speech16k" if signal == "speech" else "noise").astype(dtype)
    S_lib, db_lib = _librosa_logmel(y, cfg, dtype)
    S = sp.melspectrogram(y, **cfg)
    assert S.dtype == dtype and S.shape == S_lib.shape
    rtol = 1e-4 if dtype == np.float32 else 1e-9
    peak = float(S_lib.max())
    np.testing.assert_allclose(S, S_lib, rtol=rtol, atol=rtol * 1e-3 * peak)
    db = sp.logmel(y, **cfg)
    np.testing.assert_allclose(db, db_lib, atol=2e-3 if dtype == np.float32 else 1e-8)
    mel_cfg = {("mel_norm" if k == "norm" else k): v for k, v in cfg.items()}  # mfcc's norm: DCT
    m = sp.mfcc(y, **mel_cfg, n_mfcc=20, lifter=22)
    m_lib = librosa.feature.mfcc(S=db_lib, n_mfcc=20, lifter=22)
    np.testing.assert_allclose(m, m_lib, atol=2e-2 if dtype == np.float32 else 1e-7)


def test_mfcc_norm_and_dct_type_mean_what_they_mean_in_librosa(noise):
    y = noise[:16000].astype(np.float64)
    kw = dict(sr=16000, n_fft=512, hop_length=128)
    for norm in ("ortho", None):
        np.testing.assert_allclose(sp.mfcc(y, norm=norm, dct_type=2, **kw),
                                   librosa.feature.mfcc(y=y, norm=norm, dct_type=2, **kw),
                                   atol=1e-3 if norm is None else 1e-4)
    # the mel filters' norm is mel_norm (librosa reaches it only through S=)
    S = librosa.feature.melspectrogram(y=y, norm=None, dtype=np.float64, **kw)
    np.testing.assert_allclose(sp.mfcc(y, mel_norm=None, **kw),
                               librosa.feature.mfcc(S=librosa.power_to_db(S)), atol=1e-4)
    with pytest.raises(ValueError, match="dct_type must be 2"):
        sp.mfcc(y, dct_type=3, **kw)


@pytest.mark.parametrize("backend", ["reference", "numba"])
def test_default_hop_is_librosas(noise, backend):
    y = noise[:16000].astype(np.float64)
    np.testing.assert_allclose(sp.melspectrogram(y, sr=16000, n_fft=1024, backend=backend),
                               librosa.feature.melspectrogram(y=y, sr=16000, n_fft=1024,
                                                              dtype=np.float64),
                               rtol=1e-9)
    assert sp.mfcc(y, sr=16000, n_fft=512, backend=backend).shape == \
        librosa.feature.mfcc(y=y, sr=16000, n_fft=512).shape == (20, 32)
    np.testing.assert_allclose(
        sp.power_spectrogram(y, n_fft=1024, win_length=400, backend=backend),
        np.abs(librosa.stft(y, n_fft=1024, win_length=400)) ** 2, rtol=1e-9, atol=1e-12)
    with pytest.raises(ValueError, match="win_length // 4 is 0"):
        sp.power_spectrogram(y, n_fft=3)


def test_ref_callable_as_librosa_per_signal(noise):
    y = np.stack([noise[:8000], 0.01 * noise[8000:16000]]).astype(np.float64)
    kw = dict(sr=16000, n_fft=512, hop_length=128, n_mels=40)
    for backend in ("reference", "numba"):
        got = sp.logmel(y, ref=np.max, backend=backend, **kw)
        for i in range(2):
            S = librosa.feature.melspectrogram(y=y[i], dtype=np.float64, **kw)
            want = librosa.power_to_db(S, ref=np.max)
            np.testing.assert_allclose(got[i], want, atol=1e-6)
        m = sp.mfcc(y, ref=np.max, n_mfcc=13, backend=backend, **kw)
        np.testing.assert_allclose(m[1], librosa.feature.mfcc(S=got[1], n_mfcc=13), atol=1e-6)
    for bad in ("peak", object()):
        with pytest.raises(ValueError, match="ref must be a number, 'max' or a callable"):
            sp.logmel(y, ref=bad, **kw)
    # librosa blanks the whole output (NaN or -inf) for these; we refuse them, naming them
    for bad in (float("nan"), np.inf, -np.inf):
        with pytest.raises(ValueError, match="ref must be a finite number"):
            sp.logmel(y, ref=bad, **kw)
        with pytest.raises(ValueError, match="ref must be a finite number"):
            sp.power_to_db(np.ones((3, 4)), ref=bad)
    with pytest.raises(ValueError, match="top_db must be a number, got nan"):
        sp.power_to_db(np.ones((3, 4)), top_db=float("nan"))
    assert np.isnan(librosa.power_to_db(np.ones((3, 4)), ref=np.nan)).all()
    # no frames: nothing to call ref on; a NaN from ref (a NaN sample) gives NaN as "max";
    # a callable's negative value is not made positive (librosa: max(amin, value))
    assert sp.logmel(np.zeros(100), ref=np.max, center=False, **kw).shape == (40, 0)
    assert sp.power_to_db(np.ones((3, 0)), ref=np.max).shape == (3, 0)
    z = y[0].copy()
    z[100] = np.nan
    assert np.isnan(sp.logmel(z, ref=np.max, top_db=None, **kw)).all()
    S = sp.melspectrogram(y[0], **kw)
    np.testing.assert_allclose(sp.power_to_db(S, ref=lambda s: -1.0, top_db=None),
                               librosa.power_to_db(S, ref=lambda s: -1.0, top_db=None),
                               atol=1e-9)


def test_argument_types_are_checked_by_name():
    y = np.zeros(2000)
    got = sp.logmel(y, sr=8000, n_fft=np.int64(64), hop_length=np.int32(20), n_mels=np.int64(12))
    assert got.shape == sp.logmel(y, **SMALL).shape
    with pytest.raises(TypeError, match="n_fft must be an integer, got 64.0"):
        sp.logmel(y, sr=8000, n_fft=64.0, hop_length=20, n_mels=12)
    with pytest.raises(TypeError, match="hop_length must be an integer, got 20.5"):
        sp.logmel(y, sr=8000, n_fft=64, hop_length=20.5, n_mels=12)
    with pytest.raises(ValueError, match="n_mels must be >= 0"):
        sp.logmel(y, sr=8000, n_fft=64, hop_length=20, n_mels=-1)
    with pytest.raises(ValueError, match="norm \\(of the mel filters\\)"):
        sp.logmel(y, **SMALL, norm="l2")
    with pytest.raises(ValueError, match="y is complex"):
        sp.logmel(y.astype(complex), **SMALL)


def test_windows_given_as_callables_or_kaiser_beta_as_librosa(noise):
    from scipy.signal import get_window

    y = noise[:4000].astype(np.float64)
    kw = dict(sr=16000, n_fft=256, hop_length=64, n_mels=20)
    np.testing.assert_allclose(sp.melspectrogram(y, window=np.hamming, **kw),
                               librosa.feature.melspectrogram(y=y, window=np.hamming,
                                                              dtype=np.float64, **kw),
                               rtol=1e-9)
    np.testing.assert_allclose(sp.melspectrogram(y, window=8.0, **kw),
                               librosa.feature.melspectrogram(y=y, window=8.0, dtype=np.float64,
                                                              **kw), rtol=1e-9)
    np.testing.assert_array_equal(reference.window_vector(8.0, 256),
                                  get_window(("kaiser", 8.0), 256))


def test_power_to_db_inputs_as_librosa():
    torch = pytest.importorskip("torch")
    ints = sp.power_to_db(torch.tensor([[1, 10, 100], [3, 7, 1000]]))
    assert ints.dtype == torch.float64
    np.testing.assert_allclose(ints.numpy(), 10 * np.log10([[1, 10, 100], [3, 7, 1000]]))
    half = sp.power_to_db(torch.tensor([[1.0, 10.0, 100.0]], dtype=torch.bfloat16))
    assert half.dtype == torch.float32 and float(half[0, 2]) == pytest.approx(20.0, abs=1e-5)
    D = librosa.stft(np.random.default_rng(0).standard_normal(2000), n_fft=256)
    with pytest.warns(UserWarning, match="complex input"):
        got = sp.power_to_db(D, top_db=None)
    with pytest.warns(UserWarning):
        want = librosa.power_to_db(D, top_db=None)
    np.testing.assert_allclose(got, want, atol=1e-9)


def test_thread_and_fft_environment_variables(monkeypatch):
    from affrepro.kernels.spectral import numba_impl

    y = np.random.default_rng(0).standard_normal(3000)
    want = sp.logmel(y, **SMALL, backend="numba")
    for bad in ("abc", "2.5", "0", "-3"):
        monkeypatch.setenv("AFFREPRO_NUM_THREADS", bad)
        with pytest.raises(ValueError, match="AFFREPRO_NUM_THREADS must be a whole number"):
            sp.logmel(y, **SMALL, backend="numba")
    monkeypatch.setenv("AFFREPRO_NUM_THREADS", " 1 ")
    assert numba_impl.default_threads() == 1
    monkeypatch.setenv("AFFREPRO_NUMBA_FFT", "")
    np.testing.assert_array_equal(sp.logmel(y, **SMALL, backend="numba"), want)


def test_float32_logmel_within_1e4_of_float64_reference(speech16k):
    """The CPU target: workload-(a) settings, float32 input, |error| <= 1e-4 dB."""
    cfg = CONFIGS[0]
    y = speech16k.astype(np.float32)
    got = sp.logmel(y, **cfg, backend="numba")
    ref = sp.logmel(y.astype(np.float64), **cfg, backend="reference")
    assert np.max(np.abs(got - ref)) <= 1e-4


# ---------------------------------------------------------------- numba cache
def test_numba_cache_is_used_by_a_second_process(tmp_path):
    """A warm call (second process) loads every compiled function from the cache."""
    code = (
        "import numpy as np\n"
        "from affrepro.kernels import spectral as sp\n"
        "from affrepro.kernels.spectral import numba_impl as ni\n"
        "y = np.random.default_rng(0).standard_normal(3000).astype(np.float32)\n"
        "for n_fft in (64, 60):  # the lane FFT (power of two) and pocketfft\n"
        "    sp.mfcc(y, sr=8000, n_fft=n_fft, hop_length=20, n_mels=12, n_mfcc=5,"
        " backend='numba')\n"
        "fns = [ni._lane_fft_block, ni._frame_block, ni._mel_block, ni._finish_db,"
        " ni._matmul_rows]\n"
        "print(sum(sum(f.stats.cache_misses.values()) for f in fns),"
        " sum(sum(f.stats.cache_hits.values()) for f in fns))\n"
    )
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "numba-cache"))
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           env=env, check=True, timeout=300).stdout.split() for _ in range(2)]
    misses_cold, _ = map(int, runs[0])
    misses_warm, hits_warm = map(int, runs[1])
    assert misses_cold >= 5
    assert misses_warm == 0 and hits_warm >= 5


@pytest.mark.parametrize("backend", ["reference", "numba"])
def test_big_endian_input_gives_the_native_result(noise, backend):
    """Big-endian floats (RIFX/AIFF-float audio, a .npy from another machine) are read as
    their values: the same result as native order, in native order."""
    kw = dict(sr=16000, n_fft=256, hop_length=64, n_mels=40, backend=backend)
    for dtype in (">f8", ">f4"):
        y = noise[:4000].astype(dtype)
        want = sp.logmel(y.astype(dtype[1:]), **kw)
        got = sp.logmel(y, **kw)
        assert got.dtype.isnative
        np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(sp.mfcc(y, n_mfcc=13, **kw),
                                      sp.mfcc(y.astype(dtype[1:]), n_mfcc=13, **kw))
        S = np.abs(sp.melspectrogram(y, **kw)).astype(dtype)
        np.testing.assert_array_equal(sp.power_to_db(S, backend=backend),
                                      sp.power_to_db(S.astype(dtype[1:]), backend=backend))


def test_ref_callable_with_an_overflowed_peak_is_librosa(noise):
    """ref=np.max of a power that overflowed to +inf subtracts +inf, as librosa does; only
    a NUMERIC ref that is not finite is refused (the user wrote it)."""
    import librosa

    S = np.array([[1.0, np.inf], [0.5, 2.0]])
    for top_db in (None, 80.0):
        np.testing.assert_array_equal(sp.power_to_db(S, ref=np.max, top_db=top_db),
                                      librosa.power_to_db(S, ref=np.max, top_db=top_db))
    kw = dict(sr=8000, n_fft=64, hop_length=16, n_mels=12, top_db=None)
    for backend in ("reference", "numba"):
        got = sp.logmel(noise[:2000], ref=lambda s: np.inf, backend=backend, **kw)
        assert np.isneginf(got).all()  # librosa: every finite band minus +inf


@pytest.mark.parametrize("kwargs,error,message", [
    ({"sr": -16000}, ValueError, "sr must be > 0.0, got -16000"),
    ({"sr": "8000"}, TypeError, "sr must be a number, got '8000'"),
    ({"sr": float("nan")}, ValueError, "sr must be a number, got nan"),
    ({"fmin": "0"}, TypeError, "fmin must be a number, got '0'"),
    ({"fmin": -1.0}, ValueError, "fmin must be >= 0.0"),
    ({"fmax": np.inf}, ValueError, "fmax must be a finite number"),
    ({"fmin": 5000.0, "fmax": 4000.0}, ValueError, "need 0 <= fmin < fmax"),
    ({"power": "2"}, TypeError, "power must be a number, got '2'"),
    ({"power": 0}, ValueError, "power must be > 0.0, got 0"),
    ({"norm": [2]}, ValueError, "norm (of the mel filters) must be 'slaney', None or a p > 0"),
    ({"norm": 0}, ValueError, "norm (of the mel filters)"),
    ({"amin": "1e-10"}, TypeError, "amin must be a number, got '1e-10'"),
    ({"amin": None}, TypeError, "amin must be a number, got None"),
    ({"amin": np.inf}, ValueError, "amin must be a finite number"),
    ({"top_db": "80"}, TypeError, "top_db must be a number, got '80'"),
    ({"top_db": -1}, ValueError, "top_db must be >= 0.0, got -1"),
    ({"ref": "1.0"}, ValueError, "ref must be a number, 'max' or a callable"),
])
@pytest.mark.parametrize("backend", ["reference", "numba"])
def test_bad_arguments_are_named_on_every_backend(noise, kwargs, error, message, backend):
    import re

    kw = dict(sr=16000, n_fft=256, hop_length=64, n_mels=20, backend=backend)
    kw.update(kwargs)
    with pytest.raises(error, match=re.escape(message)):
        sp.logmel(noise[:2000], **kw)


def test_mel_filterbank_checks_its_arguments_and_warns_of_empty_filters():
    import librosa

    with pytest.raises(ValueError, match="n_fft must be >= 1, got 0"):
        sp.mel_filterbank(16000, 0, 40)
    with pytest.raises(ValueError, match="n_fft must be >= 1, got -2"):
        sp.mel_filterbank(16000, -2, 40)
    with pytest.raises(TypeError, match="n_mels must be an integer, got 40.9"):
        sp.mel_filterbank(16000, 512, 40.9)
    with pytest.raises(ValueError, match="norm \\(of the mel filters\\)"):
        sp.mel_filterbank(16000, 512, 40, norm=[2])
    # too many mels for n_fft: librosa warns, and so do we (same zero filters)
    with pytest.warns(UserWarning, match="Empty filters"):
        want = librosa.filters.mel(sr=16000, n_fft=128, n_mels=80)
    with pytest.warns(UserWarning, match="empty mel filters: 80 mels"):
        got = reference.mel_filterbank(16000, 128, 80)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-12)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sp.mel_filterbank(16000, 512, 40)  # every filter has a bin: no warning


def test_numpy_and_torch_scalars_are_numbers(noise):
    import torch

    kw = dict(n_fft=256, hop_length=64, n_mels=20)
    want = sp.logmel(noise[:2000], sr=16000, fmax=4000.0, power=2.0, top_db=60.0, **kw)
    got = sp.logmel(noise[:2000], sr=np.array(16000), fmax=torch.tensor(4000.0),
                    power=np.float32(2.0), top_db=np.float64(60.0), ref=np.array(1.0), **kw)
    np.testing.assert_array_equal(got, want)


def test_power_to_db_auto_falls_back_without_numba_and_warnings_name_the_caller(monkeypatch):
    import warnings

    def no_numba():
        raise sp.BackendUnavailableError("numba backend needs numba and scipy: (test)")

    monkeypatch.setattr(sp, "_numba", no_numba)
    S = np.abs(np.random.default_rng(0).standard_normal((3, 4))) + 0.1
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = sp.power_to_db(S)  # the line the warning must name
        line = sys._getframe().f_lineno - 1
        sp.logmel(np.ones(2000), sr=16000, n_fft=256, hop_length=64, n_mels=20)
    np.testing.assert_allclose(got, reference.power_to_db(S))
    fallbacks = [w for w in caught if issubclass(w.category, sp.BackendFallbackWarning)]
    assert len(fallbacks) == 2
    assert all(w.filename == __file__ for w in fallbacks), [w.filename for w in fallbacks]
    assert fallbacks[0].lineno == line
    with pytest.raises(sp.BackendUnavailableError):
        sp.power_to_db(S, backend="numba")


def test_flags_must_be_booleans():
    y = np.ones(2000)
    for kw in ({"center": "no"}, {"center": 1}, {"htk": "false"}):
        name = next(iter(kw))
        with pytest.raises(TypeError, match=f"{name} must be True or False"):
            sp.logmel(y, sr=16000, n_fft=256, hop_length=64, n_mels=20, **kw)
    assert sp.logmel(y, sr=16000, n_fft=256, hop_length=64, n_mels=20,
                     center=np.bool_(False)).shape == (20, 1 + (2000 - 256) // 64)
