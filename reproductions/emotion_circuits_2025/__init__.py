"""emotion-circuits-2025: Do LLMs "Feel"? Emotion Circuits Discovery and Control.

Card only for now: its claim needs an open LLM on a GPU and the SEV dataset."""
from __future__ import annotations

from pathlib import Path

from affrepro import hookimpl
from affrepro.components import Reproduction

SLUG = "emotion-circuits-2025"


@hookimpl
def register_reproductions(register):
    register(Reproduction(slug=SLUG, card_path=Path(__file__).with_name("paper.toml")))
