"""The wheel ships exactly the packages of the source tree, derived, not listed by hand.

setup.py derives the package list from the folders under pyproject.toml's package-dir
mapping (the sources live in core/, kernels/, plugins/ and reproductions/ under other
names than the import paths). A folder that is not a package in the wheel would make its
plugin fail for every user who installed affrepro normally while the editable checkout
works; a card-only paper folder (paper.toml alone) must be one too, or its card is lost.
"""
from __future__ import annotations

import runpy
import shutil
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]
SETUP = runpy.run_path(str(ROOT / "setup.py"), run_name="affrepro_setup")


def _source_folders(mapping: dict[str, str], root: Path = ROOT) -> set[str]:
    """Every folder that holds Python code or a paper card, as an import name."""
    found: set[str] = set()
    for pkg, folder in mapping.items():
        base = root / folder
        for path in base.rglob("*"):
            if path.suffix not in (".py", ".toml") or "__pycache__" in path.parts:
                continue
            rel = path.parent.relative_to(base)
            found.add(".".join((pkg, *rel.parts)) if rel.parts else pkg)
    return found


def test_pyproject_lists_no_packages_by_hand():
    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert "packages" not in cfg


def test_every_source_folder_is_a_package_of_the_wheel():
    mapping = SETUP["package_dir"]()
    derived = set(SETUP["affrepro_packages"]())
    source = _source_folders(mapping)
    assert not source - derived, f"folders missing from the wheel: {sorted(source - derived)}"
    assert "affrepro.reproductions.ac_llm_survey_2024" in derived  # a card-only paper


def test_a_new_folder_needs_no_edit(tmp_path):
    root = tmp_path / "tree"
    root.mkdir()
    for name in ("pyproject.toml", "setup.py"):
        shutil.copy(ROOT / name, root / name)
    for folder in SETUP["package_dir"]().values():
        (root / folder).mkdir()
        (root / folder / "__init__.py").write_text("")
    (root / "reproductions" / "new_paper_2099").mkdir()
    (root / "reproductions" / "new_paper_2099" / "paper.toml").write_text("slug = 'new-paper-2099'\n")
    (root / "plugins" / "llm" / "backends").mkdir(parents=True)
    (root / "plugins" / "llm" / "__init__.py").write_text("")
    (root / "plugins" / "llm" / "backends" / "server.py").write_text("")
    derived = set(SETUP["affrepro_packages"](root))
    assert {"affrepro.reproductions.new_paper_2099", "affrepro.plugins.llm",
            "affrepro.plugins.llm.backends"} <= derived
    assert derived == _source_folders(SETUP["package_dir"](root), root)
