"""Packed GGUF weights for the ``local`` backend: the linear layers of a llama-family model
loaded by transformers run on the GGUF file's own blocks (Q4_1, Q8_0) through
:mod:`affrepro.kernels.gguf_linear`, instead of the float32 weights transformers decoded
from them (the default model: 96 MB of blocks read per decoded token instead of 540 MB).

The model stays transformers' model; only its ``nn.Linear`` modules (q/k/v/o, gate/up/down,
and lm_head, tied to ``token_embd``) are swapped for :class:`PackedLinear`, which keeps
the float32 weight as well: a call with at most ``max_rows`` input rows (decode steps of
small batches) runs the packed kernel, a larger one (prefill, large batches) float32
sgemm, which wins there (measured: see docs/language-models.md). Both compute x · Wᵀ
with the same W up to float32 rounding and summation order.

Names: ``blk.N.attn_q`` → ``model.layers.N.self_attn.q_proj`` and so on. llama.cpp's
converter permutes the rows of attn_q/attn_k (rotary halves interleaved); transformers'
GGUF loader undoes it, and so does :func:`_unpermute_rows` here, on row indices. Each
packed tensor is checked against the float32 weight transformers loaded (its first and
last rows decoded), so a wrong name or permutation is an error, never a silent change.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from affrepro.errors import ModelFileError
from affrepro.kernels.gguf_linear import reference

_LAYER = re.compile(r"^blk\.(\d+)\.(attn_q|attn_k|attn_v|attn_output|ffn_gate|ffn_up|ffn_down)\.weight$")
_MODULE = {"attn_q": "self_attn.q_proj", "attn_k": "self_attn.k_proj", "attn_v": "self_attn.v_proj",
           "attn_output": "self_attn.o_proj", "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj",
           "ffn_down": "mlp.down_proj"}
PACKED_KINDS = frozenset({"Q4_1", "Q8_0"})
DEFAULT_MAX_ROWS = 2  # see docs/language-models.md: the packed kernel wins up to here


def _unpermute_rows(rows: int, heads: int) -> np.ndarray:
    """Row i of the transformers weight is row perm[i] of the GGUF tensor (llama.cpp's
    q/k permutation undone, as transformers' GGUF loader does on the weights)."""
    dim = rows // heads // 2
    return np.arange(rows).reshape(heads, dim, 2).swapaxes(2, 1).reshape(rows)


def _torch_module():
    import torch

    class PackedLinear(torch.nn.Module):
        """``nn.Linear`` over a packed GGUF weight (float32 sgemm beyond ``max_rows`` rows)."""

        def __init__(self, linear: torch.nn.Linear, packed, max_rows: int, run):
            super().__init__()
            self.in_features, self.out_features = linear.in_features, linear.out_features
            self.weight, self.bias = linear.weight, linear.bias
            self.packed, self.max_rows, self._run = packed, max_rows, run

        def forward(self, x):
            # a decode step calls this 211 times: the checks are ordered cheapest first
            rows = x.numel() // self.in_features
            if (rows <= self.max_rows and not torch.is_grad_enabled() and x.dtype == torch.float32
                    and x.device.type == "cpu"):
                y = torch.from_numpy(self._run(x.reshape(rows, self.in_features).numpy(), self.packed))
                if x.dim() != 2:
                    y = y.view(*x.shape[:-1], self.out_features)
                return y if self.bias is None else y + self.bias
            return torch.nn.functional.linear(x, self.weight, self.bias)

        def extra_repr(self) -> str:
            return (f"in_features={self.in_features}, out_features={self.out_features}, "
                    f"packed={self.packed.kind}, max_rows={self.max_rows}")

    return PackedLinear


def packed_tensors(gguf_path: Path, cache_dir: Path | None = None) -> dict[str, tuple[str, np.ndarray]]:
    """name → (block type, the file's bytes (O, K/32 · block bytes)) of every Q4_1/Q8_0
    tensor. gguf's reader parses the whole vocabulary on open (seconds); the tensors are
    kept once in ``cache_dir/packed.safetensors`` (block types in its metadata), written
    atomically, and read from there (memory-mapped) afterwards."""
    from safetensors import safe_open
    from safetensors.numpy import save_file

    cached = cache_dir / "packed.safetensors" if cache_dir is not None else None
    if cached is not None and cached.is_file():
        with safe_open(str(cached), framework="np") as f:
            kinds = f.metadata() or {}
            return {name: (kinds[name], f.get_tensor(name)) for name in f.keys()}
    import gguf

    reader = gguf.GGUFReader(str(gguf_path))
    out = {t.name: (t.tensor_type.name, np.asarray(t.data)) for t in reader.tensors
           if t.tensor_type.name in PACKED_KINDS}
    if cached is not None:
        import os
        import tempfile

        try:  # a folder we may not write to only costs the next load the parse again
            fd, tmp = tempfile.mkstemp(prefix=".packed-", suffix=".safetensors", dir=cached.parent)
        except OSError:
            return out
        os.close(fd)
        try:
            save_file({k: np.ascontiguousarray(v) for k, (_, v) in out.items()}, tmp,
                      metadata={k: kind for k, (kind, _) in out.items()})
            os.replace(tmp, cached)
        except OSError:
            pass
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    return out


def install(model, gguf_path: Path, max_rows: int = DEFAULT_MAX_ROWS,
            cache_dir: Path | None = None) -> dict[str, int]:
    """Swap ``model``'s linear layers for packed ones read from ``gguf_path`` (or its copy
    in ``cache_dir``); returns counts per block type. Tensors of other types keep nn.Linear."""
    import torch

    from affrepro.kernels.gguf_linear import pack, packed_matmul_runner

    cfg = model.config
    if getattr(cfg, "model_type", None) not in {"llama"}:
        return {}
    tensors = packed_tensors(gguf_path, cache_dir)
    PackedLinear = _torch_module()
    run = packed_matmul_runner()
    plan: list[tuple[torch.nn.Module, str, str]] = []  # (parent, attribute, gguf name)
    for name in tensors:
        hit = _LAYER.match(name)
        if hit:
            parent = model.model.layers[int(hit.group(1))]
            path = _MODULE[hit.group(2)].split(".")
            plan.append((getattr(parent, path[0]), path[1], name))
    head = "output.weight" if "output.weight" in tensors else "token_embd.weight"
    if head in tensors and hasattr(model, "lm_head"):
        plan.append((model, "lm_head", head))
    counts: dict[str, int] = {}
    for parent, attr, name in plan:
        kind, raw = tensors[name]
        linear = getattr(parent, attr)
        if not isinstance(linear, torch.nn.Linear):
            continue
        rows = None
        if name.endswith(".attn_q.weight"):
            rows = _unpermute_rows(linear.out_features, cfg.num_attention_heads)
        elif name.endswith(".attn_k.weight"):
            rows = _unpermute_rows(linear.out_features, cfg.num_key_value_heads)
        packed = pack(raw, kind, rows)
        _check(packed, linear.weight, f"{gguf_path}: tensor {name}")
        setattr(parent, attr, PackedLinear(linear, packed, max_rows, run))
        counts[kind] = counts.get(kind, 0) + 1
    return counts


def _check(packed, weight, what: str) -> None:
    w = weight.detach().float().numpy()
    if (packed.out_features, packed.in_features) != w.shape:
        raise ModelFileError(f"{what}: {packed.kind} shape {(packed.out_features, packed.in_features)} "
                             f"does not match the loaded weight {w.shape}")
    probe = np.unique([0, 1, packed.out_features // 2, packed.out_features - 1])
    decoded = reference.dequantize(packed.raw[probe], packed.kind)
    err = np.abs(decoded - w[probe]).max()
    if not err <= 1e-6 * max(1.0, float(np.abs(w[probe]).max())):
        raise ModelFileError(f"{what}: the packed {packed.kind} rows differ from the weight "
                             f"transformers loaded (max |Δ| {err:.3g}); packed=0 in the model spec uses "
                             "transformers' decoded weights instead")


def packed_modules(model):
    """The :class:`PackedLinear` modules of ``model``, by their module names."""
    return {name: mod for name, mod in model.named_modules() if hasattr(mod, "packed") and hasattr(mod, "max_rows")}


class rows_limit:  # noqa: N801 - a context manager used like a function
    """Within the block, every packed layer of ``model`` runs its kernel up to ``max_rows``
    input rows (0: float32 sgemm always; a large number: the kernel always)."""

    def __init__(self, model, max_rows: int):
        self.mods, self.max_rows = list(packed_modules(model).values()), max_rows

    def __enter__(self):
        self.before = [m.max_rows for m in self.mods]
        for m in self.mods:
            m.max_rows = self.max_rows
        return self

    def __exit__(self, *exc):
        for m, n in zip(self.mods, self.before):
            m.max_rows = n
