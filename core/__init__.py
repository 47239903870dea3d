"""affrepro: published numbers of affective-computing papers beside freshly measured ones.

A plugin author needs only::

    from affrepro import hookimpl

Everything else is imported lazily so that ``affrepro --help`` starts fast.
"""
from __future__ import annotations

import pluggy

__all__ = ["hookimpl", "__version__"]

hookimpl = pluggy.HookimplMarker("affrepro")


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("affrepro")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "0+unknown"


__version__ = _version()
