"""The ARAUS statistics of an indicator's time series (``avg, min, argmin, max, argmax``
and the exceedance levels ``05, 10, 20, ..., 90, 95``), as the ARAUS README defines them:

- ``XX`` (e.g. ``LA10``) is the value exceeded XX % of the time, i.e. the
  (100 - XX)-th percentile of the series (linear interpolation between samples);
- ``argmin``/``argmax`` are the times in seconds of the first minimum/maximum;
- ``avg`` for levels is the ENERGY mean of the Fast-weighted series,
  10 log10(mean(10^(L/10))). The README only says "exponentially averaged"; the real
  ``soundscapes.csv`` settles it: e.g. R0002_segment_binaural_44100_2 has LAavg 65.63
  with LA50 59.15 and LA10 67.83, which an arithmetic mean of the dB series cannot give.

Loudness and sharpness (``N*``, ``S*``) have other sets, in the ARAUS column order: no
min/argmin, ``avg`` the ARITHMETIC mean of the sone/acum series, and for loudness also
``rmc``, the root mean cube (mean(N^3))^(1/3) (:func:`series_statistics`).
"""
from __future__ import annotations

import numpy as np

EXCEEDANCE = (5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95)
PERCENT_STATS = tuple(f"{p:02d}" for p in EXCEEDANCE)
LEVEL_STATS = ("avg", "min", "argmin", "max", "argmax") + PERCENT_STATS
LOUDNESS_STATS = ("avg", "rmc", "max", "argmax") + PERCENT_STATS  # ARAUS N*
SHARPNESS_STATS = ("avg", "max", "argmax") + PERCENT_STATS  # ARAUS S*


def stat_names(prefix: str, suffix: str = "", stats=LEVEL_STATS) -> list[str]:
    """Column names in ARAUS order, e.g. ``stat_names("LA", "_r")`` -> LAavg_r, LAmin_r, ..."""
    return [f"{prefix}{s}{suffix}" for s in stats]


def exceedance(series: np.ndarray, percents=EXCEEDANCE) -> np.ndarray:
    """(..., len(percents)) values exceeded ``p`` % of the time along the last axis.

    -inf entries (digital silence in a level series) are ordered below everything; an
    interpolation touching one gives -inf (NumPy would give NaN). NaN input gives NaN."""
    s = np.asarray(series, dtype=np.float64)
    with np.errstate(invalid="ignore"):  # -inf - -inf inside NumPy's interpolation
        q = np.percentile(s, [100.0 - p for p in percents], axis=-1)
    q = np.moveaxis(q, 0, -1)
    has_nan = np.isnan(s).any(axis=-1)[..., None]
    return np.where(np.isnan(q) & ~has_nan, -np.inf, q)


def level_statistics(levels: np.ndarray, rate: float) -> np.ndarray:
    """(..., 16) statistics of level series (dB, last axis sampled at ``rate`` Hz)."""
    lv = np.asarray(levels, dtype=np.float64)
    if lv.shape[-1] == 0:
        raise ValueError("level statistics need at least one sample")
    with np.errstate(divide="ignore", over="ignore"):
        top = np.max(lv, axis=-1, keepdims=True)
        finite_top = np.where(np.isfinite(top), top, 0.0)
        avg = finite_top[..., 0] + 10.0 * np.log10(
            np.mean(10.0 ** ((lv - finite_top) / 10.0), axis=-1))
    avg = np.where(np.isnan(lv).any(axis=-1), np.nan, avg)
    out = np.stack([avg, lv.min(axis=-1), np.argmin(lv, axis=-1) / rate, lv.max(axis=-1),
                    np.argmax(lv, axis=-1) / rate], axis=-1)
    return np.concatenate([out, exceedance(lv)], axis=-1)


def mean_square_statistics(ms: np.ndarray, rate: float, p0: float = 2e-5) -> np.ndarray:
    """``level_statistics(10 log10(ms / p0^2), rate)`` computed on the mean square itself.

    L = 10 log10(ms / p0^2) is increasing, so L's extremes, their times and the order
    statistics behind every exceedance level are those of ``ms``: only the two order
    statistics around each percentile position h = (n - 1) q (q = 0.95 .. 0.05), the
    extremes and the energy mean 10 log10(mean(ms) / p0^2) go through the logarithm, not
    all n samples. Each exceedance level is L_(lo) + (h - lo)(L_(lo+1) - L_(lo)) in dB,
    the linear interpolation ``np.percentile`` applies to the dB series; -inf (ms = 0)
    and NaN follow :func:`exceedance` / :func:`level_statistics`."""
    m = np.asarray(ms, dtype=np.float64)
    n = m.shape[-1]
    if n == 0:
        raise ValueError("level statistics need at least one sample")
    ref = p0 * p0

    def db(v):
        with np.errstate(divide="ignore", invalid="ignore"):
            return 10.0 * np.log10(v / ref)

    has_nan = np.isnan(m).any(axis=-1)
    h = (n - 1) * (1.0 - np.asarray(EXCEEDANCE, dtype=np.float64) / 100.0)
    lo = np.floor(h).astype(np.int64)
    hi = np.minimum(lo + 1, n - 1)
    frac = h - lo
    part = np.partition(m, np.unique(np.concatenate([lo, hi])), axis=-1)
    low, high = db(part[..., lo]), db(part[..., hi])
    with np.errstate(invalid="ignore"):  # -inf - -inf where both are digital silence
        exc = low + frac * (high - low)
    exc = np.where(np.isnan(exc), -np.inf, exc)
    exc = np.where(has_nan[..., None], np.nan, exc)
    avg = np.where(has_nan, np.nan, db(m.mean(axis=-1)))
    out = np.stack([avg, db(m.min(axis=-1)), np.argmin(m, axis=-1) / rate,
                    db(m.max(axis=-1)), np.argmax(m, axis=-1) / rate], axis=-1)
    return np.concatenate([out, exc], axis=-1)


def series_statistics(series: np.ndarray, rate: float, stats, t0: float = 0.0) -> np.ndarray:
    """(..., len(stats)) statistics of linear-unit series (sone, acum; last axis sampled at
    ``rate`` Hz, its first sample at ``t0`` s): ``avg`` arithmetic mean, ``rmc`` root
    mean cube, ``min``/``max``, ``argmin``/``argmax`` (t0 + index / rate, the first
    extremum) and the exceedance values ``05`` .. ``95``."""
    x = np.asarray(series, dtype=np.float64)
    if x.shape[-1] == 0:
        raise ValueError("statistics need at least one sample")
    exc = dict(zip(PERCENT_STATS, np.moveaxis(exceedance(x), -1, 0)))
    funcs = {
        "avg": lambda: x.mean(axis=-1),
        "rmc": lambda: np.cbrt(np.mean(x ** 3, axis=-1)),
        "min": lambda: x.min(axis=-1),
        "max": lambda: x.max(axis=-1),
        "argmin": lambda: t0 + np.argmin(x, axis=-1) / rate,
        "argmax": lambda: t0 + np.argmax(x, axis=-1) / rate,
    }
    cols = []
    for name in stats:
        if name in exc:
            cols.append(exc[name])
        elif name in funcs:
            cols.append(funcs[name]())
        else:
            raise KeyError(f"unknown statistic {name!r}")
    return np.stack(cols, axis=-1)


def setting_number(settings, key: str) -> float:
    """``float(settings[key])``, or a ValueError naming the setting."""
    try:
        return float(settings[key])
    except (TypeError, ValueError):
        raise ValueError(f"setting {key!r} must be a number, got {settings[key]!r}") from None


def calibrated(signal, settings) -> np.ndarray:
    """The signal in pascals as float64: ``signal * settings["calibration"]``. Complex or
    non-numeric signals are refused (NumPy would drop an imaginary part with a warning)."""
    x = np.asarray(signal)
    if x.dtype.kind not in "fiub":
        raise TypeError(f"signal must be real numbers (samples on the last axis), got dtype "
                        f"{x.dtype}")
    return x.astype(np.float64, copy=False) * setting_number(settings, "calibration")
