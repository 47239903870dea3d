"""What a citation needs: every card's BibTeX parses back (bibtexparser) to the card's own
fields and holds nothing the card does not; a missing field is "not recorded"; the "cite
this run" block's fingerprint, commit, checksums and wall time agree with independent
computations."""
from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from affrepro.card import load_card
from affrepro.citation import bibtex, consistency_checks, paper_metadata

sys.path.insert(0, str(Path(__file__).parent))
from toy_plugin import SLUG, state_with_toy, write_card, write_predictions  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
CARDS = sorted((ROOT / "reproductions").glob("*/paper.toml"))


def _parse(text: str):
    import bibtexparser
    from bibtexparser.middlewares import LatexDecodingMiddleware

    lib = bibtexparser.parse_string(text, append_middleware=[LatexDecodingMiddleware()])
    assert not lib.failed_blocks, text
    (entry,) = lib.entries
    return entry


@pytest.mark.parametrize("path", CARDS, ids=[p.parent.name for p in CARDS])
def test_every_cards_bibtex_parses_back_to_the_cards_fields(path):
    card = load_card(path)
    entry = _parse(bibtex(paper_metadata(card), card.slug))
    fields = {f.key.lower(): f.value for f in entry.fields}
    assert fields["title"] == card.title.replace("--", "\u2013")  # LaTeX reads -- as an en dash
    if card.authors:
        assert [a.strip() for a in fields["author"].split(" and ")] == list(card.authors)
    else:  # a card without its author list (emotion-deep-2025): no author field at all
        assert "author" not in fields
    assert fields["year"] == str(card.year)
    venue = fields.get("journal") or fields.get("booktitle") or fields.get("howpublished")
    assert venue == (None if card.venue.lower().startswith("arxiv") else card.venue)
    assert fields.get("doi") == (card.doi or None)
    assert fields.get("eprint") == (card.arxiv or None)
    expected_url = (f"https://doi.org/{card.doi}" if card.doi else
                    f"https://arxiv.org/abs/{card.arxiv}" if card.arxiv else None)
    assert fields.get("url") == expected_url
    known = {"title", "author", "year", "journal", "booktitle", "howpublished", "doi", "eprint",
             "archiveprefix", "url"}
    assert set(fields) <= known  # no field the card does not hold (no pages, volume, …)


def test_a_card_without_doi_or_arxiv_says_not_recorded(tmp_path):
    from affrepro.runner import reproduce

    card = load_card(write_card(tmp_path / "card", llm_claim=False))
    assert not card.doi and not card.arxiv
    entry = _parse(bibtex(paper_metadata(card), card.slug))
    assert {f.key for f in entry.fields}.isdisjoint({"doi", "eprint", "url"})
    write_predictions(tmp_path / "d", correct=75)
    state = state_with_toy(tmp_path / "card" / "paper.toml")
    reproduce(SLUG, data_dirs={"toy-licensed": tmp_path / "d"}, output_dir=tmp_path / "o", track=False,
              registries=state.registries)
    md = (tmp_path / "o" / "report.md").read_text()
    assert "- DOI: not recorded" in md and "- arXiv: not recorded" in md
    html = (tmp_path / "o" / "report.html").read_text()
    assert "DOI: not recorded" in html


def test_cite_this_run_agrees_with_independent_computations(tmp_path, tracking_uri):
    from affrepro.runner import protocol_hash, reproduce

    write_card(tmp_path / "card", llm_claim=False)
    write_predictions(tmp_path / "d", correct=75)
    state = state_with_toy(tmp_path / "card" / "paper.toml")
    t0 = time.perf_counter()
    report = reproduce(SLUG, data_dirs={"toy-licensed": tmp_path / "d"}, output_dir=tmp_path / "o",
                       tracking_uri=tracking_uri, registries=state.registries)
    outer = time.perf_counter() - t0
    d = json.loads((tmp_path / "o" / "report.json").read_text())
    run = d["citation"]["run"]
    card = state.registries.reproductions.get(SLUG).card
    assert run["protocol_fingerprint"] == protocol_hash(card, tuple(report.seeds), "cpu")
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    assert run["git_commit"].removesuffix("-dirty") == head
    digest = hashlib.sha256((tmp_path / "d" / "predictions.csv").read_bytes()).hexdigest()
    assert run["data"]["toy-licensed"]["sha256"] == {"predictions.csv": digest}
    assert 0 < d["duration_s"] <= outer
    md = (tmp_path / "o" / "report.md").read_text()
    block = md.split("## Cite this run", 1)[1]
    assert f"protocol fingerprint: {run['protocol_fingerprint']}" in block
    assert f"sha256 {digest}  predictions.csv" in block and f"MLflow run:           {report.run_id}" in block
    assert f"wall time:            {d['duration_s']} s" in block


def test_consistency_checks_are_the_protocols_yes_no_facts_and_its_check_table():
    details = {"consistency_checks": {"n_dev": 35, "agrees": True}, "csv_is_public_copy": False,
               "dataset": {"n": 3}, "note": "text"}
    assert consistency_checks(details) == [
        {"name": "n_dev", "value": 35, "ok": None}, {"name": "agrees", "value": True, "ok": True},
        {"name": "csv_is_public_copy", "value": False, "ok": False}]
