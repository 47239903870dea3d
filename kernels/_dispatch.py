"""Backend selection shared by the kernels (see DESIGN.md, "kernels/").

``backend="auto"`` picks Triton for CUDA tensors and Numba for everything on the CPU;
when the automatically chosen backend cannot load, the kernel falls back to its
reference with a :class:`BackendFallbackWarning`. A backend named explicitly that
cannot run raises :class:`BackendUnavailableError`.
"""
from __future__ import annotations

import os
import warnings

from affrepro.errors import AffreproError

BACKENDS = ("auto", "reference", "numba", "triton")


class BackendUnavailableError(AffreproError, RuntimeError):
    """An explicitly requested kernel backend that cannot run here (and why)."""


class BackendFallbackWarning(RuntimeWarning):
    """``backend="auto"`` could not load its first choice and used another."""


def is_torch_tensor(obj) -> bool:
    mod = type(obj).__module__
    return mod.startswith("torch") and hasattr(obj, "is_cuda")


def triton_interpreting() -> bool:
    return os.environ.get("TRITON_INTERPRET", "") == "1"


def check_backend(backend: str) -> str:
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    return backend


def fall_back(kernel: str, wanted: str, used: str, error: BaseException) -> None:
    warnings.warn(f"{kernel}: backend 'auto' could not use {wanted} ({error}); using {used}",
                  BackendFallbackWarning, stacklevel=3)
