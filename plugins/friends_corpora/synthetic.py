"""Small synthetic MELD, EmoryNLP and PELD folders in exactly the real formats (for tests and
``--dry-run``): the real loaders and the construction run on them unchanged."""
from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

from affrepro.fileio import atomic_write_text

MELD_EMOTIONS = ("anger", "disgust", "fear", "joy", "neutral", "sadness", "surprise")
SENTIMENT = {"anger": "negative", "disgust": "negative", "fear": "negative", "sadness": "negative",
             "joy": "positive", "surprise": "positive", "neutral": "neutral"}
EMORY_EMOTIONS = ("Joyful", "Mad", "Neutral", "Sad", "Scared", "Peaceful", "Powerful")
ROLES = ("Chandler", "Joey", "Monica", "Phoebe", "Rachel", "Ross")
SURNAMES = {"Chandler": "Bing", "Joey": "Tribbiani", "Monica": "Geller", "Phoebe": "Buffay",
            "Rachel": "Green", "Ross": "Geller"}
_WORDS = ("oh", "my", "god", "we", "were", "on", "a", "break", "how", "you", "doin", "pivot", "coffee")


def _csv(header: list[str], rows: list[list]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def _utterance(rng) -> str:
    return " ".join(rng.choice(_WORDS, size=int(rng.integers(1, 9)))).capitalize() + rng.choice([".", "!", "?"])


def _speakers(rng, n: int) -> list[str]:
    a, b = rng.choice(ROLES + ("The Interviewer",), size=2, replace=False)
    return [a if i % 2 == 0 else b for i in range(n)]


def write_meld(folder: Path, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    root = folder / "source_data" / "MELD"
    root.mkdir(parents=True, exist_ok=True)
    header = ["Sr No.", "Utterance", "Speaker", "Emotion", "Sentiment", "Dialogue_ID", "Utterance_ID",
              "Season", "Episode", "StartTime", "EndTime"]
    for split, n_dialogues in (("train", 12), ("dev", 4), ("test", 5)):
        rows, sr = [], 1
        for d in range(n_dialogues):
            n = int(rng.integers(3, 9))
            for u, spk in enumerate(_speakers(rng, n)):
                emo = str(rng.choice(MELD_EMOTIONS))
                rows.append([sr, _utterance(rng), spk, emo, SENTIMENT[emo], d, u, 3, 7,
                             "00:00:01,000", "00:00:02,000"])
                sr += 1
        atomic_write_text(root / f"{split}_sent_emo.csv", _csv(header, rows))


def write_emorynlp(folder: Path, seed: int = 0) -> None:
    rng = np.random.default_rng(seed + 1)
    root = folder / "source_data" / "emorynlp"
    root.mkdir(parents=True, exist_ok=True)
    header = ["Utterance", "Speaker", "Emotion", "Scene_ID", "Utterance_ID", "Season", "Episode",
              "Start_Time", "End_Time"]
    for split, n_scenes in (("train", 10), ("dev", 3), ("test", 3)):
        rows = []
        for scene in range(1, n_scenes + 1):
            n = int(rng.integers(3, 9))
            for u, spk in enumerate(_speakers(rng, n), start=1):
                name = f"{spk} {SURNAMES.get(spk, 'Smith')}"
                rows.append([_utterance(rng), repr([name]), str(rng.choice(EMORY_EMOTIONS)), scene, u, 1, 2,
                             "00:00:01.000", "00:00:02.000"])
        atomic_write_text(root / f"emorynlp_{split}_final.csv", _csv(header, rows))


def write_peld(folder: Path, seed: int = 0) -> None:
    """MELD and EmoryNLP sources, FriendsPersona-style annotations, and Dyadic_PELD.tsv built
    from those sources by the construction steps (so a dry run compares like with like)."""
    from affrepro.reproductions.peld_2021.construction import as_tsv_lines, rebuild

    rng = np.random.default_rng(seed + 2)
    write_meld(folder, seed)
    write_emorynlp(folder, seed)
    rows = []
    for i in range(60):
        role = str(rng.choice(ROLES))
        name = role if rng.random() < 0.5 else f"{role} {SURNAMES[role]}"
        traits = [int(x) for x in rng.integers(0, 2, size=5)]
        rows.append([i, f"01_e{i:02d}_c01", f"<b>{name}</b>: {_utterance(rng)}", name, *traits])
    atomic_write_text(folder / "friends-personality.csv",
                      _csv(["", "scene_id", "text", "character", "cAGR", "cCON", "cEXT", "cOPN", "cNEU"], rows))
    df, _ = rebuild(folder)
    atomic_write_text(folder / "Dyadic_PELD.tsv", "\n".join(as_tsv_lines(df)) + "\n")
