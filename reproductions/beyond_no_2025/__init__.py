"""beyond-no-2025: Beyond No: Quantifying AI Over-Refusal and Emotional Attachment Boundaries.

Card only for now: its claims need an LLM backend and the prompt set."""
from __future__ import annotations

from pathlib import Path

from affrepro import hookimpl
from affrepro.components import Reproduction

SLUG = "beyond-no-2025"


@hookimpl
def register_reproductions(register):
    register(Reproduction(slug=SLUG, card_path=Path(__file__).with_name("paper.toml")))
