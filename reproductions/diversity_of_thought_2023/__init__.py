"""diversity-of-thought-2023: Diminished Diversity-of-Thought in a Standard Large Language Model.

Card only for now: its OSF responses are not supplied; the statistics are in affrepro.plugins.stats."""
from __future__ import annotations

from pathlib import Path

from affrepro import hookimpl
from affrepro.components import Reproduction

SLUG = "diversity-of-thought-2023"


@hookimpl
def register_reproductions(register):
    register(Reproduction(slug=SLUG, card_path=Path(__file__).with_name("paper.toml")))
