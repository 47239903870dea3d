"""hef-2024: Enhancing Empathetic Response Generation by Augmenting LLMs with Small-scale Empathetic Models.

Card only for now: it needs an LLM backend and no number has been retrieved."""
from __future__ import annotations

from pathlib import Path

from affrepro import hookimpl
from affrepro.components import Reproduction

SLUG = "hef-2024"


@hookimpl
def register_reproductions(register):
    register(Reproduction(slug=SLUG, card_path=Path(__file__).with_name("paper.toml")))
