"""Machine identity for reports and tracking tags, without importing torch."""
from __future__ import annotations

import os
import platform
import shutil
import subprocess
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

TRACKED_PACKAGES = ("affrepro", "numpy", "pluggy", "click", "mlflow", "scikit-learn", "scipy",
                    "pandas", "torch", "triton", "numba", "librosa")


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def gpus() -> list[dict[str, str]]:
    """NVIDIA GPUs as nvidia-smi reports them (empty where there is none)."""
    smi = shutil.which("nvidia-smi")
    if not smi:
        return []
    try:
        out = subprocess.run(
            [smi, "--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"],
            capture_output=True, text=True, timeout=10, check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    rows = []
    for line in out.strip().splitlines():
        name, driver, memory = (x.strip() for x in line.split(",", 2))
        rows.append({"name": name, "driver": driver, "memory": memory})
    return rows


def package_versions(names: tuple[str, ...] = TRACKED_PACKAGES) -> dict[str, str]:
    found = {}
    for name in names:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            continue
    return found


def versions(packages: tuple[str, ...] = TRACKED_PACKAGES) -> dict[str, str]:
    """CPU model, core count, Python and the named libraries' versions, flat (for a
    benchmark's extra_info)."""
    return {"cpu": cpu_model(), "cpu_count": str(os.cpu_count()),
            "python": platform.python_version(), **package_versions(packages)}


@lru_cache(maxsize=1)
def identity() -> dict[str, object]:
    """CPU model, core count, OS, Python, GPUs and library versions."""
    info: dict[str, object] = {
        "cpu": cpu_model(),
        "cpu_count": os.cpu_count(),
        "machine": platform.machine(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "gpus": gpus(),
        "packages": package_versions(),
    }
    return info


def short_identity() -> str:
    ident = identity()
    gpu = ", ".join(g["name"] for g in ident["gpus"]) or "no GPU"  # type: ignore[union-attr]
    return f"{ident['cpu']} ×{ident['cpu_count']}; {gpu}"


def git_commit() -> str:
    """The commit of the affrepro source tree, when it runs from a checkout; else
    ``AFFREPRO_GIT_COMMIT`` (set by tools/gpu/run_checks.sh, whose installed copy of the
    tree is not a checkout) or "unknown"."""
    here = Path(__file__).resolve().parent
    fallback = os.environ.get("AFFREPRO_GIT_COMMIT") or "unknown"
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True,
                             text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return fallback
    if out.returncode != 0:
        return fallback
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=here,
                           capture_output=True, text=True, timeout=5).stdout.strip()
    return out.stdout.strip() + ("-dirty" if dirty else "")
