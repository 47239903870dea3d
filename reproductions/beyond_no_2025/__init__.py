"""beyond-no-2025: Beyond No: Quantifying AI Over-Refusal and Emotional Attachment Boundaries.

The run's language model answers the user's emotional-boundary prompts and the responses
are matched against the seven patterns (protocol.py, patterns.py). The paper's 1,156
prompts and pattern lists were not released."""
from __future__ import annotations

from affrepro import hookimpl


@hookimpl
def register_datasets(register):
    from affrepro.reproductions.beyond_no_2025.datasets import PROMPTS

    register(PROMPTS)
