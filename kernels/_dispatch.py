"""The one backend dispatcher of the kernels (the DESIGN's "kernels/" rules, in one place).

Every kernel operation declares its backends once (:func:`register_op`: a registry of
backends per op) and runs through :func:`dispatch` with one zero-argument runner per
backend. A runner checks what it needs first (:func:`require_triton_tensor`,
:func:`import_backend`) and raises :class:`BackendUnavailableError` when it cannot run
here. Then:

- ``backend="auto"`` picks Triton for CUDA tensors (when the op has it) and Numba for
  everything on the CPU; if that choice cannot run, the op falls back to its reference
  with a :class:`BackendFallbackWarning`;
- a backend named explicitly runs or raises :class:`BackendUnavailableError` (also when
  the op has no such backend, saying which it has);
- ``AFFREPRO_KERNEL_BACKEND=reference|numba|triton`` (every op) or
  ``AFFREPRO_KERNEL_BACKEND_<OP>`` (one op, e.g. ``AFFREPRO_KERNEL_BACKEND_LOGMEL``)
  replaces auto's first choice, still with the fallback; explicit arguments win.
"""
from __future__ import annotations

import importlib
import os
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import TypeVar

from affrepro.errors import AffreproError

T = TypeVar("T")

BACKENDS = ("auto", "reference", "numba", "triton")
ENV = "AFFREPRO_KERNEL_BACKEND"


class BackendUnavailableError(AffreproError, RuntimeError):
    """An explicitly requested kernel backend that cannot run here (and why)."""


class BackendFallbackWarning(RuntimeWarning):
    """``backend="auto"`` could not load its first choice and used another."""


@dataclass(frozen=True)
class Op:
    """One kernel operation and the backends it has (the reference always); ``missing``
    says why a backend is absent, for the error an explicit request gets."""

    name: str
    backends: tuple[str, ...]
    missing: Mapping[str, str] = field(default_factory=dict)


OPS: dict[str, Op] = {}


def register_op(name: str, backends: Iterable[str] = ("numba",),
                missing: Mapping[str, str] | None = None) -> Op:
    """Declare kernel operation ``name`` and its backends (the reference is implied)."""
    backends = tuple(dict.fromkeys(("reference", *backends)))
    unknown = set(backends) - set(BACKENDS[1:])
    if unknown:
        raise ValueError(f"{name}: unknown backends {sorted(unknown)}")
    op = Op(name, backends, dict(missing or {}))
    OPS[name] = op
    return op


def is_torch_tensor(obj) -> bool:
    mod = type(obj).__module__
    return mod.startswith("torch") and hasattr(obj, "is_cuda")


def is_cuda_tensor(obj) -> bool:
    return is_torch_tensor(obj) and bool(obj.is_cuda)


def triton_interpreting() -> bool:
    return os.environ.get("TRITON_INTERPRET", "") == "1"


def check_backend(backend: str) -> str:
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    return backend


def require_triton_tensor(x) -> None:
    """The Triton backends' capability check: torch tensors on CUDA, or on the CPU under
    ``TRITON_INTERPRET=1``."""
    if not is_torch_tensor(x):
        raise BackendUnavailableError("triton backend needs torch tensors (CUDA, or CPU under "
                                      "TRITON_INTERPRET=1)")
    if not x.is_cuda and not triton_interpreting():
        raise BackendUnavailableError("triton backend needs CUDA tensors (or TRITON_INTERPRET=1 "
                                      f"for CPU tensors); got a tensor on {x.device}")


def import_backend(module: str, backend: str, needs: str | None = None) -> ModuleType:
    """Import a backend's implementation module; an ImportError makes it unavailable."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise BackendUnavailableError(f"{backend} backend needs {needs or backend}: {exc}") from exc


def override(op: str) -> str | None:
    """The backend the environment asks ``auto`` to try first for ``op``, if any."""
    for var in (f"{ENV}_{op.upper().replace('.', '_')}", ENV):
        value = os.environ.get(var, "").strip()
        if value:
            if value not in BACKENDS[1:]:
                raise ValueError(f"{var}={value!r}: expected one of {', '.join(BACKENDS[1:])}")
            return value
    return None


def dispatch(op: str | Op, backend: str, runners: Mapping[str, Callable[[], T]], *,
             gpu: bool = False) -> T:
    """Run ``op`` on ``backend`` (see the module doc). ``runners`` maps each backend the op
    has to a zero-argument callable; ``gpu``: the input lives on a CUDA device."""
    check_backend(backend)
    spec = op if isinstance(op, Op) else OPS.get(op) or register_op(op, tuple(runners))
    if backend != "auto":
        if backend not in spec.backends:
            why = spec.missing.get(backend) or f"it has {', '.join(spec.backends)}"
            raise BackendUnavailableError(f"{spec.name} has no {backend} backend ({why})")
        return runners[backend]()
    wanted = override(spec.name) or ("triton" if gpu and "triton" in spec.backends else "numba")
    if wanted == "reference":
        return runners["reference"]()
    try:
        if wanted not in spec.backends:
            raise BackendUnavailableError(f"{spec.name} has no {wanted} backend")
        return runners[wanted]()
    except BackendUnavailableError as exc:
        fall_back(spec.name, wanted, "reference", exc)
        return runners["reference"]()


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
    """:func:`dispatch` for a CPU-only kernel (no Triton backend)."""
    return dispatch(kernel, backend, {"numba": numba, "reference": reference})
