"""Running the benchmark suites and comparing their results.

A benchmark in ``benchmarks/`` describes itself in ``extra_info``: ``kernel`` (e.g.
``logmel``), ``workload`` (``a``, ``b``, ``c``…), ``impl`` (``ours`` or the peer's name,
e.g. ``librosa``, ``torch``, ``numpy``, ``torch.compile``), ``device`` (``cpu``/``cuda``).
Speedups are computed within ONE result file (peers timed in the same run); across
files the same implementation is compared, and a pair of files from different machines
or devices is labelled ``cross-device`` rather than a regression.
"""
from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from affrepro.errors import AffreproError


class BenchError(AffreproError):
    """A benchmark run or result file that cannot be used (and why)."""


def find_suite(suite_dir: Path | None = None) -> Path:
    import affrepro

    candidates = [suite_dir] if suite_dir else [
        Path(affrepro.__file__).resolve().parent.parent / "benchmarks",
        Path.cwd() / "benchmarks",
    ]
    for c in candidates:
        if c is not None and c.is_dir() and any(c.glob("test_*_bench.py")):
            return c
    raise BenchError("no benchmarks/ folder with test_*_bench.py found (looked in "
                     + ", ".join(str(c) for c in candidates if c)
                     + "); run from a checkout or pass --suite-dir")


def select_files(suite: Path, kernels: str | None) -> list[Path]:
    available = {p.name[len("test_"):-len("_bench.py")]: p
                 for p in sorted(suite.glob("test_*_bench.py"))}
    if not kernels:
        return list(available.values())
    wanted = [k.strip() for k in kernels.split(",") if k.strip()]
    missing = [k for k in wanted if k not in available]
    if missing:
        raise BenchError(f"no benchmark suite for {', '.join(missing)}; available: "
                         f"{', '.join(available)}")
    return [available[k] for k in wanted]


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "unknown"


def device_identity(device: str) -> dict[str, Any]:
    """CPU model, GPU name/driver/CUDA (when asked for CUDA), library versions."""
    from affrepro import hardware

    ident = dict(hardware.identity())
    info: dict[str, Any] = {"cpu": ident["cpu"], "cpu_count": ident["cpu_count"],
                            "os": ident["os"], "python": ident["python"],
                            "gpus": ident["gpus"], "packages": ident["packages"],
                            "requested_device": device}
    try:
        info["cpu_affinity"] = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover
        pass
    if device in ("cuda", "all"):
        try:
            import torch

            if torch.cuda.is_available():
                info["gpu"] = torch.cuda.get_device_name()
                info["cuda"] = torch.version.cuda
                info["gpu_driver"] = (ident["gpus"][0]["driver"] if ident["gpus"] else None)
        except ImportError:
            pass
    label = f"cuda-{slug(info['gpu'])}" if info.get("gpu") else f"cpu-{slug(info['cpu'])}"
    info["device_label"] = label
    return info


def output_file(suite: Path, output: Path | None, device: str) -> Path:
    label = device_identity(device)["device_label"]
    stamp = time.strftime("%Y%m%dT%H%M%S")
    if output is None:
        return suite / "results" / label / f"{stamp}.json"
    if output.suffix == ".json":
        return output
    return output / f"{label}-{stamp}.json"


def run(files: list[Path], out: Path, device: str, keyword: str | None,
        quiet: bool = False) -> dict[str, Any]:
    from affrepro.fileio import atomic_write_text

    if device == "cuda":
        _require_cuda()
    out.parent.mkdir(parents=True, exist_ok=True)
    # pytest-benchmark writes its JSON itself: let it write beside the result, then publish
    # the result (with the machine's identity added) in one atomic step
    partial = out.with_name(out.name + f".partial{os.getpid()}")
    failures = out.with_name(out.name + f".failed{os.getpid()}")
    cmd = [sys.executable, "-m", "pytest", *map(str, files), "--benchmark-only",
           f"--benchmark-json={partial}", "-p", "no:cacheprovider", "-q", "-s",
           "-p", "affrepro.plugins.bench.failures",
           "--import-mode=importlib", "-o", "addopts=", "-o", "testpaths=",
           f"--rootdir={files[0].parent.parent}"]
    expr = {"cpu": "cpu", "cuda": "gpu", "all": None}[device]
    if keyword:
        expr = f"({expr}) and ({keyword})" if expr else keyword
    if expr:
        cmd += ["-k", expr]
    try:
        proc = subprocess.run(cmd, capture_output=quiet, text=True,
                              env={**os.environ, "AFFREPRO_BENCH_FAILURES": str(failures)})
        if not partial.exists():
            if proc.returncode == 5:  # pytest: nothing collected or selected
                raise BenchError("no benchmark matched: " + (f"-k {keyword!r} with " if keyword
                                                              else "") + f"--device {device} "
                                 f"selects none of {', '.join(f.name for f in files)}")
            raise BenchError(f"pytest wrote no results (exit status {proc.returncode})"
                             + (f": {proc.stdout[-2000:]}{proc.stderr[-2000:]}" if quiet else ""))
        data = json.loads(partial.read_text())
        data.setdefault("machine_info", {})["affrepro"] = device_identity(device)
        failed = json.loads(failures.read_text()) if failures.exists() else []
        mark_failed(data, failed, proc.returncode)
        # pytest-benchmark's commit_info is that of the current folder's repository: the
        # code measured is affrepro's own checkout
        data["commit_info_cwd"] = data.get("commit_info")
        data["commit_info"] = affrepro_commit()
        atomic_write_text(out, json.dumps(data, indent=1))
    finally:
        partial.unlink(missing_ok=True)
        failures.unlink(missing_ok=True)
    return {"returncode": proc.returncode, "data": data, "failed": failed}


def _require_cuda() -> None:
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - torch is a dependency
        raise BenchError("--device cuda needs torch with CUDA") from exc
    if not torch.cuda.is_available():
        raise BenchError("--device cuda: torch sees no CUDA GPU here (torch.cuda.is_available() "
                         "is False); the GPU suites need one (--device all runs the CPU "
                         "suites and skips the GPU ones)")


def mark_failed(data: dict[str, Any], failed: list[str], returncode: int) -> None:
    """Mark each benchmark whose test failed (``failed``: pytest node ids, which are
    pytest-benchmark's ``fullname``) and record the run's outcome in ``data["affrepro_run"]``."""
    bad = set(failed)
    for b in data.get("benchmarks", []):
        if b.get("fullname") in bad:
            b["failed"] = True
    data["affrepro_run"] = {"pytest_exit_status": returncode, "failed_tests": list(failed)}


def affrepro_commit() -> dict[str, Any]:
    """The commit of the affrepro source tree that ran (``"unknown"`` outside a checkout)."""
    from affrepro.hardware import git_commit

    commit = git_commit()
    return {"id": commit.removesuffix("-dirty"), "dirty": commit.endswith("-dirty"),
            "project": "affrepro"}


# ---------------------------------------------------------------- reading results
def load(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise BenchError(f"{path}: not a pytest-benchmark JSON file ({exc})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("benchmarks"), list):
        raise BenchError(f"{path}: no 'benchmarks' list (not pytest-benchmark JSON)")
    mi = data.get("machine_info") if isinstance(data.get("machine_info"), dict) else {}
    ident = mi.get("affrepro") if isinstance(mi.get("affrepro"), dict) else {}
    rows = []
    for i, b in enumerate(data["benchmarks"]):
        ex = b.get("extra_info") if isinstance(b, dict) else None
        stats = b.get("stats") if isinstance(b, dict) else None
        if not isinstance(stats, dict):
            raise BenchError(f"{path}: benchmark {i} has no 'stats' object (not "
                             "pytest-benchmark JSON)")
        if ex is not None and not isinstance(ex, dict):
            raise BenchError(f"{path}: benchmark {i}'s 'extra_info' is not an object")
        ex = ex or {}
        for key in ("interleaved_speedups", "targets"):
            if ex.get(key) is not None and not isinstance(ex[key], dict):
                raise BenchError(f"{path}: benchmark {i}'s extra_info.{key} is not an object "
                                 "of peer: number")
        for key in ("min", "median"):
            v = stats.get(key)
            if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float))):
                raise BenchError(f"{path}: benchmark {i} ({b.get('name')}): stats.{key} is "
                                 f"{v!r}, not a number of seconds")
        for key in ("interleaved_speedups", "targets"):
            for peer, v in (ex.get(key) or {}).items():
                if isinstance(v, bool) or not isinstance(v, (int, float)):
                    raise BenchError(f"{path}: benchmark {i} ({b.get('name')}): "
                                     f"extra_info.{key}[{peer!r}] is {v!r}, not a number")
        for key in ("kernel", "workload", "impl", "device"):
            v = ex.get(key)
            if v is not None and (isinstance(v, bool) or not isinstance(v, (str, int, float))):
                raise BenchError(f"{path}: benchmark {i} ({b.get('name')}): "
                                 f"extra_info.{key} is {v!r}, not a name")
        rows.append({
            "name": b.get("name"),
            "kernel": str(ex.get("kernel") or b.get("group") or b.get("name") or f"#{i}"),
            "workload": str(ex.get("workload") or ""),
            "impl": str(ex.get("impl") or b.get("name") or f"#{i}"),
            "device": str(ex.get("device") or "cpu"), "min_s": stats.get("min"),
            "median_s": stats.get("median"), "extra": ex, "failed": b.get("failed") is True,
        })
    pb_cpu = mi.get("cpu") if isinstance(mi.get("cpu"), dict) else {}
    cpu = ident.get("cpu") or pb_cpu.get("brand_raw") or mi.get("processor") or None
    gpu = ident.get("gpu")
    cores = ident.get("cpu_affinity") or ident.get("cpu_count") or pb_cpu.get("count")
    run = data.get("affrepro_run") if isinstance(data.get("affrepro_run"), dict) else {}
    return {"path": str(path), "rows": rows, "cpu": cpu or "?", "gpu": gpu, "cores": cores,
            "known_machine": bool(cpu), "failed_tests": list(run.get("failed_tests") or []),
            "label": ident.get("device_label") or f"cpu-{slug(str(cpu or 'unknown'))}",
            "datetime": data.get("datetime")}


def cpu_labels(peer: str, speedup: float, target: float | None = None) -> dict[str, Any]:
    """The extra_info keys :func:`compare_data` reads for a CPU benchmark of ours timed in
    alternation with ``peer``: implementation, device, the peer's speedup from this same
    run and the issue's target, if any."""
    return {"impl": "ours", "device": "cpu", "interleaved_speedups": {peer: speedup},
            "targets": {peer: target} if target else {}}


def summary(result: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"name": b.get("name"), "min_s": b.get("stats", {}).get("min"),
             "extra_info": b.get("extra_info", {})} for b in result["data"]["benchmarks"]]


def _machine_of(f: dict[str, Any], device: str) -> str:
    """A GPU by its name; a CPU by its model and the cores the run could use (the same
    model with 2 or 64 cores is not the same machine for a timing)."""
    if device == "cuda" and f.get("gpu"):
        return f"{device}:{f['gpu']}"
    return f"{device}:{f['cpu']}" + (f" x{f['cores']}" if f.get("cores") else "")


def compare_data(files: list[dict[str, Any]]) -> dict[str, Any]:
    """Times, within-file speedups against each peer, and across-file ratios of each impl."""
    times = []
    speedups = []
    for i, f in enumerate(files):
        groups: dict[tuple, dict[str, dict]] = {}
        for r in f["rows"]:
            if r["min_s"] is None:
                continue
            times.append({"file": i, "kernel": r["kernel"], "workload": r["workload"],
                          "impl": r["impl"], "device": r["device"],
                          "machine": _machine_of(f, r["device"]), "min_ms": r["min_s"] * 1e3,
                          "model": _machine_of({**f, "cores": None}, r["device"]),
                          "cores": None if r["device"] == "cuda" else f.get("cores"),
                          "known": f.get("known_machine", True) or (
                              r["device"] == "cuda" and bool(f.get("gpu"))),
                          "failed": r["failed"]})
            if r["failed"]:  # its test failed: the timing is shown, never compared
                continue
            groups.setdefault((r["kernel"], r["workload"], r["device"]), {})[r["impl"]] = r
        for (kernel, workload, device), impls in sorted(groups.items()):
            ours = impls.get("ours")
            if not ours:
                continue
            for impl, r in sorted(impls.items()):
                if impl.startswith("ours") or not ours["min_s"]:  # own variants: not peers
                    continue
                speedups.append({"file": i, "kernel": kernel, "workload": workload,
                                 "device": device, "peer": impl,
                                 "speedup": r["min_s"] / ours["min_s"],
                                 "target": (ours["extra"].get("targets") or {}).get(impl)})
    across = _across_files([t for t in times if not t["failed"]]) if len(files) > 1 else []
    interleaved = [{"file": i, "kernel": r["kernel"], "workload": r["workload"],
                    "device": r["device"], "speedups": r["extra"]["interleaved_speedups"],
                    "targets": r["extra"].get("targets") or {}}
                   for i, f in enumerate(files) for r in f["rows"]
                   if r["extra"].get("interleaved_speedups") and not r["failed"]]
    return {"interleaved": interleaved,
            "files": [{"index": i, "path": f["path"], "label": f["label"], "cpu": f["cpu"],
                       "gpu": f["gpu"], "failed_tests": f.get("failed_tests", [])}
                      for i, f in enumerate(files)],
            "times": times, "speedups": speedups, "across_files": across}


# across files, a ratio within this band of 1 is "same"; outside it the others timed in
# the same two runs must have stayed within it for the change to be called the code's
NOISE_BAND = (0.9, 1.1)


def _across_files(times: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each implementation against its first file (same kernel, workload, device kind).
    Different machines are labelled ``cross-device``, a file without machine identity
    ``unknown machine``. On one machine, when the peers (implementations not named
    ``ours…``) of the same benchmark, timed in the same two runs, held still (within
    NOISE_BAND), the change is judged as measured; when they moved (a busier machine in
    one run), it is judged relative to the peers' geometric mean, and the verdict says so."""
    lo, hi = NOISE_BAND
    at = {(t["file"], t["kernel"], t["workload"], t["device"], t["impl"]): t["min_ms"]
          for t in times}
    base: dict[tuple, dict] = {}
    across = []
    for t in times:
        key = (t["kernel"], t["workload"], t["impl"], t["device"])
        if key not in base:
            base[key] = t
            continue
        b = base[key]
        if b["file"] == t["file"] or not t["min_ms"] or not b["min_ms"]:
            continue
        ratio = b["min_ms"] / t["min_ms"]
        # a file without a core count (older ones) is matched on the CPU model alone
        same = b["machine"] == t["machine"] or (None in (b["cores"], t["cores"])
                                                and b["model"] == t["model"])
        others = {}  # the peers (never our own variants, which move with the code)
        for (f, kernel, workload, device, impl), ms in at.items():
            if (f, kernel, workload, device) == (b["file"], t["kernel"], t["workload"],
                                                 t["device"]) and impl != t["impl"] \
                    and not impl.startswith("ours"):
                now = at.get((t["file"], kernel, workload, device, impl))
                if now and ms:
                    others[impl] = ms / now
        moved = {k: v for k, v in others.items() if not lo <= v <= hi}
        relative = ratio / math.prod(others.values()) ** (1.0 / len(others)) if moved else ratio
        if not (b["known"] and t["known"]):
            verdict = "unknown machine (a file has no machine_info): not compared"
        elif not same:
            verdict = f"cross-device ({b['machine']} vs {t['machine']})"
        else:
            verdict = ("slower (possible regression)" if relative < lo
                       else "faster" if relative > hi else "same")
            if moved:  # the machine itself ran faster or slower: judged against the peers
                verdict += (f" relative to the peers ({relative:.2f}x; they moved: "
                            + ", ".join(f"{k} {v:.2f}x" for k, v in sorted(moved.items()))
                            + ")")
        across.append({"kernel": t["kernel"], "workload": t["workload"], "impl": t["impl"],
                       "base_file": b["file"], "file": t["file"], "speedup_vs_base": ratio,
                       "relative_to_peers": relative, "others_vs_base": others,
                       "verdict": verdict})
    return across


def _target(speedup: float, target: float | None) -> str:
    """``>= 5.0x: not met`` beside a speedup; empty without a target."""
    if target is None:
        return ""
    return f">= {target}x: " + ("met" if speedup >= target else "not met")


def format_compare(files: list[dict[str, Any]], width: int | None = None) -> str:
    """The comparison as text that fits ``width`` columns (default: the terminal's): names
    wrap at words, numbers stay whole, each speedup with a target says met / not met."""
    import io

    from affrepro.terminal import (Col, console, print_field, print_split_table, print_table,
                                   print_wrapped)

    d = compare_data(files)
    con = console(width=width or console().width)
    con.file = io.StringIO()
    for f in d["files"]:
        print_field(f"[{f['index']}]", f["path"], con=con, indent="")
        print_wrapped(f"{f['label']} (CPU {f['cpu']}" + (f"; GPU {f['gpu']}" if f["gpu"] else "") + ")",
                      con=con, indent="    ")
        if f["failed_tests"]:
            print_wrapped(f"FAILED in this run ({len(f['failed_tests'])}), timings shown "
                          "but not compared: " + ", ".join(f["failed_tests"]), con=con, indent="    ")
    cols = [(i, dev) for i in range(len(files))
            for dev in sorted({t["device"] for t in d["times"] if t["file"] == i})]
    keys = sorted({(t["kernel"], t["workload"], t["impl"]) for t in d["times"]})
    cell = {(t["file"], t["device"], t["kernel"], t["workload"], t["impl"]):
            f"{t['min_ms']:.3f}" + (" FAILED" if t["failed"] else "") for t in d["times"]}
    rows = []
    for k in keys:
        vals = [cell.get((i, dev) + k) for i, dev in cols]
        if all(v is None for v in vals):
            continue
        rows.append([f"{k[0]} {k[1]}", k[2]] + ["—" if v is None else v for v in vals])
    con.print()
    # one column per file and device: split into several tables (each with the benchmark
    # and implementation) when they do not fit side by side
    print_split_table([Col("benchmark"), Col("impl")]
                      + [Col(f"[{i}] {dev}", "text", justify="right") for i, dev in cols], rows,
                      title="Times (min, ms)", con=con, keys=2)
    # kernel and workload share a column (a name and its workload, wrapped at words)
    speed_cols = [Col("file", "atom", keep=1), Col("benchmark"), Col("device", "atom", keep=2),
                  Col("peer"), Col("speedup", "atom", justify="right"), Col("target", "atom")]
    if d["speedups"]:
        con.print()
        print_table(speed_cols,
                    [[str(s["file"]), f"{s['kernel']} {s['workload']}", s["device"], s["peer"],
                      f"{s['speedup']:.2f}x", _target(s["speedup"], s["target"])] for s in d["speedups"]],
                    title="Speedup of ours against each peer (same file, same run)", con=con)
    if d["interleaved"]:
        rows = []
        for x in d["interleaved"]:
            for k, v in x["speedups"].items():
                peer = k.removeprefix("vs_")
                rows.append([str(x["file"]), f"{x['kernel']} {x['workload']}", x["device"], peer,
                             f"{v:.2f}x", _target(v, x["targets"].get(peer))])
        con.print()
        print_table(speed_cols, rows, title="Speedup of ours, peers timed in alternation (same run)",
                    con=con)
    if d["across_files"]:
        con.print()
        print_table([Col("benchmark"), Col("impl"), Col("base", "atom", keep=1),
                     Col("file", "atom", keep=2), Col("ratio", "atom", justify="right"), Col("verdict")],
                    [[f"{a['kernel']} {a['workload']}", a["impl"], str(a["base_file"]),
                      str(a["file"]), f"{a['speedup_vs_base']:.2f}x", a["verdict"]]
                     for a in d["across_files"]],
                    title="Across files (each implementation against file [base])", con=con)
    return "\n".join(line.rstrip() for line in con.file.getvalue().splitlines())


def track(result: dict[str, Any], out: Path, device: str, kernels: str | None,
          uri: str | None) -> str | None:
    """Log the run to MLflow (experiment ``affrepro-bench``): the machine's identity as
    tags, each benchmark's min/median, the same-run speedups against each peer and the
    interleaved ones, and the result file. A run whose tests failed ends FAILED."""
    import shutil

    from affrepro.scratch import scratch_dir
    from affrepro.tracking import open_tracker, tracked_run

    data = result["data"]
    ident = data["machine_info"]["affrepro"]
    tracker = open_tracker(uri, "affrepro-bench")
    failed = result.get("failed") or []
    tags = {"kind": "bench", "device": device, "device_label": ident["device_label"],
            "cpu": ident["cpu"], "gpu": ident.get("gpu") or "none",
            "gpu_driver": ident.get("gpu_driver") or "", "cuda": ident.get("cuda") or "",
            "pytest_exit_status": str(result["returncode"]), "failed_tests": len(failed),
            **{f"version.{k}": v for k, v in ident.get("packages", {}).items()}}
    commit = (data.get("commit_info") or {}).get("id")
    if commit:
        tags["git_commit"] = commit + ("-dirty" if data["commit_info"].get("dirty") else "")
    with tracked_run(tracker, f"bench {device} {kernels or 'all'}", tags) as run:
        run.log_params({"device": device, "kernels": kernels or "all",
                            "result_file": str(out)})
        metrics = {}
        for b in data["benchmarks"]:
            name = re.sub(r"[^A-Za-z0-9_.\-/ ]", "_", b["name"])
            if b.get("stats", {}).get("min") is not None and not b.get("failed"):
                metrics[f"{name}.min_s"] = b["stats"]["min"]
                metrics[f"{name}.median_s"] = b["stats"]["median"]
        compared = compare_data([load(out)])
        for s in compared["speedups"]:
            metrics[f"speedup.{s['kernel']}.{s['workload']}.{s['device']}.vs_{slug(s['peer'])}"] = \
                s["speedup"]
        for x in compared["interleaved"]:
            for peer, v in x["speedups"].items():
                key = (f"interleaved_speedup.{slug(x['kernel'])}.{slug(x['workload'])}."
                       f"{x['device']}.vs_{slug(peer.removeprefix('vs_'))}")
                metrics[key] = float(v)
        if metrics:
            run.log_metrics(metrics)
        with scratch_dir("bench-artifacts") as tmp:
            shutil.copy(out, Path(tmp) / out.name)
            run.log_artifacts(Path(tmp))
        if result["returncode"] not in (0, 5) or failed:
            run.fail()
    return run.run_id
