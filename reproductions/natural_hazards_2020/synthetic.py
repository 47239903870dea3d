"""A small synthetic Natural Hazards corpus in exactly the real format (tests, ``--dry-run``).

Each of the nine files carries the quirks of its real counterpart: the BOM on the four
files that have one, the ``,text,timestamp,sentiment`` header of 2018Michael, ``M/D/YY
HH:MM`` timestamps in 2016Blizzard and 2018Michael (Excel serial days elsewhere), Mac
Roman mojibake, quoted texts with embedded line breaks, CRLF between records and no line
break after the last one, Excel-rounded ``num`` values and exact duplicate records.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import numpy as np

from affrepro.fileio import atomic_write_bytes
from affrepro.reproductions.natural_hazards_2020.datasets import EVENTS

BOM_FILES = {"2011Tornado_Summary.csv", "2013Floods_Summary.csv", "2016Blizzard_Summary.csv",
             "2018Wildfires_Summary.csv"}
MDY_FILES = {"2016Blizzard_Summary.csv", "2018Michael_Summary.csv"}
MOJIBAKE_FILES = {"2011Tornado_Summary.csv", "2013Floods_Summary.csv", "2016Blizzard_Summary.csv",
                  "2017Hurricane_Summary.csv", "2018Wildfires_Summary.csv"}
_POS = ("safe", "thankful", "great", "love", "happy", "helping", "donate", "delicious", "good")
_NEG = ("scared", "terrible", "awful", "hungry", "sad", "destroyed", "worst", "no power", "bad")
_NEUTRAL = ("food", "water", "shelter", "supplies", "storm", "store", "family", "today", "people")


def mojibake(text: str) -> str:
    """UTF-8 bytes read as Mac Roman, the corruption the real files carry (’ -> ‚Äô)."""
    return text.encode("utf-8").decode("mac_roman")


def excel_serial(when: dt.datetime) -> str:
    return f"{(when - dt.datetime(1899, 12, 30)).total_seconds() / 86400:.5f}"


def mdy(when: dt.datetime) -> str:
    return f"{when.month}/{when.day}/{when.year % 100:02d} {when:%H:%M}"


def event_rows(event, rng: np.random.Generator, n: int) -> list[list[str]]:
    """n records [num, text, timestamp, label] for one event, duplicates included."""
    start = dt.datetime(event.year, 9, 1)
    rows = []
    for i in range(n):
        label = int(rng.random() < 0.7)
        cue = _NEG if label else _POS  # the real labels read as 1 = not positive (see audit)
        words = list(rng.choice(_NEUTRAL, size=int(rng.integers(4, 9))))
        words += list(rng.choice(cue, size=int(rng.integers(1, 3))))
        rng.shuffle(words)
        text = f"{event.name.split(' (')[0]} " + " ".join(words)
        if i % 7 == 3:
            text += "\nhttp://t.co/x" + str(i)
        if i % 5 == 1:
            text = "It’s " + text + " ♡"
            if event.file in MOJIBAKE_FILES:
                text = mojibake(text)
        when = start + dt.timedelta(minutes=int(rng.integers(0, 60 * 24 * 10)))
        ts = mdy(when) if event.file in MDY_FILES else excel_serial(when)
        if event.file == "2018Michael_Summary.csv":
            num = str(i)
        elif i % 11 == 5 and event.file in ("2016Matthew_Summary.csv", "2019Dorian_Summary.csv"):
            num = f"{7 + i % 3}.{i % 10}0E+17"
        else:
            num = str(int(rng.integers(0, 4000)))
        rows.append([num, text, ts, str(label)])
        if i % 13 == 6 and event.file in ("2016Matthew_Summary.csv", "2019Dorian_Summary.csv"):
            rows.append(list(rows[-1]))  # an exact duplicate record
    return rows


def to_csv_bytes(header: list[str], rows: list[list[str]], bom: bool) -> bytes:
    buf = io.StringIO(newline="")
    csv.writer(buf, lineterminator="\r\n").writerows([header] + rows)
    text = buf.getvalue()[:-2]  # the real files have no line break after the last record
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")


def write_corpus(folder: Path, seed: int = 0, n_per_event: int = 80) -> None:
    """Write the nine files into ``folder``."""
    rng = np.random.default_rng(seed)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for event in EVENTS:
        header = ["", "text", "timestamp", "sentiment"] if event.file == "2018Michael_Summary.csv" \
            else ["num", "text", "timestamp", "label"]
        data = to_csv_bytes(header, event_rows(event, rng, n_per_event), event.file in BOM_FILES)
        atomic_write_bytes(folder / event.file, data)
