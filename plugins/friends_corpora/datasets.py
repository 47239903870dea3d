"""MELD, EmoryNLP and PELD: files, origins and sha256 (all served from the ``peld`` mirror
folder, laid out as in github preke/PELD ``data/``)."""
from __future__ import annotations

from pathlib import Path

from affrepro.audit import DatasetAudit
from affrepro.components import DataFile, Dataset

PELD_COMMIT = "a467d1925d97f26dc33657285a66fc9b948a224b"
_PELD_RAW = f"https://raw.githubusercontent.com/preke/PELD/{PELD_COMMIT}/data/"
PERSONALITY_COMMIT = "3ec08a58dc7c708c5dfc314b3bff8f5808786928"
_PERSONALITY_URL = (f"https://raw.githubusercontent.com/emorynlp/personality-detection/"
                    f"{PERSONALITY_COMMIT}/CSV/friends-personality.csv")
_HERE = Path(__file__).resolve().parent
SPLITS = ("train", "dev", "test")


def _synthesize(writer: str):
    def synthesize(folder: Path, seed: int) -> None:
        from affrepro.plugins.friends_corpora import synthetic

        getattr(synthetic, writer)(folder, seed)
    return synthesize

MELD_FILES = (
    DataFile("source_data/MELD/train_sent_emo.csv", "d2fa2d6529cf03cac2989efec05c9b27d8fd2f4c8fc5974c7ae88aa537fa02db",
             _PELD_RAW + "source_data/MELD/train_sent_emo.csv"),
    DataFile("source_data/MELD/dev_sent_emo.csv", "2e89c6f8aa182d6f62f8c6331aece905ac7273ca4999660bfb5213e1d0370c1c",
             _PELD_RAW + "source_data/MELD/dev_sent_emo.csv"),
    DataFile("source_data/MELD/test_sent_emo.csv", "8d37103938f7067600839fe29d5a114a6cd1bcdafb75bec101e06464c5006888",
             _PELD_RAW + "source_data/MELD/test_sent_emo.csv"),
)
EMORYNLP_FILES = (
    DataFile("source_data/emorynlp/emorynlp_train_final.csv",
             "462c66c333783adb801836d12d1424f48489bef4fb8ddfec7fbb2f08ce8211d5",
             _PELD_RAW + "source_data/emorynlp/emorynlp_train_final.csv"),
    DataFile("source_data/emorynlp/emorynlp_dev_final.csv",
             "20edc9d5917fe705b17b849f7f288e495d4132a60353a6247c3800445bdf8734",
             _PELD_RAW + "source_data/emorynlp/emorynlp_dev_final.csv"),
    DataFile("source_data/emorynlp/emorynlp_test_final.csv",
             "dbc4b5638acd12c92a5f48def829e04f1c765cddffb4eedbe34216312e0d2d78",
             _PELD_RAW + "source_data/emorynlp/emorynlp_test_final.csv"),
)
PELD_FILES = (
    DataFile("Dyadic_PELD.tsv", "e7885800f3e2611108d06af33c1df7c9c8184a28d663df7deb5b559ba5ac8c1f",
             _PELD_RAW + "Dyadic_PELD.tsv"),
    DataFile("friends-personality.csv", "89c9d0785eb21570899f1d9202284aee48be1698ce89664f1283c73c4a6b7cd3",
             _PERSONALITY_URL),
) + MELD_FILES + EMORYNLP_FILES

MELD = Dataset(
    name="meld",
    description="MELD (Multimodal EmotionLines Dataset) utterance CSVs train/dev/test, text and labels",
    access="public",
    licence="GPL-3.0",
    homepage="https://github.com/declare-lab/MELD",
    files=MELD_FILES,
    mirror_name="peld",
    synthesize=_synthesize("write_meld"),
    audit=DatasetAudit(_HERE / "meld_audit.toml", "affrepro.plugins.friends_corpora.audits:meld"),
    splits="affrepro.plugins.friends_corpora.split_audits:meld",
)

EMORYNLP = Dataset(
    name="emorynlp",
    description="EmoryNLP emotion detection (Friends scenes, 7 emotions) train/dev/test CSVs",
    access="public",
    licence="the EmoryNLP repository's terms (research use)",
    homepage="https://github.com/emorynlp/emotion-detection",
    files=EMORYNLP_FILES,
    mirror_name="peld",
    synthesize=_synthesize("write_emorynlp"),
    audit=DatasetAudit(_HERE / "emorynlp_audit.toml", "affrepro.plugins.friends_corpora.audits:emorynlp"),
    splits="affrepro.plugins.friends_corpora.split_audits:emorynlp",
)

PELD = Dataset(
    name="peld",
    description="Dyadic_PELD.tsv (6,510 personality-affected emotion-transition triples), its MELD and "
                "EmoryNLP sources, and the FriendsPersona annotations (friends-personality.csv)",
    access="public",
    licence="MELD is GPL-3.0; EmoryNLP and FriendsPersona under their repositories' terms",
    homepage="https://github.com/preke/PELD",
    files=PELD_FILES,
    synthesize=_synthesize("write_peld"),
)
