"""avamerg-2025: Towards Multimodal Empathetic Response Generation: A Rich Text-Speech-Vision Avatar-based Benchmark.

Card only for now: it needs a multimodal model backend and no number has been retrieved."""
from __future__ import annotations

from pathlib import Path

from affrepro import hookimpl
from affrepro.components import Reproduction

SLUG = "avamerg-2025"


@hookimpl
def register_reproductions(register):
    register(Reproduction(slug=SLUG, card_path=Path(__file__).with_name("paper.toml")))
