"""Where affrepro keeps things. Every location can be overridden by an environment variable."""
from __future__ import annotations

import os
from pathlib import Path


def data_dir() -> Path:
    """Fetched datasets and dataset links: ``AFFREPRO_DATA_DIR`` or the user cache dir."""
    env = os.environ.get("AFFREPRO_DATA_DIR")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("affrepro"))


def home_dir() -> Path:
    """Run outputs and the default MLflow store: ``AFFREPRO_HOME`` or the user data dir."""
    env = os.environ.get("AFFREPRO_HOME")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("affrepro"))


def runs_dir() -> Path:
    return home_dir() / "runs"


def mirror_dir() -> Path | None:
    env = os.environ.get("AFFREPRO_DATA_MIRROR")
    return Path(env).expanduser() if env else None


def new_run_dir(name: str, kind: str = "") -> Path:
    """A fresh folder name for one run's outputs: ``runs/<name>/<UTC stamp>[-<kind>]-<random>``."""
    import datetime as dt
    import uuid

    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return runs_dir() / name / f"{stamp}{'-' + kind if kind else ''}-{uuid.uuid4().hex[:6]}"
