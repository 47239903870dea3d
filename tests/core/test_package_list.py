"""The wheel ships exactly the packages of the source tree.

pyproject.toml lists packages explicitly (the sources live in core/, kernels/, plugins/
and reproductions/ under other names than the import paths), so a new sub-package that
is not added there is missing from the wheel: its plugin then fails to import for every
user who installed affrepro normally, while the editable checkout works. This test
compares the list with the folders that hold an __init__.py.
"""
from __future__ import annotations

import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]


def _source_packages(cfg: dict) -> set[str]:
    found: set[str] = set()
    for pkg, folder in cfg["package-dir"].items():
        base = ROOT / folder
        for init in base.rglob("__init__.py"):
            rel = init.parent.relative_to(base)
            if "__pycache__" in rel.parts:
                continue
            found.add(".".join((pkg, *rel.parts)) if rel.parts else pkg)
    return found


def test_every_source_package_is_in_the_wheel_list():
    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(cfg["packages"])
    # a folder mapped in package-dir that sits inside another mapped folder counts once
    source = _source_packages(cfg)
    missing = sorted(source - listed)
    stale = sorted(listed - source)
    assert not missing, f"packages with an __init__.py missing from pyproject.toml: {missing}"
    assert not stale, f"pyproject.toml lists packages with no __init__.py: {stale}"
