"""peld-2021: Automatically Select Emotion for Response via Personality-affected Emotion Transition.

Card only for now: the paper's result table has not been retrieved."""
from __future__ import annotations

from pathlib import Path

from affrepro import hookimpl
from affrepro.components import Reproduction

SLUG = "peld-2021"


@hookimpl
def register_reproductions(register):
    register(Reproduction(slug=SLUG, card_path=Path(__file__).with_name("paper.toml")))
