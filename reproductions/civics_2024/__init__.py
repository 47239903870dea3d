"""civics-2024: CIVICS: Building a Dataset for Examining Culturally-Informed Values in Large Language Models.

Card only for now: its findings are qualitative."""
from __future__ import annotations

from pathlib import Path

from affrepro import hookimpl
from affrepro.components import Reproduction

SLUG = "civics-2024"


@hookimpl
def register_reproductions(register):
    register(Reproduction(slug=SLUG, card_path=Path(__file__).with_name("paper.toml")))
