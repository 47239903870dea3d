"""Column names, fold codes and release counts of the ARAUS tables.

Everything here is a fact read from github ntudsp/araus-dataset-baseline-models (README
"Data files", ``code/replication_code.ipynb``); nothing is guessed.
"""
from __future__ import annotations

PERCENTILES = ("05", "10", "20", "30", "40", "50", "60", "70", "80", "90", "95")
THIRD_OCTAVE_BANDS = (
    "00005_0", "00006_3", "00008_0", "00010_0", "00012_5", "00016_0", "00020_0", "00025_0",
    "00031_5", "00040_0", "00050_0", "00063_0", "00080_0", "00100_0", "00125_0", "00160_0",
    "00200_0", "00250_0", "00315_0", "00400_0", "00500_0", "00630_0", "00800_0", "01000_0",
    "01250_0", "01600_0", "02000_0", "02500_0", "03150_0", "04000_0", "05000_0", "06300_0",
    "08000_0", "10000_0", "12500_0", "16000_0", "20000_0",
)


def _pct(prefix: str) -> list[str]:
    return [f"{prefix}{p}" for p in PERCENTILES]


# The acoustic indicators of one signal, in the order of the released CSVs (without the
# _s/_m/_r suffix): sharpness, loudness, fluctuation strength, A- and C-weighted Fast
# levels, roughness, tonality, one-third-octave band levels.
INDICATORS: tuple[str, ...] = tuple(
    ["Savg", "Smax", "Sargmax"] + _pct("S")
    + ["Navg", "Nrmc", "Nmax", "Nargmax"] + _pct("N")
    + ["Favg", "Fmax", "Fargmax"] + _pct("F")
    + ["LAavg", "LAmin", "LAargmin", "LAmax", "LAargmax"] + _pct("LA")
    + ["LCavg", "LCmin", "LCargmin", "LCmax", "LCargmax"] + _pct("LC")
    + ["Ravg", "Rmax", "Rargmax"] + _pct("R")
    + ["Tgavg", "Tavg", "Tmax", "Targmax"] + _pct("T")
    + [f"M{b}" for b in THIRD_OCTAVE_BANDS]
)
assert len(INDICATORS) == 141

# The 132 predictors of the paper's ElasticNet: every `_r` indicator except the times of
# extrema (`*argmax`, `*argmin`), in the authors' order (``relevant_columns_enet`` in
# code/replication_code.ipynb, cell "We first define the predictor variables").
ELASTICNET_FEATURES: tuple[str, ...] = tuple(
    f"{name}_r" for name in INDICATORS if "argm" not in name
)
assert len(ELASTICNET_FEATURES) == 132

RATINGS: tuple[str, ...] = ("pleasant", "eventful", "chaotic", "vibrant", "uneventful", "calm",
                            "annoying", "monotonous", "appropriate")
PAQS: tuple[str, ...] = RATINGS[:8]  # the eight ISO 12913-2 perceived affective qualities

RESPONSE_ID_COLUMNS = ("participant", "fold_r", "soundscape", "masker", "smr", "stimulus_index",
                       "time_taken", "is_attention")
RESPONSE_COLUMNS: tuple[str, ...] = (RESPONSE_ID_COLUMNS + RATINGS
                                     + tuple(f"{n}_r" for n in INDICATORS) + ("Leq_L_r", "Leq_R_r"))
SOUNDSCAPE_COLUMNS: tuple[str, ...] = (("soundscape", "fold_s", "insitu_leq", "gain_s")
                                       + tuple(f"{n}_s" for n in INDICATORS))
MASKER_GAIN_LEVELS = tuple(range(46, 84))
MASKER_COLUMNS: tuple[str, ...] = (
    ("masker", "fold_m", "class", "site", "site_index", "citation", "license", "comments")
    + tuple(f"gain_{db}dB" for db in MASKER_GAIN_LEVELS)
    + tuple(f"leq_at_gain_{db}dB" for db in MASKER_GAIN_LEVELS)
    + tuple(f"{n}_m" for n in INDICATORS)
)
PARTICIPANT_COLUMNS: tuple[str, ...] = (
    "participant", "fold_p", "language_a", "language_b", "language_c", "age", "gender", "ethnic",
    "occupation", "education_a", "education_b", "dwelling", "citizen", "residence_length",
    "annoyance_freq", "quality", "wnss", "pss", "who", "panas_pos", "panas_neg",
)
MASKER_CLASSES = ("bird", "construction", "silence", "traffic", "water", "wind")

# Fold codes (README "fold_r"): -1 common practice/attention/consistency stimulus, 0 the
# ARAUSv1 test set, 1-5 the five cross-validation folds, 6-7 the ARAUSv2 test set.
FOLD_COMMON = -1
FOLD_TEST = 0
CV_FOLDS = (1, 2, 3, 4, 5)
VALID_FOLDS = tuple(range(-1, 8))
SMRS = (-6, -3, 0, 3, 6)

# Per participant (README "stimulus_index"): 45 stimuli in the cross-validation set, 51 in
# the test set; three of them (first, attention, last) are the common fold -1 stimulus.
STIMULI_PER_CV_PARTICIPANT = 45
STIMULI_PER_TEST_PARTICIPANT = 51
COMMON_STIMULI_PER_PARTICIPANT = 3
TEST_STIMULI = 48  # 6 soundscapes x 8 masker/SMR conditions, rated by every test participant

# ARAUSv1 release (DR-NTU doi:10.21979/N9/9OTEVX, `data/`), README "Data files".
RELEASE_COUNTS = {
    "responses.csv": 27_255,     # 25,200 cross-validation + 240 test + 1,815 auxiliary
    "participants.csv": 605,     # 600 cross-validation + 5 test
    "soundscapes.csv": 247,      # 234 cross-validation + 6 test + 7 in no fold
    "maskers.csv": 293,          # 280 cross-validation + 7 test + 6 silent
}
RESPONSES_PER_CV_FOLD = 5_040   # replication_code.ipynb: 20160 train / 5040 val per fold
TEST_RESPONSES = 240

SAMPLE_RATE = 44_100
SOUNDSCAPE_CHANNELS = 2   # binaural
MASKER_CHANNELS = 1       # mono
STIMULUS_SECONDS = 30
