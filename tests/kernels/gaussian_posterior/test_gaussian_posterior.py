"""Diagonal-Gaussian class posterior: reference against scipy, Numba and Triton (interpreter)
against the reference on edge cases."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from scipy.stats import multivariate_normal

from affrepro.kernels import gaussian_posterior as gp
from affrepro.kernels._dispatch import BackendUnavailableError

RNG = np.random.default_rng(7)
MEANS = RNG.uniform(-1, 1, size=(8, 3))
STDS = RNG.uniform(0.05, 0.5, size=(8, 3))


def scipy_log_posterior(x, means, stds):
    ll = np.stack([multivariate_normal(means[k], np.diag(stds[k] ** 2)).logpdf(x)
                   for k in range(len(means))], axis=-1).reshape(len(x), len(means))
    dens = np.exp(ll)
    return np.log(dens / dens.sum(1, keepdims=True))


def test_reference_matches_scipy():
    x = RNG.uniform(-1, 1, size=(13, 3))
    np.testing.assert_allclose(gp.log_posterior(x, MEANS, STDS, backend="reference"),
                               scipy_log_posterior(x, MEANS, STDS), rtol=1e-10, atol=1e-10)


def test_far_points_give_a_distribution_not_zero_over_zero():
    x = np.array([[40.0, -40.0, 40.0]])
    dens = np.stack([multivariate_normal(MEANS[k], np.diag(STDS[k] ** 2)).pdf(x) for k in range(8)])
    assert (dens == 0).all()  # the naive ratio is 0/0 here
    for backend in ("reference", "numba"):
        p = gp.posterior(x, MEANS, STDS, backend=backend)
        assert np.isfinite(p).all() and p.sum() == pytest.approx(1.0)


def edge_inputs():
    cases = {f"n={n}": RNG.normal(size=(n, 3)) for n in (0, 1, 2, 7, 31, 64, 65, 127, 257)}
    wide = RNG.normal(size=(20, 6))
    cases["non-contiguous"] = wide[::2, ::2]
    special = RNG.normal(size=(6, 3))
    special[1, 0] = np.nan
    special[2, 2] = np.inf
    special[3, 1] = -np.inf
    special[4] = [1e3, -1e3, 1e3]
    cases["nan-inf-far"] = special
    cases["float32"] = RNG.normal(size=(17, 3)).astype(np.float32)
    return cases


@pytest.mark.parametrize("name", list(edge_inputs()))
def test_numba_matches_the_reference(name):
    x = edge_inputs()[name]
    ref = gp.log_posterior(x, MEANS, STDS, backend="reference")
    got = gp.log_posterior(x, MEANS, STDS, backend="numba")
    assert got.shape == (len(x), 8)
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12, equal_nan=True)


def test_nan_and_infinite_rows_are_nan_and_others_sum_to_one():
    x = edge_inputs()["nan-inf-far"]
    p = gp.posterior(x, MEANS, STDS, backend="numba")
    assert np.isnan(p[1:4]).all() and not np.isnan(p[[0, 4, 5]]).any()
    np.testing.assert_allclose(p[[0, 4, 5]].sum(1), 1.0)


def test_one_class_is_certain_and_a_1d_point_is_one_row():
    p = gp.posterior([0.3, 0.1, -0.2], MEANS[:1], STDS[:1])
    assert p.shape == (1, 1) and p[0, 0] == pytest.approx(1.0)


@pytest.mark.parametrize("means,stds,match", [
    (MEANS[:, :2], STDS[:, :2], "D = 3"),
    (MEANS, STDS[:4], "both be"),
    (MEANS[:0], STDS[:0], "K = 0"),
    (MEANS, np.where(STDS > 0.3, 0.0, STDS), "> 0"),
])
def test_bad_parameters_are_refused(means, stds, match):
    with pytest.raises(ValueError, match=match):
        gp.log_posterior(np.zeros((2, 3)), means, stds)


def test_explicit_triton_without_cuda_raises():
    if os.environ.get("TRITON_INTERPRET") == "1":
        pytest.skip("under the interpreter CPU tensors are allowed")
    torch = pytest.importorskip("torch")
    with pytest.raises(BackendUnavailableError):
        gp.log_posterior(torch.zeros(2, 3), MEANS, STDS, backend="triton")
    with pytest.raises(BackendUnavailableError):
        gp.log_posterior(np.zeros((2, 3)), MEANS, STDS, backend="triton")


def test_triton_under_the_interpreter_matches_the_reference():
    pytest.importorskip("triton")
    script = textwrap.dedent("""
        import numpy as np, torch
        from affrepro.kernels import gaussian_posterior as gp
        rng = np.random.default_rng(3)
        means, stds = rng.uniform(-1, 1, (8, 3)), rng.uniform(0.05, 0.5, (8, 3))
        for n, dtype, tol in ((0, torch.float64, 1e-12), (1, torch.float64, 1e-12), (70, torch.float64, 1e-12),
                              (33, torch.float32, 2e-4)):
            x = rng.normal(size=(n, 3))
            if n > 3:
                x[1, 0] = np.nan; x[2, 1] = np.inf; x[3] = [60.0, -60.0, 60.0]
            ref = gp.log_posterior(x, means, stds, backend="reference")
            got = gp.log_posterior(torch.tensor(x, dtype=dtype), torch.tensor(means), torch.tensor(stds),
                                   backend="triton")
            assert got.shape == (n, 8), got.shape
            np.testing.assert_allclose(got.double().numpy(), ref, rtol=tol, atol=tol, equal_nan=True)
        x = torch.tensor(rng.normal(size=(10, 6)))[:, ::2]  # non-contiguous
        np.testing.assert_allclose(gp.log_posterior(x, torch.tensor(means), torch.tensor(stds), backend="triton").numpy(),
                                   gp.log_posterior(x.numpy(), means, stds, backend="reference"), rtol=1e-12, atol=1e-12)
        print("TRITON OK")
    """)
    env = dict(os.environ, TRITON_INTERPRET="1")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300)
    assert "TRITON OK" in out.stdout, out.stderr[-3000:]


def test_compiled_triton_on_a_real_gpu():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA GPU here: the Triton kernel is checked under TRITON_INTERPRET=1 above")
    x = torch.randn(100_003, 3, device="cuda", dtype=torch.float64)
    ref = gp.log_posterior(x.cpu().numpy(), MEANS, STDS, backend="reference")
    got = gp.log_posterior(x, torch.tensor(MEANS), torch.tensor(STDS), backend="triton")
    np.testing.assert_allclose(got.cpu().numpy(), ref, rtol=1e-10, atol=1e-10)
