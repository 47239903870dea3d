"""omg-empathy-2019: The OMG-Empathy Dataset: Evaluating the Impact of Affective Behavior in Storytelling.

The claims are the challenge baseline's validation CCCs; ``reproduce`` scores the user's
copy of the baseline's predictions (``omg-empathy-baseline-predictions``) against the
user's annotations (``omg-empathy``) with the rules of the challenge's ``calculateCCC.py``;
without either, every claim is skipped with what to link. ``affrepro evaluate
omg-empathy-2019`` scores any other predictions (``evaluation.py``, named on the card). This
package registers both datasets."""
from __future__ import annotations

from affrepro import hookimpl
from affrepro.components import Dataset

PREDICTIONS = "omg-empathy-baseline-predictions"
_HERE = "affrepro.reproductions.omg_empathy_2019"


def _how_to_get() -> str:
    # kept here (not imported from baseline_predictions) so loading plugins needs no NumPy
    return ("The baseline's predictions are not published: ask the OMG-Empathy organisers "
            "(University of Hamburg; see the challenge README) for the baseline's validation "
            "predictions, listener-only and actor-only, for each track, and lay them out as "
            "<folder>/{listener,actor}/{personalized,generalized}/Subject_<X>_Story_1.csv "
            "(header `valence`, one value per frame, as calculateCCC.py reads them).")


BASELINE_PREDICTIONS = Dataset.licensed_in(
    f"{_HERE}.baseline_predictions",
    name=PREDICTIONS,
    description="The OMG-Empathy challenge baseline's validation predictions (listener-only and "
                "actor-only, personalized and generalized tracks), one folder per source and "
                "track in the layout calculateCCC.py reads: Subject_<X>_Story_1.csv, header "
                "`valence`, one value per frame",
    licence="CC BY-NC-SA 3.0 DE (derived from the corpus; on request)",
    homepage="https://github.com/knowledgetechnologyuhh/OMGEmpathyChallenge",
    how_to_get=_how_to_get(),
)

OMG_EMPATHY = Dataset.licensed_in(
    f"{_HERE}.evaluation",
    name="omg-empathy",
    description="OMG-Empathy per-frame valence annotations, one Subject_<X>_Story_<Y>.csv per "
                "listener and story (the folder the challenge's calculateCCC.py reads)",
    licence="CC BY-NC-SA 3.0 DE (on request from the authors)",
    homepage="https://github.com/knowledgetechnologyuhh/OMGEmpathyChallenge",
    how_to_get="Request the corpus from the OMG-Empathy organisers (University of Hamburg), then "
               "`affrepro data link omg-empathy <folder of Subject_X_Story_Y.csv annotations>`.",
)


@hookimpl
def register_datasets(register):
    register(OMG_EMPATHY)
    register(BASELINE_PREDICTIONS)
