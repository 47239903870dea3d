"""Lazy references, so registering a component never imports its heavy dependencies."""
from __future__ import annotations

import importlib
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
