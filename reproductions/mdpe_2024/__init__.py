"""mdpe-2024: MDPE: A Multimodal Deception Dataset with Personality and Emotional Characteristics.

Card only for now: no number has been retrieved."""
from __future__ import annotations

from pathlib import Path

from affrepro import hookimpl
from affrepro.components import Reproduction

SLUG = "mdpe-2024"


@hookimpl
def register_reproductions(register):
    register(Reproduction(slug=SLUG, card_path=Path(__file__).with_name("paper.toml")))
