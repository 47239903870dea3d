"""Readers for the MELD and EmoryNLP CSVs, with errors that name the file and column."""
from __future__ import annotations

import ast
from pathlib import Path

from affrepro.errors import MalformedFileError

MELD_COLUMNS = ("Utterance", "Speaker", "Emotion", "Sentiment", "Dialogue_ID", "Utterance_ID")
EMORYNLP_COLUMNS = ("Utterance", "Speaker", "Emotion", "Scene_ID", "Utterance_ID", "Season", "Episode")


def _read_csv(path: Path, columns: tuple[str, ...]):
    import pandas as pd

    try:
        df = pd.read_csv(path, encoding="utf-8", keep_default_na=False)
    except FileNotFoundError:
        raise MalformedFileError(path, "file not found") from None
    except (UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise MalformedFileError(path, f"not a UTF-8 CSV: {exc}") from None
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise MalformedFileError(path, f"missing column(s) {', '.join(missing)}; has {', '.join(map(str, df.columns))}",
                                 line=1)
    return df


def read_meld(path: Path):
    """One MELD split (``*_sent_emo.csv``): one utterance per row, in dialogue order."""
    df = _read_csv(path, MELD_COLUMNS)
    for col in ("Dialogue_ID", "Utterance_ID"):
        bad = df.index[~df[col].astype(str).str.fullmatch(r"\d+")]
        if len(bad):
            raise MalformedFileError(path, f"expected a non-negative integer, got {df[col][bad[0]]!r}",
                                     line=int(bad[0]) + 2, column=col)
        df[col] = df[col].astype(int)
    return df


def read_emorynlp(path: Path):
    """One EmoryNLP split: ``Speaker`` is a Python list literal of names (``['Monica Geller']``)."""
    df = _read_csv(path, EMORYNLP_COLUMNS)
    speakers = []
    for i, cell in enumerate(df["Speaker"]):
        try:
            value = ast.literal_eval(cell)
        except (ValueError, SyntaxError):
            value = None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise MalformedFileError(path, f"expected a list of names like ['Monica Geller'], got {cell!r}",
                                     line=i + 2, column="Speaker")
        speakers.append(tuple(value))
    df["Speakers"] = speakers
    return df
