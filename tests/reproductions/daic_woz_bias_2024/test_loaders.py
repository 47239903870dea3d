"""Loaders and the licensed transcript layout: bad input names file, line and column;
the synthetic corpus is in exactly the real format."""
from __future__ import annotations

import pytest

from affrepro.errors import MalformedFileError
from affrepro.reproductions.daic_woz_bias_2024 import synthetic
from affrepro.reproductions.daic_woz_bias_2024.loaders import (
    read_classification_report, read_id_list, read_predictions, read_transcript_split, verify_transcripts)

HEADER = "row_ID\toriginal_ID\tPHQ8_Score\tcategory\n"


@pytest.mark.parametrize("text,line,column,fragment", [
    ("id\tparticipant\n1\t302\n", 1, None, "expected the header"),
    (HEADER + "1\t302\t4\n", 2, None, "expected 4 TAB-separated columns"),
    (HEADER + "1\t302\tfour\t0\n", 2, "PHQ8_Score", "expected an integer"),
    (HEADER + "1\t302\t4\t0\n2\t303\t12\t2\n", 3, "category", "expected 0 or 1"),
    (HEADER + "1\t302\t30\t1\n", 2, "PHQ8_Score", "PHQ-8 ranges 0-24"),
])
def test_id_list_errors(tmp_path, text, line, column, fragment):
    p = tmp_path / "dev_IDS.txt"
    p.write_text(text)
    with pytest.raises(MalformedFileError) as err:
        read_id_list(p)
    assert err.value.line == line and err.value.column == column
    assert fragment in str(err.value) and str(p) in str(err.value)


@pytest.mark.parametrize("text,fragment,line", [
    ('{"y_pred": [0, 1],\n "y_true": [0, 1]\n', "not valid JSON", 3),
    ('[0, 1]', "expected a JSON object", None),
    ('{"y_pred": [0, 1]}', "'y_true'", None),
    ('{"y_pred": [0, 2], "y_true": [0, 1]}', "item 1 is 2", None),
    ('{"y_pred": [0], "y_true": [0, 1]}', "y_true has 2 items, y_pred 1", None),
])
def test_prediction_file_errors(tmp_path, text, fragment, line):
    p = tmp_path / "results_predictions.json"
    p.write_text(text)
    with pytest.raises(MalformedFileError) as err:
        read_predictions(p)
    assert fragment in str(err.value) and err.value.line == line


def test_classification_report_without_macro_f1(tmp_path):
    p = tmp_path / "results.json"
    p.write_text('{"accuracy": 0.9}')
    with pytest.raises(MalformedFileError, match="macro avg"):
        read_classification_report(p)


def test_synthetic_corpora_pass_the_real_verifier(tmp_path):
    synthetic.write_public(tmp_path / "public", seed=3)
    synthetic.write_transcripts(tmp_path / "licensed", seed=3)
    assert verify_transcripts(tmp_path / "licensed", id_lists=tmp_path / "public") == []
    rows = read_transcript_split(tmp_path / "licensed" / "dev_Participant.txt")
    assert len(rows) == 35 and {label for label, _ in rows} <= {"negative", "positive"}
    labels = ["positive" if r.category else "negative" for r in read_id_list(tmp_path / "public" / "dev_IDS.txt")]
    assert [label for label, _ in rows] == labels


def test_verify_lists_every_problem_with_its_line(tmp_path):
    synthetic.write_public(tmp_path / "public", seed=1)
    folder = tmp_path / "licensed"
    synthetic.write_transcripts(folder, seed=1)
    (folder / "train_Ellie.txt").unlink()
    dev = folder / "dev_Participant.txt"
    lines = dev.read_text().splitlines()
    lines[4] = "maybe\t" + lines[4].split("\t", 1)[1]
    lines[9] = lines[9].replace("\t", " ", 1)
    flipped = "positive" if lines[2].startswith("negative") else "negative"
    lines[2] = flipped + "\t" + lines[2].split("\t", 1)[1]
    dev.write_text("\n".join(lines) + "\n")
    (folder / "dev_Ellie.txt").write_text("\n".join(dev.read_text().splitlines()[:30]) + "\n")
    problems = [str(p) for p in verify_transcripts(folder, id_lists=tmp_path / "public")]
    text = "\n".join(problems)
    assert "train_Ellie.txt: missing" in text
    assert "dev_Participant.txt:5 [label]: label 'maybe'" in text
    assert "dev_Participant.txt:10: expected 'label<TAB>utterances'" in text
    assert "dev_Participant.txt:3 [label]" in text and "category" in text
    assert "dev_Ellie.txt" in text and "30 interviews, expected 35" in text


def test_transcript_reader_errors(tmp_path):
    p = tmp_path / "dev_Ellie.txt"
    p.write_text("negative\thello\npositive\t   \n")
    with pytest.raises(MalformedFileError) as err:
        read_transcript_split(p)
    assert err.value.line == 2 and "empty" in str(err.value)
