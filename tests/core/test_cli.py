"""The command line: fast start, JSON outputs, errors as one clear line."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest


def test_help_and_list_start_without_heavy_imports():
    code = ("import sys\nfrom affrepro.cli import main\nfor argv in (['affrepro', '--help'], ['affrepro', 'list']):\n"
            "    sys.argv = argv\n    try:\n        main()\n    except SystemExit:\n        pass\n"
            "heavy = sorted(m for m in ('torch', 'mlflow', 'sklearn', 'triton', 'numba', 'pandas', 'numpy')"
            " if m in sys.modules)\nprint('HEAVY', heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=os.environ, check=True)
    assert "HEAVY []" in out.stdout, out.stdout[-500:]


def test_list_json(cli_runner):
    res = cli_runner("list", "--json")
    assert res.exit_code == 0
    rows = {r["slug"]: r for r in json.loads(res.stdout)}
    daic = rows["daic-woz-bias-2024"]
    assert daic["claims"] == 46 and daic["class"] == "A" and daic["status"] == "runnable here"


def test_show_renders_the_card(cli_runner):
    res = cli_runner("show", "daic-woz-bias-2024")
    assert res.exit_code == 0
    assert "0.9029" in res.output and "source:" in res.output and "doi:10.18653" in res.output
    card = json.loads(cli_runner("show", "daic-woz-bias-2024", "--json").stdout)
    assert [c["id"] for c in card["claims"]][:3] == ["ellie-only-macro-f1", "participant-only-macro-f1",
                                                     "ensemble-macro-f1"]


@pytest.mark.parametrize("args", [("show", "daic-woz-bias"), ("reproduce", "daic-woz-bias-2042", "--no-track")])
def test_unknown_paper_suggests_close_names(cli_runner, args):
    res = cli_runner(*args)
    assert res.exit_code == 1
    assert "unknown paper" in res.output and "did you mean 'daic-woz-bias-2024'" in res.output
    assert "Traceback" not in res.output


def test_reproduce_json_with_the_mirror(cli_runner, mirror, tmp_path, tracking_uri):
    res = cli_runner("reproduce", "daic-woz-bias-2024", "--json", "-o", str(tmp_path / "run"),
                     "--tracking-uri", tracking_uri)
    assert res.exit_code == 0, res.output
    d = json.loads(res.stdout)
    assert d["paper"] == "daic-woz-bias-2024"
    claims = {c["id"]: c for c in d["claims"]}
    for cid, value in {"ellie-only-macro-f1": 0.8776, "participant-only-macro-f1": 0.8493,
                       "ensemble-macro-f1": 0.9029}.items():
        c = claims[cid]
        assert c["verdict"] == "reproduced" and round(c["measured"], 4) == value == c["value"]
        assert abs(c["difference"]) < 5e-5 and c["tolerance"]["kind"] == "absolute" and c["reason"]
    for key in ("seeds", "versions", "hardware", "data", "deviations", "run_id"):
        assert key in d
    assert json.loads((tmp_path / "run" / "report.json").read_text())["run_id"] == d["run_id"]
    rendered = cli_runner("report", str(tmp_path / "run"))
    assert rendered.exit_code == 0 and "| ensemble-macro-f1 | f1_macro | 0.9029 | 0.9029 |" in rendered.output


def test_missing_public_data_without_network_is_skipped_with_instructions(cli_runner, no_mirror, tmp_path):
    import dataclasses

    from affrepro.plugin_manager import get_registries

    from affrepro.registry import Entry

    datasets = get_registries().datasets  # rebuilt for every test by conftest
    ds = datasets.get("daic-woz-bias")
    offline = tuple(dataclasses.replace(f, url="http://127.0.0.1:9/" + f.name) for f in ds.files)
    datasets._entries[ds.name] = Entry(ds.name, dataclasses.replace(ds, files=offline), "daic-woz-bias-2024")
    res = cli_runner("reproduce", "daic-woz-bias-2024", "--no-track", "--json", "-o", str(tmp_path / "o"))
    assert res.exit_code == 0
    verdicts = {c["id"]: c for c in json.loads(res.stdout)["claims"]}
    ellie = verdicts["ellie-only-macro-f1"]
    assert ellie["verdict"] == "skipped"
    assert "affrepro data fetch daic-woz-bias" in ellie["reason"] and "AFFREPRO_DATA_MIRROR" in ellie["reason"]


def test_data_commands(cli_runner, mirror, tmp_path):
    res = cli_runner("data", "fetch", "daic-woz-bias", "--json")
    assert res.exit_code == 0
    fetched = json.loads(res.stdout)
    assert len(fetched["fetched"]) == 10  # with the two Optuna study databases
    assert cli_runner("data", "verify", "daic-woz-bias").exit_code == 0
    assert cli_runner("data", "path", "daic-woz-bias").output.strip() == fetched["path"]

    bad = cli_runner("data", "verify", "daic-woz")
    assert bad.exit_code == 1 and "folder does not exist" in bad.output and "dcapswoz" in bad.output
    folder = tmp_path / "transcripts"
    folder.mkdir()
    (folder / "dev_Ellie.txt").write_text("negative\thi\n")
    assert cli_runner("data", "link", "daic-woz", str(folder)).exit_code == 0
    assert cli_runner("data", "path", "daic-woz").output.strip() == str(folder.resolve())
    res = cli_runner("data", "verify", "daic-woz", "--json")
    report = json.loads(res.stdout)
    assert res.exit_code == 1 and not report["ok"]
    messages = [p["message"] for p in report["problems"]]
    assert messages.count("missing") == 3 and any("1 interviews, expected 35" in m for m in messages)


def test_plugins_json_lists_builtins_and_entry_points(cli_runner):
    rows = {p["name"]: p for p in json.loads(cli_runner("plugins", "--json").stdout)}
    assert rows["metrics"]["ok"] and "f1_macro" in rows["metrics"]["registered"]["metrics"]
    assert rows["metrics"]["module"] == "affrepro.plugins.metrics" and rows["metrics"]["source"] == "builtin"
    assert rows["daic-woz-bias-2024"]["registered"]["datasets"] == ["daic-woz-bias", "daic-woz"]


def test_plugins_check_on_the_builtin_paper(cli_runner, no_mirror):
    res = cli_runner("plugins", "check", "daic-woz-bias-2024", "--json")
    out = json.loads(res.stdout)
    assert res.exit_code == 0 and out["ok"], out
    assert any("dry run passes" in c["check"] for c in out["checks"])


def test_report_status_table(cli_runner):
    res = cli_runner("report", "--md", "--no-runs")
    assert res.exit_code == 0 and "| daic-woz-bias-2024 | A | 46 | 44 | 0 |" in res.output  # counts: the shipped ledger


def test_reproduce_prints_each_skip_reason_once(cli_runner, tmp_path):
    """Claims skipped for the same reason share one line ("all 14 claims: ..."), and the
    reasons of several missing requirements join without a stray '.;'."""
    res = cli_runner("reproduce", "omg-empathy-2019", "--no-track", "-o", str(tmp_path / "run"))
    assert res.exit_code == 0, res.output
    text = " ".join(res.output.split())
    assert text.count("needs dataset 'omg-empathy'") == 1
    assert "all 14 claims: needs dataset 'omg-empathy'" in text
    assert ".;" not in text


def test_data_audit_command(cli_runner, mirror, tmp_path):
    res = cli_runner("data", "audit", "negativeprompt", "--json", "-o", str(tmp_path / "a"))
    assert res.exit_code == 0, res.output
    d = json.loads(res.stdout)
    assert d["verdicts"]["reproduced"] == 2 and (tmp_path / "a" / "audit.md").is_file()
    res = cli_runner("data", "audit", "natural-hazards")
    assert res.exit_code == 1 and "publishes no statistics" in res.output
