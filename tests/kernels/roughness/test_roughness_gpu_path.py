"""The GPU path of the roughness (issue 24: torch tensors, batched frames) against the
float64 reference: on CPU tensors here (allowed under TRITON_INTERPRET=1), compiled on a
real GPU where there is one (tools/gpu/run_checks.sh, step ``tests``)."""
from __future__ import annotations

import numpy as np
import pytest

from affrepro.kernels import roughness as rk

torch = pytest.importorskip("torch")


def am_tone(fc, fm, fs, db=60.0, seconds=0.5):
    t = np.arange(int(seconds * fs)) / fs
    s = (1 + np.sin(2 * np.pi * fm * t)) * np.sin(2 * np.pi * fc * t)
    return s * 2e-5 * 10 ** (db / 20) / np.sqrt(np.mean(s ** 2))


@pytest.mark.parametrize("fs, overlap", [(8000, 0.5), (11025, 0.75)])  # 11025: odd frame
def test_gpu_path_matches_the_reference(monkeypatch, fs, overlap):
    monkeypatch.setenv("TRITON_INTERPRET", "1")
    rng = np.random.default_rng(3)
    n = int(0.5 * fs)
    x = np.stack([[am_tone(1000, 70, fs), rng.normal(size=n) * 0.05],
                  [am_tone(500, 40, fs, db=80), np.zeros(n)]])  # (2, 2, n), a silent one
    got = rk.roughness_dw(torch.from_numpy(x), fs, overlap, backend="triton")
    want = rk.roughness_dw(x, fs, overlap, backend="reference")
    assert isinstance(got[0], torch.Tensor) and got[0].shape == want[0].shape
    np.testing.assert_allclose(got[0].numpy(), want[0], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(got[1].numpy(), want[1], rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(got[2], want[2])


def test_gpu_path_feature_and_errors(monkeypatch):
    from affrepro.kernels._dispatch import BackendUnavailableError
    from affrepro.plugins.psychoacoustics.roughness import extract_roughness

    monkeypatch.delenv("TRITON_INTERPRET", raising=False)
    with pytest.raises(BackendUnavailableError, match="CUDA"):
        rk.roughness_dw(torch.zeros(4000), 8000, backend="triton")
    monkeypatch.setenv("TRITON_INTERPRET", "1")
    x = am_tone(1000, 70, 8000)
    np.testing.assert_allclose(
        extract_roughness(torch.from_numpy(x), 8000, backend="triton", calibration=0.5),
        extract_roughness(x, 8000, calibration=0.5), rtol=1e-12, atol=1e-15)
    with pytest.raises(ValueError, match="shorter than one"):
        rk.roughness_dw(torch.zeros(100), 8000, backend="triton")
    with pytest.raises(ValueError, match="NaN"):
        rk.roughness_dw(torch.full((4000,), float("nan")), 8000, backend="triton")


def test_gpu_path_on_cuda_matches_numba():
    if not torch.cuda.is_available():
        pytest.skip("no CUDA GPU here: the torch path is checked on CPU tensors above; this "
                    "test runs it on a real GPU")
    x = np.random.default_rng(4).normal(size=(4, 2, 44100 * 3)) * 0.05
    got = rk.roughness_dw(torch.tensor(x, device="cuda"), 44100, backend="triton")
    want = rk.roughness_dw(x, 44100, backend="numba")
    np.testing.assert_allclose(got[0].cpu().numpy(), want[0], rtol=1e-10, atol=1e-15)
