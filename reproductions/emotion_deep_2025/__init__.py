"""emotion-deep-2025: Decoding Emotion in the Deep: A Systematic Study of How LLMs Represent, Retain, and Express Emotion.

Card only for now: its findings are qualitative."""
from __future__ import annotations

from pathlib import Path

from affrepro import hookimpl
from affrepro.components import Reproduction

SLUG = "emotion-deep-2025"


@hookimpl
def register_reproductions(register):
    register(Reproduction(slug=SLUG, card_path=Path(__file__).with_name("paper.toml")))
