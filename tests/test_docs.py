"""The README and docs/ stand alone: every relative link and every file of the repository
they name exists, in-page anchors match a heading, and nothing points at developer notes
outside the repository."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.S | re.M)
CODE = re.compile(r"`([^`\n]+(?:\n[^`\n]+)*)`")  # inline code, within a paragraph
TOP = ("core/", "kernels/", "plugins/", "reproductions/", "tests/", "benchmarks/", "tools/",
       "docs/", ".ci/")
PLACEHOLDER = re.compile(r"[*<>{}…]")


def anchors(text: str) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces as '-'."""
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-")
            for h in re.findall(r"^#+ (.+)$", text, re.M)}


def test_there_are_docs_pages():
    names = {p.name for p in PAGES}
    assert {"README.md", "writing-a-plugin.md", "kernels.md", "gpu-checks.md", "data.md",
            "architecture.md"} <= names


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_relative_link_resolves(page):
    text = page.read_text(encoding="utf-8")
    broken = []
    for target in LINK.findall(text):
        if re.match(r"^[a-z]+:", target):
            continue  # http(s), mailto
        path, _, anchor = target.partition("#")
        dest = (page.parent / path).resolve() if path else page
        if not dest.exists():
            broken.append(target)
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest.read_text(encoding="utf-8")):
            broken.append(f"{target} (no such heading)")
    assert not broken, f"{page.name}: {broken}"


def code_spans(text: str) -> list[str]:
    """The fenced blocks and the inline code of a Markdown page."""
    fences = FENCE.findall(text)
    return fences + CODE.findall(FENCE.sub("", text))


def test_every_repository_file_named_exists():
    named = {(page.name, token.rstrip(".,;:)")) for page in PAGES
             for span in code_spans(page.read_text(encoding="utf-8")) for token in span.split()
             if token.startswith(TOP) and not PLACEHOLDER.search(token)}
    assert len(named) > 10  # the check reads the pages' file names (benchmarks, tools, tests)
    missing = sorted(f"{page}: {path}" for page, path in named if not (ROOT / path).exists())
    assert not missing, f"files named in the docs that do not exist: {missing}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_no_page_points_outside_the_repository(page):
    text = page.read_text(encoding="utf-8")
    for outside in ("DESIGN.md", "PAPERS.md", "../shared"):
        assert outside not in text, f"{page.name} mentions {outside}, which users do not have"
