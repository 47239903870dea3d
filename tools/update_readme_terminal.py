"""Rewrite the README's 80-column terminal examples from real runs of the commands.

    python tools/update_readme_terminal.py          # rewrite (needs AFFREPRO_DATA_MIRROR or internet)
    python tools/update_readme_terminal.py --check  # exit 1 if the README is stale

Each block is the command's own output at COLUMNS=80, cut to its first lines and its
last ones (a line "…" marks the cut); nothing is typed by hand.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"
# fixed folders, so the paths the commands print are the same on every machine
BASE = Path(tempfile.gettempdir()) / "affrepro-readme"
RUN_DIR = BASE / "daic-woz-bias-2024"


def output(*args: str, fresh: bool = False) -> list[str]:
    """The command's stdout at 80 columns; ``fresh``: as on a new install (no data, no mirror)."""
    import shutil

    env = {**os.environ, "COLUMNS": "80", "NO_COLOR": "1", "TERM": "dumb",
           "AFFREPRO_HOME": str(BASE / "home"), "AFFREPRO_DATA_DIR": str(BASE / "data")}
    if fresh:
        shutil.rmtree(BASE / "fresh", ignore_errors=True)
        env["AFFREPRO_DATA_DIR"] = str(BASE / "fresh")
        env.pop("AFFREPRO_DATA_MIRROR", None)
    # from a neutral folder, as tools/update_readme_table.py (a stale egg-info in the
    # checkout would shadow the installed entry points)
    out = subprocess.run([sys.executable, "-m", "affrepro.cli", *args], capture_output=True, text=True,
                         env=env, cwd=tempfile.gettempdir())
    if out.returncode not in (0, 1):
        raise SystemExit(f"affrepro {' '.join(args)} failed:\n{out.stderr[-2000:]}")
    return [line.rstrip() for line in out.stdout.splitlines()]


def excerpt(lines: list[str], head: int, tail_from: str | None = None) -> list[str]:
    """The first ``head`` lines, "…", and the lines from the first that starts with
    ``tail_from`` to the end (or nothing after the cut)."""
    if len(lines) <= head:
        return lines
    start = next((i for i, line in enumerate(lines) if tail_from and line.startswith(tail_from)), None)
    tail = lines[start:] if start is not None and start >= head else []
    return lines[:head] + ["…"] + tail


def blocks(which: tuple[str, ...] = ("list", "reproduce")) -> dict[str, str]:
    out = {}
    if "list" in which:
        out["list"] = "\n".join(["$ affrepro list", *excerpt(output("list", fresh=True), 14)])
    if "reproduce" in which:
        lines = output("reproduce", "daic-woz-bias-2024", "--no-track", "-o", str(RUN_DIR))
        out["reproduce"] = "\n".join([f"$ affrepro reproduce daic-woz-bias-2024 --no-track -o {RUN_DIR}",
                                      *excerpt(lines, 10, "(tolerance")])
    return out


def render(text: str, which: tuple[str, ...] = ("list", "reproduce")) -> str:
    for name, body in blocks(which).items():
        start, end = f"<!-- terminal-{name}:start -->", f"<!-- terminal-{name}:end -->"
        text = re.sub(re.escape(start) + r".*?" + re.escape(end),
                      lambda m: f"{start}\n```text\n{body}\n```\n{end}", text, flags=re.S)
    return text


def main() -> int:
    text = README.read_text(encoding="utf-8")
    new = render(text)
    if "--check" in sys.argv:
        return 0 if new == text else 1
    README.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
