"""Dataset fetch and verify: checksums, atomic writes, resume, locking, mirror, licensed data."""
from __future__ import annotations

import hashlib
import multiprocessing
import os
import sys
from pathlib import Path

import pytest

from affrepro import data as datamod
from affrepro.components import DataFile, Dataset, Problem
from affrepro.errors import ChecksumError, DataError, DownloadError

sys.path.insert(0, str(Path(__file__).parent))
from httpserver import FileServer  # noqa: E402

PAYLOAD_A = os.urandom(50_000)
PAYLOAD_B = b"participant,label\n" + b"1,0\n" * 2000


def sha(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def make_dataset(base_url: str, *, sha_a: str | None = None, name: str = "toy-data") -> Dataset:
    return Dataset(
        name=name, description="toy", access="public", licence="CC0", homepage="https://example.org",
        files=(DataFile("a.bin", sha_a or sha(PAYLOAD_A), f"{base_url}/a.bin"),
               DataFile("sub/b.csv", sha(PAYLOAD_B), f"{base_url}/b.csv")),
    )


@pytest.fixture
def server(no_mirror):
    with FileServer({"/a.bin": PAYLOAD_A, "/b.csv": PAYLOAD_B}) as srv:
        yield srv


def test_fetch_downloads_verifies_and_skips_what_is_present(server, tmp_path):
    ds = make_dataset(server.url)
    result = datamod.fetch(ds)
    assert sorted(result.fetched) == ["a.bin", "sub/b.csv"]
    assert (result.path / "a.bin").read_bytes() == PAYLOAD_A
    assert (result.path / "sub" / "b.csv").read_bytes() == PAYLOAD_B
    assert datamod.verify(ds) == []
    again = datamod.fetch(ds)
    assert again.fetched == [] and sorted(again.present) == ["a.bin", "sub/b.csv"]
    assert len(server.gets) == 2


def test_checksum_mismatch_names_both_digests_and_leaves_nothing(server):
    wrong = "0" * 64
    ds = make_dataset(server.url, sha_a=wrong)
    with pytest.raises(ChecksumError) as err:
        datamod.fetch(ds)
    msg = str(err.value)
    assert wrong in msg and sha(PAYLOAD_A) in msg and "a.bin" in msg
    folder = datamod.dataset_path(ds)
    assert not (folder / "a.bin").exists()
    assert not (folder / "a.bin.part").exists()


def test_dropped_connection_resumes_with_a_range_request(server):
    server.cut_after["/a.bin"] = [20_000]
    ds = make_dataset(server.url)
    datamod.fetch(ds)
    assert (datamod.dataset_path(ds) / "a.bin").read_bytes() == PAYLOAD_A
    ranges = [r for p, r in server.gets if p == "/a.bin"]
    assert ranges == [None, "bytes=20000-"]


def test_interrupted_download_fails_cleanly_and_resumes_next_time(server):
    server.cut_after["/a.bin"] = [10_000, 0, 0]
    ds = make_dataset(server.url)
    with pytest.raises(DownloadError, match="run the command again to resume"):
        datamod.fetch(ds, retries=2)
    folder = datamod.dataset_path(ds)
    assert not (folder / "a.bin").exists()
    assert (folder / "a.bin.part").stat().st_size == 10_000
    datamod.fetch(ds)
    assert (folder / "a.bin").read_bytes() == PAYLOAD_A
    assert server.gets[-2] == ("/a.bin", "bytes=10000-")


def test_mirror_serves_the_files_without_network(tmp_path, monkeypatch):
    mirror = tmp_path / "mirror"
    (mirror / "toy_data" / "sub").mkdir(parents=True)
    (mirror / "toy_data" / "a.bin").write_bytes(PAYLOAD_A)
    (mirror / "toy_data" / "sub" / "b.csv").write_bytes(PAYLOAD_B)
    monkeypatch.setenv("AFFREPRO_DATA_MIRROR", str(mirror))
    ds = make_dataset("http://127.0.0.1:9")  # nothing listens there
    result = datamod.fetch(ds)
    assert sorted(result.fetched) == ["a.bin", "sub/b.csv"]
    assert datamod.verify(ds) == []


def test_mirror_with_a_corrupt_file_is_refused(tmp_path, monkeypatch):
    mirror = tmp_path / "mirror" / "toy_data"
    (mirror / "sub").mkdir(parents=True)
    (mirror / "a.bin").write_bytes(PAYLOAD_A[:-1])
    monkeypatch.setenv("AFFREPRO_DATA_MIRROR", str(tmp_path / "mirror"))
    with pytest.raises(ChecksumError, match="mirror"):
        datamod.fetch(make_dataset("http://127.0.0.1:9"))


def _fetch_in_child(base_url: str, data_dir: str, queue) -> None:
    os.environ["AFFREPRO_DATA_DIR"] = data_dir
    os.environ.pop("AFFREPRO_DATA_MIRROR", None)
    try:
        res = datamod.fetch(make_dataset(base_url))
        queue.put(("ok", sorted(res.fetched)))
    except Exception as exc:  # reported to the parent
        queue.put(("error", repr(exc)))


def test_two_processes_fetching_one_dataset_download_once(server, tmp_path):
    server.delay = 0.01  # ~0.1 s per file: the two processes overlap
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_fetch_in_child, args=(server.url, os.environ["AFFREPRO_DATA_DIR"], queue))
             for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    results = sorted(queue.get(timeout=5) for _ in procs)
    assert all(r[0] == "ok" for r in results), results
    assert sorted(r[1] for r in results) == [[], ["a.bin", "sub/b.csv"]]
    assert sorted(p for p, _ in server.gets) == ["/a.bin", "/b.csv"]


def test_http_error_is_reported_with_the_url(server):
    ds = Dataset(name="toy-data", description="", access="public", licence="", homepage="",
                 files=(DataFile("x", sha(b"x"), f"{server.url}/missing"),))
    with pytest.raises(DownloadError, match="HTTP 404"):
        datamod.fetch(ds)


def test_licensed_data_is_never_downloaded_and_verify_lists_every_problem(tmp_path):
    def verify(folder: Path) -> list[Problem]:
        return [Problem(str(folder / n), "missing") for n in ("x.csv", "y.csv") if not (folder / n).exists()]

    ds = Dataset(name="secret", description="", access="licensed", licence="EULA",
                 homepage="https://example.org", how_to_get="Ask the authors.", verify=verify)
    with pytest.raises(DataError, match="licensed and never downloaded"):
        datamod.fetch(ds)
    problems = datamod.verify(ds)
    assert len(problems) == 1 and "does not exist" in str(problems[0])
    folder = tmp_path / "secret-copy"
    folder.mkdir()
    (folder / "x.csv").write_text("1\n")
    assert datamod.link(ds, folder) == folder.resolve()
    assert datamod.dataset_path(ds) == folder.resolve()
    assert [p.path for p in datamod.verify(ds)] == [str(folder.resolve() / "y.csv")]
    with pytest.raises(DataError, match="not a directory"):
        datamod.link(ds, tmp_path / "nope")


def test_malformed_links_file_names_the_file_and_line(tmp_path):
    links = Path(os.environ["AFFREPRO_DATA_DIR"]) / "links.json"
    links.parent.mkdir(parents=True)
    links.write_text('{\n  "a": "/x",\n  oops\n}')
    with pytest.raises(DataError, match=r"links.json, line 3"):
        datamod.links()


def make_zip(members: dict[str, bytes]) -> bytes:
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def archive_dataset(url: str, blob: bytes, verify=None) -> Dataset:
    return Dataset(name="zipped", description="", access="public", licence="CC BY-NC 4.0",
                   homepage="https://example.org", auto_fetch=False, verify=verify,
                   files=(DataFile("data.zip", None, url, sha512=hashlib.sha512(blob).hexdigest(),
                                   extract=True),))


def test_a_sha512_archive_is_fetched_verified_and_unpacked(no_mirror):
    blob = make_zip({"data/responses.csv": b"a,b\n1,2\n", "data/sub/x.txt": b"x", "README": b"r"})

    def layout(folder: Path) -> list[Problem]:
        p = folder / "data" / "responses.csv"
        return [] if p.is_file() else [Problem(str(p), "missing")]

    with FileServer({"/data.zip": blob}) as srv:
        ds = archive_dataset(f"{srv.url}/data.zip", blob, layout)
        result = datamod.fetch(ds)
        root = result.path
        assert result.fetched == ["data.zip"]
        assert (root / "data" / "responses.csv").read_bytes() == b"a,b\n1,2\n"
        assert (root / "data" / "sub" / "x.txt").read_bytes() == b"x" and (root / "README").is_file()
        assert datamod.verify(ds) == []
        (root / "data.zip").unlink()  # like download.py -d 1: the unpacked contents remain
        assert datamod.verify(ds) == []
        assert datamod.fetch(ds).present == ["data.zip"] and len(srv.gets) == 1


def test_a_wrong_sha512_names_the_algorithm_and_unpacks_nothing(no_mirror):
    blob = make_zip({"data/responses.csv": b"1"})
    with FileServer({"/data.zip": blob}) as srv:
        ds = archive_dataset(f"{srv.url}/data.zip", blob + b"tampered")
        with pytest.raises(ChecksumError, match="expected sha512"):
            datamod.fetch(ds)
        assert not (datamod.dataset_path(ds) / "data").exists()


def test_an_archive_member_escaping_the_folder_is_refused(no_mirror):
    blob = make_zip({"../evil.txt": b"x"})
    with FileServer({"/data.zip": blob}) as srv:
        ds = archive_dataset(f"{srv.url}/data.zip", blob)
        with pytest.raises(DataError, match="outside"):
            datamod.fetch(ds)
        assert not (datamod.dataset_path(ds).parent / "evil.txt").exists()


def test_reproduce_never_downloads_a_dataset_marked_not_auto_fetch(no_mirror, tmp_path):
    from affrepro.runner import resolve_data

    blob = make_zip({"data/x": b"1"})
    with FileServer({"/data.zip": blob}) as srv:
        ds = archive_dataset(f"{srv.url}/data.zip", blob, verify=lambda folder: [])
        res = resolve_data([ds], {}, dry_run=False, scratch=tmp_path, seed=0, stage=lambda m: None)
        assert srv.gets == []
        assert "zipped" in res.unavailable and "affrepro data fetch zipped" in res.unavailable["zipped"]
