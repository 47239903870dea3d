"""A linear layer over GGUF packed weights: y = x · Wᵀ with W kept in the file's blocks.

    Q4_1  blocks of 32 along the input: fp16 scale d, fp16 minimum m, 4-bit codes q;
          w = d · q + m                      (20 bytes per 32 weights)
    Q8_0  blocks of 32: fp16 scale d, int8 codes q;  w = d · q   (34 bytes per 32 weights)

    y[b, o] = Σ_k d[o,k] · Σ_j x[b, 32k+j] · q[o,k,j]  (+ m[o,k] · Σ_j x[b, 32k+j] for Q4_1)

This is the float32 matrix product with the decoded weights up to summation order (the
decoded weights d·q + m themselves are exact in float64; the float32 decode that
transformers' GGUF loader stores rounds each of them once): the weights are not an
approximation of the model, they are the model as shipped. Only the weights are packed;
the activations stay float32 (unlike dynamic int8 quantization).

:func:`pack` takes a tensor's bytes as the file stores them ((O, K/32 · block bytes)
uint8, e.g. ``gguf.GGUFReader(path).tensors[i].data``), an optional permutation of its
output rows, and keeps the same bytes interleaved 8 output rows wide (see
:mod:`.numba_impl`). :func:`packed_matmul` takes x of shape (..., K), any strides, float32
(other float dtypes are converted), and returns float32 (..., O).

``backend``: ``"reference"`` (float64, :mod:`.reference`), ``"numba"`` (CPU); ``"auto"``
picks Numba, falling back to the reference with a :class:`BackendFallbackWarning` when
Numba cannot load. Bad input (a block type other than Q4_1/Q8_0, a byte count that is not
whole blocks, x whose last dimension is not K) raises ``ValueError`` naming it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from affrepro.kernels._dispatch import (
    BackendFallbackWarning, BackendUnavailableError, dispatch, import_backend, register_op,
)
from affrepro.kernels.gguf_linear import reference

__all__ = ["PackedWeight", "pack", "packed_matmul", "packed_matmul_runner", "BackendUnavailableError",
           "BackendFallbackWarning"]

PACKED_MATMUL = register_op("packed_matmul", ("numba",))
_BLOCK_BYTES = {"Q4_1": reference.Q4_1_BYTES, "Q8_0": reference.Q8_0_BYTES}
_CODE_BYTES = {"Q4_1": 16, "Q8_0": 32}


@dataclass(frozen=True)
class PackedWeight:
    """One weight matrix in GGUF blocks: ``raw`` the file's bytes (rows in output order),
    ``d``/``m``/``qs`` the kernel's interleaved copy (``m`` empty for Q8_0)."""

    kind: str
    out_features: int
    in_features: int
    raw: np.ndarray
    d: np.ndarray
    m: np.ndarray
    qs: np.ndarray

    @property
    def padded_rows(self) -> int:
        """Output rows rounded up to whole groups of 8 (the kernels' lanes)."""
        return -(-self.out_features // 8) * 8

    @property
    def nbytes(self) -> int:
        return self.d.nbytes + self.m.nbytes + self.qs.nbytes

    def dequantize(self) -> np.ndarray:
        """The decoded (O, K) weights, float64."""
        return reference.dequantize(self.raw, self.kind)


def pack(raw: np.ndarray, kind: str, rows: np.ndarray | None = None) -> PackedWeight:
    """``raw``: (O, K/32 · block bytes) uint8 as the file stores it; ``rows``: output row
    i of the layer is row ``rows[i]`` of the file (e.g. the Q/K permutation)."""
    if kind not in _BLOCK_BYTES:
        raise ValueError(f"GGUF block type {kind!r}: expected one of {sorted(_BLOCK_BYTES)}")
    raw = np.asarray(raw)
    nb = _BLOCK_BYTES[kind]
    if raw.dtype != np.uint8 or raw.ndim != 2 or raw.shape[1] % nb:
        raise ValueError(f"{kind} weight: expected (rows, blocks · {nb}) uint8 bytes, got "
                         f"{raw.dtype} of shape {raw.shape}")
    if rows is not None:
        raw = raw[np.asarray(rows)]
    raw = np.ascontiguousarray(raw)
    out, nblk = raw.shape[0], raw.shape[1] // nb
    groups = -(-out // 8)
    blk = np.zeros((groups * 8, nblk, nb), np.uint8)  # padding rows: zero scales, zero codes
    blk[:out] = raw.reshape(out, nblk, nb)
    scale = lambda lo: np.ascontiguousarray(blk[..., lo:lo + 2]).view(np.float16)[..., 0].astype(np.float32)
    lanes = lambda a: np.ascontiguousarray(a.reshape(groups, 8, nblk).transpose(0, 2, 1)).ravel()
    codes = blk[..., nb - _CODE_BYTES[kind]:]
    qs = np.ascontiguousarray(codes.reshape(groups, 8, nblk, -1).transpose(0, 2, 3, 1)).ravel()
    if kind == "Q8_0":
        qs = qs.view(np.int8)
    m = lanes(scale(2)) if kind == "Q4_1" else np.empty(0, np.float32)
    return PackedWeight(kind, out, nblk * 32, raw, lanes(scale(0)), m, qs)


_IMPL: list = []


def _numba(x2: np.ndarray, w: PackedWeight) -> np.ndarray:
    if not _IMPL:
        _IMPL.append(import_backend("affrepro.kernels.gguf_linear.numba_impl", "numba"))
    impl = _IMPL[0]
    if x2.dtype != np.float32 or not x2.flags.c_contiguous:
        x2 = np.ascontiguousarray(x2, dtype=np.float32)
    y = np.empty((x2.shape[0], w.padded_rows), np.float32)
    if w.m.size:
        impl.q4_1_matmul(x2, w.d, w.m, w.qs, y)
    else:
        impl.q8_0_matmul(x2, w.d, w.qs, y)
    return y if w.padded_rows == w.out_features else y[:, :w.out_features]


def _reference(x2: np.ndarray, w: PackedWeight) -> np.ndarray:
    return reference.matmul(x2, w.raw, w.kind).astype(np.float32)


def _check_x(x: np.ndarray, w: PackedWeight) -> None:
    if x.ndim < 1 or x.shape[-1] != w.in_features:
        raise ValueError(f"packed_matmul: x has {x.shape[-1] if x.ndim else 'no'} features in its "
                         f"last dimension, the {w.kind} weight expects {w.in_features} "
                         f"(shape {tuple(x.shape)})")


def packed_matmul(x: np.ndarray, w: PackedWeight, backend: str = "auto") -> np.ndarray:
    """y = x · Wᵀ, float32 (..., O), W the packed weight."""
    x = np.asarray(x)
    _check_x(x, w)
    x2 = x.reshape(-1, w.in_features)
    y = dispatch(PACKED_MATMUL, backend, {"numba": lambda: _numba(x2, w),
                                          "reference": lambda: _reference(x2, w)})
    return y.reshape(*x.shape[:-1], w.out_features)


def packed_matmul_runner(backend: str = "auto"):
    """The backend :func:`packed_matmul` would use, chosen once (the same rules and
    fallback warning): a function (x2 (N, K), w) → (N, O) for a layer called thousands of
    times a second, which should not pay for the choice on every call."""
    probe = PackedWeight("Q8_0", 8, 32, np.zeros((8, 34), np.uint8), np.zeros(8, np.float32),
                         np.empty(0, np.float32), np.zeros(256, np.int8))
    chosen: list = []
    dispatch(PACKED_MATMUL, backend, {
        "numba": lambda: chosen.append(_numba) or _numba(np.zeros((1, 32), np.float32), probe),
        "reference": lambda: chosen.append(_reference)})
    return chosen[-1]
