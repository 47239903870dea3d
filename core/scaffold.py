"""``affrepro plugins new NAME``: an installable plugin package that ``plugins check`` accepts.

The package holds one reproduction (card + protocol), one licensed dataset with a layout
verifier and a synthetic generator, and the entry point that makes affrepro load it.
"""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from affrepro.card import SLUG_RE
from affrepro.errors import AffreproError
from affrepro.fileio import atomic_write_text

PYPROJECT = '''\
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "{dist}"
version = "0.1.0"
description = "affrepro plugin: {slug}"
requires-python = ">=3.10"
dependencies = ["affrepro"]

[project.entry-points.affrepro]
{slug} = "{module}"

[tool.setuptools]
packages = ["{module}"]
package-dir = {{"" = "src"}}

[tool.setuptools.package-data]
"{module}" = ["paper.toml"]
'''

INIT = '''\
"""affrepro plugin for {slug}: registers its dataset and reproduction."""
from __future__ import annotations

import csv
from pathlib import Path

from affrepro import hookimpl
from affrepro.components import Dataset, Problem, Reproduction

DATASET = "{slug}-data"
COLUMNS = ["item", "y_true", "y_pred"]


def verify(folder: Path) -> list[Problem]:
    """Check the real layout: predictions.csv with columns item, y_true, y_pred."""
    path = folder / "predictions.csv"
    if not path.is_file():
        return [Problem(str(path), "missing")]
    problems = []
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader, [])
        if header != COLUMNS:
            return [Problem(str(path), f"header {{header}}, expected {{COLUMNS}}", 1)]
        for n, row in enumerate(reader, start=2):
            if len(row) != 3 or not all(v.strip() for v in row):
                problems.append(Problem(str(path), "expected 3 non-empty cells", n))
    return problems


def synthesize(folder: Path, seed: int) -> None:
    """A small corpus in exactly the real layout."""
    import random

    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "predictions.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(COLUMNS)
        for i in range(50):
            y = rng.randint(0, 1)
            writer.writerow([i, y, y if rng.random() < 0.8 else 1 - y])


def protocol(ctx) -> dict[str, float]:
    """Score the predictions; return {{claim_id: value}} for ctx.claims_to_measure."""
    with open(ctx.data_path(DATASET) / "predictions.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    y_true = [int(r["y_true"]) for r in rows]
    y_pred = [int(r["y_pred"]) for r in rows]
    ctx.record("accuracy", ctx.metric("accuracy")(y_true, y_pred))
    ctx.record("f1_macro", ctx.metric("f1_macro")(y_true, y_pred))
    return {{}}


@hookimpl
def register_datasets(register):
    register(Dataset(
        name=DATASET,
        description="Predictions of the paper's model (replace with the real data's description)",
        access="licensed",
        licence="state the data licence here",
        homepage="https://example.org/request-access",
        how_to_get="Request the data from its authors, then put predictions.csv in one folder.",
        verify=verify,
        synthesize=synthesize,
    ))


@hookimpl
def register_reproductions(register):
    register(Reproduction(slug="{slug}", card_path=Path(__file__).with_name("paper.toml"),
                          protocol=protocol, datasets=(DATASET,)))
'''

CARD = '''\
slug = "{slug}"
title = "Title of the paper"
authors = ["First Author", "Second Author"]
venue = "Venue"
year = {year}
class = "B"
# "retrieved" once a published number and its source are known; never invent one.
published_numbers = "not retrieved"

[links]
code = []
data = []

[data_access]
access = "licensed"
licence = "state the data licence here"

[protocol]
seeds = [0]
deviations = []

# Add one [[claims]] table per published number, e.g.
# [[claims]]
# id = "test-accuracy"
# description = "What the number measures"
# source = "Table 2, row 'ours'"
# metric = "accuracy"
# value = 0.0
# higher_is_better = true
# tolerance = {{ absolute = 0.005, why = "published to 2 decimals" }}
# requires = {{ datasets = ["{slug}-data"] }}
'''

README = '''\
# {dist}

An [affrepro](https://pypi.org/project/affrepro/) plugin reproducing `{slug}`.

    affrepro plugins install .
    affrepro plugins check {slug}
    affrepro reproduce {slug} --dry-run
'''


def new_plugin(name: str, parent: Path, year: int | None = None) -> Path:
    """Write the package into ``parent/<dist>`` and return that folder."""
    base = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    if not base:
        raise AffreproError(f"plugin name {name!r} has no letters or digits")
    year = year or dt.date.today().year
    slug = base if SLUG_RE.match(base) else f"{base}-{year}"
    dist = base if base.startswith("affrepro-") else f"affrepro-{base}"
    module = dist.replace("-", "_")
    root = parent / dist
    if root.exists():
        raise AffreproError(f"{root} already exists; choose another name or remove it")
    fields = dict(dist=dist, slug=slug, module=module, year=year)
    atomic_write_text(root / "pyproject.toml", PYPROJECT.format(**fields))
    atomic_write_text(root / "README.md", README.format(**fields))
    atomic_write_text(root / "src" / module / "__init__.py", INIT.format(**fields))
    atomic_write_text(root / "src" / module / "paper.toml", CARD.format(**fields))
    return root
