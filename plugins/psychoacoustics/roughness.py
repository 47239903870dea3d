"""Psychoacoustic roughness as a feature: the ARAUS ``R*`` columns.

``roughness`` computes Daniel & Weber (1997) roughness per 200 ms frame
(:func:`affrepro.kernels.roughness.roughness_dw`, the model of MoSQITo's
``roughness_dw``) and returns its ARAUS statistics, 14 values on the last axis in the
ARAUS order ``Ravg, Rmax, Rargmax, R05, R10, R20, ..., R90, R95`` (:func:`feature_names`;
ARAUS appends ``_r`` etc. for the channel/condition):

- ``avg``: arithmetic mean of the frame values (asper);
- ``max`` / ``argmax``: the largest frame value and the time of its first occurrence in
  seconds, taken at the frame's centre (MoSQITo's time axis: 0.1 s for the first frame);
- ``XX``: the value exceeded XX % of the time (the (100 - XX)-th percentile, linear
  interpolation; :func:`affrepro.plugins.psychoacoustics.stats.exceedance`).

Settings: ``calibration`` (Pa per full-scale unit; the signal is multiplied by it first)
and ``overlap`` (fraction of a 200 ms frame shared by neighbouring frames). ARAUS does not
state its frame overlap; the default 0.5 (a 100 ms hop) is MoSQITo's default for
``roughness_dw``, so anyone computing the columns with MoSQITo's defaults gets the same
frames. With 30 s stimuli it gives 299 frames per ear; 0 gives 150 (the statistics
move little on stationary sound, ``Rmax``/``Rargmax`` most). Leading axes (e.g. the two
ears) are kept. Loading this plugin imports neither NumPy nor the kernel.
"""
from __future__ import annotations

from typing import Any

from affrepro.components import Feature

ROUGHNESS_SETTINGS: dict[str, Any] = {"calibration": 1.0, "overlap": 0.5}
ROUGHNESS_HEAD = ("avg", "max", "argmax")


def feature_names(suffix: str = "") -> list[str]:
    """ARAUS column names of the ``roughness`` feature: Ravg, Rmax, Rargmax, R05 .. R95."""
    from affrepro.plugins.psychoacoustics.stats import EXCEEDANCE

    stats = ROUGHNESS_HEAD + tuple(f"{p:02d}" for p in EXCEEDANCE)
    return [f"R{s}{suffix}" for s in stats]


def roughness_statistics(r: Any, time: Any):
    """(..., 14) ARAUS statistics of roughness series ``r`` (..., frames) sampled at the
    frame times ``time`` (frames,) in seconds."""
    import numpy as np

    from affrepro.plugins.psychoacoustics.stats import exceedance

    r = np.asarray(r, dtype=np.float64)
    time = np.asarray(time, dtype=np.float64)
    if r.shape[-1] == 0 or time.shape != (r.shape[-1],):
        raise ValueError(f"need at least one frame and one time per frame, got r {r.shape} "
                         f"and time {time.shape}")
    head = np.stack([r.mean(axis=-1), r.max(axis=-1), time[np.argmax(r, axis=-1)]], axis=-1)
    return np.concatenate([head, exceedance(r)], axis=-1)


def extract_roughness(signal: Any, sample_rate: float, backend: str = "auto", **settings):
    """(..., 14) ARAUS roughness statistics of ``signal`` (..., samples) in Pa (after
    ``calibration``); see the module doc."""
    from affrepro.kernels.roughness import roughness_dw
    from affrepro.plugins.psychoacoustics.stats import calibrated

    s = {**ROUGHNESS_SETTINGS, **settings}
    unknown = set(s) - set(ROUGHNESS_SETTINGS)
    if unknown:
        raise TypeError(f"unknown settings {sorted(unknown)}; "
                        f"known: {sorted(ROUGHNESS_SETTINGS)}")
    if backend == "triton":  # a torch tensor: the frames on its GPU, the statistics here
        import torch

        from affrepro.plugins.psychoacoustics.stats import setting_number

        x = signal.to(torch.float64) * setting_number(s, "calibration")
        r, _, time = roughness_dw(x, sample_rate, s["overlap"], backend=backend)
        return roughness_statistics(r.cpu().numpy(), time)
    x = calibrated(signal, s)  # the kernel checks the values
    r, _, time = roughness_dw(x, sample_rate, s["overlap"], backend=backend)
    return roughness_statistics(r, time)


def register_features(register):
    """Called by the psychoacoustics plugin's hook (this module is part of that plugin)."""
    register(Feature(name="roughness", extract=extract_roughness,
                     columns=lambda settings, n: feature_names(),
                     settings=dict(ROUGHNESS_SETTINGS),
                     description="Daniel & Weber roughness statistics per 200 ms frame "
                                 "(ARAUS R*: avg, max, argmax, exceedance 05..95; asper)",
                     numba_parallel=False, stacks=True))  # its Numba kernels are serial
