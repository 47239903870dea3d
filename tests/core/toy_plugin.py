"""A toy paper plugin for runner and tracking tests (also importable by subprocesses)."""
from __future__ import annotations

import csv
import math
import os
import time
from pathlib import Path

from affrepro import hookimpl
from affrepro.components import Dataset, Problem, Reproduction

SLUG = "toy-paper-2024"
CARD = """\
slug = "toy-paper-2024"
title = "A toy paper"
authors = ["A. Author"]
venue = "Tests"
year = 2024
class = "B"
published_numbers = "retrieved"

[protocol]
seeds = [7]
deviations = ["the toy model is a lookup table"]

[[claims]]
id = "acc"
description = "accuracy of the toy model"
source = "Table 1 of the toy paper"
metric = "accuracy"
value = 0.75
higher_is_better = true
tolerance = { absolute = 0.005, why = "published to two decimals" }
requires = { datasets = ["toy-licensed"] }

[[claims]]
id = "needs-llm"
description = "a claim that needs an LLM"
source = "Table 2 of the toy paper"
metric = "accuracy"
value = 0.5
higher_is_better = true
tolerance = { absolute = 0.005, why = "published to two decimals" }
requires = { llm = true }
"""


def write_card(folder: Path, llm_claim: bool = True) -> Path:
    """The toy card; ``llm_claim=False`` leaves out the LLM claim, which the toy protocol
    never measures (with a language model always available that claim is an ``error``,
    and an ``error`` fails the run)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "paper.toml"
    path.write_text(CARD if llm_claim else CARD.split('\n[[claims]]\nid = "needs-llm"')[0] + "\n")
    return path


def write_predictions(folder: Path, correct: int, total: int = 100) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "predictions.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["y_true", "y_pred"])
        for i in range(total):
            w.writerow([i % 2, i % 2 if i < correct else 1 - i % 2])


def verify(folder: Path) -> list[Problem]:
    p = folder / "predictions.csv"
    if not p.is_file():
        return [Problem(str(p), "missing")]
    header = p.read_text().splitlines()[:1]
    return [] if header == ["y_true,y_pred"] else [Problem(str(p), f"header {header}, expected y_true,y_pred", 1)]


class ToyPlugin:
    def __init__(self, card_path: Path, behaviour: str = "ok", started_file: str | None = None):
        self.card_path, self.behaviour, self.started_file = Path(card_path), behaviour, started_file

    @hookimpl
    def register_datasets(self, register):
        register(Dataset(name="toy-licensed", description="toy predictions", access="licensed",
                         licence="EULA", homepage="https://example.org", how_to_get="Ask the toy authors.",
                         verify=verify, synthesize=lambda folder, seed: write_predictions(folder, 60)))

    @hookimpl
    def register_reproductions(self, register):
        register(Reproduction(slug=SLUG, card_path=self.card_path, protocol=self.protocol,
                              datasets=("toy-licensed",)))

    def protocol(self, ctx):
        if self.behaviour == "slow":
            Path(self.started_file).write_text(str(os.getpid()))
            time.sleep(120)
        if self.behaviour == "raise":
            raise ValueError("the toy protocol failed")
        if self.behaviour == "nan":
            return {"acc": math.nan}
        with open(ctx.data_path("toy-licensed") / "predictions.csv", newline="") as fh:
            rows = list(csv.DictReader(fh))
        acc = ctx.metric("accuracy")([r["y_true"] for r in rows], [r["y_pred"] for r in rows])
        ctx.record("toy.n", len(rows))
        if self.behaviour == "nan-records":
            ctx.record("toy.undefined", math.nan)
            ctx.record("toy.overflow", math.inf)
        return {"acc": acc}


def state_with_toy(card_path: Path, behaviour: str = "ok", started_file: str | None = None):
    from affrepro.plugin_manager import build_plugin_manager

    return build_plugin_manager(extra_plugins=[("toy", ToyPlugin(card_path, behaviour, started_file))],
                                load_entry_points=False)
