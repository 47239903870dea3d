"""videmo-2025: VidEmo: Affective-Tree Reasoning for Emotion-Centric Video Foundation Models.

Card only for now: it needs an MLLM backend and no number has been retrieved."""
from __future__ import annotations

from pathlib import Path

from affrepro import hookimpl
from affrepro.components import Reproduction

SLUG = "videmo-2025"


@hookimpl
def register_reproductions(register):
    register(Reproduction(slug=SLUG, card_path=Path(__file__).with_name("paper.toml")))
