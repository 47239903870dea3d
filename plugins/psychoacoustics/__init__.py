"""Psychoacoustic indicators of the ARAUS ``_r`` family as features:

- ``laf`` / ``lcf``: A- / C-weighted Fast (125 ms) level statistics, 16 values in the
  ARAUS order ``avg, min, argmin, max, argmax, 05, 10, 20, ..., 90, 95``
  (``LA*`` / ``LC*`` columns; :func:`feature_names` gives the names);
- ``third_octave``: the 37 one-third-octave band levels 5 Hz .. 20 kHz over the whole
  signal, A-weighted as in ARAUS (``M00005_0 .. M20000_0``);
- ``zwicker_stationary``: ISO 532-1 stationary loudness N (sone), its loudness level
  (phon) and DIN 45692 sharpness (acum) of the whole signal;
- ``zwicker_time_varying``: the ARAUS ``S*`` and ``N*`` columns, 29 values: statistics of
  DIN 45692 sharpness S(t) (``Savg, Smax, Sargmax, S05 .. S95``) then of ISO 532-1
  time-varying loudness N(t) (``Navg, Nrmc, Nmax, Nargmax, N05 .. N95``), both every 2
  ms (:func:`affrepro.kernels.zwicker.time_varying_loudness`; resampled to 48 kHz
  first). ``avg`` is the arithmetic mean, ``rmc`` the root mean cube, ``argmax`` the
  time in s from the signal's start. Settings: ``field`` (free/diffuse), ``calibration``
  and ``skip`` (seconds dropped from the start before the statistics; default 0, as
  MoSQITo's ``sharpness_din_tv``: the statistics cover the whole signal, including the
  ~0.1 s over which N(t) rises from rest. ARAUS does not say whether it skipped any).
  Mind the onset: a stimulus that starts abruptly (any cut segment) gives S(t) a spike
  at the first steps (27 acum at t = 2 ms on 65 dB noise; MoSQITo gives the same), so
  with ``skip=0`` Smax/Sargmax describe the onset. ARAUS's own columns show no such
  spike (real soundscapes.csv: Smax at most 3.28 acum, Sargmax never below 0.093 s), so
  for ARAUS-comparable S statistics skip the first few tens of ms (e.g. ``skip=0.05``).

Evidence on ARAUS's time grids, from the real soundscapes.csv: the LA/LC ``argmin`` and
``argmax`` values are multiples of 0.0058 s (0.0058, 0.0174, 0.0232, 0.029, 0.0929 ...),
i.e. level series sampled every 256 samples at 44.1 kHz; ``step=256/44100`` on
``laf``/``lcf`` gives that grid (the default, None, keeps every sample).

Signals are in pascals along the last axis (``calibration`` multiplies them first: Pa per
full-scale unit); leading axes (e.g. the two channels of a binaural WAV) are kept. ARAUS
does not say how it combined the two ears for these columns, so that is left to callers.
Roughness (``roughness``, the ARAUS ``R*`` columns) is the sibling plugin
:mod:`affrepro.plugins.psychoacoustics.roughness`; fluctuation strength (``F*``) and
tonality (``T*``) are not in affrepro yet. Loading this plugin imports neither NumPy nor
the kernels.
"""
from __future__ import annotations

from typing import Any

from affrepro import hookimpl
from affrepro.components import Feature

LEVEL_SETTINGS: dict[str, Any] = {"tau": 0.125, "calibration": 1.0, "step": None}
BAND_SETTINGS: dict[str, Any] = {"weighting": "A", "calibration": 1.0}
ZWICKER_SETTINGS: dict[str, Any] = {"field": "free", "calibration": 1.0}
ZWICKER_NAMES = ("N", "LN", "S")
ZWICKER_TV_SETTINGS: dict[str, Any] = {"field": "free", "calibration": 1.0, "skip": 0.0}


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
    if name == "zwicker_time_varying":
        from affrepro.plugins.psychoacoustics.stats import LOUDNESS_STATS, SHARPNESS_STATS

        return (stat_names("S", suffix, SHARPNESS_STATS)
                + stat_names("N", suffix, LOUDNESS_STATS))
    if name == "roughness":
        from affrepro.plugins.psychoacoustics import roughness

        return roughness.feature_names(suffix)
    raise KeyError(f"unknown psychoacoustic feature {name!r}")


def _level_stats(weighting, signal, sample_rate, backend, settings):
    from affrepro.kernels.sound_level import P0, mean_square
    from affrepro.plugins.psychoacoustics.stats import (
        calibrated, mean_square_statistics, setting_number,
    )

    s = {**LEVEL_SETTINGS, **settings}
    unknown = set(s) - set(LEVEL_SETTINGS)
    if unknown:
        raise TypeError(f"unknown settings {sorted(unknown)}; known: {sorted(LEVEL_SETTINGS)}")
    if backend == "triton":  # a torch tensor (on the GPU): the filters there, the rest here
        import torch

        x = signal.to(torch.float64) * setting_number(s, "calibration")
        ms = mean_square(x, sample_rate, weighting, s["tau"], backend=backend).cpu().numpy()
    else:
        x = calibrated(signal, s)
        ms = mean_square(x, sample_rate, weighting, s["tau"], backend=backend)
    rate = float(sample_rate)
    if s["step"] is not None:  # sample the level every `step` seconds
        hop = max(1, int(round(setting_number(s, "step") * sample_rate)))
        ms, rate = ms[..., ::hop], sample_rate / hop
    # the statistics of L = 10 log10(ms / P0^2) without taking the log of every sample
    return mean_square_statistics(ms, rate, P0)


def extract_laf(signal, sample_rate: float, backend: str = "auto", **settings):
    """LAF statistics (..., 16) of ``signal`` (..., samples) in Pa."""
    return _level_stats("A", signal, sample_rate, backend, settings)


def extract_lcf(signal, sample_rate: float, backend: str = "auto", **settings):
    """LCF statistics (..., 16) of ``signal`` (..., samples) in Pa."""
    return _level_stats("C", signal, sample_rate, backend, settings)


def extract_third_octave(signal, sample_rate: float, backend: str = "auto", **settings):
    """(..., 37) one-third-octave band levels (dB re 20 uPa, A-weighted by default)."""
    from affrepro.kernels.sound_level import third_octave_levels
    from affrepro.plugins.psychoacoustics.stats import calibrated

    s = {**BAND_SETTINGS, **settings}
    unknown = set(s) - set(BAND_SETTINGS)
    if unknown:
        raise TypeError(f"unknown settings {sorted(unknown)}; known: {sorted(BAND_SETTINGS)}")
    if backend == "triton":  # a torch tensor: the bands on its GPU
        import torch

        from affrepro.plugins.psychoacoustics.stats import setting_number

        x = signal.to(torch.float64) * setting_number(s, "calibration")
        return third_octave_levels(x, sample_rate, s["weighting"], backend=backend)
    x = calibrated(signal, s)
    return third_octave_levels(x, sample_rate, s["weighting"], backend=backend)


def extract_zwicker_stationary(signal, sample_rate: float, backend: str = "auto", **settings):
    """(..., 3): ISO 532-1 stationary loudness (sone), loudness level (phon), DIN 45692
    sharpness (acum) of ``signal`` (..., samples) in Pa."""
    import numpy as np

    from affrepro.kernels import zwicker as zw
    from affrepro.plugins.psychoacoustics.stats import calibrated

    s = {**ZWICKER_SETTINGS, **settings}
    unknown = set(s) - set(ZWICKER_SETTINGS)
    if unknown:
        raise TypeError(f"unknown settings {sorted(unknown)}; known: {sorted(ZWICKER_SETTINGS)}")
    x = calibrated(signal, s)
    n, ns = zw.stationary_loudness(x, sample_rate, s["field"], backend=backend)
    return np.stack([n, zw.loudness_level(n), zw.sharpness_din(n, ns)], axis=-1)


def extract_zwicker_time_varying(signal, sample_rate: float, backend: str = "auto",
                                 **settings):
    """(..., 29): statistics of DIN 45692 sharpness S(t) (14: avg, max, argmax, 05..95)
    then of ISO 532-1 time-varying loudness N(t) (15: avg, rmc, max, argmax, 05..95) of
    ``signal`` (..., samples) in Pa, in the ARAUS column order
    (``feature_names("zwicker_time_varying")``)."""
    import numpy as np

    from affrepro.kernels import zwicker as zw
    from affrepro.plugins.psychoacoustics.stats import (
        LOUDNESS_STATS, SHARPNESS_STATS, calibrated, series_statistics, setting_number,
    )

    s = {**ZWICKER_TV_SETTINGS, **settings}
    unknown = set(s) - set(ZWICKER_TV_SETTINGS)
    if unknown:
        raise TypeError(f"unknown settings {sorted(unknown)}; known: "
                        f"{sorted(ZWICKER_TV_SETTINGS)}")
    skip = setting_number(s, "skip")
    if not skip >= 0:
        raise ValueError(f"skip must be >= 0 seconds, got {s['skip']!r}")
    if backend == "triton":  # a torch tensor: the filter bank on its GPU (see the kernel)
        import torch

        x = signal.to(torch.float64) * setting_number(s, "calibration")
    else:
        x = calibrated(signal, s)
    n, ns, t = zw.time_varying_loudness(x, sample_rate, s["field"], backend=backend)
    sharp = zw.sharpness_din_tv(n, ns)
    first = int(np.searchsorted(t, skip - 1e-9))
    if first >= len(t):
        raise ValueError(f"skip={skip} s leaves no 2 ms step of a {t[-1] + 0.002:.3f} s "
                         "signal")
    rate = 500.0  # N(t), S(t) every 2 ms
    return np.concatenate([
        series_statistics(sharp[..., first:], rate, SHARPNESS_STATS, t0=t[first]),
        series_statistics(n[..., first:], rate, LOUDNESS_STATS, t0=t[first])], axis=-1)


def _columns(name: str):
    """ARAUS column names (no channel suffix: a table has a ``channel`` column instead)."""
    return lambda settings, n: feature_names(name)


@hookimpl
def register_features(register):
    from affrepro.plugins.psychoacoustics import roughness

    roughness.register_features(register)
    register(Feature(name="laf", extract=extract_laf, settings=dict(LEVEL_SETTINGS),
                     stacks=True, columns=_columns("laf"),
                     description="A-weighted Fast level statistics (ARAUS LA*: avg, min, "
                                 "argmin, max, argmax, exceedance 05..95); Numba on the CPU"))
    register(Feature(name="lcf", extract=extract_lcf, settings=dict(LEVEL_SETTINGS),
                     stacks=True, columns=_columns("lcf"),
                     description="C-weighted Fast level statistics (ARAUS LC*)"))
    register(Feature(name="third_octave", extract=extract_third_octave,
                     stacks=True, columns=_columns("third_octave"),
                     settings=dict(BAND_SETTINGS),
                     description="37 one-third-octave band levels 5 Hz-20 kHz, A-weighted "
                                 "(ARAUS M00005_0..M20000_0)"))
    register(Feature(name="zwicker_stationary", extract=extract_zwicker_stationary,
                     stacks=True, columns=_columns("zwicker_stationary"),
                     settings=dict(ZWICKER_SETTINGS),
                     description="ISO 532-1 stationary loudness (sone, phon) and DIN 45692 "
                                 "sharpness (acum) of the whole signal"))
    register(Feature(name="zwicker_time_varying", extract=extract_zwicker_time_varying,
                     stacks=True, columns=_columns("zwicker_time_varying"),
                     settings=dict(ZWICKER_TV_SETTINGS),
                     description="ARAUS S* and N*: statistics of DIN 45692 sharpness and "
                                 "ISO 532-1 time-varying loudness (2 ms steps); Numba"))
