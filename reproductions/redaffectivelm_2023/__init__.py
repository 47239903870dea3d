"""redaffectivelm-2023: REDAffectiveLM: Leveraging Affect Enriched Embedding and Transformer-based Neural Language Model for Readers' Emotion Detection.

Card only for now: its result tables have not been retrieved."""
from __future__ import annotations

from pathlib import Path

from affrepro import hookimpl
from affrepro.components import Reproduction

SLUG = "redaffectivelm-2023"


@hookimpl
def register_reproductions(register):
    register(Reproduction(slug=SLUG, card_path=Path(__file__).with_name("paper.toml")))
