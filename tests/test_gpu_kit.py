"""The GPU-session kit (tools/gpu/): the scripts parse, and run_checks.sh on a machine
without a CUDA GPU stops at once with exit status 2 and says what to do, instead of
spending a GPU session's minutes discovering it (README, "GPU checks")."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = sorted((ROOT / "tools" / "gpu").glob("*.sh"))
BASH = shutil.which("bash")
pytestmark = pytest.mark.skipif(BASH is None, reason="needs bash")


def test_the_kit_is_there():
    assert {p.name for p in SCRIPTS} >= {"prepare.sh", "run_checks.sh", "collect.sh"}


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_scripts_parse(script):
    out = subprocess.run([BASH, "-n", str(script)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def test_run_checks_without_a_gpu_exits_2_with_instructions(tmp_path):
    # a PATH with bash's tools but no nvidia-smi: the machine has no CUDA GPU
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for tool in ("date", "dirname", "mkdir", "mktemp", "cat", "tee", "printf"):
        found = shutil.which(tool)
        if found:
            (bindir / tool).symlink_to(found)
    env = {k: v for k, v in os.environ.items() if k not in ("AFFREPRO_GPU_DRY", "OUT")}
    env["PATH"] = str(bindir)
    out = subprocess.run([BASH, str(ROOT / "tools" / "gpu" / "run_checks.sh")], env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2, out.stdout + out.stderr
    assert "no CUDA GPU here" in out.stdout and "AFFREPRO_GPU_DRY=1" in out.stdout
    unknown = subprocess.run([BASH, str(ROOT / "tools" / "gpu" / "run_checks.sh"), "nonsense"],
                             env=env, capture_output=True, text=True, timeout=60)
    assert unknown.returncode == 3 and "unknown step 'nonsense'" in unknown.stderr
