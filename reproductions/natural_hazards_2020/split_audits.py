"""The natural-hazards partitions for the split audit (affrepro.splits): the nine events
(the leave-one-event-out test sets), the pooled 5-fold CV folds as the protocol draws them
(StratifiedGroupKFold, texts equal up to case/NFKC/white space kept in one fold), and the
same folds drawn without grouping (StratifiedKFold) — the repeated texts the grouping
keeps out of the test folds. Folds are drawn with seed 0; tweets carry no user id, so
there is no identity unit."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from affrepro.splits import Partition

FOLD_SEED = 0


def natural_hazards(folder: Path) -> list[Partition]:
    from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

    from affrepro.reproductions.natural_hazards_2020.loaders import load_corpus

    t = load_corpus(Path(folder)).table
    events, labels, texts = t["event"].to_numpy(), t["label"].to_numpy(), t["text"].tolist()
    strat = np.char.add(events.astype(str), labels.astype(str))

    def fold_of(splitter, *groups) -> np.ndarray:
        fold = np.empty(len(t), dtype=int)
        for k, (_, te) in enumerate(splitter.split(np.arange(len(t)), strat, *groups)):
            fold[te] = k
        return fold

    grouped = fold_of(StratifiedGroupKFold(n_splits=5, shuffle=True, random_state=FOLD_SEED), t["group"].to_numpy())
    plain = fold_of(StratifiedKFold(n_splits=5, shuffle=True, random_state=FOLD_SEED))

    def rows(split, column: str) -> list[dict]:
        return [{column: str(s), "item": x, "label": int(y)} for s, x, y in zip(split, texts, labels)]

    return [
        Partition("events (the leave-one-event-out test sets)", "event", rows(events, "event")),
        Partition("pooled 5-fold CV as the protocol draws it (grouped by text, seed 0)", "fold", rows(grouped, "fold"),
                  note="Texts equal up to case, NFKC and white space share a group and a fold; exact "
                       "duplicates across folds should be 0 here, near duplicates (URLs, mentions, "
                       "punctuation) may remain."),
        Partition("pooled 5-fold CV without grouping (StratifiedKFold, seed 0): what grouping prevents", "fold",
                  rows(plain, "fold")),
    ]
