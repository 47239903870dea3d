"""movie-affect-2019: Multimodal Deep Models for Predicting Affective Responses Evoked by Movies.

No published number has been retrieved, so the card has no claim. ``reproduce`` runs the
paper's early-fusion models (audio-visual features concatenated into fully connected
layers, and into an LSTM) on the user's ``cognimuse-extended`` folder, or on its
synthetic corpus with ``--dry-run``, and records MSE and PCC for valence and arousal (the
protocol is named on the card). This package registers the dataset."""
from __future__ import annotations

from affrepro import hookimpl
from affrepro.components import Dataset
from affrepro.lazy import lazy

_HERE = "affrepro.reproductions.movie_affect_2019"

COGNIMUSE = Dataset(
    name="cognimuse-extended",
    description="Extended COGNIMUSE as movie-affect-2019 uses it: per movie clip, experienced "
                "valence/arousal every 40 ms (annotations.csv: time_s,valence,arousal) and the "
                "audio and visual feature vectors of each 1 s step (audio.npy, visual.npy)",
    access="licensed", licence="COGNIMUSE EULA",
    homepage="https://cognimuse.cs.ntua.gr/database",
    how_to_get=("Request COGNIMUSE from its authors (NTUA, EULA), extract the audio and visual "
                "features of each 1 s step, and lay out one folder per movie with "
                "annotations.csv, audio.npy and visual.npy (docs/fusion.md)."),
    verify=lazy(f"{_HERE}.cognimuse:verify"),
    synthesize=lazy(f"{_HERE}.cognimuse:synthesize"),
)


@hookimpl
def register_datasets(register):
    register(COGNIMUSE)
