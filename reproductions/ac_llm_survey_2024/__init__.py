"""ac-llm-survey-2024: Affective Computing in the Era of Large Language Models: A Survey from the NLP Perspective.

Card only for now: a survey has no computational claims."""
from __future__ import annotations

from pathlib import Path

from affrepro import hookimpl
from affrepro.components import Reproduction

SLUG = "ac-llm-survey-2024"


@hookimpl
def register_reproductions(register):
    register(Reproduction(slug=SLUG, card_path=Path(__file__).with_name("paper.toml")))
