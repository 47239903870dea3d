"""The Numba fusion kernels' own paths (issue 22's CPU speed work): TFN as whole-batch GEMMs
over row blocks of W (one block per thread) against MMSA's outer product + nn.Linear on
1 and 2 threads, with no B × D buffer in its state; attention's flash-style loop (gathered
unpadded keys, vectorised exp, saved log-sum-exp) against torch SDPA at a MulT-like shape
with interior padding, with no B·H·Lq·Lk buffer in its state; the exp it uses against
NumPy's."""
from __future__ import annotations

import math

import numba
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from affrepro.kernels.fusion import cross_modal_attention, numba_impl, tensor_fusion


def _randn(*shape, dtype=torch.float64, seed=0):
    return torch.randn(*shape, dtype=dtype, generator=torch.Generator().manual_seed(seed))


def _grads(fn, inputs, seed=3):
    leaves = [x.detach().clone().requires_grad_(True) for x in inputs]
    y = fn(*leaves)
    (y * _randn(*y.shape, seed=seed).to(y.dtype)).sum().backward()  # one dy for every dtype
    return [y.detach()] + [x.grad for x in leaves]


def _mmsa_tfn(a, v, t, w, b):
    n = a.shape[0]
    one = torch.ones(n, 1, dtype=a.dtype)
    za, zv, zt = torch.cat([one, a], 1), torch.cat([one, v], 1), torch.cat([one, t], 1)
    f = torch.bmm(za.unsqueeze(2), zv.unsqueeze(1)).view(n, -1, 1)
    return F.linear(torch.bmm(f, zt.unsqueeze(1)).view(n, -1), w, b)


@pytest.fixture
def numba_threads():
    old = numba.get_num_threads()
    yield lambda n: numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
    numba.set_num_threads(old)


@pytest.mark.parametrize("dtype,tol", [(torch.float64, 1e-10), (torch.float32, 2e-4)])
def test_tfn_gemm_blocks_match_mmsa_on_one_and_two_threads(numba_threads, dtype, tol):
    n, dims, n_out = 9, (7, 40, 5), 3  # 3·8 rows of W₂, split into per-thread blocks
    xs = [_randn(n, d, dtype=dtype, seed=i) for i, d in enumerate(dims)]
    w = _randn(n_out, 8 * 41 * 6, dtype=dtype, seed=5) * 0.1
    b = _randn(n_out, dtype=dtype, seed=6)
    want = _grads(_mmsa_tfn, [x.double() for x in (*xs, w, b)])
    got = {}
    for threads in (1, 2):
        numba_threads(threads)
        got[threads] = _grads(lambda *x: tensor_fusion(*x, backend="numba"), [*xs, w, b])
        for i, (g, ref) in enumerate(zip(got[threads], want)):
            assert g.dtype == dtype
            torch.testing.assert_close(g.double(), ref, rtol=tol, atol=tol * ref.abs().max(),
                                       msg=lambda m, i=i: f"{threads} threads, item {i}: {m}")
    for g1, g2 in zip(got[1], got[2]):
        torch.testing.assert_close(g1, g2, rtol=tol, atol=tol * g1.abs().max())


def test_tfn_state_holds_no_batch_by_fused_features_buffer():
    n, (d_a, d_v, d_t) = 16, (15, 30, 6)
    fused = (d_a + 1) * (d_v + 1) * (d_t + 1)
    a, v, t = (np.random.default_rng(i).standard_normal((n, d)).astype(np.float32)
               for i, d in enumerate((d_a, d_v, d_t)))
    w = np.random.default_rng(9).standard_normal((4, fused)).astype(np.float32)
    _, saved = numba_impl.tfn_forward(a, v, t, w, None)
    others = [x for x in saved if not np.shares_memory(x, w)]
    # the (v, t) pair table is the largest: 1/(A+1) of the B × D outer product
    assert max(x.size for x in others) == n * fused // (d_a + 1)


def _sdpa(q, k, v, pad):
    return F.scaled_dot_product_attention(q, k, v, attn_mask=~pad[:, None, None, :])


def test_attention_mult_shape_with_interior_padding_matches_sdpa():
    b, h, lq, lk, d = 3, 4, 50, 97, 5  # MulT: text queries over a longer audio sequence
    q, k, v = (_randn(b, h, n, d, dtype=torch.float32, seed=i) for i, n in enumerate((lq, lk, lk)))
    pad = torch.zeros(b, lk, dtype=torch.bool)
    pad[0, 60:] = True  # padded at the end
    pad[1, ::3] = True  # every third key padded (a mask from a merged batch)
    pad[2, 5:9] = True
    want = _grads(lambda *x: _sdpa(*x, pad), [x.double() for x in (q, k, v)])
    got = _grads(lambda *x: cross_modal_attention(*x, pad, backend="numba"), [q, k, v])
    for i, (g, ref) in enumerate(zip(got, want)):
        torch.testing.assert_close(g.double(), ref, rtol=1e-5, atol=1e-5,
                                   msg=lambda m, i=i: f"item {i}: {m}")
    assert torch.equal(got[2][1, :, ::3], torch.zeros_like(got[2][1, :, ::3]))  # dV of padded keys


def test_attention_state_holds_log_sum_exp_not_probabilities():
    b, h, lq, lk, d = 2, 3, 11, 13, 5
    q, k, v = (np.random.default_rng(i).standard_normal((b, h, n, d)).astype(np.float32)
               for i, n in enumerate((lq, lk, lk)))
    pad = np.zeros((b, lk), bool)
    _, saved = numba_impl.attention_forward(q, k, v, pad, 0.5)
    arrays = [x for x in saved if isinstance(x, np.ndarray)]
    assert max(x.size for x in arrays) < b * h * lq * lk
    lse = saved[-1]
    s = 0.5 * np.einsum("bhid,bhjd->bhij", q.astype(np.float64), k.astype(np.float64))
    np.testing.assert_allclose(lse, np.log(np.exp(s).sum(-1)), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("dtype,rtol", [(np.float32, 4e-7), (np.float64, 4e-16)])
def test_vectorised_exp_matches_numpy(dtype, rtol):
    cst, coef, itype = numba_impl._exp_constants(np.dtype(dtype))
    x = np.concatenate([np.linspace(-80, 0, 20001), -np.logspace(-12, 1.9, 500),
                        [0.0, -math.log(2) / 2, -1e-30]]).astype(dtype)
    shift = dtype(0.25)
    s = x + shift
    ibuf = np.empty(len(s), itype)
    numba_impl._exp_shift(s, len(s), shift, cst, coef, ibuf, ibuf.view(dtype))
    want = np.exp((x + shift).astype(np.float64) - np.float64(shift))
    np.testing.assert_allclose(s, want, rtol=rtol * 8, atol=0)
    special = np.array([np.nan, -np.inf, -1e4, 1e-3], dtype)
    ibuf = np.empty(4, itype)
    numba_impl._exp_shift(special, 4, dtype(0), cst, coef, ibuf, ibuf.view(dtype))
    assert np.isnan(special[0])
    assert 0 < special[1] < 1e-37 and 0 < special[2] < 1e-37  # floor at exp(-87) / exp(-708)
    assert special[3] == pytest.approx(math.exp(1e-3), rel=rtol * 8)
