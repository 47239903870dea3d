"""esconv-bias-2024: Can Large Language Models be Good Emotional Supporter? Mitigating Preference Bias on Emotional Support Conversation.

Card only for now: it needs an LLM backend and no number has been retrieved."""
from __future__ import annotations

from pathlib import Path

from affrepro import hookimpl
from affrepro.components import Reproduction

SLUG = "esconv-bias-2024"


@hookimpl
def register_reproductions(register):
    register(Reproduction(slug=SLUG, card_path=Path(__file__).with_name("paper.toml")))
