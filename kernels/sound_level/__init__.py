"""Sound-level meter kernels: A/C/Z-weighted, exponentially time-weighted levels (LAF,
LCF, ...) and one-third-octave band levels, as used for the ARAUS ``_r`` features.

- :func:`mean_square` / :func:`level`: IEC 61672-1 frequency weighting (``"A"``, ``"C"``,
  ``"Z"``) and exponential time weighting (``tau`` = 0.125 s Fast, 1 s Slow) of a signal
  in pascals along its last axis; the level is 10 log10(ms / (20 uPa)^2) per sample.
  The averager starts from the mean square of the first ``tau`` seconds (no rise from
  -inf at t = 0; the price: an event inside those first ``tau`` seconds is counted
  twice, as if it had also happened just before the start). Backends: ``"reference"``
  (SciPy sosfilt + lfilter, float64), ``"numba"`` (per channel one pass: the weighting
  sections, the square and the average per sample with the state in registers, so the
  sections' recursions overlap; the section state updated without waiting for the
  output (one multiply-add on the critical path) and two channels side by side per task,
  pairs of channels in parallel; ~1e-13 relative from SciPy); ``"triton"`` (torch tensors on a
  GPU: every channel of a corpus batch one lane of one kernel, the same recursion in
  float64; one or two channels alone give a GPU nothing to do in parallel); ``"auto"``
  = Triton for CUDA tensors, else Numba, falling back to the reference with a warning.
- :func:`third_octave_levels`: IEC 61260-1 base-10 one-third-octave band levels over the
  whole signal, optionally A/C-weighted, computed in the frequency domain (exact analog
  band and weighting magnitudes on a Parseval-scaled periodogram). The reference builds
  the (bands x bins) response matrix; the Numba path takes one rfft per channel
  (``scipy.fft``, channels on the threads), forms the weighted power in one pass, and sums
  each band over the bins where its response exceeds 1e-30, computing the response on
  the fly in a vectorised loop, chunk by chunk of bins (each chunk read once for all
  bands), chunks in parallel. ``"triton"`` (torch tensors, corpus batches on a GPU): the
  reference's computation in torch (:mod:`.torch_impl`: rfft, weighted periodogram, one
  matrix product with the bands' responses), returning a tensor.

Weighting-filter facts and accuracy: see ``reference.py`` and the tests (IEC 61672-1
table values and class-1 tolerances at 44.1 and 48 kHz).
"""
from __future__ import annotations

import functools
from typing import Any

from affrepro.kernels._checks import host_array, sample_rate
from affrepro.kernels._dispatch import (
    BackendUnavailableError, check_backend, dispatch, is_cuda_tensor, is_torch_tensor,
    register_op,
)
from affrepro.kernels.sound_level.reference import (
    BAND_INDICES, NOMINAL_BANDS, P0, TIME_CONSTANTS, analog_response_db, band_centres,
    weighting_sos,
)

__all__ = ["mean_square", "level", "third_octave_levels", "weighting_sos",
           "analog_response_db", "band_centres", "BAND_INDICES", "NOMINAL_BANDS", "P0",
           "TIME_CONSTANTS"]


def _prepare(x, fs):
    from affrepro.kernels._checks import real_signal, sample_rate

    return real_signal(x), sample_rate(fs)


def _run_reference(x, fs, weighting, tau):
    from affrepro.kernels.sound_level import reference

    return reference.mean_square(x, fs, weighting, tau)


def _run_numba(x, fs, weighting, tau):
    import numpy as np

    try:
        from affrepro.kernels.sound_level import numba_impl
    except ImportError as exc:
        raise BackendUnavailableError(f"numba backend needs numba: {exc}") from exc
    from affrepro.kernels.sound_level import reference

    shape = x.shape
    flat = np.ascontiguousarray(x.reshape(-1, shape[-1]) if x.size else
                                np.zeros((0, shape[-1])), dtype=np.float64)
    if shape[-1] == 0:
        return np.zeros(shape, dtype=np.float64)
    a = reference.time_coefficient(fs, tau)
    n0 = max(1, min(shape[-1], int(round(tau * fs))))
    k = _state_coefficients(weighting, fs)  # A, C, Z: three sections at most
    import numba

    # one or two channels (a stimulus) are one task: no thread pool to wake for it
    run = (numba_impl.mean_square_pairs if flat.shape[0] > 2 and numba.get_num_threads() > 1
           else numba_impl.mean_square_pairs_serial)
    return run(flat, k, a, n0).reshape(shape)


@functools.lru_cache(maxsize=32)
def _sos3_cached(weighting, fs):
    import numpy as np

    sos = weighting_sos(weighting, fs)
    sos3 = np.zeros((3, 6))
    sos3[:, 0] = sos3[:, 3] = 1.0
    sos3[:sos.shape[0]] = sos
    sos3.flags.writeable = False
    return sos3


def _sos3(weighting, fs):
    """The weighting's sections padded with identities to three (A has three); designed
    once per (weighting, rate): the design (lstsq fit, zpk2sos) costs about a
    millisecond, a call on a short signal less."""
    return _sos3_cached(str(weighting).upper(), float(fs)).copy()


@functools.lru_cache(maxsize=32)
def _state_coefficients(weighting, fs):
    from affrepro.kernels.sound_level import numba_impl

    k = numba_impl.state_coefficients(_sos3(weighting, fs))
    k.flags.writeable = False
    return k


def _gpu_tensor(x):
    """Refuse what the GPU path cannot take, naming why."""
    from affrepro.kernels._dispatch import triton_interpreting

    if not is_torch_tensor(x):
        raise BackendUnavailableError("triton backend needs a torch tensor (CUDA, or CPU "
                                      "under TRITON_INTERPRET=1)")
    if not x.is_cuda and not triton_interpreting():
        raise BackendUnavailableError("triton backend needs a CUDA tensor (or "
                                      "TRITON_INTERPRET=1 for CPU tensors)")
    if x.is_complex() or x.dim() == 0:
        raise ValueError(f"signal must be real numbers with samples last, got a "
                         f"{x.dtype} tensor of shape {tuple(x.shape)}")


def _run_triton(x, fs, weighting, tau):
    """A torch tensor (..., n) on CUDA (or the CPU under TRITON_INTERPRET=1) -> float64
    tensor, every channel of the batch a lane of one kernel (see triton_impl)."""
    from affrepro.kernels.sound_level import reference

    _gpu_tensor(x)
    try:
        from affrepro.kernels.sound_level import triton_impl
    except ImportError as exc:
        raise BackendUnavailableError(f"triton backend needs triton: {exc}") from exc
    fs = sample_rate(fs)
    reference._check_weighting(weighting)
    a = reference.time_coefficient(fs, tau)
    shape = x.shape
    n0 = max(1, min(shape[-1], int(round(tau * fs))))
    flat = x.reshape(-1, shape[-1])
    return triton_impl.mean_square(flat, _sos3(weighting, fs), a, n0).reshape(shape)


MEAN_SQUARE = register_op("sound_level.mean_square", ("numba", "triton"))
THIRD_OCTAVE = register_op("sound_level.third_octave_levels", ("numba", "triton"))


def mean_square(x: Any, fs: float, weighting: str = "A", tau: float = 0.125, *,
                backend: str = "auto"):
    """Frequency- and time-weighted mean square (Pa^2), float64, same shape as ``x``.
    ``backend="triton"`` (or ``"auto"`` with a CUDA tensor) takes a torch tensor and
    returns one: all leading axes (stimuli x channels of a corpus batch) at once. The
    backend is chosen by :func:`affrepro.kernels._dispatch.dispatch` (``auto``: Triton
    for a CUDA tensor, else Numba; the reference where the first choice cannot run)."""
    from affrepro.kernels.sound_level import reference

    check_backend(backend)
    reference._check_weighting(weighting)

    def cpu(run):
        def go():
            arr, f = _prepare(host_array(x), fs)
            reference.time_coefficient(f, tau)
            return run(arr, f, weighting, tau)
        return go

    return dispatch(MEAN_SQUARE, backend,
                    {"reference": cpu(_run_reference), "numba": cpu(_run_numba),
                     "triton": lambda: _run_triton(x, fs, weighting, tau)},
                    gpu=is_cuda_tensor(x))


def level(x: Any, fs: float, weighting: str = "A", tau: float = 0.125, *,
          backend: str = "auto"):
    """Time-weighted level L(t) in dB re 20 uPa (-inf where the mean square is 0)."""
    import numpy as np

    ms = mean_square(x, fs, weighting, tau, backend=backend)
    if is_torch_tensor(ms):
        import torch

        return 10.0 * torch.log10(ms / P0 ** 2)
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(ms / P0 ** 2)


def _bands_numba(x, fs, weighting, indices, order):
    import numpy as np
    from scipy import fft as sfft

    try:
        import numba

        from affrepro.kernels.sound_level import numba_impl
    except ImportError as exc:
        raise BackendUnavailableError(f"numba backend needs numba: {exc}") from exc
    from affrepro.kernels.sound_level import reference

    x = np.asarray(x, dtype=np.float64)
    shape = x.shape
    n = shape[-1]
    flat = x.reshape(-1, n)
    # one rfft per channel, channels on the threads; power and weighting in one pass
    spec = sfft.rfft(flat, axis=-1, workers=max(1, min(len(flat), numba.get_num_threads())))
    f = np.fft.rfftfreq(n) * fs
    pw = numba_impl.periodogram_2d(spec, n, np.ascontiguousarray(
        reference.weighting_power(f, weighting), dtype=np.float64))
    fms = band_centres(indices)
    qr = 1.0 / (reference.G10 ** (1.0 / 6.0) - reference.G10 ** (-1.0 / 6.0))
    qd = qr * (np.pi / (2 * order)) / np.sin(np.pi / (2 * order))
    # |H|^2 < 1e-30 where |Omega| > 1e30^(1/(2N)): bins beyond fm * r or below fm / r
    om = 1e30 ** (1.0 / (2 * order)) / qd
    r = (om + np.sqrt(om * om + 4.0)) / 2.0
    lo = np.searchsorted(f, fms / r).astype(np.int64)
    hi = np.searchsorted(f, fms * r, side="right").astype(np.int64)
    power = numba_impl.band_powers_fast(pw, float(fs) / n, fms, float(qd), int(order), lo, hi,
                                        4096)
    with np.errstate(divide="ignore"):
        return (10.0 * np.log10(power / P0 ** 2)).reshape(shape[:-1] + (len(fms),))


def third_octave_levels(x: Any, fs: float, weighting: str = "A", indices=BAND_INDICES, *,
                        order: int = 3, backend: str = "auto"):
    """(..., n_bands) band levels in dB re 20 uPa over the whole signal (see module doc);
    the backend chosen as :func:`mean_square`'s."""
    from affrepro.kernels.sound_level import reference

    check_backend(backend)
    reference._check_weighting(weighting)

    def gpu():
        _gpu_tensor(x)
        if x.shape[-1] == 0:
            raise ValueError("third-octave levels need at least one sample")
        from affrepro.kernels.sound_level import torch_impl

        return torch_impl.third_octave_levels(x, sample_rate(fs), weighting, indices, order)

    def cpu(run):
        def go():
            arr, f = _prepare(host_array(x), fs)
            if arr.shape[-1] == 0:
                raise ValueError("third-octave levels need at least one sample")
            return run(arr, f)
        return go

    return dispatch(THIRD_OCTAVE, backend, {
        "numba": cpu(lambda a, f: _bands_numba(a, f, weighting, indices, order)),
        "reference": cpu(lambda a, f: reference.third_octave_levels(a, f, weighting, indices,
                                                                    order)),
        "triton": gpu}, gpu=is_cuda_tensor(x))
