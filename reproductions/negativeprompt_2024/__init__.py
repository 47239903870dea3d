"""negativeprompt-2024: NegativePrompt: Leveraging Psychology for Large Language Models Enhancement via Negative Emotional Stimuli.

Card only for now: running a model needs a model backend; the data, prompts and scorers are in affrepro.plugins.prompt_benchmarks."""
from __future__ import annotations

from pathlib import Path

from affrepro import hookimpl
from affrepro.components import Reproduction

SLUG = "negativeprompt-2024"


@hookimpl
def register_reproductions(register):
    register(Reproduction(slug=SLUG, card_path=Path(__file__).with_name("paper.toml")))
