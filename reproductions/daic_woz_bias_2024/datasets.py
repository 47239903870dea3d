"""The two datasets of daic-woz-bias-2024.

``daic-woz-bias`` (public, Apache-2.0): the authors' released development-set predictions
and classification reports of the best Ellie-only and Participant-only InducT-GCN models,
their learned word weights, and the AVEC 2016 train/dev ID lists, pinned to a commit of
github idiap/bias_in_daic-woz.

``daic-woz`` (licensed, EULA): the transcripts in the split format the authors' code reads
(``data/README.md`` there): ``{train,dev}_{Ellie,Participant}.txt``, one interview per
line, ``label<TAB>utterances`` with label ``negative`` or ``positive`` (depressed), lines in
the order of the ID lists.
"""
from __future__ import annotations

from affrepro.components import DataFile, Dataset
from affrepro.lazy import lazy

COMMIT = "de8f477619ce61a2a65640a0735aa8dfe659ac59"
_RAW = f"https://raw.githubusercontent.com/idiap/bias_in_daic-woz/{COMMIT}/"
_ELLIE = "output/Ellie/13_induct-gcn%5Boriginal-features-1%5D/"
_PART = "output/Participant/21_induct-gcn%5Boriginal-features250%5D/"

PUBLIC_FILES = (
    DataFile("dev_IDS.txt", "0a5666eeb2f4926039c53cc02f4a939120758df10b5571a0159a4b4571bb6349",
             _RAW + "data/AVEC_16_data/dev_IDS.txt"),
    DataFile("train_IDS.txt", "a37fc9ae4722268f35b230e1da6048b7fe7cd412b559b491268aae4c1c36d378",
             _RAW + "data/AVEC_16_data/train_IDS.txt"),
    DataFile("Ellie_E-GCN_results.json", "c929e1bb433924f39402e3412c6dd98ef167fe4163a12e9c8c2588c040085d81",
             _RAW + _ELLIE + "results.json"),
    DataFile("Ellie_E-GCN_results_predictions.json",
             "48e18c0418f439b3e3c58eb466df9999515023100f90b9aae50f89bff7ef6146",
             _RAW + _ELLIE + "results_predictions.json"),
    DataFile("Ellie_E-GCN_words.csv", "63268707c812ad6bd9df70f446aea40b3c9e5079e74d760d258ac8867bbe6666",
             _RAW + _ELLIE + "words.csv"),
    DataFile("Participant_P-GCN_results.json",
             "f9a5df348a0426e909bd3644e9d4abf7d71e5a6237d82f58f3409c74054364e7",
             _RAW + _PART + "results.json"),
    DataFile("Participant_P-GCN_results_predictions.json",
             "add77d661be38ecbda314e292cb76f6bc3c0d0d46195b020a058530c87078f78",
             _RAW + _PART + "results_predictions.json"),
    DataFile("Participant_P-GCN_words.csv", "dee275eb600ad163506a251e32cb523b6b9054b76968210c2c2a77de11026dd7",
             _RAW + _PART + "words.csv"),
    DataFile("Ellie_E-GCN_db.sqlite3", "816af24449313e19247496f4dd2c3f9891475121ded23495e713ef262d4c5e2d",
             _RAW + _ELLIE + "db.sqlite3"),
    DataFile("Participant_P-GCN_db.sqlite3", "e12f321b5355ebcb0b1917cc6f8649e6ea832db0d962134dbe526729d8cd088d",
             _RAW + _PART + "db.sqlite3"),
)

SPLIT_SIZES = {"train": 107, "dev": 35}
SPEAKERS = ("Ellie", "Participant")
TRANSCRIPT_FILES = tuple(f"{split}_{spk}.txt" for split in SPLIT_SIZES for spk in SPEAKERS)


# the generators and the verifier import this module's constants: named here, imported on use
_HERE = "affrepro.reproductions.daic_woz_bias_2024"


PUBLIC = Dataset(
    name="daic-woz-bias",
    description="Released dev predictions, classification reports, word weights and AVEC 2016 "
                "ID lists of Burdisso et al. (2024)",
    access="public",
    licence="Apache-2.0",
    homepage="https://github.com/idiap/bias_in_daic-woz",
    files=PUBLIC_FILES,
    synthesize=lazy(f"{_HERE}.synthetic:write_public"),
    splits="affrepro.reproductions.daic_woz_bias_2024.split_audits:daic_woz",
)

TRANSCRIPTS = Dataset(
    name="daic-woz",
    description="DAIC-WOZ interview transcripts as the four split files "
                "{train,dev}_{Ellie,Participant}.txt (label<TAB>utterances)",
    access="licensed",
    licence="DAIC-WOZ End User License Agreement (USC Institute for Creative Technologies)",
    homepage="https://dcapswoz.ict.usc.edu/",
    how_to_get=("Request DAIC-WOZ under its EULA at https://dcapswoz.ict.usc.edu/, then write the "
                "four files train_Ellie.txt, dev_Ellie.txt, train_Participant.txt and "
                "dev_Participant.txt: one interview per line in the order of train_IDS.txt / "
                "dev_IDS.txt, 'negative' or 'positive' (PHQ8_Binary), a TAB, then that speaker's "
                "utterances joined by spaces (github idiap/bias_in_daic-woz data/README.md)."),
    verify=lazy(f"{_HERE}.loaders:verify_transcripts"),
    synthesize=lazy(f"{_HERE}.synthetic:write_transcripts"),
)
