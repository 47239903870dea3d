"""fatima-2021: FAtiMA Toolkit -- Toward an effective and accessible tool for the development of intelligent virtual agents and social robots.

Card only for now: the paper publishes no numbers."""
from __future__ import annotations

from pathlib import Path

from affrepro import hookimpl
from affrepro.components import Reproduction

SLUG = "fatima-2021"


@hookimpl
def register_reproductions(register):
    register(Reproduction(slug=SLUG, card_path=Path(__file__).with_name("paper.toml")))
