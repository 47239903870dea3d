"""araus-2022: ARAUS: A Large-Scale Dataset and Baseline Models of Affective Responses to Augmented Urban Soundscapes.

Card only for now: the ARAUS loaders, ISO projection and baselines are issue 7."""
from __future__ import annotations

from pathlib import Path

from affrepro import hookimpl
from affrepro.components import Reproduction

SLUG = "araus-2022"


@hookimpl
def register_reproductions(register):
    register(Reproduction(slug=SLUG, card_path=Path(__file__).with_name("paper.toml")))
