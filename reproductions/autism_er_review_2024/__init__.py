"""autism-er-review-2024: Sensing technologies and machine learning methods for emotion recognition in autism: Systematic review.

Card only for now: a review has no computational claims."""
from __future__ import annotations

from pathlib import Path

from affrepro import hookimpl
from affrepro.components import Reproduction

SLUG = "autism-er-review-2024"


@hookimpl
def register_reproductions(register):
    register(Reproduction(slug=SLUG, card_path=Path(__file__).with_name("paper.toml")))
