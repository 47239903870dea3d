"""ISO 532-1 (Zwicker) loudness, stationary and time-varying, and DIN 45692 sharpness.

- :func:`loudness_from_levels`: (..., 28) one-third-octave band levels, 25 Hz .. 12.5
  kHz, in dB -> total loudness N (sone, rounded as ISO 532-1 prescribes) and specific
  loudness N'(z) (..., 240) on 0.1 .. 24 Bark; free or diffuse field.
- :func:`stationary_loudness`: the same from a signal in pascals (samples last): its band
  levels come from :func:`affrepro.kernels.sound_level.third_octave_levels` (exact analog
  third-order Butterworth bands in the frequency domain), not from the standard's IIR
  filter bank, which is the main difference from a strict ISO 532-1 implementation
  (within 1 % of MoSQITo's ``loudness_zwst`` on the tested signals).
- :func:`sharpness_din`: DIN 45692 sharpness (acum) from N and N'(z).
- :func:`time_varying_loudness`: ISO 532-1:2017 clause 6 (Zwicker) loudness over time
  N(t) (sone) and N'(z, t) every 2 ms from a signal in pascals, the standard's own
  procedure (its 48 kHz IIR filter bank, not the frequency-domain bands above):

  1. resample to 48 kHz when ``fs`` differs (``scipy.signal.resample_poly`` with the
     ratio 48000 / fs as a fraction of denominator <= 1000, e.g. 160/147 from 44.1 kHz;
     MoSQITo uses FFT ``resample`` and refuses fs > 48 kHz, we accept any fs >= 8 kHz);
  2. the 28 one-third-octave bands 25 Hz .. 12.5 kHz (Annex A Tables A.1/A.2: three
     second-order sections and a gain per band), squared and smoothed by three first-
     order low-passes (tau = 2 / (3 fm) up to 1 kHz, 2/3 ms above), band levels
     10 log10((ms + 1e-12) / p0^2) every 24th sample (0.5 ms);
  3. core loudness per critical band at each 0.5 ms step (clause 5, as stationary);
  4. the nonlinear temporal decay of each band's core loudness (a two-capacitor network,
     time constants 5, 15, 75 ms, run at 24 x 2 kHz on interpolated input, from rest);
  5. the upper slopes -> total loudness (rounded as in clause 5) and N'(z);
  6. temporal weighting of the total: 0.47 LP(3.5 ms) + 0.53 LP(70 ms), again at 24 x
     2 kHz on interpolated input;
  7. every 4th step: N(t), N'(z, t) on t = 0, 2, 4, ... ms.

  Returns ``(N (..., T), N' (..., T, 240), t (T,))``. The first ~10 ms are the filters'
  start-up from rest (MoSQITo's differ there: its decay network starts from the
  signal's last values through a NumPy index wrap); after them N(t) and S(t) are within
  0.4 % of MoSQITo's ``loudness_zwtv`` / ``sharpness_din_tv`` on the tested signals, and
  N'(z, t) differs only where MoSQITo's vectorised slopes end a slope early (as in the
  stationary case; up to 4 % of the peak at single points for noise, 99.9 % within 1 %).
- :func:`sharpness_din_tv`: DIN 45692 sharpness S(t) = 0.11 sum N'(z, t) g(z) z dz /
  N(t) with the temporally weighted N(t) as denominator, 0 where N(t) < 0.1 sone (both as
  MoSQITo's ``sharpness_din_tv``).

Backends: ``"reference"`` (NumPy/SciPy float64, Python loops over time steps: slow, for
checking); ``"numba"`` (stationary: the slopes for all spectra in parallel; time-varying:
one fused pass per (channel, band) for filter+square+smooth with the state in registers
(C x 28 parallel tasks), the decay network per (channel, critical band), the slopes of
all steps in parallel, N'(z) filled only at the kept 2 ms steps, no allocation per
step); ``"triton"`` (time-varying only: the filter bank, about half of the Numba time,
for a whole batch of stimuli on the GPU, one lane per (channel, band); resampling and the
2 kHz steps stay in Numba: a GPU version of those is not written yet); ``"auto"`` =
Triton for CUDA tensors, else Numba with fallback. The issue-7 Numba driver stays in
:mod:`.baseline` for the benchmarks.
"""
from __future__ import annotations

from typing import Any

from affrepro.kernels._dispatch import (
    BackendUnavailableError, check_backend, numba_or_reference, register_op,
)
from affrepro.kernels.zwicker.reference import (
    BAND_INDICES, BARK, TV_FS, loudness_level, sharpness_din, sharpness_din_tv,
)

MIN_TV_FS = 8000.0  # below this, fs is almost surely a mistake (kHz for Hz)

__all__ = ["loudness_from_levels", "stationary_loudness", "sharpness_din", "loudness_level",
           "time_varying_loudness", "sharpness_din_tv", "resample_to_48k", "BARK",
           "BAND_INDICES", "TV_FS"]


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
    return numba_or_reference("zwicker.loudness_from_levels", backend,
                              lambda: _numba_loudness(levels, field),
                              lambda: ref.loudness_from_levels(levels, field))


def stationary_loudness(x: Any, fs: float, field: str = "free", *, backend: str = "auto"):
    """(N, N'(z)) of a stationary signal ``x`` in Pa (samples on the last axis)."""
    from affrepro.kernels.sound_level import third_octave_levels

    bands_backend = backend if backend in ("reference", "numba") else "auto"
    levels = third_octave_levels(x, fs, "Z", indices=BAND_INDICES, backend=bands_backend)
    return loudness_from_levels(levels, field, backend=backend)


def _resample_ratio(fs: float) -> tuple[int, int]:
    from fractions import Fraction

    r = (Fraction(TV_FS) / Fraction(float(fs))).limit_denominator(1000)
    return r.numerator, r.denominator


def resample_to_48k(x: Any, fs: float):
    """``x`` (..., n) at ``fs`` -> float64 at 48 kHz (polyphase, see module doc)."""
    import numpy as np
    from scipy.signal import resample_poly

    x = np.asarray(x, dtype=np.float64)
    if fs == TV_FS:
        return x
    up, down = _resample_ratio(fs)
    return resample_poly(x, up, down, axis=-1)


def _check_signal(x, fs):
    import numpy as np

    from affrepro.kernels._checks import real_signal, sample_rate

    x = real_signal(x, "x (the signal)")
    # e.g. fs given in kHz: the resampling to 48 kHz would multiply the signal's length
    # by 48000 / fs before anything else failed
    fs = sample_rate(fs, minimum=MIN_TV_FS,
                     why=" for ISO 532-1 time-varying loudness (bands up to 12.5 kHz)")
    min_len = int(np.ceil(0.002 * fs))
    if x.shape[-1] < max(min_len, 1):
        raise ValueError(f"x (the signal) is too short: {x.shape[-1]} samples on the last "
                         f"axis, time-varying loudness needs at least one 2 ms step "
                         f"({max(min_len, 1)} samples at fs={fs})")
    if not np.isfinite(x).all():
        raise ValueError("x (the signal) contains NaN or inf")
    return x, fs


def _tv_numba(x48, field):
    import numpy as np

    try:
        from affrepro.kernels.zwicker import numba_impl
    except ImportError as exc:
        raise BackendUnavailableError(f"numba backend needs numba: {exc}") from exc
    from affrepro.kernels.zwicker import reference as ref

    lead = x48.shape[:-1]
    flat = np.ascontiguousarray(x48.reshape(-1, x48.shape[-1]), dtype=np.float64)
    coef = numba_impl.tv_bank_coefficients(ref.tv_filterbank_sos(), ref.TV_GAIN,
                                           ref.tv_smoothing_coefficients())
    levels = numba_impl.tv_levels_across_bands(flat, coef, ref.LEVEL_DECIMATION,
                                               ref.LEVEL_FLOOR, 4e-10)
    return _tv_from_levels(levels, lead, field)


def _tv_from_levels(levels, lead, field):
    """(C, T, 28) band levels at 2 kHz -> (N, N'(z), t) (the Numba steps after the bank)."""
    import numpy as np

    from affrepro.kernels.zwicker import numba_impl
    from affrepro.kernels.zwicker import reference as ref

    core = numba_impl.core_loudness_rows(
        levels.reshape(-1, ref.N_BANDS), field == "diffuse", ref.RAP, ref.DLL, ref.LTQ,
        ref.A0, ref.DDF, ref.DCB).reshape(levels.shape[:-1] + (21,))
    core = numba_impl.nl_decay_across_bands(np.ascontiguousarray(core), ref.nl_coefficients(),
                                            ref.INNER_STEPS)
    tot, spec = numba_impl.slopes_tv_fast(core, ref.ZUP, ref.RNS,
                                          np.ascontiguousarray(ref.USL), ref.OUT_DECIMATION)
    tot = np.ascontiguousarray(ref.round_loudness(tot))
    a1, a2 = (float(np.exp(-1.0 / (ref.LEVEL_RATE * ref.INNER_STEPS * tau)))
              for tau in ref.TW_TAUS)
    n = numba_impl.temporal_weighting_2d(tot, a1, a2, ref.TW_WEIGHTS[0], ref.TW_WEIGHTS[1],
                                         ref.INNER_STEPS, ref.OUT_DECIMATION)
    t = np.arange(n.shape[-1]) / ref.OUT_RATE
    return n.reshape(lead + n.shape[-1:]), spec.reshape(lead + spec.shape[-2:]), t


def _tv_triton(x, fs, field):
    """The filter bank of a torch tensor's channels on the GPU (every (channel, band) of
    the batch one lane, see triton_impl); resampling before and the 2 kHz steps after it
    on the CPU (Numba). Returns NumPy arrays."""
    import numpy as np
    import torch

    from affrepro.kernels._dispatch import is_torch_tensor, triton_interpreting
    from affrepro.kernels.zwicker import reference as ref

    if not is_torch_tensor(x):
        raise BackendUnavailableError("triton backend needs a torch tensor (CUDA, or CPU "
                                      "under TRITON_INTERPRET=1)")
    if not x.is_cuda and not triton_interpreting():
        raise BackendUnavailableError("triton backend needs a CUDA tensor (or "
                                      "TRITON_INTERPRET=1 for CPU tensors)")
    try:
        from affrepro.kernels.zwicker import triton_impl
    except ImportError as exc:
        raise BackendUnavailableError(f"triton backend needs triton: {exc}") from exc
    xn, fs = _check_signal(x.detach().cpu().numpy(), fs)
    x48 = resample_to_48k(xn, fs)
    lead = x48.shape[:-1]
    flat = torch.from_numpy(np.ascontiguousarray(x48.reshape(-1, x48.shape[-1]))).to(x.device)
    levels = triton_impl.tv_levels(flat, ref.tv_filterbank_sos(), ref.TV_GAIN,
                                   ref.tv_smoothing_coefficients(), ref.LEVEL_DECIMATION,
                                   ref.LEVEL_FLOOR, 4e-10)
    return _tv_from_levels(np.ascontiguousarray(levels.cpu().numpy()), lead, field)


TIME_VARYING = register_op("zwicker.time_varying_loudness", ("numba", "triton"))


def time_varying_loudness(x: Any, fs: float, field: str = "free", *, backend: str = "auto"):
    """ISO 532-1 time-varying loudness of ``x`` (..., samples) in Pa sampled at ``fs`` Hz:
    ``(N (..., T) sone, N'(z, t) (..., T, 240) sone/Bark, t (T,) s)``, T = one step per 2
    ms from t = 0 (see the module doc for the standard's steps). ``backend="triton"``
    takes a torch tensor and runs the filter bank on the GPU (see :func:`_tv_triton`)."""
    from affrepro.kernels._checks import host_array
    from affrepro.kernels._dispatch import dispatch, is_cuda_tensor
    from affrepro.kernels.zwicker import reference as ref

    check_backend(backend)
    ref._check_field(field)

    def cpu(run):
        def go():
            sig, f = _check_signal(host_array(x), fs)
            return run(resample_to_48k(sig, f))
        return go

    return dispatch(TIME_VARYING, backend, {
        "numba": cpu(lambda x48: _tv_numba(x48, field)),
        "reference": cpu(lambda x48: ref.time_varying_loudness(x48, field)),
        "triton": lambda: _tv_triton(x, fs, field)}, gpu=is_cuda_tensor(x))
