"""Reader for the nine CSVs of the Natural Hazards Twitter Dataset.

What is really in the files (commit 9867e83), and what the reader does about it:

- two header variants: ``num,text,timestamp,label`` (eight files) and
  ``,text,timestamp,sentiment`` (``2018Michael``: a pandas index column without a name,
  and the label called ``sentiment``); anything else is an error naming the column;
- a UTF-8 byte-order mark on four files (read as ``utf-8-sig``);
- CRLF between records, bare LF (and a few lone CR) inside quoted texts: embedded line
  breaks are kept, and error messages give the physical line a record starts on;
- mojibake: UTF-8 decoded as Mac Roman and re-encoded (``‚Äô`` for ``’``, ``¬†`` for a
  no-break space, ``‚ô°`` for ``♡``): repaired with ftfy's encoding fixes only (quotes,
  ligatures, widths and Unicode normalisation are left as the authors wrote them); the
  original string is kept in ``raw_text``;
- two timestamp formats: Excel serial days (1900 system, e.g. ``40657.975``) and
  ``M/D/YY HH:MM`` (2016Blizzard, 2018Michael), both without a time zone: read as UTC;
- ``num`` is not unique within a file, and in 2016Matthew and 2019Dorian some values are
  tweet ids that Excel rounded to three digits (``7.70E+17``): it is kept as written (a
  string) and rows are identified by file and line;
- exact duplicate records (all four fields equal; 2016Matthew, 2019Dorian) are set aside
  with the line of the record they repeat; texts repeated with other metadata are kept and
  share a ``group`` so that cross-validation keeps them in one fold;
- records with an empty text would be set aside (the real files have none).

Nothing is dropped silently: every set-aside record is listed with its reason.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from affrepro.errors import MalformedFileError

HEADERS = {
    ("num", "text", "timestamp", "label"): "num,text,timestamp,label",
    ("", "text", "timestamp", "sentiment"): ",text,timestamp,sentiment",
}
COLUMNS = ("event", "disaster_type", "year", "file", "line", "num", "text", "raw_text",
           "timestamp", "label", "group")
EXCEL_EPOCH = dt.datetime(1899, 12, 30, tzinfo=dt.timezone.utc)  # Excel 1900 date system
# A tweet cannot predate Twitter's first tweet nor postdate the dataset's first commit.
EARLIEST = dt.datetime(2006, 3, 21, tzinfo=dt.timezone.utc)
LATEST = dt.datetime(2020, 4, 15, tzinfo=dt.timezone.utc)
_SERIAL = re.compile(r"^\d{1,6}(?:\.\d+)?$")
_MDY = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{2}|\d{4}) (\d{1,2}):(\d{2})(?::(\d{2}))?$")
_WS = re.compile(r"\s+")
_NUM = re.compile(r"^\d+$|^\d(?:\.\d+)?[eE]\+\d+$")


def repair_text(text: str) -> str:
    """Undo mojibake (ftfy's encoding fixes only; everything else is left as written)."""
    if text.isascii():  # nothing to repair, and ftfy is the slow part of loading
        return text
    import ftfy

    config = ftfy.TextFixerConfig(
        unescape_html=False, remove_terminal_escapes=False, fix_encoding=True,
        restore_byte_a0=True, replace_lossy_sequences=True, decode_inconsistent_utf8=True,
        fix_c1_controls=True, fix_latin_ligatures=False, fix_character_width=False,
        uncurl_quotes=False, fix_line_breaks=False, fix_surrogates=True,
        remove_control_chars=False, normalization=None, explain=False)
    return ftfy.fix_text(text, config)


def group_key(text: str) -> str:
    """Texts equal up to case, Unicode compatibility forms and white space share a group."""
    return _WS.sub(" ", unicodedata.normalize("NFKC", text)).strip().casefold()


def parse_timestamp(cell: str) -> tuple[dt.datetime, str]:
    """``40657.975`` (Excel serial days) or ``1/25/16 15:27`` -> (UTC datetime, format name).

    Raises ValueError with a readable reason."""
    s = cell.strip()
    if _SERIAL.match(s):
        days = float(s)
        when = EXCEL_EPOCH + dt.timedelta(seconds=round(days * 86400))
        fmt = "excel-serial"
    else:
        m = _MDY.match(s)
        if not m:
            raise ValueError(f"{cell!r} is neither Excel serial days (e.g. 40657.975) nor "
                             "M/D/YY HH:MM (e.g. 1/25/16 15:27)")
        month, day, year, hour, minute, second = m.groups()
        year = int(year) + (2000 if len(year) == 2 else 0)
        try:
            when = dt.datetime(year, int(month), int(day), int(hour), int(minute),
                               int(second or 0), tzinfo=dt.timezone.utc)
        except ValueError as exc:
            raise ValueError(f"{cell!r} is not a valid date and time ({exc})") from None
        fmt = "M/D/YY HH:MM"
    if not EARLIEST <= when <= LATEST:
        raise ValueError(f"{cell!r} is {when:%Y-%m-%d %H:%M} UTC, outside "
                         f"{EARLIEST:%Y-%m-%d}..{LATEST:%Y-%m-%d} (Twitter's start to the dataset's release)")
    return when, fmt


@dataclass
class FileInfo:
    """How one file looked: header variant, BOM, timestamp format, rows, repairs."""

    file: str
    header: str
    bom: bool
    records: int
    timestamp_formats: dict[str, int]
    mojibake_repaired: int
    embedded_line_breaks: int
    num_in_scientific_notation: int
    set_aside: int

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Corpus:
    """The tidy table (one row per kept tweet) and what was set aside, with reasons."""

    table: Any  # pandas.DataFrame with COLUMNS
    set_aside: list[dict[str, Any]] = field(default_factory=list)
    files: list[FileInfo] = field(default_factory=list)

    @property
    def n_records(self) -> int:
        """Data records in the files, before anything is set aside."""
        return sum(f.records for f in self.files)


def _read_records(path: Path):
    """Yield (start_line, cells) for every record, the header first; detects truncation."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise MalformedFileError(path, "file not found") from None
    bom = raw.startswith(b"\xef\xbb\xbf")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise MalformedFileError(path, f"not UTF-8 text (byte {exc.start}: {raw[exc.start:exc.start + 4]!r})",
                                 line=line) from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    records = []
    start = 1
    try:
        for cells in reader:
            records.append((start, cells))
            start = reader.line_num + 1
    except csv.Error as exc:
        if "unexpected end of data" in str(exc):
            raise MalformedFileError(
                path, "the file ends inside a quoted text (an opening '\"' is never closed): "
                "the file looks truncated", line=start, column="text") from None
        raise MalformedFileError(path, f"not valid CSV: {exc}", line=start) from None
    return bom, records


def read_event_file(path: Path) -> tuple[list[dict[str, Any]], FileInfo, list[dict[str, Any]]]:
    """Read one event CSV: (kept rows, file info, set-aside rows). Errors name file, line, column."""
    from affrepro.reproductions.natural_hazards_2020.datasets import EVENT_BY_FILE, Event

    path = Path(path)
    event = EVENT_BY_FILE.get(path.name)
    if event is None:
        m = re.match(r"^(\d{4})([A-Za-z]+)_Summary\.csv$", path.name)
        if not m:
            raise MalformedFileError(path, "unexpected file name: expected <YEAR><Event>_Summary.csv")
        event = Event(path.name, f"{m[1]}-{m[2].lower()}", m[2].lower(), int(m[1]), m[2])
    bom, records = _read_records(path)
    if not records:
        raise MalformedFileError(path, "the file is empty; expected the header "
                                 "num,text,timestamp,label", line=1)
    header = tuple(records[0][1])
    if header not in HEADERS:
        known = " or ".join(repr(h) for h in HEADERS.values())
        cols = ("num", "text", "timestamp", "label")
        bad = next((f"{i + 1} ({h!r})" for i, h in enumerate(header)
                    if i >= 4 or (h not in (cols[i], "", "sentiment"))), None)
        if bad is None and len(header) != 4:
            bad = f"{len(header) + 1} (missing)" if len(header) < 4 else "5"
        raise MalformedFileError(path, f"unknown header {','.join(header)!r}; expected {known}",
                                 line=1, column=bad or 1)
    names = ("num", "text", "timestamp", header[3])
    rows, aside = [], []
    seen: dict[tuple[str, ...], int] = {}
    formats: dict[str, int] = {}
    repaired = breaks = sci = 0
    last = len(records) - 1
    for k, (line, cells) in enumerate(records[1:], start=1):
        if len(cells) != 4:
            if k == last and len(cells) < 4:
                raise MalformedFileError(
                    path, f"the last record has {len(cells)} of 4 fields: the file looks truncated",
                    line=line, column=names[len(cells)] if cells else 1)
            raise MalformedFileError(path, f"expected 4 fields ({','.join(names)}), got {len(cells)}",
                                     line=line)
        num_s, raw_text, ts_s, label_s = cells
        if not _NUM.match(num_s):
            raise MalformedFileError(path, f"expected an integer (or Excel's rounded scientific "
                                     f"form such as 7.70E+17), got {num_s!r}", line=line,
                                     column=names[0] or "1 (unnamed index)")
        num = num_s
        sci += "E" in num_s.upper()
        try:
            when, fmt = parse_timestamp(ts_s)
        except ValueError as exc:
            raise MalformedFileError(path, f"unparseable timestamp: {exc}", line=line,
                                     column="timestamp") from None
        if label_s.strip() not in ("0", "1"):
            raise MalformedFileError(path, f"label {label_s!r} is outside {{0, 1}}", line=line,
                                     column=names[3])
        formats[fmt] = formats.get(fmt, 0) + 1
        key = tuple(cells)
        base = {"event": event.event, "disaster_type": event.disaster_type, "year": event.year,
                "file": path.name, "line": line, "num": num}
        if "\x00" in raw_text:
            import warnings

            warnings.warn(f"{path}, line {line}, column text: the text holds "
                          f"{raw_text.count(chr(0))} NUL byte(s); kept as read", UserWarning,
                          stacklevel=2)
        if not raw_text.strip():
            aside.append({**base, "reason": "empty text", "raw_text": raw_text})
            continue
        if key in seen:
            aside.append({**base, "reason": f"duplicate record: all four fields repeat line {seen[key]}",
                          "raw_text": raw_text})
            continue
        seen[key] = line
        text = repair_text(raw_text)
        repaired += text != raw_text
        breaks += ("\n" in raw_text) or ("\r" in raw_text)
        rows.append({**base, "text": text, "raw_text": raw_text, "timestamp": when,
                     "label": int(label_s)})
    info = FileInfo(path.name, HEADERS[header], bom, len(records) - 1, formats, repaired, breaks, sci,
                    len(aside))
    return rows, info, aside


def load_corpus(folder: Path, files: list[str] | None = None):
    """Every event file in ``folder`` -> Corpus (a pandas table with COLUMNS)."""
    import pandas as pd

    from affrepro.reproductions.natural_hazards_2020.datasets import EVENTS

    folder = Path(folder)
    names = files or [e.file for e in EVENTS]
    all_rows, infos, aside = [], [], []
    for name in names:
        rows, info, a = read_event_file(folder / name)
        all_rows += rows
        infos.append(info)
        aside += a
    table = pd.DataFrame(all_rows, columns=[c for c in COLUMNS if c != "group"])
    table["timestamp"] = pd.to_datetime(table["timestamp"], utc=True)
    keys = table["text"].map(group_key)
    table["group"] = pd.factorize(keys)[0]
    return Corpus(table=table[list(COLUMNS)], set_aside=aside, files=infos)
