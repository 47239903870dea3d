"""redaffectivelm-2023: the dataset this paper alone uses (``semeval2007``); the card names
the protocol."""
from __future__ import annotations

from affrepro import hookimpl


@hookimpl
def register_datasets(register):
    from affrepro.reproductions.redaffectivelm_2023.datasets import SEMEVAL2007

    register(SEMEVAL2007)
