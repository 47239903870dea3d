"""omg-empathy-2019: The OMG-Empathy Dataset: Evaluating the Impact of Affective Behavior in Storytelling.

The claims are the challenge baseline's validation CCCs; ``reproduce`` scores the user's
copy of the baseline's predictions (``omg-empathy-baseline-predictions``) against the
user's annotations (``omg-empathy``, registered by ``affrepro.plugins.evaluate``) with the
rules of the challenge's ``calculateCCC.py``; without either, every claim is skipped with
what to link. ``affrepro evaluate omg-empathy-2019`` scores any other predictions."""
from __future__ import annotations

from pathlib import Path

from affrepro import hookimpl
from affrepro.components import Dataset, Reproduction
from affrepro.lazy import lazy

SLUG = "omg-empathy-2019"
PREDICTIONS = "omg-empathy-baseline-predictions"
_HERE = "affrepro.reproductions.omg_empathy_2019"


def _how_to_get() -> str:
    # kept here (not imported from baseline_predictions) so loading plugins needs no NumPy
    return ("The baseline's predictions are not published: ask the OMG-Empathy organisers "
            "(University of Hamburg; see the challenge README) for the baseline's validation "
            "predictions, listener-only and actor-only, for each track, and lay them out as "
            "<folder>/{listener,actor}/{personalized,generalized}/Subject_<X>_Story_1.csv "
            "(header `valence`, one value per frame, as calculateCCC.py reads them).")


BASELINE_PREDICTIONS = Dataset(
    name=PREDICTIONS,
    description="The OMG-Empathy challenge baseline's validation predictions (listener-only and "
                "actor-only, personalized and generalized tracks), one folder per source and "
                "track in the layout calculateCCC.py reads: Subject_<X>_Story_1.csv, header "
                "`valence`, one value per frame",
    access="licensed", licence="CC BY-NC-SA 3.0 DE (derived from the corpus; on request)",
    homepage="https://github.com/knowledgetechnologyuhh/OMGEmpathyChallenge",
    how_to_get=_how_to_get(),
    verify=lazy(f"{_HERE}.baseline_predictions:verify"),
    synthesize=lazy(f"{_HERE}.baseline_predictions:synthesize"),
)


@hookimpl
def register_datasets(register):
    register(BASELINE_PREDICTIONS)


@hookimpl
def register_reproductions(register):
    register(Reproduction(slug=SLUG, card_path=Path(__file__).with_name("paper.toml"),
                          protocol=lazy(f"{_HERE}.protocol:run"),
                          datasets=("omg-empathy", PREDICTIONS)))
