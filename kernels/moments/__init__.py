"""Paired moments: the one-pass, numerically stable reduction behind CCC, Pearson r, MSE/MAE.

``paired_moments(x, y, backend="auto")`` returns a :class:`Moments` — the count, the
means, the centred sums of squares and cross-products of x, y and d = x − y, and Σ|d| —
accumulated in float64 with Welford/Chan merging, so a 1e8 offset plus small noise loses
nothing that the input itself holds. :func:`merge` combines the moments of two batches
into exactly those of their concatenation (for streaming and multi-process metrics).

Backends (DESIGN.md, "kernels/"): ``"reference"`` (NumPy, the source of truth),
``"numba"`` (CPU, ``@njit(cache=True)``), ``"triton"`` (CUDA tensors; CPU tensors only
under ``TRITON_INTERPRET=1``). ``"auto"`` picks Triton for CUDA tensors and Numba
otherwise, falling back to the reference with a warning when its choice cannot load;
an explicit backend that cannot run raises :class:`BackendUnavailableError`.

NaN anywhere in the input propagates into every moment (the metrics decide what to do).
"""
from __future__ import annotations

import math
from typing import Any, NamedTuple

from affrepro.kernels._dispatch import (
    BackendFallbackWarning, BackendUnavailableError, check_backend, dispatch, import_backend,
    is_cuda_tensor, is_torch_tensor, register_op, require_triton_tensor,
)

__all__ = ["Moments", "paired_moments", "merge", "BackendUnavailableError",
           "BackendFallbackWarning"]


class Moments(NamedTuple):
    """Sufficient statistics of n pairs (x_i, y_i), d_i = x_i − y_i (all float).

    m2_x = Σ(x−x̄)², m2_y = Σ(y−ȳ)², c_xy = Σ(x−x̄)(y−ȳ), m2_d = Σ(d−d̄)², sum_abs_d = Σ|d|.
    """

    n: float = 0.0
    mean_x: float = 0.0
    mean_y: float = 0.0
    m2_x: float = 0.0
    m2_y: float = 0.0
    c_xy: float = 0.0
    mean_d: float = 0.0
    m2_d: float = 0.0
    sum_abs_d: float = 0.0

    @classmethod
    def from_vector(cls, v: Any) -> Moments:
        return cls(*(float(t) for t in v))

    @property
    def count(self) -> int:
        return int(self.n)

    @property
    def has_nan(self) -> bool:
        return any(math.isnan(v) for v in self)


def merge(a: Moments, b: Moments) -> Moments:
    """The moments of the concatenation of two batches (Chan, Golub & LeVeque 1979)."""
    from affrepro.kernels.moments import reference

    return Moments.from_vector(reference.merge(a, b))


def _as_1d_pair(x: Any, y: Any):
    if is_torch_tensor(x) or is_torch_tensor(y):
        import torch

        x = torch.as_tensor(x)
        y = torch.as_tensor(y, device=x.device)
        if not (x.is_floating_point()):
            x = x.to(torch.float64)
        if not (y.is_floating_point()):
            y = y.to(torch.float64)
    else:
        import numpy as np

        x = np.asarray(x)
        y = np.asarray(y)
        if x.dtype.kind != "f":
            x = x.astype(np.float64)
        if y.dtype.kind != "f":
            y = y.astype(np.float64)
        if x.dtype == np.float16:
            x = x.astype(np.float32)
        if y.dtype == np.float16:
            y = y.astype(np.float32)
    if tuple(x.shape) != tuple(y.shape):
        raise ValueError(f"x and y must have the same shape, got {tuple(x.shape)} and "
                         f"{tuple(y.shape)}")
    if x.ndim != 1:
        x, y = x.reshape(-1), y.reshape(-1)
    return x, y


def _to_numpy(t: Any):
    if is_torch_tensor(t):
        return t.detach().cpu().numpy()
    return t


def _run_reference(x, y) -> Moments:
    from affrepro.kernels.moments import reference

    return Moments.from_vector(reference.paired_moments(_to_numpy(x), _to_numpy(y)))


def _run_numba(x, y) -> Moments:
    numba_impl = import_backend(f"{__name__}.numba_impl", "numba")
    return Moments.from_vector(numba_impl.paired_moments(_to_numpy(x), _to_numpy(y)))


def _run_triton(x, y) -> Moments:
    require_triton_tensor(x)
    triton_impl = import_backend(f"{__name__}.triton_impl", "triton")
    import torch

    if x.dtype == torch.float16 or x.dtype == torch.bfloat16:
        x = x.float()
    if y.dtype == torch.float16 or y.dtype == torch.bfloat16:
        y = y.float()
    return Moments.from_vector(triton_impl.paired_moments(x, y).cpu().tolist())


_RUNNERS = {"reference": _run_reference, "numba": _run_numba, "triton": _run_triton}
PAIRED_MOMENTS = register_op("paired_moments", _RUNNERS)


def paired_moments(x: Any, y: Any, *, backend: str = "auto") -> Moments:
    """One pass over pairs (x_i, y_i): see :class:`Moments`. Arrays are flattened; shapes
    must match. NumPy arrays, sequences and torch tensors (CPU or CUDA) are accepted."""
    check_backend(backend)
    x, y = _as_1d_pair(x, y)
    return dispatch(PAIRED_MOMENTS, backend,
                    {name: (lambda run=run: run(x, y)) for name, run in _RUNNERS.items()},
                    gpu=is_cuda_tensor(x))
