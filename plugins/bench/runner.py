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

    out.parent.mkdir(parents=True, exist_ok=True)
    # pytest-benchmark writes its JSON itself: let it write beside the result, then publish
    # the result (with the machine's identity added) in one atomic step
    partial = out.with_name(out.name + f".partial{os.getpid()}")
    cmd = [sys.executable, "-m", "pytest", *map(str, files), "--benchmark-only",
           f"--benchmark-json={partial}", "-p", "no:cacheprovider", "-q", "-s",
           "--import-mode=importlib", "-o", "addopts=", "-o", "testpaths=",
           f"--rootdir={files[0].parent.parent}"]
    expr = {"cpu": "cpu", "cuda": "gpu", "all": None}[device]
    if keyword:
        expr = f"({expr}) and ({keyword})" if expr else keyword
    if expr:
        cmd += ["-k", expr]
    try:
        proc = subprocess.run(cmd, capture_output=quiet, text=True)
        if not partial.exists():
            if proc.returncode == 5:  # pytest: nothing collected or selected
                raise BenchError("no benchmark matched: " + (f"-k {keyword!r} with " if keyword
                                                              else "") + f"--device {device} "
                                 f"selects none of {', '.join(f.name for f in files)}")
            raise BenchError(f"pytest wrote no results (exit status {proc.returncode})"
                             + (f": {proc.stdout[-2000:]}{proc.stderr[-2000:]}" if quiet else ""))
        data = json.loads(partial.read_text())
        data.setdefault("machine_info", {})["affrepro"] = device_identity(device)
        atomic_write_text(out, json.dumps(data, indent=1))
    finally:
        partial.unlink(missing_ok=True)
    return {"returncode": proc.returncode, "data": data}


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
        dev = ex.get("device", "cpu")
        rows.append({
            "name": b.get("name"), "kernel": ex.get("kernel", b.get("group") or b.get("name")),
            "workload": str(ex.get("workload", "")), "impl": ex.get("impl", b.get("name")),
            "device": dev, "min_s": stats.get("min"), "median_s": stats.get("median"),
            "extra": ex,
        })
    pb_cpu = mi.get("cpu") if isinstance(mi.get("cpu"), dict) else {}
    cpu = ident.get("cpu") or pb_cpu.get("brand_raw") or mi.get("processor", "?")
    gpu = ident.get("gpu")
    cores = ident.get("cpu_affinity") or ident.get("cpu_count") or pb_cpu.get("count")
    return {"path": str(path), "rows": rows, "cpu": cpu, "gpu": gpu, "cores": cores,
            "label": ident.get("device_label") or f"cpu-{slug(str(cpu))}",
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
                          "cores": None if r["device"] == "cuda" else f.get("cores")})
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
    across = []
    if len(files) > 1:
        base: dict[tuple, dict] = {}
        for t in times:
            # the same benchmark on the same device kind (a CPU row never bases a CUDA one)
            key = (t["kernel"], t["workload"], t["impl"], t["device"])
            if key not in base:
                base[key] = t
                continue
            b = base[key]
            if b["file"] == t["file"] or not t["min_ms"]:
                continue
            ratio = b["min_ms"] / t["min_ms"]
            # a file without a core count (older ones) is matched on the CPU model alone
            same = b["machine"] == t["machine"] or (None in (b["cores"], t["cores"])
                                                    and b["model"] == t["model"])
            if not same:
                verdict = f"cross-device ({b['machine']} vs {t['machine']})"
            elif ratio < 0.9:
                verdict = "slower (possible regression)"
            elif ratio > 1.1:
                verdict = "faster"
            else:
                verdict = "same"
            across.append({"kernel": t["kernel"], "workload": t["workload"], "impl": t["impl"],
                           "base_file": b["file"], "file": t["file"], "speedup_vs_base": ratio,
                           "verdict": verdict})
    interleaved = [{"file": i, "kernel": r["kernel"], "workload": r["workload"],
                    "device": r["device"], "speedups": r["extra"]["interleaved_speedups"],
                    "targets": r["extra"].get("targets") or {}}
                   for i, f in enumerate(files) for r in f["rows"]
                   if r["extra"].get("interleaved_speedups")]
    return {"interleaved": interleaved,
            "files": [{"index": i, "path": f["path"], "label": f["label"], "cpu": f["cpu"],
                       "gpu": f["gpu"]} for i, f in enumerate(files)],
            "times": times, "speedups": speedups, "across_files": across}


def _table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths))
    out = [line, "  ".join("-" * w for w in widths)]
    out += ["  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in rows]
    return "\n".join(out)


def format_compare(files: list[dict[str, Any]]) -> str:
    d = compare_data(files)
    parts = []
    for f in d["files"]:
        parts.append(f"[{f['index']}] {f['path']}: {f['label']} (CPU {f['cpu']}"
                     + (f"; GPU {f['gpu']}" if f["gpu"] else "") + ")")
    cols = [(i, dev) for i in range(len(files))
            for dev in sorted({t["device"] for t in d["times"] if t["file"] == i})]
    keys = sorted({(t["kernel"], t["workload"], t["impl"]) for t in d["times"]})
    cell = {(t["file"], t["device"], t["kernel"], t["workload"], t["impl"]): t["min_ms"]
            for t in d["times"]}
    rows = []
    for k in keys:
        vals = [cell.get((i, dev) + k) for i, dev in cols]
        if all(v is None for v in vals):
            continue
        rows.append([k[0], k[1], k[2]] + ["—" if v is None else f"{v:.3f}" for v in vals])
    parts.append("\nTimes (min, ms)")
    parts.append(_table(["kernel", "workload", "impl"] + [f"[{i}] {dev}" for i, dev in cols],
                        rows))
    if d["speedups"]:
        parts.append("\nSpeedup of ours against each peer (same file, same run)")
        parts.append(_table(["file", "kernel", "workload", "device", "peer", "speedup", "target"],
                            [[str(s["file"]), s["kernel"], s["workload"], s["device"], s["peer"],
                              f"{s['speedup']:.2f}x",
                              "" if s["target"] is None else f">= {s['target']}x"]
                             for s in d["speedups"]]))
    if d["interleaved"]:
        parts.append("\nSpeedup of ours, peers timed in alternation (same run)")
        rows = []
        for x in d["interleaved"]:
            for k, v in x["speedups"].items():
                peer = k.removeprefix("vs_")
                target = x["targets"].get(peer)
                rows.append([str(x["file"]), x["kernel"], x["workload"], x["device"], peer,
                             f"{v:.2f}x", "" if target is None else f">= {target}x"])
        parts.append(_table(["file", "kernel", "workload", "device", "peer", "speedup",
                             "target"], rows))
    if d["across_files"]:
        parts.append("\nAcross files (each implementation against file [base])")
        parts.append(_table(["kernel", "workload", "impl", "base", "file", "ratio", "verdict"],
                            [[a["kernel"], a["workload"], a["impl"], str(a["base_file"]),
                              str(a["file"]), f"{a['speedup_vs_base']:.2f}x", a["verdict"]]
                             for a in d["across_files"]]))
    return "\n".join(parts)


def track(result: dict[str, Any], out: Path, device: str, kernels: str | None,
          uri: str | None) -> str | None:
    from affrepro.tracking import MlflowTracker, tracked_run

    data = result["data"]
    ident = data["machine_info"]["affrepro"]
    tracker = MlflowTracker(uri, experiment="affrepro-bench")
    tags = {"kind": "bench", "device": device, "device_label": ident["device_label"],
            "cpu": ident["cpu"], "gpu": ident.get("gpu") or "none",
            "gpu_driver": ident.get("gpu_driver") or "", "cuda": ident.get("cuda") or "",
            **{f"version.{k}": v for k, v in ident.get("packages", {}).items()}}
    commit = (data.get("commit_info") or {}).get("id")
    if commit:
        tags["git_commit"] = commit
    with tracked_run(tracker, f"bench {device} {kernels or 'all'}", tags) as t:
        t.log_params({"device": device, "kernels": kernels or "all", "result_file": str(out)})
        metrics = {}
        for b in data["benchmarks"]:
            name = re.sub(r"[^A-Za-z0-9_.\-/ ]", "_", b["name"])
            if b.get("stats", {}).get("min") is not None:
                metrics[f"{name}.min_s"] = b["stats"]["min"]
                metrics[f"{name}.median_s"] = b["stats"]["median"]
        for s in compare_data([load(out)])["speedups"]:
            metrics[f"speedup.{s['kernel']}.{s['workload']}.{s['device']}.vs_{slug(s['peer'])}"] = \
                s["speedup"]
        if metrics:
            t.log_metrics(metrics)
        import shutil
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            shutil.copy(out, Path(tmp) / out.name)
            t.log_artifacts(Path(tmp))
    return tracker.run_id
