"""Dyadic_PELD.tsv rebuilt from its sources with the steps of the authors'
``data/Dataset_Construction.py`` (github preke/PELD), written here from its description:

1. MELD (train, dev, test in that order), each dialogue (grouped by ``Dialogue_ID``, rows in
   file order): every window of three consecutive utterances i, i+1, i+2 where utterance i
   and i+2 have the same speaker, that speaker is one of the six main roles (the
   personality table), and speaker i+1 differs from speaker i ("keep_same_speaker=False");
   utterances are stripped and every non-ASCII character becomes a space; sentiments come
   from the emotion (anger, sadness, fear, disgust negative; joy, surprise positive;
   neutral neutral).
2. EmoryNLP (train, dev, test), each scene (grouped by Season, Episode, Scene_ID): the
   same windows, the speaker being the first word of the first listed name; emotions
   renamed (Joyful joy, Mad anger, Neutral neutral, Sad sadness, Scared fear) and windows
   with Peaceful or Powerful skipped.
3. All six tables concatenated, exact duplicate rows dropped (first kept), written as a
   TAB-separated file without index.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

COLUMNS = ["Speaker_1", "Speaker_2", "Personality", "Utterance_1", "Utterance_2", "Utterance_3",
           "Emotion_1", "Emotion_2", "Emotion_3", "Sentiment_1", "Sentiment_2", "Sentiment_3"]
# the published personality strings, as they appear in the file (str of each role's vector)
PERSONALITY = {
    "Chandler": "[0.648, 0.375, 0.386, 0.58, 0.477]",
    "Joey": "[0.574, 0.614, 0.297, 0.545, 0.455]",
    "Ross": "[0.722, 0.489, 0.6, 0.533, 0.356]",
    "Monica": "[0.713, 0.457, 0.457, 0.66, 0.511]",
    "Phoebe": "[0.6, 0.48, 0.31, 0.46, 0.56]",
    "Rachel": "[0.635, 0.354, 0.521, 0.552, 0.469]",
}
MELD_SENTIMENT = {"anger": "negative", "sadness": "negative", "neutral": "neutral", "joy": "positive",
                  "surprise": "positive", "fear": "negative", "disgust": "negative"}
EMORY_EMOTION = {"Joyful": "joy", "Mad": "anger", "Neutral": "neutral", "Sad": "sadness", "Scared": "fear"}
EMORY_SENTIMENT = {"Joyful": "positive", "Mad": "negative", "Neutral": "neutral", "Sad": "negative",
                   "Scared": "negative"}
_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def _clean(utterance: str) -> str:
    return _NON_ASCII.sub(" ", utterance.strip())


def triples(groups, emotion_map, sentiment_map, personality=PERSONALITY) -> list[list]:
    """Rows from dialogues given as lists of (speaker, utterance, emotion)."""
    rows = []
    for dialogue in groups:
        for i in range(len(dialogue) - 2):
            (s1, u1, e1), (s2, u2, e2), (s3, u3, e3) = dialogue[i:i + 3]
            if s1 != s3 or s1 not in personality:
                continue
            if not all(e in emotion_map for e in (e1, e2, e3)):
                continue
            if s1 == s2:
                continue
            rows.append([s1, s2, personality[s1], _clean(u1), _clean(u2), _clean(u3),
                         emotion_map[e1], emotion_map[e2], emotion_map[e3],
                         sentiment_map[e1], sentiment_map[e2], sentiment_map[e3]])
    return rows


def meld_dialogues(path: Path):
    import pandas as pd

    df = pd.read_csv(path)
    return [list(zip(g["Speaker"], g["Utterance"], g["Emotion"])) for _, g in df.groupby("Dialogue_ID")]


def emorynlp_dialogues(path: Path):
    import pandas as pd

    df = pd.read_csv(path)
    speakers = [ast.literal_eval(x)[0].split()[0] for x in df["Speaker"]]
    df = df.assign(Speaker=speakers)
    return [list(zip(g["Speaker"], g["Utterance"], g["Emotion"]))
            for _, g in df.groupby(["Season", "Episode", "Scene_ID"])]


def rebuild(root: Path):
    """The rebuilt table (a DataFrame) and the number of triples from each source file."""
    import pandas as pd

    identity = {e: e for e in MELD_SENTIMENT}
    parts, per_source = [], {}
    for split in ("train", "dev", "test"):
        rows = triples(meld_dialogues(root / "source_data" / "MELD" / f"{split}_sent_emo.csv"),
                       identity, MELD_SENTIMENT)
        per_source[f"MELD {split}"] = len(rows)
        parts.append(pd.DataFrame(rows, columns=COLUMNS))
    for split in ("train", "dev", "test"):
        rows = triples(emorynlp_dialogues(root / "source_data" / "emorynlp" / f"emorynlp_{split}_final.csv"),
                       EMORY_EMOTION, EMORY_SENTIMENT)
        per_source[f"EmoryNLP {split}"] = len(rows)
        parts.append(pd.DataFrame(rows, columns=COLUMNS))
    return pd.concat(parts).drop_duplicates(), per_source


def as_tsv_lines(df) -> list[str]:
    """The table as the authors wrote it: ``to_csv(sep='\\t', index=False)``, one line per row."""
    return df.to_csv(sep="\t", index=False).splitlines()
