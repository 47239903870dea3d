"""prc-emo-2025: Do LLMs Feel? Teaching Emotion Recognition with Prompts, Retrieval, and Curriculum Learning.

Card only for now: it needs an LLM backend and no number has been retrieved."""
from __future__ import annotations

from pathlib import Path

from affrepro import hookimpl
from affrepro.components import Reproduction

SLUG = "prc-emo-2025"


@hookimpl
def register_reproductions(register):
    register(Reproduction(slug=SLUG, card_path=Path(__file__).with_name("paper.toml")))
