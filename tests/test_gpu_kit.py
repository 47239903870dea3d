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
    for var, value in (("AFFREPRO_GPU_TESTS_S", "0"), ("AFFREPRO_GPU_BUDGET_S", "5m")):
        bad = subprocess.run([BASH, str(ROOT / "tools" / "gpu" / "run_checks.sh")],
                             env={**env, var: value}, capture_output=True, text=True, timeout=60)
        assert bad.returncode == 3 and f"{var} must be a whole number" in bad.stderr, bad.stderr
        assert "line " not in bad.stderr, bad.stderr  # no shell error before the message


def test_collect_files_bench_and_sweep_by_gpu_and_never_overwrites(tmp_path):
    import json
    import sys

    came_back = tmp_path / "files_at"
    came_back.mkdir()
    ident = {"device_label": "cuda-nvidia-h100-80gb-hbm3", "gpu": "NVIDIA H100 80GB HBM3",
             "cpu": "Intel Xeon"}
    (came_back / "bench_spectral.json").write_text(json.dumps({
        "datetime": "2026-12-01T10:20:30.123", "machine_info": {"affrepro": ident},
        "benchmarks": [{"name": "test_gpu_ours", "stats": {"min": 0.002, "median": 0.002},
                        "extra_info": {"kernel": "logmel", "workload": "c", "impl": "ours",
                                       "device": "cuda"}}]}))
    (came_back / "sweep_spectral.json").write_text(json.dumps({
        "gpu": "NVIDIA H100 80GB HBM3", "rows": [{"name": "bt8 kc8 w4", "ms": 3.0}]}))
    results = tmp_path / "results"
    env = {**os.environ, "AFFREPRO_RESULTS_DIR": str(results), "PYTHON": sys.executable}
    cmd = [BASH, str(ROOT / "tools" / "gpu" / "collect.sh"), str(came_back)]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    gpu_dir = results / "cuda-nvidia-h100-80gb-hbm3"
    assert [p.name for p in gpu_dir.glob("*.json")] == ["20261201T102030-spectral.json"]
    sweeps = list((gpu_dir / "sweeps").glob("*-spectral-sweep.json"))
    assert len(sweeps) == 1 and oct(sweeps[0].stat().st_mode & 0o777) == "0o644"
    assert "logmel" in out.stdout  # the bench compare table
    again = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert again.stdout.count("exists: not overwritten") == 2
    # a CPU rehearsal's sweep is not a GPU result
    (came_back / "bench_spectral.json").unlink()
    (came_back / "sweep_spectral.json").write_text(json.dumps({"gpu": "CPU rehearsal",
                                                               "rows": []}))
    rehearsal = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert rehearsal.returncode == 1 and "CPU rehearsal: skipped" in rehearsal.stdout


def test_sweep_pick_exports_the_kernel_it_timed():
    """The sweep's pick reaches triton_impl as the variables it reads at import: a radix-2
    winner turns the radix-2 kernel on with its settings, a two-stage winner turns it off
    (radix-2 is the default), and a variant past 1e-3 dB or in one-pass tf32 is never
    picked however fast."""
    import importlib.util
    import json
    import sys

    spec = importlib.util.spec_from_file_location(
        "sweep_spectral", ROOT / "tools" / "gpu" / "sweep_spectral.py")
    sweep = importlib.util.module_from_spec(spec)
    saved_path = list(sys.path)
    try:
        spec.loader.exec_module(sweep)  # puts benchmarks/ on sys.path for its own imports
    finally:
        sys.path[:] = saved_path
    rows = [{"name": name, "settings": {**sweep.BASE, **kw}, "ms": 1.0 + i,
             "max_abs_err_db": 5e-4} for i, (name, kw) in enumerate(sweep.VARIANTS)]
    radix = next(r for r in rows if r["settings"]["radix"])
    two_stage = next(r for r in rows if not r["settings"]["radix"]
                     and "precision" not in r["settings"])
    tf32 = next(r for r in rows if "precision" in r["settings"])
    tf32["ms"] = 0.01
    radix["ms"] = 0.1
    radix["max_abs_err_db"] = 1.5e-3  # fastest after tf32, but outside the bound
    two_stage["ms"] = 0.5
    assert sweep.pick(rows) is two_stage
    radix["max_abs_err_db"] = 9e-4
    assert sweep.pick(rows) is radix

    probe = ("import json; from affrepro.kernels.spectral import triton_impl as t; "
             "print(json.dumps([t.FFT_RADIX2, t.fft_launch_settings()]))")
    for row, on in ((radix, True), (two_stage, False)):
        env = {k: v for k, v in os.environ.items() if not k.startswith("AFFREPRO_TRITON")}
        env.update(line.split("=", 1) for line in sweep.env_lines(row))
        out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True,
                             text=True, timeout=120)
        assert out.returncode == 0, out.stderr[-2000:]
        flag, launch = json.loads(out.stdout.strip().splitlines()[-1])
        assert flag is on, (row["name"], sweep.env_lines(row))
        assert launch["block_t"] == row["settings"]["block_t"]
        assert launch["num_warps"] == row["settings"]["num_warps"]
