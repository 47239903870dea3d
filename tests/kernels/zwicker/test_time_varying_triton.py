"""The Triton filter bank of ISO 532-1 time-varying loudness (corpus batches, issue 24)
against the Numba kernel: under TRITON_INTERPRET=1 on tiny shapes here, compiled on a
real GPU where there is one (tools/gpu/run_checks.sh, step ``tests``)."""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from affrepro.kernels import zwicker as zw

SCRIPT = r"""
import numpy as np, torch
from affrepro.kernels import zwicker as zw
from affrepro.kernels.zwicker import numba_impl, reference as ref, triton_impl
from affrepro.plugins.psychoacoustics import extract_zwicker_time_varying

rng = np.random.default_rng(6)
sos = np.ascontiguousarray(ref.tv_filterbank_sos())
args = (ref.TV_GAIN, ref.tv_smoothing_coefficients(), ref.LEVEL_DECIMATION, ref.LEVEL_FLOOR,
        4e-10)
# lengths: a multiple of the decimation, a prime, shorter than one step; 3 rows x 28 bands
for n in (96, 97, 5):
    x = np.ascontiguousarray(rng.normal(size=(3, n)) * 0.05)
    got = triton_impl.tv_levels(torch.from_numpy(x), sos, *args).numpy()
    want = numba_impl.tv_levels_bands(x, sos, *args)
    assert got.shape == want.shape, (got.shape, want.shape)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-9, err_msg=str(n))
# the whole function and the feature: the same numbers as the Numba path
x = rng.normal(size=(2, 221)) * 0.1  # 5 ms at 44.1 kHz: three 2 ms steps
a = zw.time_varying_loudness(torch.from_numpy(x), 44100, backend="triton")
b = zw.time_varying_loudness(x, 44100, backend="numba")
for u, v in zip(a, b):
    np.testing.assert_allclose(u, v, rtol=1e-9, atol=1e-12)
np.testing.assert_allclose(
    extract_zwicker_time_varying(torch.from_numpy(x), 44100, backend="triton"),
    extract_zwicker_time_varying(x, 44100), rtol=1e-9, atol=1e-12)
print("TRITON-TV-LEVELS-OK")
"""


def test_triton_filter_bank_under_interpreter():
    pytest.importorskip("triton")
    env = dict(os.environ, TRITON_INTERPRET="1")
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                         env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-4000:]
    assert "TRITON-TV-LEVELS-OK" in out.stdout


def test_triton_on_cuda_matches_numba():
    """On a machine with a GPU: the compiled filter bank on a batch of 2 s stimuli."""
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA GPU here: the Triton kernel is checked under TRITON_INTERPRET=1 "
                    "above; this test runs it compiled on a real GPU")
    pytest.importorskip("triton")
    x = np.random.default_rng(7).normal(size=(8, 2, 88200)) * 0.05
    a = zw.time_varying_loudness(torch.tensor(x, device="cuda"), 44100, backend="triton")
    b = zw.time_varying_loudness(x, 44100, backend="numba")
    for u, v in zip(a, b):
        np.testing.assert_allclose(u, v, rtol=1e-9, atol=1e-12)
