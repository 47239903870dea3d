"""polarization-2025: Chowdhury, Rashid & Terejanu, "Measuring Social Media Polarization
Using Large Language Models and Heuristic Rules" (FAB 2025, arXiv 2601.00927)."""
from __future__ import annotations

from pathlib import Path

from affrepro import hookimpl
from affrepro.components import Reproduction
from affrepro.lazy import lazy

SLUG = "polarization-2025"


@hookimpl
def register_datasets(register):
    from affrepro.reproductions.polarization_2025.datasets import CONVERSATIONS

    register(CONVERSATIONS)


@hookimpl
def register_reproductions(register):
    register(Reproduction(slug=SLUG, card_path=Path(__file__).with_name("paper.toml"),
                          protocol=lazy("affrepro.reproductions.polarization_2025.protocol:run"),
                          datasets=("polarization-conversations",)))
