"""The AVEC 2016 train/dev participant lists (train_IDS.txt, dev_IDS.txt) for the split
audit (affrepro.splits): the unit is the participant (original_ID), the label PHQ-8
binary (1 = depressed). The test list is not part of the release, so not compared."""
from __future__ import annotations

from pathlib import Path

from affrepro.splits import Partition


def daic_woz(folder: Path) -> list[Partition]:
    from affrepro.reproductions.daic_woz_bias_2024.loaders import read_id_list

    rows = []
    for split in ("train", "dev"):
        rows += [{"split": split, "participant": str(i.participant), "item": str(i.participant),
                  "label": i.category} for i in read_id_list(Path(folder) / f"{split}_IDS.txt")]
    return [Partition("AVEC 2016 train/dev participant lists (label: PHQ-8 binary)", "split", rows,
                      units=("participant",), audio=True, items="interviews",
                      note="One item per interview; an interview is identified by its participant ID.")]
