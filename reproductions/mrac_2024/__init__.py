"""mrac-2024: MRAC Track 1: 2nd Workshop on Multimodal, Generative and Responsible Affective Computing.

Card only for now: a workshop summary has no computational claims."""
from __future__ import annotations

from pathlib import Path

from affrepro import hookimpl
from affrepro.components import Reproduction

SLUG = "mrac-2024"


@hookimpl
def register_reproductions(register):
    register(Reproduction(slug=SLUG, card_path=Path(__file__).with_name("paper.toml")))
