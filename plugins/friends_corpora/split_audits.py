"""MELD's and EmoryNLP's train/dev/test partitions for the split audit (affrepro.splits).

The unit is the speaker (a character name as written in the CSV; an EmoryNLP utterance may
have several). MELD's Dialogue_ID and EmoryNLP's Scene_ID are numbered within each split
or episode, so they are not compared across splits."""
from __future__ import annotations

from pathlib import Path

from affrepro.plugins.friends_corpora.datasets import SPLITS
from affrepro.plugins.friends_corpora.loaders import read_emorynlp, read_meld
from affrepro.splits import Partition


def _rows(df, split: str) -> list[dict]:
    return [{"split": split, "speaker": sp, "item": u, "label": e}
            for sp, u, e in zip(df["Speaker"], df["Utterance"], df["Emotion"])]


def meld(folder: Path) -> list[Partition]:
    rows = []
    for split in SPLITS:
        rows += _rows(read_meld(Path(folder) / "source_data" / "MELD" / f"{split}_sent_emo.csv"), split)
    return [Partition("MELD train/dev/test (utterances; unit: speaker; label: emotion)", "split", rows,
                      units=("speaker",))]



def emorynlp(folder: Path) -> list[Partition]:
    rows = []
    for split in SPLITS:
        df = read_emorynlp(Path(folder) / "source_data" / "emorynlp" / f"emorynlp_{split}_final.csv")
        rows += [{"split": split, "speaker": list(sp), "item": u, "label": e}
                 for sp, u, e in zip(df["Speakers"], df["Utterance"], df["Emotion"])]
    return [Partition("EmoryNLP train/dev/test (utterances; unit: speaker, each of an utterance's speakers; "
                      "label: emotion)", "split", rows, units=("speaker",))]
