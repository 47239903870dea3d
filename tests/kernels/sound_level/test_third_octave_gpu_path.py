"""The GPU path of the one-third-octave levels (issue 24: torch tensors, corpus batches)
against the float64 reference: on CPU tensors here (allowed under TRITON_INTERPRET=1),
on a real GPU where there is one (tools/gpu/run_checks.sh, step ``tests``)."""
from __future__ import annotations

import numpy as np
import pytest

from affrepro.kernels import sound_level as sl

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("n", [1, 2, 7919, 8000])  # one sample, even/odd, prime
def test_gpu_path_matches_the_reference(monkeypatch, n):
    monkeypatch.setenv("TRITON_INTERPRET", "1")
    x = np.random.default_rng(n).normal(size=(2, 3, n))
    for w in "ACZ":
        got = sl.third_octave_levels(torch.from_numpy(x), 16000, w, backend="triton")
        assert isinstance(got, torch.Tensor) and got.shape == (2, 3, 37)
        want = sl.third_octave_levels(x, 16000, w, backend="reference")
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-12, atol=1e-9)


def test_gpu_path_feature(monkeypatch):
    from affrepro.plugins.psychoacoustics import extract_third_octave

    monkeypatch.setenv("TRITON_INTERPRET", "1")
    x = np.random.default_rng(1).normal(size=(2, 4000))
    got = extract_third_octave(torch.from_numpy(x), 16000, backend="triton", calibration=3.0)
    np.testing.assert_allclose(got.numpy(), extract_third_octave(x, 16000, calibration=3.0),
                               rtol=1e-10, atol=1e-9)


def test_gpu_path_on_cuda_matches_numba():
    if not torch.cuda.is_available():
        pytest.skip("no CUDA GPU here: the torch path is checked on CPU tensors above; this "
                    "test runs it on a real GPU")
    x = np.random.default_rng(5).normal(size=(8, 2, 44100 * 30)) * 0.05
    got = sl.third_octave_levels(torch.tensor(x, device="cuda"), 44100, "A", backend="triton")
    np.testing.assert_allclose(got.cpu().numpy(), sl.third_octave_levels(x, 44100, "A"),
                               rtol=1e-9, atol=1e-6)
