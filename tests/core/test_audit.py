"""Dataset audits: the claim schema is a paper card's, verdicts are judged the same way, a
failing recipe becomes errors, and the CLI writes audit.json/audit.md."""
from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from affrepro.audit import DatasetAudit, audit_dataset, load_audit_card, run_audit
from affrepro.components import DataFile, Dataset
from affrepro.errors import CardError
from affrepro.fileio import sha256_file

CARD = """\
dataset = "tiny"
title = "a two-line corpus"

[[claims]]
id = "rows"
description = "rows in data.txt"
source = "the tiny README"
metric = "n_rows"
value = 2
higher_is_better = true
tolerance = { absolute = 0, why = "a count" }

[[claims]]
id = "words"
description = "whitespace words in data.txt"
source = "the tiny README"
metric = "n_words"
value = 5
higher_is_better = true
tolerance = { absolute = 0, why = "a count" }
"""


def count_recipe(ctx):
    lines = (ctx.folder / "data.txt").read_text().splitlines()
    ctx.explain("words", f"{len(lines)} lines, words per line {[len(x.split()) for x in lines]}")
    ctx.deviation("a word is a whitespace-separated token")
    return {"rows": len(lines), "words": sum(len(x.split()) for x in lines)}


def failing_recipe(ctx):
    raise ValueError("column 'x' missing in data.txt")


@pytest.fixture
def tiny(tmp_path: Path) -> tuple[Dataset, Path]:
    folder = tmp_path / "tiny"
    folder.mkdir()
    (folder / "data.txt").write_text("one two three\nfour five six\n")
    card = tmp_path / "tiny_audit.toml"
    card.write_text(CARD)
    ds = Dataset("tiny", "tiny", "public", "CC0", "https://example.org",
                 files=(DataFile("data.txt", sha256_file(folder / "data.txt")),),
                 audit=DatasetAudit(card, f"{__name__}:count_recipe"))
    return ds, folder


def test_audit_judges_each_claim_and_explains_the_miss(tiny):
    ds, folder = tiny
    rep = run_audit(ds, folder)
    by_id = {r.claim.id: r for r in rep.results}
    assert by_id["rows"].verdict.value == "reproduced" and by_id["rows"].measured == 2
    assert by_id["words"].verdict.value == "not reproduced" and by_id["words"].measured == 6
    assert "words per line [3, 3]" in by_id["words"].reason
    assert rep.deviations == ["a word is a whitespace-separated token"]


def test_failing_recipe_gives_errors_not_a_crash(tiny):
    ds, folder = tiny
    ds = Dataset(**{**ds.__dict__, "audit": DatasetAudit(ds.audit.claims, f"{__name__}:failing_recipe")})
    rep = run_audit(ds, folder)
    assert rep.status == "FAILED"
    assert all(r.verdict.value == "error" and "column 'x' missing" in r.reason for r in rep.results)


def test_audit_card_errors_name_file_and_field(tmp_path):
    bad = tmp_path / "bad_audit.toml"
    bad.write_text(textwrap.dedent("""\
        dataset = "tiny"
        [[claims]]
        id = "rows"
        description = "rows"
        source = ""
        metric = "n"
        value = 2
        higher_is_better = true
        tolerance = { absolute = 0 }
    """))
    with pytest.raises(CardError) as exc:
        load_audit_card(bad)
    msg = str(exc.value)
    assert str(bad) in msg and "claims[0].source" in msg and "claims[0].tolerance.why" in msg


def test_audit_dataset_writes_json_and_markdown(tiny, tmp_path):
    ds, folder = tiny
    rep = audit_dataset(ds, folder, tmp_path / "out")
    d = json.loads((tmp_path / "out" / "audit.json").read_text())
    assert d["verdicts"]["reproduced"] == 1 and d["verdicts"]["not reproduced"] == 1
    md = (tmp_path / "out" / "audit.md").read_text()
    assert "| words | 5 | 6 | +1 |" in md and rep.status == "FINISHED"


def test_missing_data_skips_every_claim_with_the_reason(tiny, tmp_path):
    ds, folder = tiny
    (folder / "data.txt").write_text("changed\n")
    rep = audit_dataset(ds, folder, tmp_path / "out")
    assert rep.status == "UNAVAILABLE"
    assert all(r.verdict.value == "skipped" and "sha256" in r.reason for r in rep.results)


def test_ledger_counts_the_latest_real_data_audit_and_records_it(tiny, tmp_path):
    from affrepro import ledger
    from affrepro.cli import audits_markdown

    ds, folder = tiny
    runs = tmp_path / "runs"
    audit_dataset(ds, folder, runs / "_audits" / "tiny" / "a")
    counts = ledger.latest_runs(runs)
    assert counts["datasets"]["tiny"]["reproduced"] == 1 and counts["datasets"]["tiny"]["not reproduced"] == 1
    path = ledger.record(counts, tmp_path / "ledger.json")
    assert ledger.load_ledger(path)["datasets"]["tiny"]["not reproduced"] == 1
    assert "| tiny | 2 | 1 | 1 | p-2020 |" in audits_markdown([("tiny", 2, ["p-2020"])], counts["datasets"])
    assert "| other | 3 | — | — | — |" in audits_markdown([("other", 3, [])], counts["datasets"])


def test_an_audit_card_can_name_the_papers_whose_reports_include_it(registries):
    from affrepro.audit import audited_with

    assert [d.name for d in audited_with("araus-2022", registries, ["araus"])] == ["araus-soundscapes"]
    assert audited_with("araus-2022", registries, ["araus", "araus-soundscapes"]) == []
    assert "meld" in [d.name for d in audited_with("prc-emo-2025", registries, [])]


def test_a_broken_audit_card_fails_its_audit_not_the_run(tiny, tmp_path):
    from affrepro.audit import audits_for

    ds, folder = tiny
    bad = tmp_path / "broken_audit.toml"
    bad.write_text("dataset = 'tiny'\n")
    ds = Dataset(**{**ds.__dict__, "audit": DatasetAudit(bad, ds.audit.recipe)})
    (entry,) = audits_for([ds], {"tiny": folder}, {}, dry_run=False)
    assert entry["status"] == "FAILED" and "at least one [[claims]]" in entry["error"]
