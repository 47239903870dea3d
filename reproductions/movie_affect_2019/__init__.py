"""movie-affect-2019: Multimodal Deep Models for Predicting Affective Responses Evoked by Movies.

Card only for now: no published number has been retrieved."""
from __future__ import annotations

from pathlib import Path

from affrepro import hookimpl
from affrepro.components import Reproduction

SLUG = "movie-affect-2019"


@hookimpl
def register_reproductions(register):
    register(Reproduction(slug=SLUG, card_path=Path(__file__).with_name("paper.toml")))
