"""polarization-2025: Chowdhury, Rashid & Terejanu, "Measuring Social Media Polarization
Using Large Language Models and Heuristic Rules" (FAB 2025, arXiv 2601.00927)."""
from __future__ import annotations

from affrepro import hookimpl


@hookimpl
def register_datasets(register):
    from affrepro.reproductions.polarization_2025.datasets import CONVERSATIONS

    register(CONVERSATIONS)
