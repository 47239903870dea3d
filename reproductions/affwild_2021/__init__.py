"""affwild-2021: Affect Analysis in-the-wild: Valence-Arousal, Expressions, Action Units and a Unified Framework.

Card only for now: the Aff-Wild2 protocol is issue 4 and no number has been retrieved."""
from __future__ import annotations

from pathlib import Path

from affrepro import hookimpl
from affrepro.components import Reproduction

SLUG = "affwild-2021"


@hookimpl
def register_reproductions(register):
    register(Reproduction(slug=SLUG, card_path=Path(__file__).with_name("paper.toml")))
