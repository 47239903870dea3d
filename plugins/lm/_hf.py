"""Importing transformers from a source checkout of affrepro.

transformers 5 imports the Hugging Face ``kernels`` package at import time. Run from the
repository root (``python -m pytest``), the checkout's own ``kernels/`` folder (installed as
``affrepro.kernels``) comes first on ``sys.path`` and shadows it, and transformers fails
with an ImportError. :func:`import_transformers` imports the real ``kernels`` first, with
the checkout's root left out of the path for that one import.
"""
from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from pathlib import Path


def _shadowing_roots() -> list[str]:
    here = Path(__file__).resolve().parents[2]  # the checkout root (plugins/lm/_hf.py)
    ours = here / "kernels" / "__init__.py"
    return [p for p in sys.path
            if (Path(p or os.getcwd()).resolve() / "kernels" / "__init__.py") == ours]


def import_transformers():
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    if "transformers" not in sys.modules and "kernels" not in sys.modules:
        roots = _shadowing_roots()
        if roots:
            saved = sys.path[:]
            sys.path[:] = [p for p in sys.path if p not in roots]
            try:
                if importlib.util.find_spec("kernels") is not None:
                    importlib.import_module("kernels")
            finally:
                sys.path[:] = saved
    import transformers

    return transformers
