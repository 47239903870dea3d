"""TFN with dropout inside the kernel (MMSA's post-fusion dropout on the fused vector):
the counter-based hash mask (statistics, seed dependence, the same bits in NumPy and in
the Numba kernel), the Numba forward/backward against the float64 reference with the
explicit mask and against MMSA's outer product × mask + nn.Linear, gradcheck, p = 0 as the
plain path, the model's seeded training, and bad arguments."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from affrepro.kernels.fusion import numba_impl, tensor_fusion
from affrepro.kernels.fusion.reference import dropout_hash, dropout_mask, dropout_threshold


def _randn(*shape, dtype=torch.float64, seed=0):
    return torch.randn(*shape, dtype=dtype, generator=torch.Generator().manual_seed(seed))


def _case(n=6, dims=(3, 5, 4), n_out=3, dtype=torch.float64):
    xs = [_randn(n, d, dtype=dtype, seed=i) for i, d in enumerate(dims)]
    w = _randn(n_out, math.prod(d + 1 for d in dims), dtype=dtype, seed=7) * 0.3
    b = _randn(n_out, dtype=dtype, seed=8)
    return xs, w, b


def _mmsa_dropped(a, v, t, w, b, keep, p):
    """MMSA's TFN (two bmm outer products, then dropout, then nn.Linear) with a given mask."""
    n = a.shape[0]
    one = torch.ones(n, 1, dtype=a.dtype)
    za, zv, zt = torch.cat([one, a], 1), torch.cat([one, v], 1), torch.cat([one, t], 1)
    f = torch.bmm(za.unsqueeze(2), zv.unsqueeze(1)).view(n, -1, 1)
    z = torch.bmm(f, zt.unsqueeze(1)).view(n, -1)
    return F.linear(z * keep.to(z.dtype) / (1 - p), w, b)


def _grads(fn, inputs, seed=3):
    leaves = [x.detach().clone().requires_grad_(True) for x in inputs]
    y = fn(*leaves)
    (y * _randn(*y.shape, seed=seed).to(y.dtype)).sum().backward()
    return [y.detach()] + [x.grad for x in leaves]


def test_hash_matches_a_scalar_rewrite_of_its_formula():
    def fmix(h):
        h ^= h >> 16
        h = h * 0x85EBCA6B % 2**32
        h ^= h >> 13
        h = h * 0xC2B2AE35 % 2**32
        return h ^ (h >> 16)

    for seed, b, d in ((0, 0, 0), (2**32 - 1, 7, 140480), (12345, 4095, 3)):
        r = fmix((seed + b * 0x9E3779B1) % 2**32)
        assert int(dropout_hash(seed, np.array(b), np.array(d))) == fmix(r ^ (d * 0x85EBCA77 % 2**32))


def test_mask_keeps_one_minus_p_within_a_binomial_bound_and_follows_the_seed():
    n_b, n_d = 64, 140_481 // 8
    for p in (0.15, 0.5):
        keep = dropout_mask(11, n_b, n_d, p)
        n = keep.size
        sd = math.sqrt(n * p * (1 - p))
        assert abs(keep.sum() - n * (1 - p)) < 5 * sd, (p, keep.mean())
        # rows and columns are not constant: each row's fraction is near 1 − p too
        rows = keep.mean(axis=1)
        assert np.all(np.abs(rows - (1 - p)) < 6 * math.sqrt(p * (1 - p) / n_d))
    a = dropout_mask(11, 8, 1000, 0.5)
    assert np.array_equal(a, dropout_mask(11, 8, 1000, 0.5))
    assert (a != dropout_mask(12, 8, 1000, 0.5)).mean() > 0.4  # ~1/2 differ for p = 1/2
    assert (a[0] != a[1]).mean() > 0.4  # samples get different masks
    assert dropout_threshold(0.0) == 0 and dropout_mask(3, 4, 10, 0.0).all()


def test_kernel_mask_is_the_reference_mask():
    """With a, v, t all ones every fused entry z[b, d] is 1, and with W = I the output is
    z̃ itself: y[b, d] = m[b, d] / (1 − p), the kernel's mask read bit by bit."""
    n_b, p, seed = 40, 0.3, 99
    xs = [torch.ones(n_b, d, dtype=torch.float64) for d in (2, 3, 4)]
    d_all = 3 * 4 * 5
    w = torch.eye(d_all, dtype=torch.float64)
    y = tensor_fusion(*xs, w, dropout=p, seed=seed, backend="numba")
    want = torch.from_numpy(dropout_mask(seed, n_b, d_all, p)).double() / (1 - p)
    torch.testing.assert_close(y, want, rtol=0, atol=1e-12)


@pytest.mark.parametrize("p", [0.15, 0.5])
def test_numba_matches_reference_and_mmsa_with_the_same_mask(p):
    xs, w, b = _case(n=9, dims=(7, 40, 5))  # 8·41 pairs: several tiles, both threads
    seed = 2024
    keep = torch.from_numpy(dropout_mask(seed, 9, w.shape[1], p))
    want = _grads(lambda *x: _mmsa_dropped(*x, keep, p), [*xs, w, b])
    for backend in ("reference", "numba"):
        got = _grads(lambda *x: tensor_fusion(*x, dropout=p, seed=seed, backend=backend),
                     [*xs, w, b])
        for i, (g, r) in enumerate(zip(got, want)):
            torch.testing.assert_close(g, r, rtol=1e-10, atol=1e-10 * r.abs().max(),
                                       msg=lambda m, i=i: f"{backend} item {i}: {m}")


def test_numba_float32_matches_float64_reference():
    xs, w, b = _case(n=5, dims=(4, 9, 3), dtype=torch.float32)
    got = _grads(lambda *x: tensor_fusion(*x, dropout=0.4, seed=5, backend="numba"),
                 [*xs, w, b])
    want = _grads(lambda *x: tensor_fusion(*x, dropout=0.4, seed=5, backend="reference"),
                  [x.double() for x in (*xs, w, b)])
    for g, r in zip(got, want):
        assert g.dtype == torch.float32
        torch.testing.assert_close(g.double(), r, rtol=2e-4, atol=2e-4 * r.abs().max())


def test_gradcheck_float64_tiny():
    xs, w, b = _case(n=3, dims=(2, 3, 2), n_out=2)
    args = [x.clone().requires_grad_(True) for x in (*xs, w, b)]
    assert torch.autograd.gradcheck(
        lambda *x: tensor_fusion(*x, dropout=0.3, seed=77, backend="numba"), args)


def test_p_zero_is_the_plain_path_and_no_state_is_batch_by_fused():
    xs, w, b = _case(n=4)
    plain = _grads(lambda *x: tensor_fusion(*x, backend="numba"), [*xs, w, b])
    zero = _grads(lambda *x: tensor_fusion(*x, dropout=0.0, seed=3, backend="numba"),
                  [*xs, w, b])
    for g0, g1 in zip(plain, zero):
        assert torch.equal(g0, g1)
    n, dims = 16, (15, 30, 6)
    a, v, t = (np.random.default_rng(i).standard_normal((n, d)) for i, d in enumerate(dims))
    wn = np.random.default_rng(9).standard_normal((4, 16 * 31 * 7))
    _, saved = numba_impl.tfn_dropout_forward(a, v, t, wn, None, 0.5, 1)
    arrays = [x for x in saved if isinstance(x, np.ndarray) and not np.shares_memory(x, wn)]
    assert max(x.size for x in arrays) == n * 31  # z_v: nothing of size B × D is kept


def test_batch_zero_and_one():
    for n in (0, 1):
        xs, w, b = _case(n=n)
        got = _grads(lambda *x: tensor_fusion(*x, dropout=0.2, seed=1, backend="numba"),
                     [*xs, w, b])
        want = _grads(lambda *x: tensor_fusion(*x, dropout=0.2, seed=1, backend="reference"),
                      [*xs, w, b])
        for g, r in zip(got, want):
            torch.testing.assert_close(g, r)


@pytest.mark.parametrize("dropout,seed,err,words", [
    (1.0, 0, ValueError, "dropout must be in [0, 1)"), (-0.1, 0, ValueError, "dropout"),
    (float("nan"), 0, ValueError, "dropout"), ("0.1", 0, TypeError, "dropout"),
    (0.1, -1, ValueError, "seed must be in [0, 2**32)"), (0.1, 2**32, ValueError, "seed"),
    (0.1, 1.5, TypeError, "seed must be an int")])
def test_bad_dropout_or_seed_is_named(dropout, seed, err, words):
    xs, w, b = _case(n=2)
    with pytest.raises(err, match=words.replace("[", r"\[").replace(")", r"\)")
                       .replace("*", r"\*")):
        tensor_fusion(*xs, w, b, dropout=dropout, seed=seed)


def test_unseeded_draws_from_torch_and_auto_on_cpu_is_numba():
    xs, w, b = _case(n=2)
    torch.manual_seed(4)
    y1 = tensor_fusion(*xs, w, b, dropout=0.5)
    torch.manual_seed(4)
    y2 = tensor_fusion(*xs, w, b, dropout=0.5)
    y3 = tensor_fusion(*xs, w, b, dropout=0.5)
    assert torch.equal(y1, y2) and not torch.equal(y2, y3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = tensor_fusion(*xs, w, b, dropout=0.5, seed=2)  # auto on CPU: numba, no warning
    torch.testing.assert_close(y, tensor_fusion(*xs, w, b, dropout=0.5, seed=2,
                                                backend="reference"))


def test_tfn_model_draws_a_seed_per_step_and_eval_is_the_plain_path():
    from affrepro.plugins.models.fusion import TFN

    torch.manual_seed(0)
    model = TFN(dims=(3, 4, 5), hidden=(4, 4, 4), post_fusion=8, dropout=0.0,
                fusion_dropout=0.5, backend="numba").double()
    xs = [_randn(6, d, seed=i) for i, d in enumerate((3, 4, 5))]
    model.train()
    torch.manual_seed(1)
    y1, y2 = model(*xs), model(*xs)
    torch.manual_seed(1)
    assert torch.equal(model(*xs), y1)  # same generator state, same masks
    assert not torch.allclose(y1, y2)  # a fresh mask each step
    y1.sum().backward()
    assert model.fusion_weight.grad is not None and model.fusion_weight.grad.abs().sum() > 0
    model.eval()
    h = [net(x) for net, x in zip(model.subnets, xs)]
    plain = model.post(tensor_fusion(*h, model.fusion_weight, model.fusion_bias,
                                     backend="numba"))
    assert torch.equal(model(*xs), plain)
    with pytest.raises(ValueError, match="fusion_dropout must be in"):
        TFN(fusion_dropout=1.0)
