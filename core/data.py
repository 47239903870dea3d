"""Dataset acquisition and verification.

Public data: ``fetch`` downloads each file from its original URL (or copies it from
``AFFREPRO_DATA_MIRROR/<dataset>/<file>``), checks its sha256 (or the sha512 an author
publishes), and renames it into place only when it matches; a ZIP declared ``extract`` is
then unpacked into the dataset folder (members checked for unsafe paths). A download that is cut short keeps ``<file>.part`` and resumes
with an HTTP Range request; a file lock makes concurrent fetches of one dataset
download once. Licensed data is never downloaded: ``link`` records where the user keeps
it and ``verify`` lists every missing or malformed file.
"""
from __future__ import annotations

import http.client
import json
import os
import shutil
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from affrepro import paths
from affrepro.components import Dataset, DataFile, Problem
from affrepro.errors import ChecksumError, DataError, DownloadError, MissingDataError
from affrepro.fileio import atomic_write_json, atomic_write_text, hash_file, sha256_file

LOCK_NAME = ".affrepro-fetch.lock"
LINKS_FILE = "links.json"
_CHUNK = 1 << 16
Progress = Callable[[str, int, int | None], None]  # (file name, bytes so far, total or None)


@dataclass(frozen=True)
class FetchResult:
    path: Path
    fetched: list[str]  # files that were downloaded or copied this time
    present: list[str]  # files that were already in place and verified
    replaced: list[str] = field(default_factory=list)  # damaged local copies fetched again (why)


# -- locations -----------------------------------------------------------------------

def links() -> dict[str, str]:
    f = paths.data_dir() / LINKS_FILE
    if not f.exists():
        return {}
    try:
        obj = json.loads(f.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DataError(f"{f}, line {exc.lineno}: not valid JSON ({exc.msg}); "
                        "expected {{\"dataset\": \"/path\", ...}}") from exc
    if not isinstance(obj, dict):
        raise DataError(f"{f}: expected a JSON object of dataset name -> folder")
    return obj


def link(dataset: Dataset, folder: Path | str) -> Path:
    """Remember that ``dataset`` lives in ``folder`` (an existing directory)."""
    folder = Path(folder).expanduser().resolve()
    if not folder.is_dir():
        raise DataError(f"cannot link {dataset.name!r}: {folder} is not a directory")
    current = links()
    current[dataset.name] = str(folder)
    atomic_write_json(paths.data_dir() / LINKS_FILE, current)
    return folder


def dataset_path(dataset: Dataset, override: Path | str | None = None) -> Path:
    """Where the dataset is (or would be): an explicit folder, a link, or the data dir."""
    if override is not None:
        return Path(override).expanduser()
    linked = links().get(dataset.name)
    if linked:
        return Path(linked)
    return paths.data_dir() / dataset.name


# -- verification --------------------------------------------------------------------

def verify(dataset: Dataset, folder: Path | str | None = None) -> list[Problem]:
    """Every problem with the dataset's folder: missing files, checksum mismatches, and
    whatever the dataset's own layout verifier reports. An empty list means it is fine."""
    root = dataset_path(dataset, folder)
    if not root.is_dir():
        return [Problem(str(root), "folder does not exist")]
    problems: list[Problem] = []
    for f in dataset.files:
        p = root / f.name
        if not p.is_file():
            if not f.extract:  # an unpacked archive may be gone; its contents are verified below
                problems.append(Problem(str(p), "missing"))
        elif f.digest and (actual := hash_file(p, f.digest[0])) != f.digest[1]:
            algo = f.digest[0]
            problems.append(Problem(str(p), f"checksum mismatch: {algo} {actual}, expected {f.digest[1]}",
                                    expected=f"{algo} {f.digest[1]}", actual=f"{algo} {actual}"))
    if dataset.verify is not None:
        problems.extend(dataset.verify(root))
    return problems


def checksums(dataset: Dataset, folder: Path | str | None = None) -> dict[str, str]:
    """sha256 of every declared file (or, without a list, every file) in the folder."""
    root = dataset_path(dataset, folder)
    names = [f.name for f in dataset.files if not f.extract] or sorted(
        str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and not p.name.startswith(".")
    )
    return {n: sha256_file(root / n) for n in names if (root / n).is_file()}


def require(dataset: Dataset, folder: Path | str | None = None) -> Path:
    """The dataset's folder if it verifies, else MissingDataError saying how to get it."""
    problems = verify(dataset, folder)
    if problems:
        shown = "\n  ".join(str(p) for p in problems[:20])
        more = f"\n  … and {len(problems) - 20} more" if len(problems) > 20 else ""
        raise MissingDataError(
            f"dataset {dataset.name!r} is not usable:\n  {shown}{more}\n{how_to_get(dataset)}"
        )
    return dataset_path(dataset, folder)


def short_how(dataset: Dataset) -> str:
    """One line for a skip reason; ``how_to_get`` has the full instructions."""
    if dataset.access == "public" and not dataset.auto_fetch:
        return (f"Fetch it with `affrepro data fetch {dataset.name}` (large, so reproduce does not "
                f"download it on its own), or link a copy: `affrepro data link {dataset.name} PATH`.")
    if dataset.access == "public":
        return f"Fetch it with `affrepro data fetch {dataset.name}` (or set AFFREPRO_DATA_MIRROR)."
    return (f"It is licensed: obtain it from {dataset.homepage}, then `affrepro data link {dataset.name} PATH` "
            f"(`affrepro data verify {dataset.name}` says what the folder must hold).")


def how_to_get(dataset: Dataset) -> str:
    if dataset.access == "public":
        return (f"Get it with `affrepro data fetch {dataset.name}` (or set AFFREPRO_DATA_MIRROR "
                f"to a folder holding {dataset.mirror_dir}/).")
    text = dataset.how_to_get or f"Request it from {dataset.homepage}."
    return (f"{text} Then `affrepro data link {dataset.name} PATH` and "
            f"`affrepro data verify {dataset.name}`.")


# -- fetching ------------------------------------------------------------------------

def fetch(dataset: Dataset, folder: Path | str | None = None, *, progress: Progress | None = None,
          lock_timeout: float = 600.0, retries: int = 3) -> FetchResult:
    """Fetch every file of a public dataset into its folder, verified; see the module doc."""
    from filelock import FileLock, Timeout

    if dataset.access != "public":
        raise DataError(f"{dataset.name!r} is licensed and never downloaded. {how_to_get(dataset)}")
    missing_sums = [f.name for f in dataset.files if not f.digest]
    if missing_sums:
        raise DataError(f"dataset {dataset.name!r} declares no sha256/sha512 for {', '.join(missing_sums)}")
    root = Path(folder) if folder is not None else paths.data_dir() / dataset.name
    root.mkdir(parents=True, exist_ok=True)
    fetched, present, replaced = [], [], []
    from affrepro import verified

    try:
        with FileLock(str(root / LOCK_NAME), timeout=lock_timeout):
            verified.forget(dataset)  # "verified" again only once every file below checks out
            for f in dataset.files:
                final = root / f.name
                if f.extract and _marker(root, f).is_file() and _marker(root, f).read_text().strip() == f.digest[1]:
                    present.append(f.name)  # unpacked before (the archive may have been deleted)
                    continue
                actual = hash_file(final, f.digest[0]) if final.is_file() else None
                if actual == f.digest[1]:
                    present.append(f.name)
                else:
                    if actual is not None:  # there, but not the declared file: say so
                        replaced.append(f"{f.name} had {f.digest[0]} {actual}, expected {f.digest[1]}")
                    _fetch_file(dataset, f, final, progress, retries)
                    fetched.append(f.name)
                if f.extract:
                    _extract(final, root)
                    atomic_write_text(_marker(root, f), f.digest[1] + "\n")
            verified.record(dataset, root, "data fetch (every file's checksum)")
    except Timeout as exc:
        raise DataError(f"another process has held the lock on {root} for {lock_timeout:.0f} s") from exc
    return FetchResult(root, fetched, present, replaced)


def _fetch_file(dataset: Dataset, f: DataFile, final: Path, progress: Progress | None,
                retries: int) -> None:
    final.parent.mkdir(parents=True, exist_ok=True)
    part = final.with_name(final.name + ".part")
    mirror = paths.mirror_dir()
    mirrored = mirror / dataset.mirror_dir / f.name if mirror else None
    if mirrored is not None and mirrored.is_file():
        source = str(mirrored)
        shutil.copyfile(mirrored, part)
    elif f.url:
        source = f.url
        check_url(dataset, f)
        _download(f.url, part, f.name, progress, retries)
    else:
        where = f" (no file at {mirrored})" if mirrored else ""
        raise MissingDataError(f"{dataset.name}/{f.name} has no URL and no mirror copy{where}")
    algorithm, expected = f.digest
    actual = hash_file(part, algorithm)
    if actual != expected:
        part.unlink(missing_ok=True)
        raise ChecksumError(final, expected, actual, source, algorithm)
    os.replace(part, final)


LOOPBACK = ("127.0.0.1", "localhost", "::1")


def check_url(dataset: Dataset, f: DataFile) -> None:
    """Only https leaves the machine; ``file://`` only where the plugin declares a local
    source (``DataFile(local_source=True)``); plain http only to this machine (loopback)."""
    import urllib.parse

    url = urllib.parse.urlsplit(f.url or "")
    if url.scheme == "https" and url.netloc:
        return
    if url.scheme == "file" and f.local_source:
        return
    if url.scheme == "http" and url.hostname in LOOPBACK:
        return
    hint = ("declare DataFile(local_source=True) for a file:// source" if url.scheme == "file"
            else "only https:// URLs are fetched")
    raise DownloadError(f"{dataset.name}/{f.name}: refusing to fetch {f.url!r}: {hint}")


def _marker(root: Path, f: DataFile) -> Path:
    return root / f".affrepro-unpacked-{Path(f.name).name}"


def _extract(archive: Path, root: Path) -> None:
    """Unpack a verified ZIP into ``root``: every member lands below ``root`` (absolute
    paths and ``..`` are refused), first into a scratch folder, then renamed into place."""
    import tempfile
    import zipfile

    try:
        zf = zipfile.ZipFile(archive)
    except zipfile.BadZipFile as exc:
        raise DataError(f"{archive}: not a ZIP archive ({exc})") from exc
    with zf, tempfile.TemporaryDirectory(prefix=".affrepro-unpack-", dir=root) as scratch:
        for member in zf.namelist():
            parts = Path(member).parts
            if Path(member).is_absolute() or ".." in parts or (parts and ":" in parts[0]):
                raise DataError(f"{archive}: member {member!r} would land outside {root}; refused")
        zf.extractall(scratch)
        for top in sorted(Path(scratch).iterdir()):
            target = root / top.name
            if target.is_dir() and top.is_dir():
                shutil.copytree(top, target, dirs_exist_ok=True)
            else:
                if target.is_dir():
                    shutil.rmtree(target)
                os.replace(top, target)


def _download(url: str, part: Path, label: str, progress: Progress | None, retries: int) -> None:
    """Download ``url`` into ``part``, resuming from its current size, retrying cut transfers."""
    last_error: Exception | None = None
    for attempt in range(retries + 1):
        have = part.stat().st_size if part.exists() else 0
        req = urllib.request.Request(url, headers={"User-Agent": "affrepro"})
        if have:
            req.add_header("Range", f"bytes={have}-")
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                status = getattr(resp, "status", 200)
                if have and status != 206:  # server ignored the range: start again
                    have = 0
                length = resp.headers.get("Content-Length")
                expected = int(length) if length is not None else None
                total = (have + expected) if expected is not None else None
                received = 0
                with open(part, "ab" if have else "wb") as out:
                    while chunk := resp.read(_CHUNK):
                        out.write(chunk)
                        received += len(chunk)
                        if progress:
                            progress(label, have + received, total)
                if expected is not None and received < expected:
                    raise DownloadError(f"{url}: connection closed after {have + received} of {total} bytes")
            return
        except urllib.error.HTTPError as exc:
            if exc.code == 416 and have:  # range past the end: the .part is stale
                part.unlink(missing_ok=True)
                last_error = exc
                continue
            raise DownloadError(f"{url}: HTTP {exc.code} {exc.reason}") from exc
        except (urllib.error.URLError, OSError, http.client.HTTPException, DownloadError) as exc:
            last_error = exc
            time.sleep(min(0.2 * 2**attempt, 2.0))
    size = part.stat().st_size if part.exists() else 0
    raise DownloadError(
        f"{url}: download interrupted ({last_error}); {size} bytes kept in {part}, "
        "run the command again to resume"
    )
