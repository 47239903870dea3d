"""sewa-2019: SEWA DB: A Rich Database for Audio-Visual Emotion and Sentiment Research in the Wild.

No number of the paper has been retrieved, so the card has no claims. ``reproduce`` describes
the user's verified AVEC 2019 CES (SEWA) labels: recordings and frames per partition and
culture, recorded, not judged. ``affrepro evaluate sewa-2019 --predictions DIR`` scores
predictions with the challenge's rules. The dataset ``sewa-avec2019`` is registered by
``affrepro.plugins.evaluate``."""
from __future__ import annotations

from pathlib import Path

from affrepro import hookimpl
from affrepro.components import Reproduction
from affrepro.lazy import lazy

SLUG = "sewa-2019"


@hookimpl
def register_reproductions(register):
    register(Reproduction(slug=SLUG, card_path=Path(__file__).with_name("paper.toml"),
                          protocol=lazy("affrepro.reproductions.sewa_2019.protocol:run"),
                          datasets=("sewa-avec2019",), run_without_claims=True))
