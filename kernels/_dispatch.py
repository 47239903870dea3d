"""Backend selection shared by the kernels (see DESIGN.md, "kernels/").

``backend="auto"`` picks Triton for CUDA tensors and Numba for everything on the CPU;
when the automatically chosen backend cannot load, the kernel falls back to its
reference with a :class:`BackendFallbackWarning`. A backend named explicitly that
cannot run raises :class:`BackendUnavailableError`.
"""
from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from typing import TypeVar

from affrepro.errors import AffreproError

T = TypeVar("T")

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
                  BackendFallbackWarning, stacklevel=_first_caller_outside_affrepro())


def _first_caller_outside_affrepro() -> int:
    """The ``stacklevel`` (from fall_back's ``warnings.warn``) of the first frame outside
    affrepro's own packages, so that the warning names the user's line, however deep the
    kernel was called from (a public function, a feature plugin, a reproduction)."""
    import sys

    roots = tuple(os.path.dirname(m.__file__) + os.sep for m in (
        sys.modules.get(name) for name in ("affrepro", "affrepro.kernels", "affrepro.plugins",
                                           "affrepro.reproductions"))
        if m is not None and getattr(m, "__file__", None))
    frame, level = sys._getframe(2), 2  # 1 is fall_back itself
    while frame is not None and frame.f_code.co_filename.startswith(roots):
        frame, level = frame.f_back, level + 1
    return level


def numba_or_reference(kernel: str, backend: str, numba: Callable[[], T],
                       reference: Callable[[], T]) -> T:
    """Dispatch of a CPU-only kernel (no Triton backend): ``"reference"`` runs the
    reference; ``"numba"`` runs Numba and raises BackendUnavailableError if it cannot load;
    ``"auto"`` runs Numba, else the reference with a BackendFallbackWarning."""
    if backend == "reference":
        return reference()
    try:
        return numba()
    except BackendUnavailableError as exc:
        if backend == "numba":
            raise
        fall_back(kernel, "numba", "reference", exc)
        return reference()
