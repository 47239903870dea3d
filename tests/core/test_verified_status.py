"""`list`/`report` call a paper runnable from verified data (affrepro.verified), never from
a folder's existence: a failed fetch leaves a folder holding only its lock (issue 20)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import public_toy  # noqa: E402


@pytest.fixture
def large_toy(tmp_path, monkeypatch):
    """The toy dataset marked large (never fetched by reproduce), as araus is."""
    return public_toy.install(tmp_path, monkeypatch, auto_fetch=False)


def _status(cli_runner) -> dict:
    rows = {r["slug"]: r for r in json.loads(cli_runner("list", "--json").stdout)}
    return rows[public_toy.SLUG]


def test_a_failed_fetch_leaves_the_paper_needing_data(large_toy, cli_runner, tmp_path, monkeypatch):
    monkeypatch.setenv("AFFREPRO_DATA_MIRROR", str(tmp_path / "empty-mirror"))
    monkeypatch.setattr("affrepro.data.time.sleep", lambda s: None)  # no back-off between retries
    res = cli_runner("data", "fetch", public_toy.DATASET)
    assert res.exit_code == 1
    folder = tmp_path / "affrepro-data" / public_toy.DATASET
    assert folder.is_dir() and not (folder / public_toy.FILE).exists()  # only the lock is there
    row = _status(cli_runner)
    assert row["status"] == "needs data" and f"affrepro data fetch {public_toy.DATASET}" in row["detail"]
    table = cli_runner("report", "--md").output
    line = next(ln for ln in table.splitlines() if ln.startswith(f"| {public_toy.SLUG} "))
    assert "runnable here" not in line and "needs data" in line
    shown = cli_runner("show", public_toy.SLUG).output
    assert "  here: needs data (pubtoy (`affrepro data fetch pubtoy`, large))" in shown
    listed = cli_runner("data", "list").output.split(public_toy.DATASET, 1)[1].splitlines()[0].split()
    assert listed[1] == "unverified"  # a folder is there, and that is all that can be said


def test_a_verified_fetch_makes_it_runnable_and_a_changed_file_undoes_that(large_toy, cli_runner, tmp_path,
                                                                           monkeypatch):
    monkeypatch.setenv("AFFREPRO_DATA_MIRROR", str(public_toy.make_mirror(tmp_path / "mirror")))
    assert cli_runner("data", "fetch", public_toy.DATASET).exit_code == 0
    assert _status(cli_runner)["status"] == "runnable here"
    local = tmp_path / "affrepro-data" / public_toy.DATASET / public_toy.FILE
    local.write_bytes(b"value\n0.7\n")  # edited after verification (size and time change)
    assert _status(cli_runner)["status"] == "needs data"
    assert cli_runner("data", "verify", public_toy.DATASET).exit_code == 1
    local.write_bytes(public_toy.PAYLOAD)
    assert cli_runner("data", "verify", public_toy.DATASET).exit_code == 0  # verify marks it again
    assert _status(cli_runner)["status"] == "runnable here"
    assert cli_runner("data", "list").output.split(public_toy.DATASET, 1)[1].split()[1] == "verified"


def test_a_linked_licensed_folder_is_here_only_once_verified(cli_runner, tmp_path):
    """omg-empathy-2019 reads the licensed omg-empathy corpus; an empty folder linked is not it."""
    empty = tmp_path / "not-the-corpus"
    empty.mkdir()
    res = cli_runner("data", "link", "omg-empathy", str(empty))
    assert res.exit_code == 0 and "not verified" in res.output
    rows = {r["slug"]: r for r in json.loads(cli_runner("list", "--json").stdout)}
    assert rows["omg-empathy-2019"]["status"] == "needs data"
    assert "linked but not verified: `affrepro data verify omg-empathy`" in rows["omg-empathy-2019"]["detail"]


def test_data_fetch_says_it_replaced_a_damaged_local_copy(large_toy, cli_runner, tmp_path, monkeypatch):
    monkeypatch.setenv("AFFREPRO_DATA_MIRROR", str(public_toy.make_mirror(tmp_path / "mirror")))
    assert cli_runner("data", "fetch", public_toy.DATASET).exit_code == 0
    local = tmp_path / "affrepro-data" / public_toy.DATASET / public_toy.FILE
    local.write_bytes(b"value\n0.1\n")
    res = cli_runner("data", "fetch", public_toy.DATASET, "--json")
    d = json.loads(res.stdout)
    assert res.exit_code == 0 and d["fetched"] == [public_toy.FILE] and local.read_bytes() == public_toy.PAYLOAD
    (why,) = d["replaced"]
    assert why.startswith(f"{public_toy.FILE} had sha256 ") and why.endswith(f"expected {public_toy.SHA}")
    local.write_bytes(b"value\n0.2\n")
    text = " ".join(cli_runner("data", "fetch", public_toy.DATASET).output.split())
    assert "the local copy was damaged" in text and "fetched again" in text
