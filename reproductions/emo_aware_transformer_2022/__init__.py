"""emo-aware-transformer-2022: Emotion-Aware Transformer Encoder for Empathetic Dialogue Generation.

Card only for now: its only number is unverified."""
from __future__ import annotations

from pathlib import Path

from affrepro import hookimpl
from affrepro.components import Reproduction

SLUG = "emo-aware-transformer-2022"


@hookimpl
def register_reproductions(register):
    register(Reproduction(slug=SLUG, card_path=Path(__file__).with_name("paper.toml")))
