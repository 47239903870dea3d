"""The float64 reference of the packed-weight linear layer (the source of truth): decode
the GGUF blocks of the file's bytes to float64 weights, then one matrix product.

    Q4_1 block (20 bytes): fp16 d, fp16 m, 16 bytes of 4-bit codes (byte j: code j in the
         low nibble, code j+16 in the high nibble);   w_j = d · q_j + m
    Q8_0 block (34 bytes): fp16 d, 32 signed bytes;   w_j = d · q_j
    y = x · Wᵀ
"""
from __future__ import annotations

import numpy as np

Q4_1_BYTES, Q8_0_BYTES = 20, 34


def dequantize(raw: np.ndarray, kind: str) -> np.ndarray:
    """raw: (O, K/32 · block bytes) uint8 as stored in the file → (O, K) float64."""
    rows = raw.shape[0]
    if kind == "Q4_1":
        blk = raw.reshape(rows, -1, Q4_1_BYTES)
        d = blk[..., 0:2].copy().view(np.float16).astype(np.float64)
        m = blk[..., 2:4].copy().view(np.float16).astype(np.float64)
        q = np.concatenate([blk[..., 4:] & 15, blk[..., 4:] >> 4], axis=-1).astype(np.float64)
        return (d * q + m).reshape(rows, -1)
    if kind == "Q8_0":
        blk = raw.reshape(rows, -1, Q8_0_BYTES)
        d = blk[..., 0:2].copy().view(np.float16).astype(np.float64)
        q = blk[..., 2:].copy().view(np.int8).astype(np.float64)
        return (d * q).reshape(rows, -1)
    raise ValueError(f"GGUF block type {kind!r}: expected Q4_1 or Q8_0")


def matmul(x: np.ndarray, raw: np.ndarray, kind: str) -> np.ndarray:
    """y = x · Wᵀ in float64, W decoded from the file's bytes."""
    return np.asarray(x, dtype=np.float64) @ dequantize(raw, kind).T
