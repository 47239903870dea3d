"""cage-2024: CAGE: Circumplex Affect Guided Expression Inference.

Card only for now: AffectNet is licensed and the CAGE model is not implemented yet."""
from __future__ import annotations

from pathlib import Path

from affrepro import hookimpl
from affrepro.components import Reproduction

SLUG = "cage-2024"


@hookimpl
def register_reproductions(register):
    register(Reproduction(slug=SLUG, card_path=Path(__file__).with_name("paper.toml")))
