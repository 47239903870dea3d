"""affwild-2021: Affect Analysis in-the-wild: Valence-Arousal, Expressions, Action Units and a Unified Framework.

No number of the paper has been retrieved, so the card has no claims. ``reproduce`` describes
the user's verified Aff-Wild2 annotations (ABAW layout): videos and frames per task and
partition, recorded, not judged. ``affrepro evaluate affwild-2021 --predictions DIR`` scores
predictions with the challenge's rules. The dataset ``aff-wild2`` is registered by
``affrepro.plugins.evaluate``."""
from __future__ import annotations

from pathlib import Path

from affrepro import hookimpl
from affrepro.components import Reproduction
from affrepro.lazy import lazy

SLUG = "affwild-2021"


@hookimpl
def register_reproductions(register):
    register(Reproduction(slug=SLUG, card_path=Path(__file__).with_name("paper.toml"),
                          protocol=lazy("affrepro.reproductions.affwild_2021.protocol:run"),
                          datasets=("aff-wild2",), run_without_claims=True))
