"""sewa-2019: SEWA DB: A Rich Database for Audio-Visual Emotion and Sentiment Research in the Wild.

No number of the paper has been retrieved, so the card has no claims. ``reproduce`` describes
the user's verified AVEC 2019 CES (SEWA) labels: recordings and frames per partition and
culture, recorded, not judged. ``affrepro evaluate sewa-2019 --predictions DIR`` scores
predictions with the challenge's rules (``evaluation.py``, named on the card). This package
registers the dataset ``sewa-avec2019``."""
from __future__ import annotations

from affrepro import hookimpl
from affrepro.components import Dataset

_EVALUATION = "affrepro.reproductions.sewa_2019.evaluation"

SEWA_AVEC2019 = Dataset.licensed_in(
    _EVALUATION,
    name="sewa-avec2019",
    description="SEWA DB continuous arousal/valence/liking gold standard at 10 Hz, as packaged "
                "for the AVEC 2019 Cross-cultural Emotion Sub-challenge (<Partition>_<DE|HU>_"
                "<NN>.csv, ';'-separated: name;timestamp;arousal;valence;liking)",
    licence="SEWA DB EULA (academic, on request)",
    homepage="https://db.sewaproject.eu/",
    how_to_get="Sign the SEWA DB / AVEC 2019 EULA, then `affrepro data link sewa-avec2019 "
               "<folder of Devel_DE_01.csv … label files>`.",
)


@hookimpl
def register_datasets(register):
    register(SEWA_AVEC2019)
