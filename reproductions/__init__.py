"""One folder per paper, found by its card ``<folder>/paper.toml``.

A card-only paper is its card and nothing else; a paper with code names its protocol on
the card (``[protocol] run = ".protocol:run"``) and may give its folder an ``__init__.py``
with hooks for the datasets, models or commands only it uses (see :mod:`affrepro.catalogue`).
"""
from __future__ import annotations

from pathlib import Path


def affrepro_plugins():
    """The built-in papers (the ``papers`` entry point of affrepro)."""
    from affrepro.catalogue import paper_plugins

    return paper_plugins(Path(__file__).parent, __name__)
