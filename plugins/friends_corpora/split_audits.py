"""MELD's train/dev/test partition for the split audit (affrepro.splits).

The unit is the speaker (a character name as written in the CSV). Dialogue_ID is
numbered within each split, so they are not compared across splits."""
from __future__ import annotations

from pathlib import Path

from affrepro.plugins.friends_corpora.datasets import SPLITS
from affrepro.plugins.friends_corpora.loaders import read_meld
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

