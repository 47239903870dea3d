"""End to end: `plugins new` scaffolds a package, `plugins install` installs it, it shows up in
`plugins --json` and passes `plugins check`; a broken one is listed with its error while every
other command keeps working. Installs go to a --target folder, never into the test venv."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow


def affrepro(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "affrepro.cli", *args], capture_output=True, text=True,
                          env=env or os.environ, timeout=300)


@pytest.fixture
def site(tmp_path):
    """A folder on PYTHONPATH where plugins get installed, and the env that sees them."""
    target = tmp_path / "site"
    env = dict(os.environ, PYTHONPATH=str(target))
    env.pop("AFFREPRO_LOAD_PLUGINS", None)  # discover everything, as a user would
    return target, env


def install(path, target):
    res = affrepro("plugins", "install", str(path), "--target", str(target), "--no-deps",
                   "--no-build-isolation", "-q")
    assert res.returncode == 0, res.stdout + res.stderr


def test_scaffolded_plugin_installs_lists_and_conforms(tmp_path, site):
    target, env = site
    res = affrepro("plugins", "new", "my-paper-2025", "--dir", str(tmp_path))
    assert res.returncode == 0, res.stderr
    pkg = tmp_path / "affrepro-my-paper-2025"
    assert (pkg / "pyproject.toml").is_file() and (pkg / "src" / "affrepro_my_paper_2025" / "paper.toml").is_file()
    install(pkg, target)

    plugins = {p["name"]: p for p in json.loads(affrepro("plugins", "--json", env=env).stdout)}
    mine = plugins["my-paper-2025"]
    assert mine["ok"] and mine["distribution"] == "affrepro-my-paper-2025" and mine["version"] == "0.1.0"
    assert mine["registered"] == {"datasets": ["my-paper-2025-data"], "reproductions": ["my-paper-2025"]}

    check = affrepro("plugins", "check", "my-paper-2025", "--json", env=env)
    report = json.loads(check.stdout)
    assert check.returncode == 0 and report["ok"], report
    assert any("dry run passes" in c["check"] and c["ok"] for c in report["checks"])

    # a deliberately broken plugin beside it
    res = affrepro("plugins", "new", "broken-paper-2025", "--dir", str(tmp_path))
    init = tmp_path / "affrepro-broken-paper-2025" / "src" / "affrepro_broken_paper_2025" / "__init__.py"
    init.write_text(init.read_text().replace("from __future__ import annotations\n",
                                             "from __future__ import annotations\n"
                                             "raise ImportError('deliberately broken plugin')\n"))
    install(tmp_path / "affrepro-broken-paper-2025", target)

    plugins = {p["name"]: p for p in json.loads(affrepro("plugins", "--json", env=env).stdout)}
    assert not plugins["broken-paper-2025"]["ok"]
    assert "deliberately broken plugin" in plugins["broken-paper-2025"]["error"]
    assert plugins["my-paper-2025"]["ok"]

    listing = affrepro("list", "--json", env=env)
    assert listing.returncode == 0
    slugs = {r["slug"] for r in json.loads(listing.stdout)}
    assert {"my-paper-2025", "daic-woz-bias-2024"} <= slugs and "broken-paper-2025" not in slugs
    text = affrepro("plugins", env=env).stdout
    assert "ERROR broken-paper-2025" in text and "deliberately broken plugin" in text
    assert affrepro("show", "daic-woz-bias-2024", env=env).returncode == 0
    broken = affrepro("plugins", "check", "broken-paper-2025", env=env)
    assert broken.returncode == 1 and "FAIL" in broken.stdout
    # its paper is not "unknown": the plugin that provides it failed, and why (issue 20)
    asked = affrepro("reproduce", "broken-paper-2025", "--no-track", env=env)
    said = " ".join(asked.stderr.split())
    assert asked.returncode == 1 and "plugin 'broken-paper-2025' (affrepro-broken-paper-2025)" in said
    assert "failed to load: ImportError: deliberately broken plugin" in said
    # uninstall takes the plugin's name, as check does, and hands pip its distribution
    gone = affrepro("plugins", "uninstall", "my-paper-2025", env=env)
    assert "my-paper-2025 is provided by the distribution affrepro-my-paper-2025" in gone.stderr

    strict = affrepro("list", env=dict(env, AFFREPRO_STRICT_PLUGINS="1"))
    assert strict.returncode == 1 and "broken-paper-2025" in strict.stderr


def test_new_refuses_to_overwrite(tmp_path):
    assert affrepro("plugins", "new", "x-2025", "--dir", str(tmp_path)).returncode == 0
    again = affrepro("plugins", "new", "x-2025", "--dir", str(tmp_path))
    assert again.returncode == 1 and "already exists" in again.stderr
