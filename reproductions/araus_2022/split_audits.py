"""The ARAUS response folds for the split audit (affrepro.splits): ``fold_r`` of
responses.csv (folds 1-5 for cross-validation, 0 the test set, -1 the attention checks).
Units: the participant, the soundscape and the masker; the item is the stimulus
(soundscape, masker, SMR) a response rates; the label is the ``pleasant`` rating 1-5.
The stimulus is compared by name (the same file in two folds); the audio itself is not
decoded here."""
from __future__ import annotations

from pathlib import Path

from affrepro.splits import Partition


def araus(folder: Path) -> list[Partition]:
    from affrepro.reproductions.araus_2022.loaders import read

    r = read(Path(folder), "responses")
    rows = [{"fold_r": str(int(f)), "participant": p, "soundscape": s, "masker": m, "item": f"{s} | {m} | {int(smr):+d} dB",
             "label": int(y)}
            for f, p, s, m, smr, y in zip(r["fold_r"], r["participant"], r["soundscape"], r["masker"], r["smr"],
                                          r["pleasant"])]
    return [Partition("response folds fold_r (1-5 cross-validation, 0 test, -1 attention checks); "
                      "item: stimulus; label: pleasant rating", "fold_r", rows,
                      units=("participant", "soundscape", "masker"), audio=True, items="stimuli",
                      note="Stimuli are compared by file names and SMR, not by decoded audio.")]
