"""The fused Triton kernel against the float64 reference, on the CPU under
TRITON_INTERPRET=1 (small shapes; the same kernel runs on CUDA tensors on a GPU)."""
import os
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("triton")
pytest.importorskip("torch")

SCRIPT = textwrap.dedent("""
    import numpy as np, torch
    from affrepro.kernels import spectral as sp
    rng = np.random.default_rng(0)
    cases = 0
    for n in (0, 1, 7, 63, 64, 65, 211):
        for center, pm in ((True, "constant"), (True, "reflect"), (True, "edge"),
                           (True, "symmetric"), (False, "constant")):
            for dt, tol in ((torch.float32, 1e-3), (torch.float64, 1e-9)):
                y = torch.tensor(rng.standard_normal((2, n)), dtype=dt)
                kw = dict(sr=8000, n_fft=64, hop_length=20, n_mels=10, center=center,
                          pad_mode=pm)
                a = sp.logmel(y, **kw, backend="reference")
                b = sp.logmel(y, **kw, backend="triton")
                assert a.shape == b.shape and a.dtype == b.dtype == dt, (a.shape, b.shape)
                if a.numel():
                    err = (a.double() - b.double()).abs().max().item()
                    assert err <= tol, (n, center, pm, dt, err)
                cases += 1
    # a non-contiguous batch, the power spectrum, MFCC with liftering, other log options
    base = torch.tensor(rng.standard_normal((3, 2, 401)))
    view = base[:, :, ::2].transpose(0, 1)
    kw = dict(sr=8000, n_fft=64, hop_length=16, n_mels=16)
    for fn, extra in ((sp.mfcc, dict(n_mfcc=8, lifter=10)),
                      (sp.logmel, dict(log="log", ref="max", top_db=30.0)),
                      (sp.logmel, dict(htk=True, norm=None, fmin=100.0, fmax=3000.0)),
                      (sp.melspectrogram, dict(power=1.0))):
        a = fn(view, **kw, **extra, backend="reference")
        b = fn(view, **kw, **extra, backend="triton")
        err = (a - b).abs().max().item()
        assert err <= 1e-9 * max(1.0, a.abs().max().item()), (fn.__name__, extra, err)
        cases += 1
    a = sp.power_spectrogram(view, n_fft=64, hop_length=16, backend="reference")
    b = sp.power_spectrogram(view, n_fft=64, hop_length=16, backend="triton")
    assert (a - b).abs().max().item() <= 1e-9 * a.abs().max().item()
    # NaN in one signal blanks that signal's log-mel only
    y = torch.tensor(rng.standard_normal((2, 300)))
    y[0, 50] = float("nan")
    b = sp.logmel(y, **kw, backend="triton")
    assert torch.isnan(b[0]).all() and torch.isfinite(b[1]).all()
    # the two-stage (FFT-like) kernel: float32 log-mel with n_fft 512 (and 1024 once)
    from affrepro.kernels.spectral import triton_impl
    assert triton_impl.uses_fft_kernel(torch.float32, 512, np.ones((4, 257)))
    assert not triton_impl.uses_fft_kernel(torch.float64, 512, np.ones((4, 257)))
    assert not triton_impl.uses_fft_kernel(torch.float32, 512, None)
    assert not triton_impl.uses_fft_kernel(torch.float32, 640, np.ones((4, 321)))
    assert not triton_impl.uses_fft_kernel(torch.float32, 2048, np.ones((129, 1025)))
    sig = torch.tensor(rng.standard_normal((2, 4001)), dtype=torch.float32)
    # through the public function: the radix-2 kernel (the default for n_fft 512/1024) and
    # the two-stage one (AFFREPRO_TRITON_FFT_RADIX2=0; n_fft 2048 always)
    fft_cases = ((sig[:, :1], {}), (sig[:, :300], {}), (sig[:, :4001], {}),
                 (sig[:, ::2], dict(pad_mode="reflect")), (sig[:, :1031], dict(center=False)),
                 (sig[:1, :2000], dict(n_mels=40, fmin=50.0, fmax=7000.0, htk=True)),
                 (sig[:, :2000], dict(log="log", ref="max", top_db=40.0)),
                 (sig[:, :2000], dict(power=1.0)), (sig[:, :2000], dict(pad_mode="edge")),
                 (sig[:, :2000], dict(pad_mode="symmetric")),
                 (sig[:, :3000], dict(n_fft=1024, hop_length=256)))
    launches = {"radix": 0, "two-stage": 0}

    class Counted:  # counts the launches of a kernel: each case must run the one meant
        def __init__(self, kernel, key):
            self.kernel, self.key = kernel, key

        def __getitem__(self, grid):
            launches[self.key] += 1
            return self.kernel[grid]

    kernels = (triton_impl._logmel_radix2_kernel, triton_impl._logmel_fft_kernel)
    triton_impl._logmel_radix2_kernel = Counted(kernels[0], "radix")
    triton_impl._logmel_fft_kernel = Counted(kernels[1], "two-stage")
    for radix_on in (True, False):
        triton_impl.FFT_RADIX2 = radix_on
        for y, extra in fft_cases:
            kw = dict(sr=16000, n_fft=512, hop_length=160, n_mels=64)
            kw.update(extra)
            a = sp.logmel(y.double(), **kw, backend="reference")
            before = dict(launches)
            b = sp.logmel(y, **kw, backend="triton")
            meant = "radix" if radix_on else "two-stage"
            assert launches[meant] == before[meant] + 1 and sum(launches.values()) == sum(
                before.values()) + 1, (radix_on, extra, before, launches)
            assert a.shape == b.shape, (radix_on, extra, a.shape, b.shape)
            err = (a - b.double()).abs().max().item()
            assert err <= 1e-3, (radix_on, tuple(y.shape), extra, err)
            cases += 1
    triton_impl._logmel_radix2_kernel, triton_impl._logmel_fft_kernel = kernels
    triton_impl.FFT_RADIX2 = True
    # no mel bands: an empty result, as the reference gives
    b = sp.melspectrogram(sig[:1, :1200], sr=16000, n_fft=512, hop_length=160, n_mels=0,
                          backend="triton")
    assert tuple(b.shape) == (1, 0, 8), b.shape
    # bands without bins (HTK, 128 bands on 256 bins: the gather epilogue) are 0 · the
    # spectrum as in the reference: NaN in a frame holding a NaN, with top_db=None
    y = sig[:1, :2000].clone()
    y[0, 900] = float("nan")
    kw = dict(sr=48000, n_fft=512, hop_length=160, n_mels=128, htk=True, top_db=None)
    fb = sp._fb_cached(48000.0, 512, 128, 0.0, None, True, "slaney")
    assert (fb.sum(axis=1) == 0).any()  # bands without bins
    tables = triton_impl._radix2_tables(np.hanning(512), 512, fb, 128, "cpu")
    assert tables is not None and tables[1] is False  # radix-2, gather epilogue
    a = sp.logmel(y.double(), **kw, backend="reference")
    b = sp.logmel(y, **kw, backend="triton")
    assert torch.isnan(a).any() and torch.equal(torch.isnan(b), torch.isnan(a)), (
        int(torch.isnan(b).sum()), int(torch.isnan(a).sum()))
    cases += 2
    # the two-stage launch settings a GPU sweep may pick compute the same log-mel
    win = sp._window("hann", 512, None)
    for htk, norm, n_mels in ((False, "slaney", 64), (True, None, 24)):
        fb = sp._fb_cached(16000.0, 512, n_mels, 0.0, None, htk, norm)
        ref = sp.logmel(sig[:, :3000].double(), sr=16000, n_fft=512, hop_length=160,
                        n_mels=n_mels, htk=htk, norm=norm, top_db=80.0, backend="reference")
        for kw in (dict(kc=16), dict(block_t=16, kc=8), dict(block_t=32, kc=16)):
            out = triton_impl.spectral(sig[:, :3000], n_fft=512, hop=160, window=win,
                                       center=True, pad_mode="constant", power=2.0, fb=fb,
                                       log_args={"ref": 1.0, "amin": 1e-10, "top_db": 80.0,
                                                 "log": "db"}, radix=False, **kw)
            err = (out.double() - ref).abs().max().item()
            assert err <= 1e-3, (htk, kw, err)
            cases += 1
    # the radix-2 kernel's epilogues and packing: the same edge cases through spectral()
    assert triton_impl._radix2_tables(np.hanning(512), 512, np.ones((3, 257)), 16,
                                      "cpu") is None  # not triangular: two-stage instead
    # the scatter epilogue needs every band to own a bin: so at workload (c)'s settings, not
    # with 128 Slaney bands on 256 bins (the narrow low bands share bins: gather instead)
    for n_fft, n_mels, applies in ((1024, 64, True), (512, 64, True), (512, 128, False)):
        fb = sp._fb_cached(16000.0, n_fft, n_mels, 0.0, None, False, "slaney")
        tables = triton_impl._radix2_tables(np.hanning(n_fft), n_fft, fb, 128, "cpu")
        assert tables[1] is applies, (n_fft, n_mels)
    # (signal, settings, epilogue, two frames a transform): every epilogue with and without
    # packing; several programs a signal; a filter bank that weighs the Nyquist bin
    radix_cases = (
        (sig[:, :1], {}, "affine", True), (sig[:, :4001], {}, "carry", False),
        (sig[:, ::2], dict(pad_mode="reflect"), "gather", True),
        (sig[:, :1031], dict(center=False), "affine", False),
        (sig[:, :2000], dict(power=1.0), "carry", True),
        (sig[:1, :2000], dict(n_mels=40, fmin=50.0, fmax=7000.0, htk=True), "gather", False),
        (sig[:, :2000], dict(n_mels=128), "affine", True),  # gather: bands share bins
        (sig[:, :3000], dict(n_fft=1024), "affine", False),
        (sig[:, :4001], dict(n_fft=1024), "affine", True),  # 26 frames: 2 programs
        (sig[:, :3000], dict(n_mels=8, fmax=8500.0), "affine", True),  # Nyquist weighed
        (sig[:, :3000], dict(n_mels=8, fmax=8500.0), "gather", False),
        (sig[:, :3001], dict(pad_mode="edge"), "carry", True))
    for y, extra, mel, pack in radix_cases:
        kw = dict(sr=16000, n_fft=512, hop_length=160, n_mels=64)
        kw.update(extra)
        fb = sp._fb_cached(16000.0, kw["n_fft"], kw["n_mels"], kw.get("fmin", 0.0),
                           kw.get("fmax"), kw.get("htk", False), "slaney")
        a = sp.melspectrogram(y.double(), **kw, backend="reference")
        b = triton_impl.spectral(y, n_fft=kw["n_fft"], hop=160, window=sp._window(
            "hann", kw["n_fft"], None), center=kw.get("center", True),
            pad_mode=kw.get("pad_mode", "constant"), power=kw.get("power", 2.0), fb=fb,
            radix=True, radix_mel=mel, radix_pack=pack)
        assert a.shape == b.shape, (extra, mel, pack, a.shape, b.shape)
        err = ((a - b.double()).abs() / a.abs().clamp(min=1e-6)).max().item()
        assert err <= 1e-4, (tuple(y.shape), extra, mel, pack, err)
        cases += 1
    assert triton_impl._radix2_tables(np.hanning(512), 512, sp._fb_cached(
        16000.0, 512, 8, 0.0, 8500.0, False, "slaney"), 16, "cpu")[2]  # NYQ on
    # two frames a transform: a NaN blanks its own frames only, and a quiet frame beside a
    # loud one (80 dB apart, no overlap) keeps its accuracy (each frame scaled on its own)
    fb = sp._fb_cached(16000.0, 512, 64, 0.0, None, False, "slaney")
    y = sig[:1, :3000].clone()
    y[0, 1500] = float("nan")
    a = sp.melspectrogram(y.double(), sr=16000, n_fft=512, hop_length=160, n_mels=64,
                          backend="reference")
    for mel in ("affine", "carry", "gather"):
        b = triton_impl.spectral(y, n_fft=512, hop=160, window=win, center=True,
                                 pad_mode="constant", power=2.0, fb=fb, radix=True,
                                 radix_mel=mel, radix_pack=True)
        assert torch.equal(torch.isnan(b).any(-2), torch.isnan(a).any(-2)), mel
        cases += 1
    t = np.arange(512) / 16000
    step = np.concatenate([np.sin(2 * np.pi * 1000 * t), 1e-4 * rng.standard_normal(512)] * 3)
    a = sp.logmel(step[None], sr=16000, n_fft=512, hop_length=512, n_mels=64, center=False,
                  top_db=None, backend="reference")
    b = triton_impl.spectral(torch.tensor(step[None], dtype=torch.float32), n_fft=512, hop=512,
                             window=win, center=False, pad_mode="constant", power=2.0, fb=fb,
                             log_args={"ref": 1.0, "amin": 1e-10, "top_db": None, "log": "db"},
                             radix=True, radix_pack=True)
    assert np.abs(b.double().numpy() - a).max() <= 1e-4
    cases += 1
    fb = sp._fb_cached(16000.0, 512, 64, 0.0, None, False, "slaney")
    for bad, match in ((dict(radix_pack=True, block_t=3), "even block_t"),
                       (dict(radix_mel="scatter"), "radix_mel must be one of")):
        try:
            triton_impl.spectral(sig[:, :600], n_fft=512, hop=160, window=win, center=True,
                                 pad_mode="constant", power=2.0, fb=fb, radix=True, **bad)
        except ValueError as exc:
            assert match in str(exc), exc
        else:
            raise AssertionError(f"{bad} was accepted")
    y = sig[:, :2000].clone()
    y[1, 700] = float("inf")
    b = sp.logmel(y, sr=16000, n_fft=512, hop_length=160, n_mels=64, backend="triton")
    assert torch.isfinite(b[0]).all() and not torch.isfinite(b[1]).all()
    print("cases", cases + 2)
""")


def test_triton_kernel_under_the_interpreter():
    env = dict(os.environ, TRITON_INTERPRET="1")
    res = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                         env=env, timeout=600)
    assert res.returncode == 0, res.stderr[-4000:]
    assert "cases" in res.stdout


EDGE_SCRIPT = textwrap.dedent("""
    import numpy as np, torch
    from affrepro.kernels import spectral as sp
    # NumPy integers for the sizes reach the kernel as Python ints
    y = torch.tensor(np.random.default_rng(1).standard_normal((1, 2000)), dtype=torch.float32)
    kw = dict(sr=8000, n_fft=np.int64(512), hop_length=np.int64(128), n_mels=np.int64(20))
    a = sp.logmel(y.double(), **kw, backend="reference")
    b = sp.logmel(y, **kw, backend="triton")
    assert a.shape == b.shape and (a - b.double()).abs().max().item() <= 1e-3
    # an amin below float32's range: silence and empty filters stay at amin's level
    z = torch.zeros(1, 600)
    kw = dict(sr=8000, n_fft=64, hop_length=16, n_mels=40, amin=1e-50)
    for extra in (dict(top_db=None), dict(ref="max")):
        a = sp.logmel(z.double(), **kw, **extra, backend="reference")
        b = sp.logmel(z, **kw, **extra, backend="triton")
        assert torch.isfinite(b).all(), extra
        assert (a - b.double()).abs().max().item() <= 1e-3, extra
    m = sp.mfcc(z, **kw, n_mfcc=5, top_db=None, backend="triton")
    assert torch.isfinite(m).all() and abs(m[0, 0, 0].item() + 500 * 40 ** 0.5) < 0.1
    print("ok")
""")


def test_triton_integer_sizes_and_a_tiny_amin_under_the_interpreter():
    env = dict(os.environ, TRITON_INTERPRET="1")
    res = subprocess.run([sys.executable, "-c", EDGE_SCRIPT], capture_output=True, text=True,
                         env=env, timeout=600)
    assert res.returncode == 0 and res.stdout.strip().endswith("ok"), res.stderr[-3000:]


def test_auto_on_cpu_tensors_does_not_pick_triton():
    import torch

    from affrepro.kernels import spectral as sp

    y = torch.randn(500, dtype=torch.float64)
    a = sp.logmel(y, sr=8000, n_fft=64, hop_length=20, n_mels=10)
    b = sp.logmel(y, sr=8000, n_fft=64, hop_length=20, n_mels=10, backend="reference")
    assert torch.allclose(a, b, atol=1e-9)
    if os.environ.get("TRITON_INTERPRET") != "1":
        with pytest.raises(sp.BackendUnavailableError, match="CUDA"):
            sp.logmel(y, sr=8000, n_fft=64, hop_length=20, n_mels=10, backend="triton")


@pytest.mark.parametrize("fft", ["1", "0", "radix2", "radix2-gather"],
                         ids=["two-stage", "dense", "radix2", "radix2-gather"])
def test_triton_on_a_real_gpu(monkeypatch, fft):
    """The compiled kernels on CUDA tensors (skipped without a GPU): workload-(a) settings
    and the edge cases, against the float64 reference; float32 log-mel takes the kernel the
    case names (radix-2 with either epilogue, two-stage, or dense with AFFREPRO_TRITON_FFT=0;
    n_fft 2048 is two-stage in every case)."""
    monkeypatch.setenv("AFFREPRO_TRITON_FFT", "0" if fft == "0" else "1")
    from affrepro.kernels.spectral import triton_impl

    # each case its own kernel, whatever a GPU sweep exported (AFFREPRO_TRITON_FFT_RADIX2)
    monkeypatch.setattr(triton_impl, "FFT_RADIX2", fft.startswith("radix2"))
    if fft.startswith("radix2"):
        if fft == "radix2-gather":  # the first radix-2 epilogue, one frame a transform
            monkeypatch.setattr(triton_impl, "RADIX2_MEL", "gather")
            monkeypatch.setattr(triton_impl, "RADIX2_PACK", False)
    import numpy as np
    import torch

    from affrepro.kernels import spectral as sp

    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA GPU (the CPU check is the TRITON_INTERPRET=1 test above)")
    rng = np.random.default_rng(0)
    cfg = dict(sr=16000, n_fft=1024, hop_length=160, n_mels=64)
    for n in (0, 1, 1023, 1025, 16001, 160000):
        for center, pm in ((True, "constant"), (True, "reflect"), (False, "constant")):
            y = rng.standard_normal((3, n))
            ref = sp.logmel(y, **cfg, center=center, pad_mode=pm, backend="reference")
            for dt, tol in ((torch.float32, 1e-3), (torch.float64, 1e-8)):
                got = sp.logmel(torch.tensor(y, dtype=dt, device="cuda"), **cfg, center=center,
                                pad_mode=pm)  # auto picks triton on CUDA
                assert got.is_cuda and got.dtype == dt and tuple(got.shape) == ref.shape
                if ref.size:
                    err = np.max(np.abs(got.double().cpu().numpy() - ref))
                    assert err <= tol, (n, center, pm, dt, err)
    for n_fft, n_mels in ((512, 40), (2048, 128)):  # the two-stage kernel's other sizes
        y = rng.standard_normal((2, 40000))
        kw = dict(sr=22050, n_fft=n_fft, hop_length=256, n_mels=n_mels)
        ref = sp.logmel(y, **kw, backend="reference")
        got = sp.logmel(torch.tensor(y, dtype=torch.float32, device="cuda"), **kw)
        assert np.max(np.abs(got.double().cpu().numpy() - ref)) <= 1e-3, (n_fft, n_mels)
    y = torch.tensor(rng.standard_normal((2, 20000)), device="cuda")
    m = sp.mfcc(y, **cfg, n_mfcc=20, lifter=22)
    m_ref = sp.mfcc(y.cpu().numpy(), **cfg, n_mfcc=20, lifter=22, backend="reference")
    assert np.max(np.abs(m.cpu().numpy() - m_ref)) <= 1e-6


def test_two_stage_kernel_only_where_its_int32_offsets_fit():
    from affrepro.kernels.spectral import triton_impl

    assert triton_impl._int32_offsets_fit(160000, 1024, 1)
    assert triton_impl._int32_offsets_fit(2**31 - 1025, 1024, 1)
    assert not triton_impl._int32_offsets_fit(2**31 - 1024, 1024, 1)
    assert not triton_impl._int32_offsets_fit(2**30, 1024, 2)  # a strided view
