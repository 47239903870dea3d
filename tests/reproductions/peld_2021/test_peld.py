"""peld-2021: the construction steps on hand-worked dialogues, a dry run on synthetic data in
the real formats, and the published numbers recomputed from the mirror."""
from __future__ import annotations

from affrepro.reproductions.peld_2021.construction import MELD_SENTIMENT, triples
from affrepro.runner import reproduce

SLUG = "peld-2021"
IDENTITY = {e: e for e in MELD_SENTIMENT}


def test_a_triple_needs_a_main_role_answering_across_another_speaker():
    dialogue = [("Ross", "Hi.", "joy"), ("Rachel", "Hey\u2019.", "neutral"), ("Ross", "Bye", "sadness"),
                ("Ross", "again", "anger"), ("Gunther", "coffee", "neutral"), ("Gunther", "x", "joy")]
    rows = triples([dialogue], IDENTITY, MELD_SENTIMENT)
    # windows: (Ross, Rachel, Ross) kept; (Rachel, Ross, Ross) no; (Ross, Ross, Gunther) no;
    # (Ross, Gunther, Gunther) no
    assert len(rows) == 1
    r = rows[0]
    assert r[:3] == ["Ross", "Rachel", "[0.722, 0.489, 0.6, 0.533, 0.356]"]
    assert r[4] == "Hey ." and r[6:] == ["joy", "neutral", "sadness", "positive", "neutral", "negative"]
    # same speaker at i and i+1 is dropped; a non-main role is dropped
    assert triples([[("Ross", "a", "joy"), ("Ross", "b", "joy"), ("Ross", "c", "joy")]], IDENTITY, MELD_SENTIMENT) == []
    assert triples([[("Gunther", "a", "joy"), ("Ross", "b", "joy"), ("Gunther", "c", "joy")]], IDENTITY,
                   MELD_SENTIMENT) == []


def test_dry_run_runs_the_real_loaders_and_skips_the_audits(tmp_path, no_mirror):
    report = reproduce(SLUG, dry_run=True, output_dir=tmp_path / "o", track=False)
    assert report.status == "FINISHED", report.error
    by_id = {r.claim.id: r for r in report.results}
    assert by_id["dyadic-peld.rows-identical"].measured == by_id["dyadic-peld.rebuilt-rows"].measured > 0
    assert {a["dataset"] for a in report.audits} == {"meld", "emorynlp"}
    assert all(c["verdict"] == "skipped" for a in report.audits for c in a["claims"])


def test_published_numbers_on_the_mirror(mirror, tmp_path):
    report = reproduce(SLUG, output_dir=tmp_path / "o", track=False)
    assert report.status == "FINISHED", report.error
    assert report.verdict_counts()["reproduced"] == 33, [r.reason for r in report.results
                                                         if r.verdict.value != "reproduced"]
    rebuild = report.details["dyadic_peld_rebuild"]
    assert rebuild["rows_equal_at_same_line"] == rebuild["published_rows"] == 6510
    assert report.details["personality_names_per_role"]["Phoebe"] == {
        "Phoebe": 50, "Phoebe Buffay": 49, "Phoebe Sr.": 1}
    audits = {a["dataset"]: a for a in report.audits}
    assert audits["meld"]["verdicts"]["reproduced"] == 37 and audits["emorynlp"]["status"] == "FINISHED"
    md = (tmp_path / "o" / "report.md").read_text()
    assert "### Dataset audit: meld" in md
