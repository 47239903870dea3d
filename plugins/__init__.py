"""Built-in component plugins: metrics, models and feature extractors not tied to one paper.

Each sub-package is one plugin, named after its folder (``prompt_benchmarks`` ->
``prompt-benchmarks``): a new folder with ``@hookimpl`` functions in its ``__init__.py``
is loaded with no other edit (see :mod:`affrepro.catalogue`).
"""
from __future__ import annotations

from pathlib import Path


def affrepro_plugins():
    """The built-in component plugins (the ``components`` entry point of affrepro)."""
    from affrepro.catalogue import component_plugins

    return component_plugins(Path(__file__).parent, __name__)
