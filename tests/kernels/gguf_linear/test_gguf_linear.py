"""The packed-weight linear layer (GGUF Q4_1 / Q8_0 blocks): the reference's decoding
against gguf's own ``dequantize`` (the independent peer), Numba against the float64
reference on odd shapes, batch sizes, strided input and NaN, and bad input."""
from __future__ import annotations

import numpy as np
import pytest

from affrepro.kernels.gguf_linear import pack, packed_matmul, packed_matmul_runner
from affrepro.kernels.gguf_linear.reference import matmul as reference_matmul

gguf = pytest.importorskip("gguf")
KINDS = ["Q4_1", "Q8_0"]


def _blocks(kind: str, rows: int, cols: int, seed: int = 0) -> np.ndarray:
    """Random GGUF bytes: finite fp16 scales (and minimums), random codes."""
    rng = np.random.default_rng(seed)
    nblk = cols // 32
    d = (rng.random((rows, nblk)) * 0.05 + 1e-3).astype(np.float16).view(np.uint8).reshape(rows, nblk, 2)
    if kind == "Q4_1":
        m = (rng.standard_normal((rows, nblk)) * 0.1).astype(np.float16).view(np.uint8).reshape(rows, nblk, 2)
        q = rng.integers(0, 256, (rows, nblk, 16), dtype=np.uint8)
        return np.concatenate([d, m, q], -1).reshape(rows, -1)
    q = rng.integers(-128, 128, (rows, nblk, 32)).astype(np.int8).view(np.uint8)
    return np.concatenate([d, q], -1).reshape(rows, -1)


@pytest.mark.parametrize("kind", KINDS)
def test_the_reference_decodes_as_gguf_does(kind):
    raw = _blocks(kind, 5, 96)
    peer = gguf.dequantize(raw, getattr(gguf.GGMLQuantizationType, kind))
    ours = pack(raw, kind).dequantize()
    np.testing.assert_allclose(ours, peer, rtol=1e-6, atol=0)
    assert ours.shape == (5, 96)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("rows,cols", [(13, 64), (8, 32), (40, 160)])
@pytest.mark.parametrize("batch", [1, 2, 16])
def test_numba_agrees_with_the_float64_reference(kind, rows, cols, batch):
    raw = _blocks(kind, rows, cols, seed=rows + batch)
    w = pack(raw, kind)
    x = np.random.default_rng(batch).standard_normal((batch, cols)).astype(np.float32)
    want = reference_matmul(x, raw, kind)
    got = packed_matmul(x, w, backend="numba")
    assert got.dtype == np.float32 and got.shape == (batch, rows)
    scale = np.abs(x).astype(np.float64) @ np.abs(w.dequantize()).T  # float32 rounding bound
    assert np.all(np.abs(got - want) <= 1e-5 * scale + 1e-30)


@pytest.mark.parametrize("kind", KINDS)
def test_strided_and_batched_leading_dimensions(kind):
    raw = _blocks(kind, 24, 64, seed=3)
    w = pack(raw, kind)
    base = np.random.default_rng(0).standard_normal((64, 6)).astype(np.float32)
    x = base.T  # not C-contiguous
    got = packed_matmul(x.reshape(2, 3, 64), w, backend="numba")
    np.testing.assert_allclose(got.reshape(6, 24), reference_matmul(x, raw, kind), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(packed_matmul(x.astype(np.float64), w), got.reshape(6, 24), rtol=0, atol=0)


@pytest.mark.parametrize("kind", KINDS)
def test_a_row_alone_equals_the_same_row_in_a_batch(kind):
    raw = _blocks(kind, 16, 96, seed=5)
    w = pack(raw, kind)
    x = np.random.default_rng(1).standard_normal((5, 96)).astype(np.float32)
    batch = packed_matmul(x, w, backend="numba")
    for b in range(5):
        assert np.array_equal(packed_matmul(x[b:b + 1], w, backend="numba")[0], batch[b])


@pytest.mark.parametrize("kind", KINDS)
def test_nan_reaches_its_own_row_only(kind):
    raw = _blocks(kind, 9, 64, seed=7)
    w = pack(raw, kind)
    x = np.random.default_rng(2).standard_normal((3, 64)).astype(np.float32)
    x[1, 40] = np.nan
    got = packed_matmul(x, w, backend="numba")
    assert np.isnan(got[1]).all()
    assert np.isfinite(got[[0, 2]]).all()
    np.testing.assert_allclose(got[[0, 2]], reference_matmul(x[[0, 2]], raw, kind), rtol=1e-5, atol=1e-5)


def test_a_row_permutation_picks_the_files_rows():
    raw = _blocks("Q4_1", 16, 64, seed=9)
    rows = np.random.default_rng(0).permutation(16)
    np.testing.assert_array_equal(pack(raw, "Q4_1", rows).dequantize(), pack(raw, "Q4_1").dequantize()[rows])


def test_the_runner_is_the_chosen_backend():
    raw = _blocks("Q8_0", 8, 32)
    w = pack(raw, "Q8_0")
    x = np.ones((1, 32), np.float32)
    for backend in ("reference", "numba"):
        np.testing.assert_allclose(packed_matmul_runner(backend)(x, w), reference_matmul(x, raw, "Q8_0"),
                                   rtol=1e-6)


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="Q5_K"):
        pack(_blocks("Q8_0", 8, 32), "Q5_K")
    with pytest.raises(ValueError, match="blocks · 20"):
        pack(np.zeros((4, 21), np.uint8), "Q4_1")
    with pytest.raises(ValueError, match="expects 64"):
        packed_matmul(np.zeros((2, 63), np.float32), pack(_blocks("Q4_1", 8, 64), "Q4_1"))
