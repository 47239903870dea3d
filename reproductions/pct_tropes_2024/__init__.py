"""pct-tropes-2024: Revealing Fine-Grained Values and Opinions in Large Language Models

The protocol is protocol.py, named on the card ([protocol] run); this package registers the
paper's (unreleased) response set as a dataset the user links (responses.py)."""
from __future__ import annotations

from affrepro import hookimpl


@hookimpl
def register_datasets(register):
    from affrepro.reproductions.pct_tropes_2024.responses import RESPONSES

    register(RESPONSES)
