"""``affrepro runs compare RUN RUN``: two runs of one paper, claim by claim.

A RUN is a report.json, the folder holding it, or an MLflow run id (its report.json
artifact, from ``--tracking-uri`` or the default store). For each claim both runs measured,
the comparison gives both values, Δ = B − A, and whether |Δ| exceeds the seed spread:
the larger of the two runs' ranges over seeds (max − min). Where neither run measured a
spread (one seed, or a deterministic claim) any |Δ| above 1e-12 exceeds it. The two runs'
devices, hardware and library versions are listed where they differ (hardware noise).
"""
from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path
from typing import Any

from affrepro.errors import AffreproError

_SLACK = 1e-12


def load_report(ref: str, tracking_uri: str | None = None) -> dict[str, Any]:
    """report.json of a path or an MLflow run id; AffreproError says which and why not."""
    path = Path(ref)
    if path.is_dir():
        path = path / "report.json"
    if path.is_file():
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise AffreproError(f"{path}: not a readable report.json ({exc})") from None
    if path.suffix == ".json" or "/" in ref:
        raise AffreproError(f"{ref}: no such report.json (give a report.json, its folder, or an MLflow run id)")
    import os

    from affrepro.tracking import MlflowTracker

    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    tracker = MlflowTracker(tracking_uri)
    try:
        with tempfile.TemporaryDirectory(prefix="affrepro-compare-") as tmp:
            local = tracker._call(f"reading run {ref}'s report.json", tracker.client.download_artifacts,
                                  ref, "report.json", tmp)
            return json.loads(Path(local).read_text())
    except AffreproError as exc:
        raise AffreproError(f"{ref}: neither a report.json path nor a run in {tracker.uri} with a "
                            f"report.json artifact ({exc})") from None


def _range(spread: dict[str, Any] | None) -> float:
    if not spread or spread.get("deterministic") or spread.get("min") is None:
        return 0.0
    return float(spread["max"]) - float(spread["min"])


def compare(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """The claim-by-claim comparison of two reports of the same paper."""
    if a["paper"] != b["paper"]:
        raise AffreproError(f"the runs are of different papers ({a['paper']} and {b['paper']}); "
                            "compare two runs of one paper")
    claims_b = {c["id"]: c for c in b["claims"]}
    rows = []
    for ca in a["claims"]:
        cb = claims_b.get(ca["id"])
        if cb is None:
            continue
        va, vb = ca.get("measured"), cb.get("measured")
        row: dict[str, Any] = {"id": ca["id"], "paper": ca["value"], "a": va, "b": vb,
                               "verdict_a": ca["verdict"], "verdict_b": cb["verdict"],
                               "seeds_a": (ca.get("spread") or {}).get("n", 1 if va is not None else 0),
                               "seeds_b": (cb.get("spread") or {}).get("n", 1 if vb is not None else 0)}
        if va is None or vb is None:
            row.update(difference=None, seed_spread=None, exceeds_spread=None)
        else:
            spread = max(_range(ca.get("spread")), _range(cb.get("spread")))
            diff = vb - va
            row.update(difference=diff, seed_spread=spread, exceeds_spread=abs(diff) > spread + _SLACK)
        rows.append(row)
    env = {}
    for key in ("device", "dry_run"):
        env[key] = (a.get(key), b.get(key))
    for key in ("cpu", "gpus", "python", "os"):
        env[f"hardware.{key}"] = ((a.get("hardware") or {}).get(key), (b.get("hardware") or {}).get(key))
    for pkg in sorted(set(a.get("versions") or {}) | set(b.get("versions") or {})):
        env[f"version.{pkg}"] = ((a.get("versions") or {}).get(pkg), (b.get("versions") or {}).get(pkg))
    differing = {k: list(v) for k, v in env.items() if v[0] != v[1]}
    measured = [r for r in rows if r["difference"] is not None]
    return {"paper": a["paper"], "a": _ident(a), "b": _ident(b), "claims": rows,
            "environment_differences": differing,
            "summary": {"compared": len(measured),
                        "exceed_seed_spread": sum(bool(r["exceeds_spread"]) for r in measured),
                        "not_measured_in_both": len(rows) - len(measured)}}


def _ident(r: dict[str, Any]) -> dict[str, Any]:
    return {"run_id": r.get("run_id"), "output_dir": r.get("output_dir"), "started": r.get("started"),
            "seeds": r.get("seeds"), "device": r.get("device")}


def _f(v: Any, sign: str = "") -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "—"
    return f"{v:{sign}.4g}"


def print_text(c: dict[str, Any], con=None) -> None:
    """The comparison for a terminal: run identities, a claim table that fits its width
    (ids and numbers whole; the seed spread column goes first when it must), the summary."""
    from affrepro.terminal import Col, console, print_field, print_table, print_wrapped

    con = con or console()
    print_wrapped(f"{c['paper']}:", con=con, style="bold")
    for key in ("a", "b"):
        run = c[key]
        print_field(f"{key.upper()} =", str(run["run_id"] or run["output_dir"]), con=con)
        print_wrapped(f"({run['started']}, seeds {run['seeds']}, {run['device']})", con=con, indent="      ")
    beyond = {None: "not measured in both", True: "YES", False: "no"}
    print_table([Col("claim", "atom"), Col("paper", "atom", keep=1, justify="right"),
                 Col("A", "atom", justify="right"), Col("B", "atom", justify="right"),
                 Col("B−A", "atom", justify="right"), Col("seed spread", "atom", keep=2, justify="right"),
                 Col("beyond noise?", "text")],
                [(r["id"], _f(r["paper"]), _f(r["a"]), _f(r["b"]), _f(r["difference"], "+"),
                  _f(r["seed_spread"]), beyond[r["exceeds_spread"]]) for r in c["claims"]], con=con)
    s = c["summary"]
    print_wrapped(f"{s['compared']} claims measured in both; {s['exceed_seed_spread']} differ by more than "
                  "the seed spread (the larger of the two runs' ranges over seeds; 0 where a run had one seed "
                  "or the claim is deterministic).", con=con)
    if c["environment_differences"]:
        print_wrapped("Environment differences (A | B):", con=con)
        for k, v in c["environment_differences"].items():
            print_wrapped(f"{k}: {v[0]} | {v[1]}", con=con, indent="  ", hang="  ")
    else:
        print_wrapped("Same device, hardware and library versions.", con=con)
