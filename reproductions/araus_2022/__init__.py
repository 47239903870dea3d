"""araus-2022: Ooi et al., "ARAUS: A Large-Scale Dataset and Baseline Models of Affective
Responses to Augmented Urban Soundscapes" (IEEE Transactions on Affective Computing).

Datasets ``araus`` (the DR-NTU release, by download), ``araus-soundscapes`` (the public
copy of soundscapes.csv) and ``isd`` (International Soundscape Database, for the
real-data extension); the protocol is in ``protocol.py``, the ISO projection in ``iso.py``.
Model ``araus-cnn``: the authors' binaural log-mel CNN (``cnn.py``), trained by the
protocol on ``--device cuda`` (on the CPU only with ``AFFREPRO_ARAUS_CNN_CPU=1``).
"""
from __future__ import annotations

from affrepro import hookimpl
from affrepro.components import Model


@hookimpl
def register_datasets(register):
    from affrepro.reproductions.araus_2022.datasets import ARAUS, ARAUS_SOUNDSCAPES, ISD

    register(ARAUS)
    register(ARAUS_SOUNDSCAPES)
    register(ISD)


def _araus_cnn(**params):
    from affrepro.reproductions.araus_2022.cnn import ArausCNN

    return ArausCNN(**params)


ARAUS_CNN = Model(
    name="araus-cnn",
    factory=_araus_cnn,
    description="ARAUS baseline CNN (Ooi et al. 2022): binaural log-mel 644x64x2 -> 3 conv blocks "
                "(16, 16, 32 filters, 7x7) -> dense 100 -> 1; Adam 1e-4, batches of 32, <=100 epochs, "
                "early stopping patience 10; fit(train, val) / predict(data), data as (X, y) or datasets",
)


@hookimpl
def register_models(register):
    register(ARAUS_CNN)


@hookimpl
def register_commands(cli):
    from affrepro.reproductions.araus_2022.cli import araus_isd_command

    cli.add_command(araus_isd_command)
