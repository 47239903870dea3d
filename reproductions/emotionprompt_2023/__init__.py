"""emotionprompt-2023: Large Language Models Understand and Can be Enhanced by Emotional Stimuli.

Card only for now: running a model needs a model backend; the data, prompts and scorers are in affrepro.plugins.prompt_benchmarks."""
from __future__ import annotations

from pathlib import Path

from affrepro import hookimpl
from affrepro.components import Reproduction

SLUG = "emotionprompt-2023"


@hookimpl
def register_reproductions(register):
    register(Reproduction(slug=SLUG, card_path=Path(__file__).with_name("paper.toml")))
