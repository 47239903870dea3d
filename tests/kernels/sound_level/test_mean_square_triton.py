"""The Triton mean square (LAF/LCF filters for corpus batches, issue 24) against the Numba
kernel: under TRITON_INTERPRET=1 on tiny shapes here, compiled on a real GPU where there
is one (tools/gpu/run_checks.sh, step ``tests``)."""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from affrepro.kernels import sound_level as sl

SCRIPT = r"""
import numpy as np, torch
from affrepro.kernels import sound_level as sl
from affrepro.plugins.psychoacoustics import extract_laf, extract_lcf

rng = np.random.default_rng(4)
fs = 8000
# (signal, weightings, time constants): tau 5 ms at 8 kHz is a 40-sample warm start
cases = {
    "batch (2, 3, 61)": (rng.normal(size=(2, 3, 61)), "ACZ", (0.005,)),
    "one sample": (rng.normal(size=(2, 1)), "A", (0.125,)),
    "shorter than the warm start": (rng.normal(size=(2, 30)), "C", (0.125,)),
    "prime lanes": (rng.normal(size=(67, 23)), "A", (0.002,)),  # more lanes than a BLOCK
    "silent channel": (np.stack([rng.normal(size=50), np.zeros(50)]), "A", (0.005,)),
}
for name, (x, ws, taus) in cases.items():
    for w in ws:
        for tau in taus:
            want = sl.mean_square(x, fs, w, tau, backend="numba")
            got = sl.mean_square(torch.from_numpy(x), fs, w, tau, backend="triton")
            assert isinstance(got, torch.Tensor) and got.dtype == torch.float64
            assert tuple(got.shape) == x.shape, name
            np.testing.assert_allclose(got.numpy(), want, rtol=1e-12, atol=1e-300,
                                       err_msg=f"{name} {w} {tau}")
# a non-contiguous float32 view
wide = rng.normal(size=(4, 150)).astype(np.float32)
got = sl.mean_square(torch.from_numpy(wide)[::2, ::3], fs, "A", backend="triton")
np.testing.assert_allclose(got.numpy(), sl.mean_square(wide[::2, ::3], fs, "A"), rtol=1e-12)
# the feature plugin's triton path gives the Numba path's statistics
sig = rng.normal(size=(2, 120)) * 0.1
for fn in (extract_laf, extract_lcf):
    kw = dict(calibration=2.0, tau=0.005)
    np.testing.assert_allclose(fn(torch.from_numpy(sig), fs, backend="triton", **kw),
                               fn(sig, fs, **kw), rtol=1e-12)
print("TRITON-MEAN-SQUARE-OK")
"""


def test_triton_mean_square_under_interpreter():
    pytest.importorskip("triton")
    env = dict(os.environ, TRITON_INTERPRET="1")
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                         env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-4000:]
    assert "TRITON-MEAN-SQUARE-OK" in out.stdout


def test_triton_needs_a_tensor_on_a_gpu(monkeypatch):
    monkeypatch.delenv("TRITON_INTERPRET", raising=False)
    from affrepro.kernels._dispatch import BackendUnavailableError

    with pytest.raises(BackendUnavailableError, match="torch tensor"):
        sl.mean_square(np.zeros(100), 8000, backend="triton")


def test_triton_on_cuda_matches_numba():
    """On a machine with a GPU: the compiled kernel on a corpus-sized batch."""
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA GPU here: the Triton kernel is checked under TRITON_INTERPRET=1 "
                    "above; this test runs it compiled on a real GPU")
    pytest.importorskip("triton")
    x = np.random.default_rng(8).normal(size=(16, 2, 44100 * 3)) * 0.05
    for w in "AC":
        got = sl.mean_square(torch.tensor(x, device="cuda"), 44100, w, backend="triton")
        # Numba's substituted state update rounds differently (~1e-12 relative over 3 s)
        np.testing.assert_allclose(got.cpu().numpy(), sl.mean_square(x, 44100, w),
                                   rtol=1e-10, atol=1e-300)
