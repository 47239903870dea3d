"""polarization-2025: the interaction-class table, windows, SEM, extreme share, Welch's
test against SciPy, and the loader on a synthetic corpus in the authors' layout."""
from __future__ import annotations

import csv
import datetime as dt
import math

import numpy as np
import pytest
from scipy import stats

from affrepro.reproductions.polarization_2025 import scoring
from affrepro.reproductions.polarization_2025.loaders import (COLUMNS, load_topic, parse_name,
                                                              read_conversation, verify)
from affrepro.reproductions.polarization_2025.protocol import analyse
from affrepro.reproductions.polarization_2025.synthetic import write_corpus

# (reply stance, parent stance, reply affect, parent affect, agreement) -> class, the
# table of PAPERS.md / the authors' classify_interaction, row by row
TABLE = [
    (("pro", "pro", "yes", "no", "yes"), 10), (("pro", "pro", "no", "yes", "no"), 8),
    (("pro", "pro", "no", "no", "yes"), 6), (("pro", "pro", "no", "no", "no"), 2),
    (("pro", "anti", "yes", "yes", "yes"), 6), (("anti", "pro", "yes", "no", "no"), 8),
    (("anti", "pro", "no", "no", "yes"), 0), (("anti", "pro", "no", "no", "no"), 4),
    (("don't know", "don't know", "no", "no", "no"), 2),
]


@pytest.mark.parametrize("labels,expected", TABLE)
def test_interaction_class_table(labels, expected):
    assert scoring.interaction_class(*labels) == expected


def test_conversation_score_ignores_missing():
    assert scoring.conversation_score([10, None, 8, float("nan"), 6]) == 8.0
    assert math.isnan(scoring.conversation_score([None]))


def test_windows_are_three_days_each_side():
    s, e = "2022-11-19", "2022-11-20"
    assert scoring.window_of("2022-11-15", s, e) is None
    assert scoring.window_of("2022-11-16", s, e) == "before"
    assert scoring.window_of("2022-11-18", s, e) == "before"
    assert scoring.window_of("2022-11-19", s, e) == "during"
    assert scoring.window_of("2022-11-20", s, e) == "during"
    assert scoring.window_of("2022-11-23", s, e) == "after"
    assert scoring.window_of("2022-11-24", s, e) is None


def test_mean_sem_and_extreme_share():
    scores = [8.0, 7.5, 2.0, 9.0]
    m, sem = scoring.mean_sem(scores)  # authors: np.std (ddof 0) / sqrt(n)
    assert m == pytest.approx(np.mean(scores))
    assert sem == pytest.approx(np.std(scores) / math.sqrt(4))
    assert scoring.mean_sem(scores, ddof=1)[1] == pytest.approx(stats.sem(scores))
    assert scoring.mean_sem([5.0]) == (5.0, 0.0)
    assert scoring.share_extreme(scores) == 75.0                 # 7.5 counts (authors' bins)
    assert scoring.share_extreme(scores, inclusive=False) == 50.0  # strict "> 7.5"
    assert scoring.share_extreme([]) == 0.0


def test_welch_between_windows_matches_scipy():
    windows = {"before": [4.0, 5.5, 6.0], "during": [7.0, 8.5, 6.5, 9.0], "after": []}
    res = scoring.welch_between(windows, "before", "during")
    ref = stats.ttest_ind(windows["before"], windows["during"], equal_var=False)
    assert res.statistic == pytest.approx(ref.statistic)
    assert res.pvalue == pytest.approx(ref.pvalue)


def _write(path, rows):
    with open(path, "w", newline="", encoding="utf-8-sig") as fh:
        w = csv.writer(fh)
        w.writerow(COLUMNS)
        w.writerows(rows)


def test_loader_reads_the_authors_layout(tmp_path):
    d = tmp_path / "all_gunControl"
    d.mkdir()
    root = ["100", "1", "root", "pro", "Root Author", "Root Author", "Root Author", "pro", "yes",
            "", "x", "y", "", ""]
    r1 = ["101", "2", "reply", "anti", "100", "1", "pro", "anti", "no", "no", "x", "y", "z", "8.0"]
    r2 = ["102", "3", "reply2", "anti", "101", "2", "anti", "anti", "no", "yes", "x", "y", "z", "6.0"]
    _write(d / "100_2022-05-24.pkl_conversation_tweets.csv", [root, r1, r2])
    assert parse_name("100_2022-05-24.pkl_conversation_tweets.csv") == ("100", dt.date(2022, 5, 24))
    conv = read_conversation(d / "100_2022-05-24.pkl_conversation_tweets.csv")
    assert conv.stored_classes == [8.0, 6.0]
    assert conv.recomputed_classes == [8.0, 6.0]  # opposite+affect+disagree; same+no affect+agree
    assert scoring.conversation_score(conv.classes) == 7.0
    assert load_topic(tmp_path, "gun control").conversations[0].root_id == "100"


def test_verify_lists_every_problem(tmp_path):
    write_corpus(tmp_path, seed=1, per_day=1, max_replies=2)
    assert verify(tmp_path) == []
    d = tmp_path / "all_gunControl"
    bad = sorted(d.iterdir())[0]
    text = bad.read_text(encoding="utf-8-sig").splitlines()
    cells = next(csv.reader([text[1]]))
    cells[COLUMNS.index("Interaction Class")] = "7"
    cells[COLUMNS.index("Tweet Affect")] = "maybe"
    with open(bad, "w", newline="", encoding="utf-8-sig") as fh:
        w = csv.writer(fh)
        w.writerow(COLUMNS)
        w.writerow(cells)
    (d / "notes.csv").write_text("x\n")
    problems = [str(p) for p in verify(tmp_path)]
    assert any("Interaction Class" in p and "got '7'" in p for p in problems)
    assert any("Tweet Affect" in p and "maybe" in p for p in problems)
    assert any("notes.csv" in p for p in problems)
    import shutil

    shutil.rmtree(tmp_path / "all_climateChange")
    assert any("all_climateChange" in str(p) for p in verify(tmp_path))


def test_analyse_synthetic_corpus(tmp_path):
    write_corpus(tmp_path, seed=0, per_day=2, max_replies=3)
    result = analyse(tmp_path)
    texas = {w["window"]: w for w in result["gun control"]["events"]["shooting_texas"]["windows"]}
    # 2 conversations a day: 3 days before, 1 during, 3 after
    assert (texas["before"]["n"], texas["during"]["n"], texas["after"]["n"]) == (6, 2, 6)
    assert result["gun control"]["class_mismatches"] == 0
    assert 0 <= texas["after"]["extreme_percent"] <= 100


def test_dry_run_measures_the_window_claims(tmp_path, registries):
    from affrepro.runner import reproduce

    report = reproduce("polarization-2025", dry_run=True, track=False, output_dir=tmp_path / "run",
                       registries=registries)
    assert report.status == "FINISHED"
    assert {r.claim.id: r.verdict.value for r in report.results} == {
        "texas-n-before": "skipped", "texas-n-during": "skipped", "texas-n-after": "skipped"}
    assert all(r.measured is not None for r in report.results)


def test_real_run_skips_without_the_data(tmp_path, registries):
    from affrepro.runner import reproduce

    report = reproduce("polarization-2025", track=False, output_dir=tmp_path / "run",
                       registries=registries)
    assert all(r.verdict.value == "skipped" for r in report.results)
    assert "polarization-conversations" in report.results[0].reason
