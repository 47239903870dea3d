"""Rewrite the status table between the README's markers from the registry.

    python tools/update_readme_table.py          # rewrite
    python tools/update_readme_table.py --check  # exit 1 if the README is stale

The counts of claims reproduced / not reproduced on real data come from the shipped ledger
(core/real_data_verdicts.json): run the papers on real data, then
``affrepro report --record`` before this tool.
"""
from __future__ import annotations

import re
import subprocess
import tempfile
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"
START, END = "<!-- status-table:start -->", "<!-- status-table:end -->"
AUDIT_START, AUDIT_END = "<!-- audit-table:start -->", "<!-- audit-table:end -->"


def current_table(*extra: str) -> str:
    # Run from a neutral folder: `python -m` puts the working directory first on sys.path, and
    # a stale affrepro.egg-info left in the checkout by a build would then shadow the installed
    # entry points (the table would silently lose every paper registered since that build).
    out = subprocess.run([sys.executable, "-m", "affrepro.cli", "report", "--md", "--no-runs", *extra],
                         capture_output=True, text=True, check=True, cwd=tempfile.gettempdir())
    return out.stdout


def main() -> int:
    text = README.read_text(encoding="utf-8")
    table = current_table()
    new = re.sub(re.escape(START) + r".*?" + re.escape(END), lambda m: f"{START}\n{table}{END}",
                 text, flags=re.S)
    if AUDIT_START in new:
        audits = current_table("--audits")
        new = re.sub(re.escape(AUDIT_START) + r".*?" + re.escape(AUDIT_END),
                     lambda m: f"{AUDIT_START}\n{audits}{AUDIT_END}", new, flags=re.S)
    if "--check" in sys.argv:
        return 0 if new == text else 1
    README.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
