"""Built-in feature extractors: ``logmel`` and ``mfcc`` on ``affrepro.kernels.spectral``,
and the ``affrepro features`` commands (``list``, ``extract``).

Loading this plugin imports neither NumPy nor the kernels: the extractors and the
command import them when they run.
"""
from __future__ import annotations

from typing import Any

from affrepro import hookimpl
from affrepro.components import Feature

# One place for the defaults: what `features extract` stores beside every array.
COMMON: dict[str, Any] = {
    "target_sample_rate": 16000,  # signals are resampled to this rate first (None: keep theirs)
    "res_type": "soxr_hq",  # how: librosa.load's default ("soxr_vhq", "polyphase": scipy)
    "n_fft": 1024, "hop_length": 160, "win_length": None, "window": "hann",
    "center": True, "pad_mode": "constant", "power": 2.0,
    "n_mels": 64, "fmin": 0.0, "fmax": None, "htk": False, "norm": "slaney",
    "ref": 1.0, "amin": 1e-10, "top_db": 80.0,
}
LOGMEL_SETTINGS: dict[str, Any] = {**COMMON, "log": "db"}
# librosa's mfcc names: `norm` is the DCT's, the mel filters' is `mel_norm`
MFCC_SETTINGS: dict[str, Any] = {**{k: v for k, v in COMMON.items() if k != "norm"},
                                 "mel_norm": COMMON["norm"], "n_mfcc": 20, "dct_type": 2,
                                 "norm": "ortho", "lifter": 0.0}


def extract_logmel(signal, sample_rate: float, backend: str = "auto", **settings):
    """Log-mel (..., n_mels, n_frames) of ``signal`` (..., samples) at ``sample_rate``."""
    from affrepro.plugins.features.extract import run_extractor

    return run_extractor("logmel", signal, sample_rate, {**LOGMEL_SETTINGS, **settings},
                         backend=backend)


def extract_mfcc(signal, sample_rate: float, backend: str = "auto", **settings):
    """MFCC (..., n_mfcc, n_frames) of ``signal`` (..., samples) at ``sample_rate``."""
    from affrepro.plugins.features.extract import run_extractor

    return run_extractor("mfcc", signal, sample_rate, {**MFCC_SETTINGS, **settings},
                         backend=backend)


def _numbered(prefix: str):
    """Column names ``<prefix>_00``.. for tabular output."""
    def names(settings, n: int) -> list[str]:
        from affrepro.plugins.features.tables import numbered

        return numbered(prefix, n, min_width=2)
    return names


@hookimpl
def register_features(register):
    # the spectral Numba kernels are serial (nogil): safe in parallel under any layer
    register(Feature(name="logmel", extract=extract_logmel, settings=dict(LOGMEL_SETTINGS),
                     description="log-mel spectrogram in dB (librosa conventions; Numba on "
                                 "the CPU, fused Triton on CUDA)", numba_parallel=False,
                     columns=_numbered("mel")))
    register(Feature(name="mfcc", extract=extract_mfcc, settings=dict(MFCC_SETTINGS),
                     description="MFCC: DCT-II (ortho) of the dB log-mel, optional liftering "
                                 "(librosa conventions)", numba_parallel=False,
                     columns=_numbered("mfcc")))


@hookimpl
def register_commands(cli):
    from affrepro.plugins.features.cli import features

    if "features" not in getattr(cli, "commands", {}):
        cli.add_command(features)
