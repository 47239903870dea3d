"""daic-woz-bias-2024: Burdisso et al., "DAIC-WOZ: On the Validity of Using the Therapist's
prompts in Automatic Depression Detection from Clinical Interviews" (ClinicalNLP 2024)."""
from __future__ import annotations

from pathlib import Path

from affrepro import hookimpl
from affrepro.components import Reproduction
from affrepro.lazy import lazy

SLUG = "daic-woz-bias-2024"


@hookimpl
def register_datasets(register):
    from affrepro.reproductions.daic_woz_bias_2024.datasets import PUBLIC, TRANSCRIPTS

    register(PUBLIC)
    register(TRANSCRIPTS)


@hookimpl
def register_reproductions(register):
    register(Reproduction(slug=SLUG, card_path=Path(__file__).with_name("paper.toml"),
                          protocol=lazy("affrepro.reproductions.daic_woz_bias_2024.protocol:run"),
                          datasets=("daic-woz-bias",)))
