"""The README's status table is generated from the registry and must not drift."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOOL = ROOT / "tools" / "update_readme_table.py"


def test_readme_table_matches_the_registry(tmp_path):
    # run from a neutral folder: a stale affrepro.egg-info in the checkout (an ignored build
    # leftover) would otherwise shadow the installed entry points of `python -m affrepro.cli`
    out = subprocess.run([sys.executable, str(TOOL), "--check"], capture_output=True, text=True,
                         timeout=120, cwd=tmp_path)
    assert out.returncode == 0, ("README.md's status table is stale: run "
                                 "`python tools/update_readme_table.py`\n" + out.stderr[-2000:])


def test_readme_table_lists_every_registered_paper(registries):
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    table = re.search(r"<!-- status-table:start -->(.*?)<!-- status-table:end -->", text, re.S).group(1)
    rows = {line.split("|")[1].strip() for line in table.strip().splitlines()[2:]}
    assert rows == {e.name for e in registries.reproductions.entries()}
