"""affrepro.kernels.moments: every backend against the float64 reference and peers."""
import os
import subprocess
import sys

import numpy as np
import pytest

from affrepro.kernels.moments import (
    BackendFallbackWarning, BackendUnavailableError, Moments, merge, paired_moments,
)
from affrepro.kernels.moments import reference

CPU_BACKENDS = ["reference", "numba"]
SIZES = [0, 1, 2, 3, 31, 127, 1023, 1024, 1025, 4099]


def _pair(n, seed=0, offset=0.0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    x = offset + rng.normal(size=n)
    y = 0.5 * x + rng.normal(size=n)
    return x.astype(dtype), y.astype(dtype)


def _close(a, b, rtol=1e-10, atol=1e-9):
    np.testing.assert_allclose(np.asarray(a, float), np.asarray(b, float), rtol=rtol, atol=atol)


def _exact(x, y):
    """Moments from exact rational-free high-precision sums (math.fsum), as a second truth."""
    import math
    x = [float(v) for v in x]
    y = [float(v) for v in y]
    n = len(x)
    if n == 0:
        return np.zeros(9)
    mx, my = math.fsum(x) / n, math.fsum(y) / n
    d = [a - b for a, b in zip(x, y)]
    md = math.fsum(d) / n
    return np.array([n, mx, my, math.fsum((a - mx) ** 2 for a in x),
                     math.fsum((b - my) ** 2 for b in y),
                     math.fsum((a - mx) * (b - my) for a, b in zip(x, y)), md,
                     math.fsum((v - md) ** 2 for v in d), math.fsum(abs(v) for v in d)])


@pytest.mark.parametrize("backend", CPU_BACKENDS)
@pytest.mark.parametrize("n", SIZES)
def test_sizes_against_exact_sums(backend, n):
    x, y = _pair(n, seed=n)
    _close(paired_moments(x, y, backend=backend), _exact(x, y))


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_large_offset_small_noise(backend):
    rng = np.random.default_rng(1)
    x = 1e8 + rng.normal(scale=1e-3, size=5003)
    y = 1e8 + rng.normal(scale=1e-3, size=5003)
    m = paired_moments(x, y, backend=backend)
    e = _exact(x, y)
    _close(m, e, rtol=1e-7, atol=1e-12)
    # what the naive one-pass formula Σx² − n·x̄² would lose completely
    naive = (x * x).sum() - x.size * x.mean() ** 2
    assert abs(naive - e[3]) > 1e3 * abs(m.m2_x - e[3])


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_constants_give_exact_zero_spread(backend):
    x = np.full(3000, 0.1)
    y = np.full(3000, 7.0)
    m = paired_moments(x, y, backend=backend)
    assert m.n == 3000 and m.mean_y == 7.0
    assert abs(m.mean_x - 0.1) < 1e-15
    assert m.m2_x < 1e-25 and m.m2_y == 0.0 and m.c_xy < 1e-25
    assert m.sum_abs_d == pytest.approx(3000 * 6.9)


@pytest.mark.parametrize("backend", CPU_BACKENDS)
@pytest.mark.parametrize("where", [0, 500, 4098])
def test_nan_propagates(backend, where):
    x, y = _pair(4099)
    x[where] = np.nan
    m = paired_moments(x, y, backend=backend)
    assert np.isnan(m.mean_x) and np.isnan(m.m2_x) and np.isnan(m.c_xy) and np.isnan(m.m2_d)
    assert m.has_nan and m.n == 4099


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_inf_does_not_crash(backend):
    x, y = _pair(100)
    x[3] = np.inf
    assert not np.isfinite(paired_moments(x, y, backend=backend).m2_x)


@pytest.mark.parametrize("backend", CPU_BACKENDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
def test_dtypes_accumulate_in_float64(backend, dtype):
    x, y = _pair(2049, seed=3)
    x, y = (x * 10).astype(dtype), (y * 10).astype(dtype)
    _close(paired_moments(x, y, backend=backend), _exact(x, y))


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_non_contiguous_views(backend):
    big = np.random.default_rng(4).normal(size=(3001, 3))
    x, y = big[:, 0], big[::-1, 2]
    assert not x.flags.c_contiguous and y.strides[0] < 0
    _close(paired_moments(x, y, backend=backend), _exact(x, y))
    xs, ys = big[::2, 1][:1500], big[1::2, 1]
    _close(paired_moments(xs, ys, backend=backend), _exact(xs, ys))


@pytest.mark.parametrize("backend", CPU_BACKENDS)
@pytest.mark.parametrize("cut", [0, 1, 700, 1024, 2999, 3000])
def test_merge_of_batches_equals_one_pass(backend, cut):
    x, y = _pair(3000, seed=5, offset=1e6)
    one = paired_moments(x, y, backend=backend)
    two = merge(paired_moments(x[:cut], y[:cut], backend=backend),
                paired_moments(x[cut:], y[cut:], backend=backend))
    _close(two, one, rtol=1e-9, atol=1e-6)


def test_backends_agree_with_peers():
    scipy_stats = pytest.importorskip("scipy.stats")
    x, y = _pair(10_007, seed=6)
    m = paired_moments(x, y, backend="numba")
    assert m.c_xy / np.sqrt(m.m2_x * m.m2_y) == pytest.approx(scipy_stats.pearsonr(x, y)[0],
                                                              rel=1e-12)
    assert m.m2_x / (m.n - 1) == pytest.approx(np.var(x, ddof=1), rel=1e-12)


def test_shape_and_backend_errors():
    with pytest.raises(ValueError, match="same shape"):
        paired_moments([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="backend"):
        paired_moments([1.0], [1.0], backend="cuda")
    # 2-D inputs are flattened
    a = np.arange(6.0).reshape(2, 3)
    _close(paired_moments(a, a.T.copy().T), _exact(a.ravel(), a.ravel()))


def test_explicit_triton_on_cpu_without_interpreter_raises(monkeypatch):
    torch = pytest.importorskip("torch")
    monkeypatch.delenv("TRITON_INTERPRET", raising=False)
    with pytest.raises(BackendUnavailableError, match="CUDA"):
        paired_moments(torch.ones(4), torch.ones(4), backend="triton")
    with pytest.raises(BackendUnavailableError):
        paired_moments(np.ones(4), np.ones(4), backend="triton")


def test_auto_falls_back_with_a_warning(monkeypatch):
    import affrepro.kernels.moments as km

    def broken(x, y):
        raise BackendUnavailableError("numba is not installed")

    monkeypatch.setitem(km._RUNNERS, "numba", broken)
    with pytest.warns(BackendFallbackWarning, match="numba"):
        m = paired_moments([1.0, 2.0, 4.0], [1.0, 3.0, 3.0])
    _close(m, _exact([1.0, 2.0, 4.0], [1.0, 3.0, 3.0]))
    with pytest.raises(BackendUnavailableError):
        paired_moments([1.0], [1.0], backend="numba")


def test_auto_on_cpu_tensors_uses_numba():
    torch = pytest.importorskip("torch")
    x, y = _pair(999, seed=8)
    m = paired_moments(torch.tensor(x), torch.tensor(y))
    _close(m, _exact(x, y))


def test_moments_namedtuple():
    m = Moments.from_vector(reference.paired_moments([1.0, 3.0], [2.0, 2.0]))
    assert m.count == 2 and m.mean_x == 2.0 and m.m2_x == 2.0 and m.sum_abs_d == 2.0


TRITON_SCRIPT = r"""
import numpy as np, torch
from affrepro.kernels.moments import paired_moments, merge
from affrepro.kernels.moments import triton_impl, reference

def check(x, y, block, rtol=1e-10, atol=1e-9):
    got = triton_impl.paired_moments(x, y, block=block).numpy()
    exp = reference.paired_moments(x.numpy().astype(np.float64), y.numpy().astype(np.float64))
    if np.isnan(exp).any():
        assert np.isnan(got[1:8]).all() == np.isnan(exp[1:8]).all(), (got, exp)
        return
    np.testing.assert_allclose(got, exp, rtol=rtol, atol=atol)

rng = np.random.default_rng(0)
for n in (1, 2, 3, 31, 64, 65, 200):
    x = torch.tensor(rng.normal(size=n)); y = torch.tensor(rng.normal(size=n))
    check(x, y, 64)
# float32 input, large offset + small noise, widened to float64 in the kernel
x = torch.tensor(1e4 + rng.normal(scale=1e-2, size=150), dtype=torch.float32)
y = torch.tensor(1e4 + rng.normal(scale=1e-2, size=150), dtype=torch.float32)
check(x, y, 64, rtol=1e-7)
xd = torch.tensor(1e8 + rng.normal(scale=1e-3, size=130)); yd = xd + torch.tensor(rng.normal(scale=1e-3, size=130))
check(xd, yd, 64, rtol=1e-7, atol=1e-12)
# non-contiguous views
big = torch.tensor(rng.normal(size=(100, 3)))
check(big[:, 0], big[:, 2], 32)
# constants and NaN
check(torch.full((70,), 0.25), torch.full((70,), 3.0), 32)
xn = torch.tensor(rng.normal(size=90)); xn[77] = float("nan")
check(xn, torch.tensor(rng.normal(size=90)), 32)
# the merge kernel over many blocks (several CHUNKs) equals its PyTorch oracle
xb = torch.tensor(1e3 + rng.normal(size=600)); yb = torch.tensor(rng.normal(size=600))
blocks = triton_impl.block_moments(xb, yb, 8)
oracle = triton_impl.merge_blocks(blocks).numpy()
oracle[1] += float(xb[0]); oracle[2] += float(yb[0])
got = triton_impl.paired_moments(xb, yb, block=8, chunk=16).numpy()
np.testing.assert_allclose(got, oracle, rtol=1e-12, atol=1e-9)
# empty, and the public dispatcher
assert paired_moments(torch.empty(0), torch.empty(0), backend="triton").n == 0
a = torch.tensor(rng.normal(size=100)); b = torch.tensor(rng.normal(size=100))
m = paired_moments(a, b, backend="triton")
two = merge(paired_moments(a[:37], b[:37], backend="triton"), paired_moments(a[37:], b[37:], backend="triton"))
np.testing.assert_allclose(np.array(two), np.array(m), rtol=1e-10, atol=1e-12)
print("TRITON-INTERPRET-OK")
"""


def test_triton_kernel_under_interpreter():
    pytest.importorskip("triton")
    env = dict(os.environ, TRITON_INTERPRET="1")
    out = subprocess.run([sys.executable, "-c", TRITON_SCRIPT], capture_output=True, text=True,
                         env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-4000:]
    assert "TRITON-INTERPRET-OK" in out.stdout


PERSISTENT_SCRIPT = r"""
import numpy as np, torch
from affrepro.kernels.moments import triton_impl, reference

rng = np.random.default_rng(11)

def ref(x, y):
    return reference.paired_moments(x.double().numpy(), y.double().numpy())

def check(x, y, rtol=1e-9, atol=1e-9, oracle=False, **kw):
    got = triton_impl.paired_moments(x, y, **kw).numpy()
    exp = ref(x, y)
    if np.isnan(exp).any():
        assert (np.isnan(got) == np.isnan(exp)).all(), (kw, got, exp)
        assert got[0] == exp[0]
        return got
    np.testing.assert_allclose(got, exp, rtol=rtol, atol=atol, err_msg=str(kw))
    if not oracle:
        return got
    # the per-program rows merge (PyTorch oracle) to the kernel's answer
    rows = triton_impl.block_moments(x, y, kw.get("block"), kw.get("programs"),
                                     stages=kw.get("stages"))
    assert rows.shape[1] == 9 and float(rows[:, 0].sum()) == x.shape[0]
    assert not torch.isnan(rows).any() or np.isnan(exp).any()
    oracle = triton_impl.merge_blocks(rows).numpy()
    oracle[1] += float(x[0]); oracle[2] += float(y[0])
    np.testing.assert_allclose(got, oracle, rtol=1e-12, atol=1e-12, err_msg=str(kw))
    return got

def pair(n, dtype=torch.float64, offset=0.0):
    x = offset + rng.normal(size=n)
    y = 0.5 * x + rng.normal(size=n)
    return torch.tensor(x, dtype=dtype), torch.tensor(y, dtype=dtype)

B = 16
for stages in (3, 0):  # Triton's pipelined loop, and the hand-prefetched one
    for n, programs in [
        (5, None),      # n < BLOCK: the tail tile only
        (16, None),     # exactly one full tile, no tail
        (37, 3),        # 2 full tiles + tail, on 3 programs (tail owner 2)
        (48, 2),        # full tiles only
        (5, 4),         # more programs than tiles: 3 programs see nothing
        (33, 7),        # 2 full tiles + tail over 7 programs: 4 see nothing
        (16 * 11 + 9, 3),  # several full tiles a program + tail
        (16 * 12, 3),   # several full tiles a program, no tail
        (1, 2), (2, 1),
    ]:
        x, y = pair(n)
        check(x, y, oracle=stages == 3, block=B, programs=programs, stages=stages)
    # rows of programs that see nothing are exact zeros (count 0), never NaN
    x, y = pair(20)
    rows = triton_impl.block_moments(x, y, B, 6, stages=stages)
    assert (rows[:, 0] == torch.tensor([16.0, 4.0, 0, 0, 0, 0], dtype=torch.float64)).all()
    assert (rows[2:] == 0).all()

# float32 input (widened to float64), several tiles per program
x, y = pair(16 * 9 + 3, torch.float32, offset=10.0)
check(x, y, rtol=1e-9, atol=1e-9, oracle=True, block=B, programs=2)
# a 1e8 offset plus small noise costs nothing: the shift by the first pair
xd = torch.tensor(1e8 + rng.normal(scale=1e-3, size=16 * 7 + 5))
yd = xd + torch.tensor(rng.normal(scale=1e-3, size=xd.shape[0]))
got = check(xd, yd, rtol=1e-7, atol=1e-12, oracle=True, block=B, programs=3)
exp = ref(xd, yd)
assert abs(got[3] - exp[3]) <= 1e-7 * exp[3] and abs(got[5] - exp[5]) <= 1e-6 * abs(exp[3])
# NaN anywhere (first pair, a full tile, the tail) gives the reference's NaN pattern
for where in (0, 20, 16 * 5 + 2):
    x, y = pair(16 * 5 + 3)
    x[where] = float("nan")
    check(x, y, block=B, programs=2)
    yn = y.clone(); yn[where] = float("nan")
    check(x * 0 + 1.0, yn, block=B, programs=3)
# inf gives non-finite spread
x, y = pair(40); x[17] = float("inf")
assert not np.isfinite(triton_impl.paired_moments(x, y, block=B, programs=2).numpy()[3])
# non-contiguous views (x[::2], a column of a 2-D tensor)
big = torch.tensor(rng.normal(size=(2 * 16 * 5 + 6, 3)))
check(big[::2, 0], big[1::2, 2], oracle=True, block=B, programs=3)
check(big[:, 1], big[:, 2], block=B, programs=4, stages=0)
col = torch.tensor(rng.normal(size=300))
check(col[::2], col[1::2], block=B, programs=3)
# the defaults (interpreter: 4 programs) on a few tiles
x, y = pair(3 * 256 + 17)
check(x, y)
print("TRITON-PERSISTENT-OK")
"""


def test_triton_persistent_kernel_under_interpreter():
    """The persistent kernel's corner cases: tail tiles, programs without tiles, several
    tiles a program, the 1e8 offset, NaN, strided views; rows merge to the answer."""
    pytest.importorskip("triton")
    env = dict(os.environ, TRITON_INTERPRET="1")
    out = subprocess.run([sys.executable, "-c", PERSISTENT_SCRIPT], capture_output=True,
                         text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-4000:]
    assert "TRITON-PERSISTENT-OK" in out.stdout


def test_triton_on_cuda_matches_reference():
    """On a machine with a GPU: the compiled kernel (not the interpreter) on real shapes."""
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA GPU here: the Triton kernel is checked under TRITON_INTERPRET=1 "
                    "above; this test runs it compiled on a real GPU")
    pytest.importorskip("triton")
    rng = np.random.default_rng(9)
    for n, dtype in [(1, torch.float32), (4097, torch.float32), (1_000_003, torch.float64),
                     (3_000_001, torch.float32)]:
        x = 1e4 + rng.normal(size=n)
        y = 0.5 * x + rng.normal(size=n)
        tx = torch.tensor(x, dtype=dtype, device="cuda")
        ty = torch.tensor(y, dtype=dtype, device="cuda")
        got = paired_moments(tx, ty, backend="triton")
        exp = reference.paired_moments(tx.cpu().double().numpy(), ty.cpu().double().numpy())
        _close(got, exp, rtol=1e-9, atol=1e-6)
    big = torch.tensor(rng.normal(size=(2000, 3)), device="cuda")
    _close(paired_moments(big[:, 0], big[:, 2], backend="triton"),
           _exact(big[:, 0].cpu().numpy(), big[:, 2].cpu().numpy()))
    assert paired_moments(big[:, 0], big[:, 1]).n == 2000  # auto picks Triton on CUDA
    # compiled corner cases of the persistent kernel: more programs than tiles (most see
    # nothing), the hand-prefetched loop, several tiles a program with a tail, strides
    from affrepro.kernels.moments import triton_impl
    x = torch.tensor(1e8 + rng.normal(scale=1e-3, size=100_003), device="cuda")
    y = x + torch.tensor(rng.normal(scale=1e-3, size=100_003), device="cuda")
    exp = reference.paired_moments(x.cpu().numpy(), y.cpu().numpy())
    for kw in ({}, {"programs": 5000}, {"stages": 0}, {"block": 512, "num_warps": 8},
               {"programs": 3, "block": 128}):
        _close(triton_impl.paired_moments(x, y, **kw).cpu().numpy(), exp, rtol=1e-7,
               atol=1e-9)
    _close(triton_impl.paired_moments(x[:-1:2], y[1::2]).cpu().numpy(),
           reference.paired_moments(x[:-1:2].cpu().numpy(), y[1::2].cpu().numpy()),
           rtol=1e-7, atol=1e-9)
