"""ISO 532-1 (Zwicker) stationary loudness and DIN 45692 sharpness.

- :func:`loudness_from_levels`: (..., 28) one-third-octave band levels, 25 Hz .. 12.5
  kHz, in dB -> total loudness N (sone, rounded as ISO 532-1 prescribes) and specific
  loudness N'(z) (..., 240) on 0.1 .. 24 Bark; free or diffuse field.
- :func:`stationary_loudness`: the same from a signal in pascals (samples last): its band
  levels come from :func:`affrepro.kernels.sound_level.third_octave_levels` (exact analog
  third-order Butterworth bands in the frequency domain), not from the standard's IIR
  filter bank, which is the main difference from a strict ISO 532-1 implementation
  (within 1 % of MoSQITo's ``loudness_zwst`` on the tested signals).
- :func:`sharpness_din`: DIN 45692 sharpness (acum) from N and N'(z).

Backends: ``"reference"`` (NumPy + a Python loop over spectra for the slopes) and
``"numba"`` (the slopes for all spectra in parallel); ``"auto"`` = Numba with fallback.
Time-varying loudness (ISO 532-1 clause 6) is not here yet.
"""
from __future__ import annotations

from typing import Any

from affrepro.kernels._dispatch import BackendUnavailableError, check_backend, fall_back
from affrepro.kernels.zwicker.reference import BARK, BAND_INDICES, loudness_level, sharpness_din

__all__ = ["loudness_from_levels", "stationary_loudness", "sharpness_din", "loudness_level",
           "BARK", "BAND_INDICES"]


def _numba_loudness(levels, field):
    import numpy as np

    try:
        from affrepro.kernels.zwicker import numba_impl
    except ImportError as exc:
        raise BackendUnavailableError(f"numba backend needs numba: {exc}") from exc
    from affrepro.kernels.zwicker import reference as ref

    nm = ref.core_loudness(levels, field)
    flat = np.ascontiguousarray(nm.reshape(-1, 21))
    tot, spec = numba_impl.slopes_2d(flat, ref.ZUP, ref.RNS, np.ascontiguousarray(ref.USL))
    return (ref.round_loudness(tot).reshape(nm.shape[:-1]),
            spec.reshape(nm.shape[:-1] + (240,)))


def loudness_from_levels(levels: Any, field: str = "free", *, backend: str = "auto"):
    """(N, N'(z)) from (..., 28) band levels in dB (see module doc)."""
    import numpy as np

    from affrepro.kernels.zwicker import reference as ref

    check_backend(backend)
    if backend == "triton":
        raise BackendUnavailableError("zwicker has no triton backend")
    levels = np.asarray(levels, dtype=np.float64)
    if levels.ndim == 0 or levels.shape[-1] != ref.N_BANDS:
        raise ValueError(f"need {ref.N_BANDS} band levels (25 Hz .. 12.5 kHz) on the last "
                         f"axis, got shape {levels.shape}")
    if np.isnan(levels).any():
        raise ValueError("band levels contain NaN")
    ref._check_field(field)
    if backend == "reference":
        return ref.loudness_from_levels(levels, field)
    try:
        return _numba_loudness(levels, field)
    except BackendUnavailableError as exc:
        if backend == "numba":
            raise
        fall_back("zwicker.loudness_from_levels", "numba", "reference", exc)
        return ref.loudness_from_levels(levels, field)


def stationary_loudness(x: Any, fs: float, field: str = "free", *, backend: str = "auto"):
    """(N, N'(z)) of a stationary signal ``x`` in Pa (samples on the last axis)."""
    from affrepro.kernels.sound_level import third_octave_levels

    bands_backend = backend if backend in ("reference", "numba") else "auto"
    levels = third_octave_levels(x, fs, "Z", indices=BAND_INDICES, backend=bands_backend)
    return loudness_from_levels(levels, field, backend=backend)
