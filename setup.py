"""The package list is derived from the folders, not written by hand.

pyproject.toml maps the four source folders onto the ``affrepro`` namespace
(``[tool.setuptools.package-dir]``: core/ -> affrepro, kernels/ -> affrepro.kernels, ...);
every folder below them is a package of that namespace, a card-only paper folder (just
``paper.toml``, no ``__init__.py``) included, so its card ships in the wheel. Everything
else is configured in pyproject.toml.
"""
from __future__ import annotations

from pathlib import Path

from setuptools import find_namespace_packages, setup

ROOT = Path(__file__).resolve().parent


def package_dir(root: Path = ROOT) -> dict[str, str]:
    from setuptools.config.pyprojecttoml import load_file

    return load_file(root / "pyproject.toml")["tool"]["setuptools"]["package-dir"]


def affrepro_packages(root: Path = ROOT) -> list[str]:
    """Every package under the package-dir mapping: the mapped names and the folders below."""
    mapping = package_dir(root)
    found = set(mapping)
    for name, folder in mapping.items():
        subs = find_namespace_packages(where=str(root / folder),
                                       exclude=["__pycache__", "*.__pycache__"])
        found.update(f"{name}.{sub}" for sub in subs)
    return sorted(found)


if __name__ == "__main__":
    setup(packages=affrepro_packages())
