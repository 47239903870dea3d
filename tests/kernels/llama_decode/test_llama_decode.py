"""The fused llama decode step (Numba) against its float64 reference on a small random
model in real GGUF blocks: logits, the keys and values it writes, masked slots, rows
alone and in a batch, several steps in a row, and bad input."""
from __future__ import annotations

import numpy as np
import pytest

from affrepro.kernels.gguf_linear import pack
from affrepro.kernels.llama_decode import PROJECTIONS, DecodeCache, DecodeWeights, decode_step

HIDDEN, HEADS, KV_HEADS, HEAD_DIM, INTER, VOCAB, LAYERS = 64, 4, 2, 16, 96, 43, 2


def _scales(rng, shape, lo, hi):
    return rng.uniform(lo, hi, shape).astype(np.float16).view(np.uint8).reshape(*shape, 2)


def _q4_1(rng, rows, cols):
    nblk = cols // 32
    blk = np.empty((rows, nblk, 20), np.uint8)
    blk[..., 0:2] = _scales(rng, (rows, nblk), 0.004, 0.02)
    blk[..., 2:4] = _scales(rng, (rows, nblk), -0.15, -0.05)
    blk[..., 4:] = rng.integers(0, 256, (rows, nblk, 16), dtype=np.uint8)
    return pack(blk.reshape(rows, -1), "Q4_1")


def _q8_0(rng, rows, cols):
    nblk = cols // 32
    blk = np.empty((rows, nblk, 34), np.uint8)
    blk[..., 0:2] = _scales(rng, (rows, nblk), 0.001, 0.004)
    blk[..., 2:] = rng.integers(-127, 128, (rows, nblk, 32)).astype(np.int8).view(np.uint8)
    return pack(blk.reshape(rows, -1), "Q8_0")


def _weights(seed=0) -> DecodeWeights:
    rng = np.random.default_rng(seed)
    shapes = {"q": (HEADS * HEAD_DIM, HIDDEN), "k": (KV_HEADS * HEAD_DIM, HIDDEN),
              "v": (KV_HEADS * HEAD_DIM, HIDDEN), "o": (HIDDEN, HEADS * HEAD_DIM),
              "gate": (INTER, HIDDEN), "up": (INTER, HIDDEN), "down": (HIDDEN, INTER)}
    layers = [[_q4_1(rng, *shapes[p]) for p in PROJECTIONS] for _ in range(LAYERS)]
    return DecodeWeights(
        emb=rng.normal(0, 1, (VOCAB, HIDDEN)).astype(np.float32), layers=layers,
        head=_q8_0(rng, VOCAB, HIDDEN),
        ln_attn=rng.uniform(0.5, 1.5, (LAYERS, HIDDEN)).astype(np.float32),
        ln_mlp=rng.uniform(0.5, 1.5, (LAYERS, HIDDEN)).astype(np.float32),
        ln_final=rng.uniform(0.5, 1.5, HIDDEN).astype(np.float32), eps=1e-5,
        inv_freq=(1.0 / 10000 ** (np.arange(0, HEAD_DIM, 2) / HEAD_DIM)).astype(np.float32),
        rope_scale=1.0, heads=HEADS, kv_heads=KV_HEADS, head_dim=HEAD_DIM)


def _cache(rows=2, filled=7, capacity=12, seed=1):
    rng = np.random.default_rng(seed)
    keys = [rng.normal(0, 1, (rows, KV_HEADS, filled, HEAD_DIM)).astype(np.float32) for _ in range(LAYERS)]
    values = [rng.normal(0, 1, (rows, KV_HEADS, filled, HEAD_DIM)).astype(np.float32) for _ in range(LAYERS)]
    mask = np.ones((rows, filled), np.uint8)
    if rows > 1:
        mask[1, 2:5] = 0  # a shared prefix of 2 slots, then row 1's left padding
    return DecodeCache.from_slots(keys, values, mask, capacity)


@pytest.fixture(scope="module")
def weights():
    return _weights()


def _copy(c: DecodeCache) -> DecodeCache:
    return DecodeCache(c.k.copy(), c.v.copy(), c.valid.copy(), c.t)


def test_numba_matches_the_float64_reference_over_several_steps(weights):
    fast, ref = _cache(), _cache()
    tokens, positions = np.array([3, 41]), np.array([7, 4])
    for step in range(4):
        a = decode_step(weights, fast, tokens, positions, backend="numba")
        b = decode_step(weights, ref, tokens, positions, backend="reference")
        assert a.shape == (2, VOCAB) and a.dtype == np.float32
        assert np.abs(a - b).max() <= 1e-4 * np.abs(b).max(), step
        assert np.abs(fast.k - ref.k).max() <= 1e-4 * np.abs(ref.k).max()
        assert np.abs(fast.v - ref.v).max() <= 1e-4 * np.abs(ref.v).max()
        tokens, positions = a.argmax(-1), positions + 1
    assert fast.t == ref.t == 11
    assert fast.valid[:, :11].sum() == 2 * 11 - 3 and not fast.valid[:, 11:].any()


def test_masked_slots_do_not_reach_the_output(weights):
    clean, dirty = _cache(), _cache()
    dirty.k[:, 1, :, 2:5] = np.nan  # row 1's padded slots
    dirty.v[:, 1, :, 2:5] = 1e30
    a = decode_step(weights, clean, [5, 6], [7, 4], backend="numba")
    b = decode_step(weights, dirty, [5, 6], [7, 4], backend="numba")
    assert np.isfinite(b).all() and np.array_equal(a, b)


def test_a_row_decodes_the_same_alone_and_in_a_batch(weights):
    both = _cache()
    alone = _copy(both)
    alone.select([1])
    a = decode_step(weights, both, [5, 6], [7, 4], backend="numba")
    b = decode_step(weights, alone, [6], [4], backend="numba")
    assert np.array_equal(a[1], b[0])
    assert np.array_equal(both.k[:, 1], alone.k[:, 0])


def test_cache_select_keeps_rows_in_order():
    c = _cache(rows=2)
    before = c.k.copy()
    c.select([1, 0])
    assert np.array_equal(c.k[:, 0], before[:, 1]) and np.array_equal(c.valid[0, 2:5], [0, 0, 0])


def test_the_rotary_position_matters(weights):
    a = decode_step(weights, _cache(), [5, 6], [7, 4], backend="numba")
    b = decode_step(weights, _cache(), [5, 6], [8, 4], backend="numba")
    assert not np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])


def test_bad_input_is_named(weights):
    c = _cache(capacity=7)
    with pytest.raises(ValueError, match="cache is full"):
        decode_step(weights, c, [1, 2], [7, 4])
    c = _cache()
    with pytest.raises(ValueError, match="token ids must lie in 0 .. 42"):
        decode_step(weights, c, [1, 43], [7, 4])
    with pytest.raises(ValueError, match="1 tokens and 2 positions for a cache of 2 rows"):
        decode_step(weights, c, [1], [7, 4])
    assert c.t == 7  # nothing was written
    w = _weights()
    w.layers[1][3] = _q8_0(np.random.default_rng(0), HIDDEN, HEADS * HEAD_DIM)
    with pytest.raises(ValueError, match=r"layer 1 o: Q8_0 \(64, 64\), expected Q4_1"):
        DecodeWeights(w.emb, w.layers, w.head, w.ln_attn, w.ln_mlp, w.ln_final, w.eps, w.inv_freq,
                      w.rope_scale, w.heads, w.kv_heads, w.head_dim)
    with pytest.raises(ValueError, match="mask"):
        DecodeCache.from_slots([np.zeros((1, 2, 3, 16), np.float32)], [np.zeros((1, 2, 3, 16), np.float32)],
                               np.ones((1, 4)), 8)
