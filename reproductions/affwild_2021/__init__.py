"""affwild-2021: Affect Analysis in-the-wild: Valence-Arousal, Expressions, Action Units and a Unified Framework.

No number of the paper has been retrieved, so the card has no claims. ``reproduce`` describes
the user's verified Aff-Wild2 annotations (ABAW layout): videos and frames per task and
partition, recorded, not judged. ``affrepro evaluate affwild-2021 --predictions DIR`` scores
predictions with the challenge's rules (``evaluation.py``, named on the card). This package
registers the dataset ``aff-wild2``."""
from __future__ import annotations

from affrepro import hookimpl
from affrepro.components import Dataset

_EVALUATION = "affrepro.reproductions.affwild_2021.evaluation"

AFF_WILD2 = Dataset.licensed_in(
    _EVALUATION,
    name="aff-wild2",
    description="Aff-Wild2 frame-level annotations as released for the ABAW 2021 challenges: "
                "VA (valence,arousal; -5 = unannotated), EXPR (7 basic expressions; -1) and AU "
                "(12 action units; -1) text files, one per video",
    licence="Aff-Wild2 EULA (academic, on request)",
    homepage="https://ibug.doc.ic.ac.uk/resources/aff-wild2/",
    how_to_get="Sign the Aff-Wild2 EULA and request the ABAW annotations, then `affrepro data "
               "link aff-wild2 <folder holding the VA/EXPR/AU annotation sets>`.",
)


@hookimpl
def register_datasets(register):
    register(AFF_WILD2)
