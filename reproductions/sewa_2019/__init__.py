"""sewa-2019: SEWA DB: A Rich Database for Audio-Visual Emotion and Sentiment Research in the Wild.

Card only for now: the SEWA protocol is issue 4 and no number has been retrieved."""
from __future__ import annotations

from pathlib import Path

from affrepro import hookimpl
from affrepro.components import Reproduction

SLUG = "sewa-2019"


@hookimpl
def register_reproductions(register):
    register(Reproduction(slug=SLUG, card_path=Path(__file__).with_name("paper.toml")))
