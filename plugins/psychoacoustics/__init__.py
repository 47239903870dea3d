"""Psychoacoustic indicators of the ARAUS ``_r`` family as features:

- ``laf`` / ``lcf``: A- / C-weighted Fast (125 ms) level statistics, 16 values in the
  ARAUS order ``avg, min, argmin, max, argmax, 05, 10, 20, ..., 90, 95``
  (``LA*`` / ``LC*`` columns; :func:`feature_names` gives the names);
- ``third_octave``: the 37 one-third-octave band levels 5 Hz .. 20 kHz over the whole
  signal, A-weighted as in ARAUS (``M00005_0 .. M20000_0``);
- ``zwicker_stationary``: ISO 532-1 stationary loudness N (sone), its loudness level
  (phon) and DIN 45692 sharpness (acum) of the whole signal. ARAUS's ``N*``/``S*``
  columns are statistics of TIME-VARYING loudness/sharpness, which is not here yet.

Signals are in pascals along the last axis (``calibration`` multiplies them first: Pa per
full-scale unit); leading axes (e.g. the two channels of a binaural WAV) are kept. ARAUS
does not say how it combined the two ears for these columns, so that is left to callers.
Time-varying loudness and sharpness, roughness, fluctuation strength and tonality are
not here yet. Loading this plugin imports neither NumPy nor the kernels.
"""
from __future__ import annotations

from typing import Any

from affrepro import hookimpl
from affrepro.components import Feature

LEVEL_SETTINGS: dict[str, Any] = {"tau": 0.125, "calibration": 1.0, "step": None}
BAND_SETTINGS: dict[str, Any] = {"weighting": "A", "calibration": 1.0}
ZWICKER_SETTINGS: dict[str, Any] = {"field": "free", "calibration": 1.0}
ZWICKER_NAMES = ("N", "LN", "S")


def band_names(suffix: str = "") -> list[str]:
    """ARAUS names of the 37 bands: M00005_0, M00006_3, ..., M20000_0 (+ suffix)."""
    from affrepro.kernels.sound_level import NOMINAL_BANDS

    return [f"M{int(f):05d}_{int(round(f * 10)) % 10}{suffix}" for f in NOMINAL_BANDS]


def feature_names(name: str, suffix: str = "") -> list[str]:
    """Column names of a feature's last axis, e.g. ``feature_names("laf", "_r")``."""
    from affrepro.plugins.psychoacoustics.stats import stat_names

    if name in ("laf", "lcf"):
        return stat_names("LA" if name == "laf" else "LC", suffix)
    if name == "third_octave":
        return band_names(suffix)
    if name == "zwicker_stationary":
        return [f"{n}{suffix}" for n in ZWICKER_NAMES]
    raise KeyError(f"unknown psychoacoustic feature {name!r}")


def _level_stats(weighting, signal, sample_rate, backend, settings):
    import numpy as np

    from affrepro.kernels.sound_level import level
    from affrepro.plugins.psychoacoustics.stats import level_statistics

    s = {**LEVEL_SETTINGS, **settings}
    unknown = set(s) - set(LEVEL_SETTINGS)
    if unknown:
        raise TypeError(f"unknown settings {sorted(unknown)}; known: {sorted(LEVEL_SETTINGS)}")
    x = np.asarray(signal, dtype=np.float64) * float(s["calibration"])
    lv = level(x, sample_rate, weighting, s["tau"], backend=backend)
    rate = float(sample_rate)
    if s["step"] is not None:  # sample the level every `step` seconds
        hop = max(1, int(round(float(s["step"]) * sample_rate)))
        lv, rate = lv[..., ::hop], sample_rate / hop
    return level_statistics(lv, rate)


def extract_laf(signal, sample_rate: float, backend: str = "auto", **settings):
    """LAF statistics (..., 16) of ``signal`` (..., samples) in Pa."""
    return _level_stats("A", signal, sample_rate, backend, settings)


def extract_lcf(signal, sample_rate: float, backend: str = "auto", **settings):
    """LCF statistics (..., 16) of ``signal`` (..., samples) in Pa."""
    return _level_stats("C", signal, sample_rate, backend, settings)


def extract_third_octave(signal, sample_rate: float, backend: str = "auto", **settings):
    """(..., 37) one-third-octave band levels (dB re 20 uPa, A-weighted by default)."""
    import numpy as np

    from affrepro.kernels.sound_level import third_octave_levels

    s = {**BAND_SETTINGS, **settings}
    unknown = set(s) - set(BAND_SETTINGS)
    if unknown:
        raise TypeError(f"unknown settings {sorted(unknown)}; known: {sorted(BAND_SETTINGS)}")
    x = np.asarray(signal, dtype=np.float64) * float(s["calibration"])
    return third_octave_levels(x, sample_rate, s["weighting"], backend=backend)


def extract_zwicker_stationary(signal, sample_rate: float, backend: str = "auto", **settings):
    """(..., 3): ISO 532-1 stationary loudness (sone), loudness level (phon), DIN 45692
    sharpness (acum) of ``signal`` (..., samples) in Pa."""
    import numpy as np

    from affrepro.kernels import zwicker as zw

    s = {**ZWICKER_SETTINGS, **settings}
    unknown = set(s) - set(ZWICKER_SETTINGS)
    if unknown:
        raise TypeError(f"unknown settings {sorted(unknown)}; known: {sorted(ZWICKER_SETTINGS)}")
    x = np.asarray(signal, dtype=np.float64) * float(s["calibration"])
    n, ns = zw.stationary_loudness(x, sample_rate, s["field"], backend=backend)
    return np.stack([n, zw.loudness_level(n), zw.sharpness_din(n, ns)], axis=-1)


@hookimpl
def register_features(register):
    register(Feature(name="laf", extract=extract_laf, settings=dict(LEVEL_SETTINGS),
                     description="A-weighted Fast level statistics (ARAUS LA*: avg, min, "
                                 "argmin, max, argmax, exceedance 05..95); Numba on the CPU"))
    register(Feature(name="lcf", extract=extract_lcf, settings=dict(LEVEL_SETTINGS),
                     description="C-weighted Fast level statistics (ARAUS LC*)"))
    register(Feature(name="third_octave", extract=extract_third_octave,
                     settings=dict(BAND_SETTINGS),
                     description="37 one-third-octave band levels 5 Hz-20 kHz, A-weighted "
                                 "(ARAUS M00005_0..M20000_0)"))
    register(Feature(name="zwicker_stationary", extract=extract_zwicker_stationary,
                     settings=dict(ZWICKER_SETTINGS),
                     description="ISO 532-1 stationary loudness (sone, phon) and DIN 45692 "
                                 "sharpness (acum) of the whole signal"))
