"""ugotme-2024: UGotMe: An Embodied System for Affective Human-Robot Interaction.

Card only for now: its model needs a GPU and weights affrepro does not have."""
from __future__ import annotations

from pathlib import Path

from affrepro import hookimpl
from affrepro.components import Reproduction

SLUG = "ugotme-2024"


@hookimpl
def register_reproductions(register):
    register(Reproduction(slug=SLUG, card_path=Path(__file__).with_name("paper.toml")))
