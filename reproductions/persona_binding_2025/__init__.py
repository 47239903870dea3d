"""persona-binding-2025: Higher-Order Binding of Language Model Virtual Personas: a Study on Approximating Political Partisan Misperceptions.

Card only for now: its claim needs an LLM backend and the survey data; the statistics are in affrepro.plugins.stats."""
from __future__ import annotations

from pathlib import Path

from affrepro import hookimpl
from affrepro.components import Reproduction

SLUG = "persona-binding-2025"


@hookimpl
def register_reproductions(register):
    register(Reproduction(slug=SLUG, card_path=Path(__file__).with_name("paper.toml")))
