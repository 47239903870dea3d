"""The Friends dialogue corpora: MELD, EmoryNLP (emotion detection) and PELD (MELD and
EmoryNLP triples with the six main roles' personality vectors), as mirrored from github
preke/PELD ``data/`` at a pinned commit, plus the FriendsPersona annotations
(``friends-personality.csv``) the personality vectors were averaged from.

MELD and EmoryNLP carry dataset audits: the statistics in MELD's README are claims
(``meld_audit.toml``, ``emorynlp_audit.toml``), recomputed by :mod:`.audits`."""
from __future__ import annotations

from affrepro import hookimpl


@hookimpl
def register_datasets(register):
    from affrepro.plugins.friends_corpora.datasets import EMORYNLP, MELD, PELD

    register(MELD)
    register(EMORYNLP)
    register(PELD)
