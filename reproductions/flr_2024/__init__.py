"""flr-2024: Aligning Language Models Using Follow-up Likelihood as Reward Signal.

FLR (the likelihood of the authors' positive vs negative user follow-ups after a
response) scores the user's preference pairs on the run's language model: protocol.py.
The paper's eight pairwise benchmarks and its fine-tuned follow-up model are not public
here, and no number was retrieved, so there are no claims."""
from __future__ import annotations

from affrepro import hookimpl


@hookimpl
def register_datasets(register):
    from affrepro.reproductions.flr_2024.datasets import PREFERENCE

    register(PREFERENCE)
