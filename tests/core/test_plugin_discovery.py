"""Where plugins come from: third-party packages through the ``affrepro`` entry-point group
(a real distribution's metadata on sys.path, a plugin or a collection of cards), and
in-repo papers from their cards, so that adding one is adding one folder."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from affrepro import plugin_manager

ROOT = Path(__file__).resolve().parents[2]

CARD = '''\
slug = "{slug}"
title = "A paper added as one folder"
authors = ["A. Author"]
venue = "Tests"
year = 2099
class = "A"
published_numbers = "retrieved"

[protocol]
seeds = [3]
run = ".protocol:run"

[[claims]]
id = "mean"
description = "mean of the seeds, as the protocol computes it"
source = "Table 1"
metric = "mean"
value = 3.0
higher_is_better = true
tolerance = {{ absolute = 0.0, why = "exact" }}
'''

PROTOCOL = '''\
def run(ctx):
    ctx.record("n_seeds", len(ctx.seeds))
    return {"mean": sum(ctx.seeds) / len(ctx.seeds)}
'''


def write_paper(folder: Path, slug: str) -> None:
    folder.mkdir(parents=True)
    (folder / "paper.toml").write_text(CARD.format(slug=slug))
    (folder / "protocol.py").write_text(PROTOCOL)


def write_distribution(site: Path, name: str, version: str, entry_points: dict[str, str]) -> None:
    """The metadata pip writes for an installed distribution (what importlib.metadata reads)."""
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    (info / "entry_points.txt").write_text(
        "[affrepro]\n" + "".join(f"{k} = {v}\n" for k, v in entry_points.items()))


def test_a_third_party_distribution_loads_through_its_entry_points(tmp_path, monkeypatch):
    site = tmp_path / "site"
    plugin = site / "affrepro_demo_metric"
    plugin.mkdir(parents=True)
    (plugin / "__init__.py").write_text(
        "from affrepro import hookimpl\nfrom affrepro.components import Metric\n\n"
        "def count(y_true, y_pred=None):\n    '''n = |y_true|'''\n    return float(len(y_true))\n\n"
        "@hookimpl\ndef register_metrics(register):\n"
        "    register(Metric('demo_count', count, True, 'n = |y_true|'))\n")
    # a collection: one entry point, several papers found by their cards
    papers = site / "affrepro_demo_papers"
    write_paper(papers / "demo_one_2099", "demo-one-2099")
    (papers / "__init__.py").write_text(
        "from pathlib import Path\nfrom affrepro.catalogue import paper_plugins\n\n"
        "def affrepro_plugins():\n    return paper_plugins(Path(__file__).parent, __name__)\n")
    write_distribution(site, "affrepro-demo", "1.2.0",
                       {"demo-metric": "affrepro_demo_metric", "demo-papers": "affrepro_demo_papers"})
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.delenv("AFFREPRO_LOAD_PLUGINS")

    state = plugin_manager.build_plugin_manager()
    assert not state.failures, [f.error for f in state.failures]
    metric = state.plugins["demo-metric"]
    assert (metric.source, metric.distribution, metric.version) == ("entry point", "affrepro-demo", "1.2.0")
    assert state.registries.metrics.plugin_of("demo_count") == "demo-metric"
    paper = state.plugins["demo-one-2099"]
    assert paper.source == "entry point" and paper.module == "affrepro_demo_papers.demo_one_2099"
    rep = state.registries.reproductions.get("demo-one-2099")
    assert rep.protocol.__module__ == "affrepro_demo_papers.demo_one_2099.protocol"
    assert "daic-woz-bias-2024" in state.registries.reproductions  # the built-ins beside them

    from affrepro.runner import reproduce

    report = reproduce("demo-one-2099", track=False, output_dir=tmp_path / "run",
                       registries=state.registries)
    assert report.results[0].verdict.value == "reproduced" and report.results[0].measured == 3.0

    monkeypatch.setenv("AFFREPRO_LOAD_PLUGINS", "demo-metric")  # selects among third parties
    state = plugin_manager.build_plugin_manager()
    assert "demo-metric" in state.plugins and "demo-one-2099" not in state.plugins


@pytest.mark.slow
def test_adding_a_paper_with_a_protocol_is_one_folder(tmp_path):
    """In a copy of the source tree, add reproductions/<paper>/ (card + protocol, no
    __init__.py, no other edit), install the copy as a wheel would be, and reproduce it."""
    tree = tmp_path / "tree"
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    for name in ("core", "kernels", "plugins", "reproductions"):
        shutil.copytree(ROOT / name, tree / name, ignore=ignore)
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy(ROOT / name, tree / name)
    write_paper(tree / "reproductions" / "one_folder_2099", "one-folder-2099")
    site = tmp_path / "site"
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps",
                          "--no-build-isolation", "--target", str(site), str(tree)],
                         capture_output=True, text=True, timeout=600)
    assert pip.returncode == 0, pip.stdout + pip.stderr
    assert (site / "affrepro" / "reproductions" / "one_folder_2099" / "paper.toml").is_file()

    env = dict(os.environ, PYTHONPATH=str(site))
    out = tmp_path / "run"
    res = subprocess.run([sys.executable, "-m", "affrepro.cli", "reproduce", "one-folder-2099",
                          "--no-track", "--json", "-o", str(out)],
                         capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["claims"][0]["verdict"] == "reproduced" and report["records"]["n_seeds"] == 1
    where = subprocess.run([sys.executable, "-c", "import affrepro; print(affrepro.__file__)"],
                           capture_output=True, text=True, env=env, cwd=tmp_path)
    assert where.stdout.startswith(str(site))
