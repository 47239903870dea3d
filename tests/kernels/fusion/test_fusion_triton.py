"""The Triton fusion kernels against the float64 reference: under TRITON_INTERPRET=1 on
the CPU (tiny shapes, a subprocess, since the interpreter is chosen when triton.jit runs)
and compiled on a CUDA GPU when there is one (tools/gpu/run_checks.sh runs this file)."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

CASES = r'''
import sys, torch
from affrepro.kernels.fusion import tensor_fusion, low_rank_fusion, cross_modal_attention
dev = sys.argv[1]
big = dev == "cuda"
torch.manual_seed(0)

def grads(fn, xs, seed=1):
    xs = [x.detach().clone().requires_grad_(True) for x in xs]
    y = fn(*xs)
    g = torch.randn(y.shape, generator=torch.Generator().manual_seed(seed)).to(y)
    (y * g).sum().backward()
    return [y.detach()] + [x.grad for x in xs]

def check(name, fn, xs, tol):
    want = grads(lambda *x: fn(*x, backend="reference"), xs)
    got = grads(lambda *x: fn(*x, backend="triton"), xs)
    for i, (g, w) in enumerate(zip(got, want)):
        assert g.dtype == w.dtype and g.device == w.device, (name, i, g.dtype, g.device)
        torch.testing.assert_close(g.float(), w.float(), rtol=tol, atol=tol,
                                   msg=lambda m: f"{name} item {i}: {m}")
    print("ok", name)

def r(*s, dt=torch.float64):
    return torch.randn(*s, dtype=dt, device=dev)

dtypes = [(torch.float64, 1e-10), (torch.float32, 2e-4)]
if big:
    dtypes.append((torch.bfloat16, 6e-2))
for dt, tol in dtypes:
    for n, dims, n_out in [(5, (2, 3, 7), 3), (1, (1, 1, 1), 1), (3, (4, 17, 0), 2)] + (
            [(37, (32, 40, 31), 20)] if big else []):
        a, v, t = (r(n, d, dt=dt) for d in dims)
        w = r(n_out, (dims[0] + 1) * (dims[1] + 1) * (dims[2] + 1), dt=dt) * 0.3
        check(f"tfn {dt} {n} {dims}", tensor_fusion, [a, v, t, w, r(n_out, dt=dt)], tol)
        if n != 1:  # dropout in the kernel: the reference's hash mask, same seed
            check(f"tfn dropout {dt} {n} {dims}",
                  lambda *x, backend: tensor_fusion(*x, dropout=0.3, seed=41, backend=backend),
                  [a, v, t, w, r(n_out, dt=dt)], tol)
    for n, dims, rank, n_out in [(5, (2, 3, 7), 3, 4), (1, (1, 1, 1), 1, 1)] + (
            [(70, (32, 35, 300), 4, 64)] if big else []):
        xs = [r(n, d, dt=dt) for d in dims]
        fs = [r(rank, d + 1, n_out, dt=dt) * 0.3 for d in dims]
        check(f"lmf {dt} {n} {dims}", low_rank_fusion, [*xs, *fs, r(rank, dt=dt), r(n_out, dt=dt)],
              tol)
    for b, h, lq, lk, d in [(2, 2, 5, 37, 5), (1, 1, 1, 1, 1), (2, 1, 17, 3, 6)] + (
            [(4, 10, 50, 500, 5), (2, 8, 375, 50, 6)] if big else []):
        q, k, v = r(b, h, lq, d, dt=dt), r(b, h, lk, d, dt=dt), r(b, h, lk, d, dt=dt)
        pad = torch.zeros(b, lk, dtype=torch.bool, device=dev)
        pad[0, lk // 2:] = True
        if b > 1:
            pad[1, :] = True
        check(f"attention {dt} {(b, h, lq, lk, d)}",
              lambda q_, k_, v_, backend: cross_modal_attention(q_, k_, v_, pad, backend=backend),
              [q, k, v], tol)
        if b > 1:
            out = cross_modal_attention(q, k, v, pad, backend="triton")
            assert torch.equal(out[1], torch.zeros_like(out[1])), "fully padded row not 0"

# non-contiguous views, batch 0, gradcheck (float64)
q = r(2, 7, 3, 4).transpose(1, 2)
k = r(2, 9, 3, 4).transpose(1, 2)
check("attention non-contiguous", cross_modal_attention, [q, k, k.clone()], 1e-10)
a = r(4, 6).T
check("tfn non-contiguous", tensor_fusion, [a, r(6, 5)[:, ::2], r(6, 2), r(3, 5 * 4 * 3)], 1e-10)
assert tensor_fusion(r(0, 2), r(0, 1), r(0, 1), r(2, 12), backend="triton").shape == (0, 2)
assert cross_modal_attention(r(0, 1, 2, 3), r(0, 1, 4, 3), r(0, 1, 4, 3),
                             backend="triton").shape == (0, 1, 2, 3)
xs = [r(2, d).requires_grad_(True) for d in (2, 1, 2)]
w = r(2, 3 * 2 * 3).requires_grad_(True)
assert torch.autograd.gradcheck(lambda *x: tensor_fusion(*x, backend="triton"), (*xs, w),
                                fast_mode=True)
assert torch.autograd.gradcheck(
    lambda *x: tensor_fusion(*x, dropout=0.4, seed=3, backend="triton"), (*xs, w),
    fast_mode=True)
fs = [r(2, d + 1, 2).requires_grad_(True) for d in (2, 1, 2)]
assert torch.autograd.gradcheck(lambda *x: low_rank_fusion(*x, backend="triton"),
                                (*xs, *fs, r(2).requires_grad_(True)), fast_mode=True)
qkv = [r(1, 2, s, 3).requires_grad_(True) for s in (2, 4, 4)]
pad = torch.tensor([[False, True, False, False]], device=dev)
assert torch.autograd.gradcheck(
    lambda *x: cross_modal_attention(*x, pad, backend="triton"), qkv, fast_mode=True)
print("ALL OK")
'''


def _run(device: str, env: dict) -> str:
    out = subprocess.run([sys.executable, "-c", CASES, device], capture_output=True, text=True,
                         env=env, timeout=600)
    assert out.returncode == 0 and "ALL OK" in out.stdout, out.stdout[-3000:] + out.stderr[-3000:]
    return out.stdout


@pytest.mark.slow
def test_triton_kernels_under_interpreter():
    pytest.importorskip("triton")
    stdout = _run("cpu", dict(os.environ, TRITON_INTERPRET="1"))
    assert stdout.count("ok ") == 22


def test_triton_kernels_on_cuda():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA GPU here: the Triton fusion kernels are checked under "
                    "TRITON_INTERPRET=1 (test_triton_kernels_under_interpreter)")
    env = {k: val for k, val in os.environ.items() if k != "TRITON_INTERPRET"}
    stdout = _run("cuda", env)
    assert stdout.count("ok ") == 47
