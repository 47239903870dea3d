"""araus-2022: Ooi et al., "ARAUS: A Large-Scale Dataset and Baseline Models of Affective
Responses to Augmented Urban Soundscapes" (IEEE Transactions on Affective Computing).

Datasets ``araus`` (the DR-NTU release, by download), ``araus-soundscapes`` (the public
copy of soundscapes.csv) and ``isd`` (International Soundscape Database, for the
real-data extension); the protocol is in ``protocol.py``, the ISO projection in ``iso.py``.
The CNN baseline and the psychoacoustic indicator kernels are not implemented yet.
"""
from __future__ import annotations

from pathlib import Path

from affrepro import hookimpl
from affrepro.components import Reproduction

SLUG = "araus-2022"


def _protocol(ctx):
    from affrepro.reproductions.araus_2022.protocol import run

    return run(ctx)


@hookimpl
def register_datasets(register):
    from affrepro.reproductions.araus_2022.datasets import ARAUS, ARAUS_SOUNDSCAPES, ISD

    register(ARAUS)
    register(ARAUS_SOUNDSCAPES)
    register(ISD)


@hookimpl
def register_commands(cli):
    from affrepro.reproductions.araus_2022.cli import araus_isd_command

    cli.add_command(araus_isd_command)


@hookimpl
def register_reproductions(register):
    register(Reproduction(slug=SLUG, card_path=Path(__file__).with_name("paper.toml"),
                          protocol=_protocol, datasets=("araus",)))
