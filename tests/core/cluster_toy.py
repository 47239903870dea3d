"""A toy paper whose protocol maps independent units through ``ctx.map`` (for the
executor and cluster tests; importable by subprocesses, pickled by value for workers)."""
from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from affrepro import hookimpl
from affrepro.components import Reproduction

SLUG = "cluster-toy-2024"
N_UNITS = 8
CARD = """\
slug = "cluster-toy-2024"
title = "A toy paper of independent units"
authors = ["A. Author"]
venue = "Tests"
year = 2024
class = "B"
published_numbers = "retrieved"

[protocol]
seeds = [3]

[[claims]]
id = "sum"
description = "sum over the units of (seed + i)^2"
source = "Table 1 of the toy paper"
metric = "sum"
value = 380
higher_is_better = true
tolerance = { absolute = 0.5, why = "an integer" }
"""


def expected_sum(seed: int = 3, n: int = N_UNITS) -> float:
    return float(sum((seed + i) ** 2 for i in range(n)))


def unit(seed: int, i: int, behaviour: str, marks: str) -> dict:
    """(seed + i)^2, after doing what ``behaviour`` says to unit 2 (or 5)."""
    marks_dir = Path(marks)
    with open(marks_dir / "attempts.log", "a") as fh:  # one line per attempt, any process
        fh.write(f"{i} {os.getpid()}\n")
    if behaviour == "kill-worker" and i == 2 and not (marks_dir / "killed").exists():
        (marks_dir / "killed").write_text(str(os.getpid()))
        os.kill(os.getpid(), signal.SIGKILL)  # the worker process dies mid-task
    if behaviour == "raise" and i == 5:
        raise ValueError(f"unit {i} cannot be computed")
    if behaviour == "slow":
        if i >= 4:
            (marks_dir / "slow-started").write_text(str(i))
            time.sleep(60)
    return {"square": float((seed + i) ** 2), "i": i}


SLUG_B = "cluster-toy-b-2024"  # a second paper, for reproduce --all


class ClusterToy:
    def __init__(self, card_path: Path, behaviour: str, marks: Path):
        self.card_path, self.behaviour, self.marks = Path(card_path), behaviour, str(marks)

    @hookimpl
    def register_reproductions(self, register):
        register(Reproduction(slug=SLUG, card_path=self.card_path, protocol=self.protocol))
        card_b = self.card_path.with_name("paper_b.toml")
        if card_b.exists():
            register(Reproduction(slug=SLUG_B, card_path=card_b, protocol=self.protocol))

    def protocol(self, ctx):
        seed = ctx.seeds[0]
        units = {f"u{i}": (seed, i, self.behaviour, self.marks) for i in range(N_UNITS)}
        out = ctx.map(unit, units, label="squares")
        return {"sum": sum(v["square"] for v in out.values())}


def state(folder: Path, behaviour: str = "ok"):
    from affrepro.plugin_manager import build_plugin_manager

    folder.mkdir(parents=True, exist_ok=True)
    card = folder / "paper.toml"
    card.write_text(CARD)
    (folder / "paper_b.toml").write_text(CARD.replace(SLUG, SLUG_B).replace("seeds = [3]", "seeds = [4]")
                                         .replace("value = 380", "value = 540"))
    marks = folder / "marks"
    marks.mkdir(exist_ok=True)
    return build_plugin_manager(extra_plugins=[("cluster-toy", ClusterToy(card, behaviour, marks))],
                                load_entry_points=False)


def by_value() -> None:
    """Workers cannot import this test module: send its functions by value."""
    import sys

    import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])


def registries_of(folder: str, behaviour: str = "ok"):
    """The toy papers' registries, built where it is called (a worker of reproduce --all)."""
    return state(Path(folder), behaviour).registries
