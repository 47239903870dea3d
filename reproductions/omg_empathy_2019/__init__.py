"""omg-empathy-2019: The OMG-Empathy Dataset: Evaluating the Impact of Affective Behavior in Storytelling.

Card only for now: the OMG-Empathy loader and CCC protocol are issue 4."""
from __future__ import annotations

from pathlib import Path

from affrepro import hookimpl
from affrepro.components import Reproduction

SLUG = "omg-empathy-2019"


@hookimpl
def register_reproductions(register):
    register(Reproduction(slug=SLUG, card_path=Path(__file__).with_name("paper.toml")))
