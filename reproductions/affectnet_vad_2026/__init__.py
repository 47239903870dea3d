"""affectnet-vad-2026: Revisiting Emotions Representation for Recognition in the Wild.

Card only for now: no number has been retrieved. relabel.py holds the NumPy reference of the
VAD -> class-probability relabelling and loaders.py the reader of the released probability
files; the Numba/Triton kernel is not built yet."""
from __future__ import annotations

from pathlib import Path

from affrepro import hookimpl
from affrepro.components import Reproduction

SLUG = "affectnet-vad-2026"


@hookimpl
def register_reproductions(register):
    register(Reproduction(slug=SLUG, card_path=Path(__file__).with_name("paper.toml")))
