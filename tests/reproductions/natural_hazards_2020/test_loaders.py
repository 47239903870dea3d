"""The loader on synthetic files in the real format, on bad input, and on the real files."""
from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pytest

from affrepro.errors import MalformedFileError
from affrepro.reproductions.natural_hazards_2020.datasets import EVENTS, FILES, NATURAL_HAZARDS
from affrepro.reproductions.natural_hazards_2020.loaders import (
    group_key, load_corpus, parse_timestamp, read_event_file, repair_text)
from affrepro.reproductions.natural_hazards_2020.synthetic import mojibake, to_csv_bytes, write_corpus

HEADER = ["num", "text", "timestamp", "label"]


def write(path: Path, rows, header=HEADER, bom=False) -> Path:
    path.write_bytes(to_csv_bytes(header, rows, bom))
    return path


def test_timestamps_both_formats_to_utc():
    when, fmt = parse_timestamp("40657.975")
    assert fmt == "excel-serial" and when == dt.datetime(2011, 4, 24, 23, 24, tzinfo=dt.timezone.utc)
    when, fmt = parse_timestamp("1/25/16 15:27")
    assert fmt == "M/D/YY HH:MM" and when == dt.datetime(2016, 1, 25, 15, 27, tzinfo=dt.timezone.utc)
    assert parse_timestamp("10/10/18 00:00")[0].tzinfo == dt.timezone.utc


def test_mojibake_repaired_and_nothing_else_changed():
    assert repair_text(mojibake("It’s raining ♡")) == "It’s raining ♡"
    assert repair_text("http://x.co/a¬†") == "http://x.co/a\u00a0"  # Mac Roman no-break space
    assert repair_text("“curly” quotes & ligature ﬁ stay") == "“curly” quotes & ligature ﬁ stay"


def test_synthetic_corpus_has_every_quirk_and_loads(tmp_path):
    write_corpus(tmp_path, seed=1, n_per_event=40)
    corpus = load_corpus(tmp_path)
    t = corpus.table
    assert set(t["event"]) == {e.event for e in EVENTS}
    assert list(t.columns) == ["event", "disaster_type", "year", "file", "line", "num", "text",
                               "raw_text", "timestamp", "label", "group"]
    assert str(t["timestamp"].dt.tz) == "UTC"
    info = {f.file: f for f in corpus.files}
    assert info["2018Michael_Summary.csv"].header == ",text,timestamp,sentiment"
    assert info["2011Tornado_Summary.csv"].bom and not info["2012Sandy_Summary.csv"].bom
    assert info["2016Blizzard_Summary.csv"].timestamp_formats == {"M/D/YY HH:MM": 40}
    assert info["2011Tornado_Summary.csv"].mojibake_repaired > 0
    assert info["2019Dorian_Summary.csv"].num_in_scientific_notation > 0
    assert (t["text"] != t["raw_text"]).any() and t["text"].str.contains("’").any()
    assert t["text"].str.contains("\n").any()
    # exact duplicates set aside with a reason, never silently
    assert corpus.set_aside and all(a["reason"].startswith("duplicate record") for a in corpus.set_aside)
    assert corpus.n_records == len(t) + len(corpus.set_aside)


def test_embedded_newlines_keep_physical_line_numbers(tmp_path):
    p = write(tmp_path / "2012Sandy_Summary.csv",
              [["1", "two\nlines", "41209.64722", "1"], ["2", "one line", "41209.64722", "0"]])
    rows, info, aside = read_event_file(p)
    assert [r["line"] for r in rows] == [2, 4]
    assert rows[0]["text"] == "two\nlines" and info.embedded_line_breaks == 1


def test_repeated_texts_share_a_group(tmp_path):
    assert group_key("Hurricane  Sandy\nFOOD") == group_key("hurricane sandy food")
    p = write(tmp_path / "2012Sandy_Summary.csv",
              [["1", "Same text", "41209.1", "1"], ["7", "same  text", "41210.1", "1"],
               ["1", "Same text", "41209.1", "1"]])
    corpus = load_corpus(tmp_path, files=[p.name])
    assert len(corpus.table) == 2 and corpus.table["group"].nunique() == 1
    assert corpus.set_aside[0]["line"] == 4 and "repeat line 2" in corpus.set_aside[0]["reason"]


def test_empty_text_set_aside_with_reason(tmp_path):
    p = write(tmp_path / "2012Sandy_Summary.csv", [["1", "  ", "41209.1", "1"], ["2", "ok", "41209.1", "0"]])
    rows, info, aside = read_event_file(p)
    assert len(rows) == 1 and aside[0]["reason"] == "empty text" and aside[0]["line"] == 2


# -- bad input: clear errors naming file, line and column ------------------------------------

def test_unknown_header(tmp_path):
    p = write(tmp_path / "2012Sandy_Summary.csv", [["1", "x", "41209.1", "1"]],
              header=["num", "tweet", "timestamp", "label"])
    with pytest.raises(MalformedFileError) as e:
        read_event_file(p)
    assert e.value.path == p and e.value.line == 1 and "2 ('tweet')" in str(e.value.column)
    assert "unknown header" in str(e.value) and "2012Sandy_Summary.csv" in str(e.value)


def test_unparseable_timestamp(tmp_path):
    p = write(tmp_path / "2016Blizzard_Summary.csv",
              [["1", "a\nb", "1/25/16 15:27", "1"], ["2", "x", "25.01.2016 15:27", "1"]], bom=True)
    with pytest.raises(MalformedFileError) as e:
        read_event_file(p)
    assert (e.value.line, e.value.column) == (4, "timestamp")
    assert "25.01.2016 15:27" in str(e.value)


def test_timestamp_out_of_range(tmp_path):
    p = write(tmp_path / "2012Sandy_Summary.csv", [["1", "x", "12.5", "1"]])
    with pytest.raises(MalformedFileError, match="outside 2006-03-21"):
        read_event_file(p)


def test_label_outside_0_1(tmp_path):
    p = write(tmp_path / "2018Michael_Summary.csv", [["0", "x", "10/8/18 23:37", "0"],
                                                      ["1", "y", "10/8/18 23:37", "2"]],
              header=["", "text", "timestamp", "sentiment"])
    with pytest.raises(MalformedFileError) as e:
        read_event_file(p)
    assert (e.value.line, e.value.column) == (3, "sentiment") and "outside {0, 1}" in str(e.value)


def test_truncated_inside_quoted_text(tmp_path):
    p = write(tmp_path / "2012Sandy_Summary.csv", [["1", "x", "41209.1", "1"],
                                                    ["2", "cut, here\nand", "41209.1", "0"]])
    p.write_bytes(p.read_bytes()[:-15])
    with pytest.raises(MalformedFileError) as e:
        read_event_file(p)
    assert (e.value.line, e.value.column) == (3, "text") and "truncated" in str(e.value)


def test_truncated_last_record(tmp_path):
    p = write(tmp_path / "2012Sandy_Summary.csv", [["1", "x", "41209.1", "1"], ["2", "y", "41209.1", "0"]])
    p.write_bytes(p.read_bytes()[:-2])  # drops ",0"
    with pytest.raises(MalformedFileError) as e:
        read_event_file(p)
    assert e.value.line == 3 and e.value.column == "label" and "truncated" in str(e.value)


def test_bad_num_and_wrong_field_count(tmp_path):
    p = write(tmp_path / "2012Sandy_Summary.csv", [["abc", "x", "41209.1", "1"]])
    with pytest.raises(MalformedFileError, match="line 2, column num"):
        read_event_file(p)
    p.write_bytes(b"num,text,timestamp,label\r\n1,x,41209.1,1,extra\r\n2,y,41209.1,0")
    with pytest.raises(MalformedFileError, match="line 2: expected 4 fields"):
        read_event_file(p)


def test_not_utf8(tmp_path):
    p = tmp_path / "2012Sandy_Summary.csv"
    p.write_bytes(b"num,text,timestamp,label\r\n1,caf\xe9,41209.1,1")
    with pytest.raises(MalformedFileError, match="not UTF-8"):
        read_event_file(p)


# -- the dataset definition and the real files -------------------------------------------------

def test_dataset_definition_pins_the_commit():
    assert NATURAL_HAZARDS.access == "public" and NATURAL_HAZARDS.mirror_dir == "natural_hazards"
    assert len(FILES) == 9
    for f in FILES:
        assert f.url.startswith("https://raw.githubusercontent.com/Dong-UTIL/Natural-Hazards-Twitter-Dataset/"
                                "9867e830bc6adc40445b2fc31c1ea9b9e661a3b0/")
        assert len(f.sha256) == 64


@pytest.mark.realdata
def test_real_files_match_checksums_and_load(mirror):
    folder = mirror / "natural_hazards"
    sums = dict(reversed(line.split()) for line in (folder / "SHA256SUMS").read_text().splitlines())
    for f in FILES:
        data = (folder / f.name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == f.sha256 == sums[f"./{f.name}"]
        assert len(data) == f.size
    corpus = load_corpus(folder)
    t = corpus.table
    assert corpus.n_records == 41998
    assert len(t) == 39965 and len(corpus.set_aside) == 2033
    by_file = {}
    for a in corpus.set_aside:
        by_file[a["file"]] = by_file.get(a["file"], 0) + 1
    assert by_file == {"2016Matthew_Summary.csv": 685, "2019Dorian_Summary.csv": 1348}
    assert t.groupby("event").size().to_dict() == {
        "2011-tornado": 3572, "2012-sandy": 2190, "2013-floods": 3597, "2016-blizzard": 3649,
        "2016-matthew": 4519, "2017-harvey": 7823, "2018-michael": 4227, "2018-wildfires": 4596,
        "2019-dorian": 5792}
    assert set(t["label"]) == {0, 1}
    assert t["timestamp"].min().year == 2011 and t["timestamp"].max().year == 2019
    # every event's tweets fall in its year
    assert (t["timestamp"].dt.year == t["year"]).all()
