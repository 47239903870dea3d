"""Exit codes (docs/exit-codes.md), --fail-on, integrity failures as `error` verdicts, and
a run that measured nothing saying what it needs (issue 20)."""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import public_toy  # noqa: E402

DOC = Path(__file__).resolve().parents[2] / "docs" / "exit-codes.md"


def test_the_documented_table_is_the_code():
    from affrepro.exit_status import EXIT_CODES

    rows = re.findall(r"^\| (\d+) \| (.+) \|$", DOC.read_text(encoding="utf-8"), flags=re.M)
    assert {int(c): text for c, text in rows} == EXIT_CODES


@pytest.mark.parametrize("text, expected", [("not-reproduced,error", {"not reproduced", "error"}),
                                            ("Skipped", {"skipped"}), ("within noise", {"within noise"})])
def test_fail_on_takes_any_subset_of_verdict_names(text, expected):
    from affrepro.exit_status import parse_fail_on

    assert parse_fail_on(text) == expected


@pytest.fixture
def toy_cli(tmp_path, monkeypatch, cli_runner):
    monkeypatch.setenv("AFFREPRO_DATA_MIRROR", str(public_toy.make_mirror(tmp_path / "mirror")))

    def run(*args, value=0.75):
        public_toy.install(tmp_path, monkeypatch, value=value)
        return cli_runner("reproduce", public_toy.SLUG, "--no-track", "-o", str(tmp_path / "run"), *args)
    return run


@pytest.mark.parametrize("fail_on, value, code", [(None, 0.5, 0), ("not-reproduced", 0.5, 3),
                                                  ("not-reproduced,error", 0.75, 0),
                                                  ("reproduced", 0.75, 3)])
def test_fail_on_gates_a_finished_run_with_exit_3(toy_cli, fail_on, value, code):
    res = toy_cli(*(["--fail-on", fail_on] if fail_on else []), value=value)
    assert res.exit_code == code, res.output
    if code == 3:
        assert "--fail-on: 1 " in res.output and "(exit 3)" in res.output


@pytest.mark.parametrize("bad", ["maybe", "not-reproduced,,error", ""])
def test_an_unknown_verdict_name_is_a_usage_error(toy_cli, bad):
    res = toy_cli("--fail-on", bad)
    assert res.exit_code == 2 and "--fail-on" in res.output and "expected" in res.output, res.output


def test_a_tampered_mirror_is_an_error_naming_the_file_and_both_digests(toy_cli, tmp_path):
    mirrored = tmp_path / "mirror" / public_toy.DATASET / public_toy.FILE
    mirrored.write_bytes(b"value\n0.99\n")
    res = toy_cli("--fail-on", "not-reproduced")
    assert res.exit_code == 1, res.output  # a failed run, not "not downloaded yet" (exit 0)
    d = json.loads((tmp_path / "run" / "report.json").read_text())
    (claim,) = d["claims"]
    actual = __import__("hashlib").sha256(b"value\n0.99\n").hexdigest()
    assert d["status"] == "FAILED" and claim["verdict"] == "error"
    assert public_toy.FILE in claim["reason"] and public_toy.SHA in claim["reason"] and actual in claim["reason"]
    assert d["data"][public_toy.DATASET]["status"] == "integrity failure"
    assert not (tmp_path / "affrepro-data" / public_toy.DATASET / public_toy.FILE).exists()


def test_reproduce_says_it_replaced_a_tampered_local_copy(toy_cli, tmp_path):
    assert toy_cli().exit_code == 0
    local = tmp_path / "affrepro-data" / public_toy.DATASET / public_toy.FILE
    local.write_bytes(b"value\n0.10\n")
    res = toy_cli()
    assert res.exit_code == 0, res.output
    text = " ".join(res.output.split())
    assert "the local copy was damaged" in text and public_toy.SHA in text and "fetched again" in text
    d = json.loads((tmp_path / "run" / "report.json").read_text())
    assert d["claims"][0]["verdict"] == "reproduced" and local.read_bytes() == public_toy.PAYLOAD
    assert any("local copy was damaged" in w for w in d["warnings"])
    assert d["data"][public_toy.DATASET]["replaced"][str(local)]["expected"] == f"sha256 {public_toy.SHA}"
    assert "local copy was damaged" in (tmp_path / "run" / "report.md").read_text()


def test_a_tampered_copy_given_with_data_dir_is_an_error_too(toy_cli, tmp_path):
    folder = tmp_path / "mine"
    public_toy._write(folder, b"value\n0.75 \n")
    res = toy_cli("--data-dir", f"{public_toy.DATASET}={folder}")
    assert res.exit_code == 1 and "integrity failure" in " ".join(res.output.split()), res.output


def test_sewa_without_its_corpus_says_what_it_needs(cli_runner, tmp_path):
    """sewa-2019 has no claims, only results its protocol computes from the licensed corpus."""
    res = cli_runner("reproduce", "sewa-2019", "--no-track", "-o", str(tmp_path / "run"))
    text = " ".join(res.output.split())
    assert res.exit_code == 0, res.output  # finished: nothing failed, something is missing here
    assert "nothing was measured for sewa-2019; it needs dataset 'sewa-avec2019'" in text
    assert "affrepro data link sewa-avec2019 PATH" in text
    d = json.loads((tmp_path / "run" / "report.json").read_text())
    assert d["status"] == "FINISHED" and "sewa-avec2019" in d["details"]["not_run"]["needs"][0]
    assert "nothing was measured" in (tmp_path / "run" / "report.md").read_text()
    gated = cli_runner("reproduce", "sewa-2019", "--no-track", "-o", str(tmp_path / "r2"), "--fail-on", "skipped")
    assert gated.exit_code == 3, gated.output  # measuring nothing counts as skipped for a CI gate


def test_a_paper_whose_claims_were_all_skipped_says_nothing_was_measured(toy_cli, monkeypatch, tmp_path):
    monkeypatch.delenv("AFFREPRO_DATA_MIRROR")
    monkeypatch.setattr("affrepro.data.time.sleep", lambda s: None)  # no back-off between retries
    public_toy.install(tmp_path, monkeypatch)
    from affrepro.runner import reproduce

    report = reproduce(public_toy.SLUG, output_dir=tmp_path / "o", track=False)
    assert report.status == "FINISHED" and report.results[0].verdict.value == "skipped"
    assert report.details["not_run"]["needs"][0].startswith(f"dataset '{public_toy.DATASET}'")
    assert any(w.startswith(f"nothing was measured for {public_toy.SLUG}") for w in report.warnings)


def test_data_audit_takes_fail_on_too(cli_runner, monkeypatch, tmp_path):
    """The tiny audit of test_audit.py: 'rows' reproduced, 'words' not reproduced (6, not 5)."""
    from affrepro import hookimpl, plugin_manager
    from affrepro.audit import DatasetAudit
    from affrepro.components import DataFile, Dataset
    from affrepro.fileio import sha256_file
    from test_audit import CARD

    folder = tmp_path / "tiny"
    folder.mkdir()
    (folder / "data.txt").write_text("one two three\nfour five six\n")
    card = tmp_path / "tiny_audit.toml"
    card.write_text(CARD)

    class Tiny:
        @hookimpl
        def register_datasets(self, register):
            register(Dataset("tiny", "tiny", "public", "CC0", "https://example.org",
                             files=(DataFile("data.txt", sha256_file(folder / "data.txt")),),
                             audit=DatasetAudit(card, "test_audit:count_recipe")))

    monkeypatch.setattr(plugin_manager, "_STATE", plugin_manager.build_plugin_manager(
        extra_plugins=[("tiny", Tiny())], load_entry_points=False))
    args = ("data", "audit", "tiny", "--data-dir", str(folder), "-o", str(tmp_path / "a"))
    assert cli_runner(*args).exit_code == 0
    gated = cli_runner(*args, "--fail-on", "not-reproduced")
    assert gated.exit_code == 3 and "--fail-on: 1 not reproduced (exit 3)" in gated.output
    missing = cli_runner("data", "audit", "tiny", "--data-dir", str(tmp_path / "none"), "--fail-on", "error")
    assert missing.exit_code == 0, missing.output  # no data: claims skipped, not a failure
