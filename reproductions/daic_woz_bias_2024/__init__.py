"""daic-woz-bias-2024: Burdisso et al., "DAIC-WOZ: On the Validity of Using the Therapist's
prompts in Automatic Depression Detection from Clinical Interviews" (ClinicalNLP 2024)."""
from __future__ import annotations

from affrepro import hookimpl


@hookimpl
def register_datasets(register):
    from affrepro.reproductions.daic_woz_bias_2024.datasets import PUBLIC, TRANSCRIPTS

    register(PUBLIC)
    register(TRANSCRIPTS)
