"""Fusion kernels (TFN, LMF, cross-modal attention): Numba and the reference against
independent peers (MMSA's outer product + nn.Linear, MMSA's LMF, torch SDPA), gradients
by gradcheck, edge shapes, NaN isolation and bad input. Triton: test_fusion_triton.py."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from affrepro.kernels.fusion import (
    BackendUnavailableError, cross_modal_attention, low_rank_fusion, tensor_fusion,
)

BACKENDS = ["reference", "numba"]


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def _randn(*shape, dtype=torch.float64, seed=0):
    return torch.randn(*shape, dtype=dtype, generator=_gen(seed))


# ------------------------------------------------------------------ independent peers
def mmsa_tfn(a, v, t, linear: torch.nn.Linear):
    """MMSA's TFN fusion: [1;x] for each modality, two bmm outer products, flatten, Linear."""
    n = a.shape[0]
    one = torch.ones(n, 1, dtype=a.dtype)
    za, zv, zt = torch.cat([one, a], 1), torch.cat([one, v], 1), torch.cat([one, t], 1)
    f = torch.bmm(za.unsqueeze(2), zv.unsqueeze(1)).view(n, -1, 1)
    f = torch.bmm(f, zt.unsqueeze(1)).view(n, -1)
    return linear(f)


def mmsa_lmf(a, v, t, fa, fv, ft, w, bias):
    """MMSA's LMF: matmul of [1;h] with each factor (R, B, O), elementwise product, then
    the rank weights (1, R) times the permuted (B, R, O) product, plus the bias."""
    n = a.shape[0]
    one = torch.ones(n, 1, dtype=a.dtype)
    za, zv, zt = torch.cat([one, a], 1), torch.cat([one, v], 1), torch.cat([one, t], 1)
    zy = torch.matmul(za, fa) * torch.matmul(zv, fv) * torch.matmul(zt, ft)
    out = torch.matmul(w.view(1, -1), zy.permute(1, 0, 2)).squeeze(1)
    return out + bias


def _grads(fn, inputs, seed=3):
    leaves = [x.detach().clone().requires_grad_(True) for x in inputs]
    y = fn(*leaves)
    gy = _randn(*y.shape, dtype=y.dtype, seed=seed)
    (y * gy).sum().backward()
    return [y.detach()] + [x.grad for x in leaves]


def _close(got, want, tol):
    for i, (g, w) in enumerate(zip(got, want)):
        torch.testing.assert_close(g, w, rtol=tol, atol=tol, msg=lambda m, i=i: f"item {i}: {m}")


# ------------------------------------------------------------------ TFN
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("n,dims,n_out", [(5, (2, 3, 7), 4), (1, (1, 1, 1), 1), (3, (5, 1, 0), 2),
                                           (2, (13, 17, 3), 11)])
def test_tfn_matches_mmsa_outer_product_and_linear(backend, n, dims, n_out):
    a, v, t = (_randn(n, d, seed=i) for i, d in enumerate(dims))
    lin = torch.nn.Linear((dims[0] + 1) * (dims[1] + 1) * (dims[2] + 1), n_out).double()
    with torch.no_grad():
        lin.weight.copy_(_randn(*lin.weight.shape, seed=7))
    want = _grads(lambda a_, v_, t_, w_, b_: mmsa_tfn(a_, v_, t_, _linear(lin, w_, b_)),
                  [a, v, t, lin.weight, lin.bias])
    got = _grads(lambda *x: tensor_fusion(*x, backend=backend), [a, v, t, lin.weight, lin.bias])
    _close(got, want, 1e-10)


def _linear(lin, w, b):
    return lambda x: F.linear(x, w, b)


@pytest.mark.parametrize("backend", BACKENDS)
def test_tfn_batch_zero_and_no_bias(backend):
    a, v, t = torch.zeros(0, 2, dtype=torch.float64), torch.zeros(0, 3, dtype=torch.float64), \
        torch.zeros(0, 1, dtype=torch.float64)
    w = _randn(4, 3 * 4 * 2).requires_grad_(True)
    y = tensor_fusion(a, v, t, w, backend=backend)
    assert y.shape == (0, 4)
    y.sum().backward()
    assert torch.equal(w.grad, torch.zeros_like(w))


@pytest.mark.parametrize("backend", BACKENDS)
def test_tfn_non_contiguous_and_float32(backend):
    a = _randn(6, 4, dtype=torch.float32).T  # (4, 6) view, not contiguous
    v = _randn(4, 10, dtype=torch.float32)[:, ::2]
    t = _randn(4, 3, dtype=torch.float32)
    w = _randn(6, 3, 7 * 6 * 4, dtype=torch.float32)[:, 1]
    assert not (a.is_contiguous() or v.is_contiguous() or w.is_contiguous())
    want = _grads(lambda *x: tensor_fusion(*x, backend="reference"), [a, v, t, w])
    got = _grads(lambda *x: tensor_fusion(*x, backend=backend), [a, v, t, w])
    _close(got, want, 2e-5)
    assert got[0].dtype == torch.float32 and got[1].dtype == torch.float32


def test_tfn_gradcheck_numba():
    args = [_randn(3, d, seed=i).requires_grad_(True) for i, d in enumerate((2, 1, 3))]
    w = _randn(2, 3 * 2 * 4, seed=5).requires_grad_(True)
    b = _randn(2, seed=6).requires_grad_(True)
    assert torch.autograd.gradcheck(lambda *x: tensor_fusion(*x, backend="numba"), (*args, w, b))


@pytest.mark.parametrize("backend", BACKENDS)
def test_tfn_nan_and_inf_stay_in_their_sample(backend):
    a, v, t = _randn(4, 3), _randn(4, 2, seed=1), _randn(4, 2, seed=2)
    a[1, 0] = float("nan")
    v[2, 1] = float("inf")
    w = _randn(3, 4 * 3 * 3, seed=3).requires_grad_(True)
    leaves = [x.requires_grad_(True) for x in (a, v, t)]
    y = tensor_fusion(*leaves, w, backend=backend)
    assert torch.isnan(y[1]).all() and not torch.isfinite(y[2]).all()
    assert torch.isfinite(y[[0, 3]]).all()
    y[[0, 3]].sum().backward()
    for g in (leaves[0].grad, leaves[1].grad, leaves[2].grad):
        assert torch.isfinite(g[[0, 3]]).all()
    # dW = Σ_b dy_b z_b: 0 · NaN is NaN, as in nn.Linear (MMSA's peer gives the same NaNs)
    w2 = w.detach().clone().requires_grad_(True)
    lin = lambda x: F.linear(x, w2)  # noqa: E731
    mmsa_tfn(a.detach(), v.detach(), t.detach(), lin)[[0, 3]].sum().backward()
    torch.testing.assert_close(w.grad, w2.grad, equal_nan=True, rtol=1e-10, atol=1e-10)


# ------------------------------------------------------------------ LMF
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("n,dims,rank,n_out", [(5, (2, 3, 7), 4, 3), (1, (1, 1, 1), 1, 1),
                                                (3, (11, 2, 5), 3, 7)])
def test_lmf_matches_mmsa(backend, n, dims, rank, n_out):
    a, v, t = (_randn(n, d, seed=i) for i, d in enumerate(dims))
    fa, fv, ft = (_randn(rank, d + 1, n_out, seed=10 + i) for i, d in enumerate(dims))
    w, bias = _randn(rank, seed=20), _randn(n_out, seed=21)
    want = _grads(mmsa_lmf, [a, v, t, fa, fv, ft, w, bias])
    got = _grads(lambda *x: low_rank_fusion(*x, backend=backend), [a, v, t, fa, fv, ft, w, bias])
    _close(got, want, 1e-10)


def test_lmf_gradcheck_numba_and_empty_batch():
    xs = [_randn(2, d, seed=i).requires_grad_(True) for i, d in enumerate((2, 1, 3))]
    fs = [_randn(2, d + 1, 3, seed=9 + i).requires_grad_(True) for i, d in enumerate((2, 1, 3))]
    w, b = _randn(2, seed=30).requires_grad_(True), _randn(3, seed=31).requires_grad_(True)
    assert torch.autograd.gradcheck(lambda *x: low_rank_fusion(*x, backend="numba"),
                                    (*xs, *fs, w, b))
    empty = [torch.zeros(0, d, dtype=torch.float64) for d in (2, 1, 3)]
    assert low_rank_fusion(*empty, *fs, w, b, backend="numba").shape == (0, 3)


@pytest.mark.parametrize("backend", BACKENDS)
def test_lmf_nan_stays_in_its_sample(backend):
    a, v, t = _randn(3, 2), _randn(3, 2, seed=1), _randn(3, 2, seed=2)
    t[0, 1] = float("nan")
    fs = [_randn(2, 3, 4, seed=5 + i) for i in range(3)]
    y = low_rank_fusion(a, v, t, *fs, _randn(2, seed=9), backend=backend)
    assert torch.isnan(y[0]).all() and torch.isfinite(y[1:]).all()


# ------------------------------------------------------------------ attention
def _sdpa(q, k, v, pad):
    mask = None if pad is None else ~pad[:, None, None, :]
    return F.scaled_dot_product_attention(q, k, v, attn_mask=mask)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("b,h,lq,lk,d", [(2, 3, 5, 37, 5), (1, 1, 1, 1, 1), (3, 2, 7, 13, 8)])
def test_attention_matches_torch_sdpa(backend, b, h, lq, lk, d):
    q, k, v = _randn(b, h, lq, d), _randn(b, h, lk, d, seed=1), _randn(b, h, lk, d, seed=2)
    pad = torch.zeros(b, lk, dtype=torch.bool)
    pad[0, lk // 2 + 1:] = True  # sample 0 has padded keys, none is fully padded
    want = _grads(lambda *x: _sdpa(*x, pad), [q, k, v])
    got = _grads(lambda *x: cross_modal_attention(*x, pad, backend=backend), [q, k, v])
    _close(got, want, 1e-10)
    got_nomask = cross_modal_attention(q, k, v, backend=backend)
    torch.testing.assert_close(got_nomask, _sdpa(q, k, v, None), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("backend", BACKENDS)
def test_attention_fully_padded_rows_are_zero_without_nan(backend):
    q, k, v = _randn(2, 2, 3, 6), _randn(2, 2, 4, 6, seed=1), _randn(2, 2, 4, 6, seed=2)
    pad = torch.tensor([[True] * 4, [False, True, False, True]])
    leaves = [x.requires_grad_(True) for x in (q, k, v)]
    out = cross_modal_attention(*leaves, pad, backend=backend)
    assert torch.equal(out[0], torch.zeros_like(out[0]))
    torch.testing.assert_close(out[1:], _sdpa(q, k, v, pad)[1:], rtol=1e-10, atol=1e-10)
    out.sum().backward()
    for g in (leaves[0].grad, leaves[1].grad, leaves[2].grad):
        assert torch.isfinite(g).all()
        assert torch.equal(g[0], torch.zeros_like(g[0]))


def test_attention_gradcheck_numba_with_padding():
    q, k, v = (_randn(2, 2, s, 3, seed=i).requires_grad_(True) for i, s in enumerate((3, 5, 5)))
    pad = torch.tensor([[False, False, True, False, True], [True] * 5])
    assert torch.autograd.gradcheck(
        lambda *x: cross_modal_attention(*x, pad, scale=0.7, backend="numba"), (q, k, v))


@pytest.mark.parametrize("backend", BACKENDS)
def test_attention_nan_stays_in_its_sample_and_empty_batch(backend):
    q, k, v = _randn(3, 2, 4, 5), _randn(3, 2, 6, 5, seed=1), _randn(3, 2, 6, 5, seed=2)
    k[1, 0, 2, 3] = float("nan")
    out = cross_modal_attention(q, k, v, backend=backend)
    assert torch.isnan(out[1, 0]).all()
    assert torch.isfinite(out[[0, 2]]).all() and torch.isfinite(out[1, 1]).all()
    empty = cross_modal_attention(q[:0], k[:0], v[:0], backend=backend)
    assert empty.shape == (0, 2, 4, 5)


def test_attention_non_contiguous_float32_matches_reference():
    base = _randn(2, 7, 3, 4, dtype=torch.float32)  # (B, L, H, D) as a MulT layer holds it
    q = base.transpose(1, 2)
    k = _randn(2, 11, 3, 4, dtype=torch.float32, seed=1).transpose(1, 2)
    v = _randn(2, 11, 3, 4, dtype=torch.float32, seed=2).transpose(1, 2)
    assert not q.is_contiguous()
    want = _grads(lambda *x: cross_modal_attention(*x, backend="reference"), [q, k, v])
    got = _grads(lambda *x: cross_modal_attention(*x, backend="numba"), [q, k, v])
    _close(got, want, 1e-5)


# ------------------------------------------------------------------ bad input
def _tfn_args(n=(3, 3, 3)):
    a, v, t = _randn(n[0], 2), _randn(n[1], 3), _randn(n[2], 1)
    return a, v, t, _randn(4, 3 * 4 * 2)


def test_bad_input_errors_name_the_argument_and_shapes():
    a, v, t, w = _tfn_args((3, 2, 3))
    with pytest.raises(ValueError, match=r"batch sizes differ: a has 3 \(shape \(3, 2\)\), "
                                         r"v has 2 \(shape \(2, 3\)\)"):
        tensor_fusion(a, v, t, w)
    a, v, t, w = _tfn_args()
    with pytest.raises(ValueError, match=r"weight has 23 columns \(shape \(4, 23\)\) but a, v, t "
                                         r"of widths 2, 3, 1 need .* = 24"):
        tensor_fusion(a, v, t, w[:, :23])
    with pytest.raises(TypeError, match=r"v must be a floating-point tensor, got dtype "
                                        r"torch.int64 \(shape \(3, 3\)\)"):
        tensor_fusion(a, v.long(), t, w)
    with pytest.raises(ValueError, match=r"different devices: .*weight \(4, 24\) on meta"):
        tensor_fusion(a, v, t, w.to("meta"))
    with pytest.raises(TypeError, match=r"share one dtype: .*t torch.float32"):
        tensor_fusion(a, v, t.float(), w)
    with pytest.raises(ValueError, match=r"bias must have shape \(4,\)"):
        tensor_fusion(a, v, t, w, torch.zeros(3, dtype=torch.float64))
    fs = [_randn(2, d + 1, 4) for d in (2, 3, 1)]
    with pytest.raises(ValueError, match=r"factor_v must be \(rank, v width \+ 1, outputs\) = "
                                         r"\(2, 4, 4\) for v \(3, 3\), got \(2, 5, 4\)"):
        low_rank_fusion(a, v, t, fs[0], _randn(2, 5, 4), fs[2], _randn(2))
    with pytest.raises(ValueError, match=r"batch sizes differ"):
        low_rank_fusion(a[:2], v, t, *fs, _randn(2))
    with pytest.raises(TypeError, match=r"rank_weights must be a floating-point tensor"):
        low_rank_fusion(a, v, t, *fs, torch.ones(2, dtype=torch.int32))
    q, k = _randn(2, 1, 3, 4), _randn(2, 1, 5, 4)
    with pytest.raises(ValueError, match=r"key_padding_mask must be \(batch, key length\) = "
                                         r"\(2, 5\) for k \(2, 1, 5, 4\), got \(2, 4\)"):
        cross_modal_attention(q, k, k, torch.zeros(2, 4, dtype=torch.bool))
    with pytest.raises(TypeError, match="key_padding_mask must be a bool tensor"):
        cross_modal_attention(q, k, k, torch.zeros(2, 5))
    with pytest.raises(ValueError, match=r"batch sizes differ: q has 2 .*k has 1"):
        cross_modal_attention(q, k[:1], k[:1])
    with pytest.raises(ValueError, match=r"q and k head dims differ"):
        cross_modal_attention(q, k[..., :3], k)
    with pytest.raises(ValueError, match=r"different devices: q \(2, 1, 3, 4\) on cpu, "
                                         r"k \(2, 1, 5, 4\) on meta"):
        cross_modal_attention(q, k.to("meta"), k)
    with pytest.raises(TypeError, match=r"q must be a floating-point tensor"):
        cross_modal_attention(q.int(), k, k)


def test_backend_choice(monkeypatch):
    monkeypatch.delenv("TRITON_INTERPRET", raising=False)
    a, v, t, w = _tfn_args()
    with pytest.raises(BackendUnavailableError, match="triton backend needs CUDA tensors"):
        tensor_fusion(a, v, t, w, backend="triton")
    with pytest.raises(ValueError, match="backend must be one of"):
        tensor_fusion(a, v, t, w, backend="cuda")
    torch.testing.assert_close(tensor_fusion(a, v, t, w),
                               tensor_fusion(a, v, t, w, backend="reference"))


def test_trains_inside_a_torch_model():
    """A TFN layer on the kernel learns y = a·v (an interaction no additive model holds)."""
    torch.manual_seed(0)
    a, v, t = torch.randn(256, 2), torch.randn(256, 2), torch.randn(256, 1)
    target = (a[:, :1] * v[:, :1])
    w = torch.nn.Parameter(torch.zeros(1, 3 * 3 * 2))
    opt = torch.optim.Adam([w], lr=0.05)
    for _ in range(150):
        opt.zero_grad()
        loss = F.mse_loss(tensor_fusion(a, v, t, w, backend="numba"), target)
        loss.backward()
        opt.step()
    assert loss.item() < 1e-3 * target.var().item()
