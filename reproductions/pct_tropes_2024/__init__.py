"""pct-tropes-2024: Revealing Fine-Grained Values and Opinions in Large Language Models.

Card only for now: its responses dataset has not been located."""
from __future__ import annotations

from pathlib import Path

from affrepro import hookimpl
from affrepro.components import Reproduction

SLUG = "pct-tropes-2024"


@hookimpl
def register_reproductions(register):
    register(Reproduction(slug=SLUG, card_path=Path(__file__).with_name("paper.toml")))
