"""``semeval2007``: the SemEval-2007 Affective Text headlines and normalised emotion labels as
released (NumPy arrays) in github anoopkdcs/REDAffectiveLM ``Dataset/inputs/``, and the NRC
Affect Intensity lexicon from ``Dataset/lexicon_coverage_finder/Lexicons/``."""
from __future__ import annotations

from affrepro.components import DataFile, Dataset
from affrepro.lazy import lazy

COMMIT = "066d83de9c4f2a999aeac7adaf3c9e27900f482e"
_RAW = f"https://raw.githubusercontent.com/anoopkdcs/REDAffectiveLM/{COMMIT}/Dataset/"
HEADLINES = "semEval2007_headlines.npy"
LABELS = "labels_normalized_semEval_anger_fear_joy_sad_surp.npy"
LEXICON = "NRC-AffectIntensity-Lexicon.txt"


SEMEVAL2007 = Dataset(
    name="semeval2007",
    description="SemEval-2007 Affective Text: 1,250 news headlines and normalised reader-emotion labels "
                "(anger, fear, joy, sadness, surprise) as NumPy arrays, and the NRC Affect Intensity lexicon",
    access="public",
    licence="MIT (REDAffectiveLM repository); the NRC lexicon under its own research terms",
    homepage="https://github.com/anoopkdcs/REDAffectiveLM",
    files=(
        DataFile(HEADLINES, "4f4c6940e6f2f5f7b5d1d2aa615b2361de65f2377e3bfbad251563c62afea91d",
                 _RAW + "inputs/" + HEADLINES),
        DataFile(LABELS, "f8f31760b9c2361248823d786ba84b63045054c29446bdb763a963087932e0e9",
                 _RAW + "inputs/" + LABELS),
        DataFile(LEXICON, "f12bc48bcd574028c329b3151528a506a8e3e964416a58c9c9a32588e287ecbc",
                 _RAW + "lexicon_coverage_finder/Lexicons/" + LEXICON),
    ),
    synthesize=lazy("affrepro.reproductions.redaffectivelm_2023.loaders:write_synthetic"),
)
