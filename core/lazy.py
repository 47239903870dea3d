"""Lazy references, so registering a component never imports its heavy dependencies."""
from __future__ import annotations

import importlib
import types
from collections.abc import Callable
from typing import Any


def lazy(target: str, doc: str | None = None) -> Callable[..., Any]:
    """A callable that imports ``"package.module:attribute"`` on its first call and forwards
    every call to it (functions, classes, protocols alike)."""
    module, _, attribute = target.partition(":")
    if not module or not attribute:
        raise ValueError(f"lazy target {target!r}: expected 'package.module:attribute'")
    resolved: list[Callable[..., Any]] = []

    def call(*args: Any, **kwargs: Any) -> Any:
        if not resolved:
            resolved.append(getattr(importlib.import_module(module), attribute))
        return resolved[0](*args, **kwargs)

    call.__name__ = call.__qualname__ = attribute
    call.__module__ = module
    call.__doc__ = doc or f"Calls {module}.{attribute} (imported on first use)."
    return call


class _LazyModule(types.ModuleType):
    def __getattr__(self, attribute: str) -> Any:
        module = importlib.import_module(self.__name__)
        self.__dict__.update(vars(module))  # later look-ups are plain attribute reads
        return getattr(module, attribute)


def lazy_module(name: str) -> types.ModuleType:
    """A stand-in for module ``name`` that imports it on the first attribute read
    (``np = lazy_module("numpy")``: a plugin module whose classes declare its components
    can be imported while loading plugins without importing NumPy)."""
    return _LazyModule(name)
