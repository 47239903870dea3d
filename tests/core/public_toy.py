"""A toy paper on a PUBLIC dataset served from a mirror folder, for the integrity, status,
exit-code and dry-run tests: one file with a declared sha256, one claim read from it."""
from __future__ import annotations

import hashlib
from pathlib import Path

from affrepro import hookimpl
from affrepro.components import DataFile, Dataset, Reproduction

SLUG = "pubtoy-2024"
DATASET = "pubtoy"
FILE = "values.csv"
PAYLOAD = b"value\n0.75\n"
SHA = hashlib.sha256(PAYLOAD).hexdigest()
CARD = """\
slug = "pubtoy-2024"
title = "A toy paper on public data"
authors = ["A. Author"]
venue = "Tests"
year = 2024
class = "A"
published_numbers = "retrieved"

[protocol]
seeds = [0]

[[claims]]
id = "mean"
description = "the mean of the released values"
source = "Table 1"
metric = "accuracy"
value = VALUE
higher_is_better = true
tolerance = { absolute = 0.005, why = "two decimals" }
requires = { datasets = ["pubtoy"] }
"""


def _protocol(ctx):
    rows = (ctx.data_path(DATASET) / FILE).read_text().split()[1:]
    return {"mean": sum(map(float, rows)) / len(rows)}


class PublicToy:
    def __init__(self, card_path: Path, auto_fetch: bool = True):
        self.card_path, self.auto_fetch = card_path, auto_fetch

    @hookimpl
    def register_datasets(self, register):
        register(Dataset(name=DATASET, description="toy values", access="public", licence="CC0",
                         homepage="https://example.org",
                         files=(DataFile(FILE, SHA, url="https://example.invalid/values.csv"),),
                         synthesize=lambda folder, seed: _write(folder, b"value\n0.5\n"),
                         auto_fetch=self.auto_fetch))

    @hookimpl
    def register_reproductions(self, register):
        register(Reproduction(slug=SLUG, card_path=self.card_path, protocol=_protocol,
                              datasets=(DATASET,)))


def _write(folder: Path, payload: bytes) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / FILE).write_bytes(payload)


def make_mirror(root: Path, payload: bytes = PAYLOAD) -> Path:
    """``root/pubtoy/values.csv``: a mirror folder (AFFREPRO_DATA_MIRROR)."""
    _write(root / DATASET, payload)
    return root


def install(tmp_path: Path, monkeypatch, *, value: float = 0.75, auto_fetch: bool = True):
    """Make the process-wide plugin state the built-ins plus this toy (what the CLI uses)."""
    from affrepro import plugin_manager

    card = tmp_path / "pubtoy-card" / "paper.toml"
    card.parent.mkdir(parents=True, exist_ok=True)
    card.write_text(CARD.replace("VALUE", str(value)))
    state = plugin_manager.build_plugin_manager(
        extra_plugins=[("pubtoy", PublicToy(card, auto_fetch))], load_entry_points=False)
    monkeypatch.setattr(plugin_manager, "_STATE", state)
    return state
