"""The spectral front-end: power spectrogram, mel filterbank, log-mel and MFCC.

Public functions (all keyword options as librosa names them; see ``reference`` for the
exact conventions, which follow librosa 0.10/0.11):

- ``mel_filterbank(sr, n_fft, n_mels, fmin, fmax, htk, norm)`` -> (n_mels, 1 + n_fft//2)
- ``power_spectrogram(y, n_fft, hop_length, win_length, window, center, pad_mode, power)``
  -> (..., 1 + n_fft//2, n_frames)
- ``melspectrogram(y, sr, ..., n_mels, fmin, fmax, htk, norm)`` -> (..., n_mels, n_frames)
- ``logmel(y, sr, ..., log="db"|"log", ref, amin, top_db)`` -> (..., n_mels, n_frames)
- ``mfcc(y, sr, n_mfcc, dct_type=2, norm="ortho", lifter, ..., mel_norm)`` -> (..., n_mfcc,
  n_frames); ``norm`` is the DCT's, as in librosa's ``mfcc`` (the filters' is ``mel_norm``)
- ``power_to_db(S, ref, amin, top_db, log)`` on any (..., rows, frames) power array

Without ``hop_length`` the hop is librosa's: 512 for the mel and MFCC functions,
``win_length // 4`` for ``power_spectrogram`` (as ``librosa.stft``). ``ref`` is a finite
number (NaN or inf, which blank librosa's output, are refused), ``"max"`` or a callable of each signal's mel power (``np.max``, as librosa); a callable
makes the log a separate pass after the mel power.

``fft_precision`` (Numba backend only): ``"float64"`` (default) frames and transforms
float32 signals in float64 — a float32 FFT's error is relative to the frame's energy, so
quiet mel bands 60 dB under the frame's peak come out ~5e-4 dB off; ``"float32"`` is
about 2.5x faster in the FFT and fine for signals without such dynamic range.

``y`` is a NumPy array or a torch tensor (CPU or CUDA) of shape (..., samples), float32
or float64 (integers become float64, float16/bfloat16 float32); the result has the
input's kind, device and float dtype. ``top_db`` and ``ref="max"`` use the peak of each
signal (the last two axes), as librosa does for one signal. Complex input is refused;
results carry no autograd graph (a tensor that requires grad is read as data).

Backends (DESIGN.md, "kernels/"): ``"reference"`` (NumPy float64, the source of truth),
``"numba"`` (CPU, in blocks over a thread pool: for power-of-two n_fft up to 2048, framing,
FFT, mel and log all in Numba, the FFT transforming 16 frames at once in vector lanes;
otherwise Numba framing/mel/log around pocketfft), ``"triton"`` (CUDA tensors, or CPU tensors under ``TRITON_INTERPRET=1``:
one fused kernel from samples to (log-)mel power, no spectrogram written to memory).
``"auto"`` picks Triton for CUDA tensors and Numba otherwise, falling back to the
reference with a :class:`BackendFallbackWarning`; an explicit backend that cannot run
raises :class:`BackendUnavailableError`.
"""
from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

from affrepro.kernels._dispatch import (
    BackendFallbackWarning, BackendUnavailableError, dispatch, import_backend, is_torch_tensor,
    register_op, require_triton_tensor,
)

__all__ = ["mel_filterbank", "power_spectrogram", "melspectrogram", "logmel", "mfcc",
           "power_to_db", "BackendUnavailableError", "BackendFallbackWarning"]


# ------------------------------------------------------------------ helpers
@lru_cache(maxsize=32)
def _fb_cached(sr, n_fft, n_mels, fmin, fmax, htk, norm):
    from affrepro.kernels.spectral import reference

    fb = reference.mel_filterbank(sr, n_fft, n_mels, fmin, fmax, htk, norm)
    fb.setflags(write=False)
    return fb


def _mel_key(sr, n_fft, n_mels, fmin, fmax, htk, norm) -> tuple:
    """The filterbank's arguments checked (each named when wrong) and made hashable."""
    from affrepro.kernels.spectral.reference import as_bool, as_float, as_int, check_mel_norm

    return (as_float("sr", sr, above=0.0), as_int("n_fft", n_fft), as_int("n_mels", n_mels, 0),
            as_float("fmin", fmin, least=0.0),
            None if fmax is None else as_float("fmax", fmax, above=0.0), as_bool("htk", htk),
            check_mel_norm(norm))


def _power(power) -> float:
    from affrepro.kernels.spectral.reference import as_float

    return as_float("power", power, above=0.0)


def mel_filterbank(sr: float, n_fft: int, n_mels: int = 128, fmin: float = 0.0,
                   fmax: float | None = None, htk: bool = False, norm: Any = "slaney"):
    """librosa.filters.mel in float64, shape (n_mels, 1 + n_fft // 2) (a fresh copy)."""
    return _fb_cached(*_mel_key(sr, n_fft, n_mels, fmin, fmax, htk, norm)).copy()


@lru_cache(maxsize=32)
def _band_cached(sr, n_fft, n_mels, fmin, fmax, htk, norm):
    from affrepro.kernels.spectral import numba_impl

    return numba_impl.banded(_fb_cached(sr, n_fft, n_mels, fmin, fmax, htk, norm))


@lru_cache(maxsize=32)
def _window_cached(window, n_fft, win_length):
    from affrepro.kernels.spectral import reference

    w = reference.window_vector(window, n_fft, win_length)
    w.setflags(write=False)
    return w


def _window(window, n_fft, win_length):
    if isinstance(window, (str, tuple)):
        return _window_cached(window, int(n_fft), win_length)
    from affrepro.kernels.spectral import reference

    return reference.window_vector(window, int(n_fft), win_length)


_COMPLEX_SIGNAL = "y is complex; the spectral functions take real signals (..., samples)"


class _Input:
    """The signal as a contiguous (batch, samples) NumPy array, and how to give results back."""

    def __init__(self, y: Any):
        import numpy as np

        self.torch_device = None
        self.torch_dtype = None
        if is_torch_tensor(y):
            import torch

            if y.is_complex():
                raise ValueError(_COMPLEX_SIGNAL)
            self.tensor = y
            if not y.is_floating_point():
                y = y.to(torch.float64)
            elif y.dtype in (torch.float16, torch.bfloat16):
                y = y.to(torch.float32)
            self.torch_device, self.torch_dtype = y.device, y.dtype
            self.tensor = y
            self.is_torch = True
        else:
            y = np.asarray(y)
            if y.dtype.kind == "c":
                raise ValueError(_COMPLEX_SIGNAL)
            if y.dtype.kind != "f":
                y = y.astype(np.float64)
            elif y.dtype == np.float16:
                y = y.astype(np.float32)
            elif y.dtype.itemsize > 8:
                y = y.astype(np.float64)
            if not y.dtype.isnative:  # big-endian data (RIFX, AIFF, foreign .npy): swap
                y = y.astype(y.dtype.newbyteorder("="))
            self.is_torch = False
            self.array = y
        if y.ndim == 0:
            raise ValueError("a signal needs at least one axis (..., samples)")
        self.batch_shape = tuple(y.shape[:-1])
        self.n_samples = int(y.shape[-1])

    def numpy2d(self):
        import numpy as np

        y = self.tensor.detach().cpu().numpy() if self.is_torch else self.array
        batch = int(np.prod(self.batch_shape, dtype=np.int64))
        return np.ascontiguousarray(y.reshape(batch, self.n_samples))

    @property
    def np_dtype(self):
        import numpy as np

        if self.is_torch:
            import torch

            return np.float32 if self.torch_dtype == torch.float32 else np.float64
        return self.array.dtype

    def give_back(self, arr3):
        """(batch, rows, frames) NumPy -> batch_shape + (rows, frames), input's kind/dtype."""
        arr = arr3.reshape(self.batch_shape + arr3.shape[1:]).astype(self.np_dtype, copy=False)
        if self.is_torch:
            import torch

            return torch.from_numpy(arr).to(self.torch_device)
        return arr


def _numba():
    return import_backend(f"{__name__}.numba_impl", "numba", "numba and scipy")


def _triton_for(inp: _Input):
    require_triton_tensor(inp.tensor if inp.is_torch else inp.array)
    return import_backend(f"{__name__}.triton_impl", "triton")


OPS = {name: register_op(name, ("numba", "triton"))
       for name in ("power_spectrogram", "melspectrogram", "logmel", "mfcc")}
POWER_TO_DB = register_op("power_to_db", ("numba",), missing={
    "triton": "the triton logmel fuses it; use backend='numba' or 'reference'"})


def _dispatch(name: str, backend: str, inp: _Input, runners: dict):
    return dispatch(OPS[name], backend, runners,
                    gpu=inp.is_torch and inp.torch_device.type == "cuda")


def _stft_params(n_fft, hop_length, pad_mode, win_length=None, feature=True,
                 center=True):
    """(n_fft, hop, win_length) as Python ints, the hop defaulting as librosa's feature
    functions (512) or, with ``feature=False``, as its stft (win_length // 4)."""
    from affrepro.kernels.spectral import reference

    hop = reference.check_params(n_fft, hop_length, pad_mode, win_length,
                                 reference.FEATURE_HOP if feature else None)
    reference.as_bool("center", center)
    win = None if win_length is None else reference.as_int("win_length", win_length)
    return int(n_fft), hop, win


# ------------------------------------------------------------------ public API
def power_spectrogram(y: Any, *, n_fft: int = 2048, hop_length: int | None = None,
                      win_length: int | None = None, window: Any = "hann",
                      center: bool = True, pad_mode: str = "constant", power: float = 2.0,
                      fft_precision: str = "float64", backend: str = "auto"):
    """|STFT(y)|**power, shape (..., 1 + n_fft // 2, n_frames)."""
    n_fft, hop, win_length = _stft_params(n_fft, hop_length, pad_mode, win_length, False, center)
    _f64(fft_precision)
    power = _power(power)
    inp = _Input(y)

    def ref():
        from affrepro.kernels.spectral import reference

        return inp.give_back(reference.power_spectrogram(
            inp.numpy2d(), n_fft, hop, win_length, window, center, pad_mode, power))

    def nb():
        impl = _numba()
        from affrepro.kernels.spectral import reference

        nf = reference.n_frames(inp.n_samples, n_fft, hop, center)
        return inp.give_back(impl.spectrogram(inp.numpy2d(), n_fft, hop,
                                              _window(window, n_fft, win_length), center,
                                              pad_mode, power, nf,
                                              float64_fft=_f64(fft_precision)))

    def tr():
        impl = _triton_for(inp)
        return impl.spectral(inp.tensor, n_fft=n_fft, hop=hop,
                             window=_window(window, n_fft, win_length), center=center,
                             pad_mode=pad_mode, power=power, fb=None)

    return _dispatch("power_spectrogram", backend, inp,
                     {"reference": ref, "numba": nb, "triton": tr})


def _mel_runners(inp, sr, n_fft, hop, win_length, window, center, pad_mode, power, n_mels,
                 fmin, fmax, htk, norm, log_args, fft_precision="float64"):
    """Runners for the mel power (log_args None) or log-mel (log_args dict)."""
    from affrepro.kernels.spectral.reference import as_int

    _f64(fft_precision)  # validate for every backend
    key = _mel_key(sr, n_fft, n_mels, fmin, fmax, htk, norm)
    sr, power = key[0], _power(power)

    def ref():
        from affrepro.kernels.spectral import reference

        S = reference.melspectrogram(inp.numpy2d(), sr, n_fft, hop, win_length, window, center,
                                     pad_mode, power, n_mels, fmin, fmax, htk, norm)
        if log_args is not None:
            S = reference.power_to_db(S, **log_args)
        return S

    def nb():
        impl = _numba()
        from affrepro.kernels.spectral import reference

        nf = reference.n_frames(inp.n_samples, n_fft, hop, center)
        lg = None
        if log_args is not None:
            lg = impl.log_params(_log_scale(log_args["log"]), log_args["amin"], log_args["ref"])
        S = impl.spectrogram(inp.numpy2d(), n_fft, hop, _window(window, n_fft, win_length),
                             center, pad_mode, power, nf, fb_band=_band_cached(*key), log=lg,
                             float64_fft=_f64(fft_precision))
        if log_args is not None:
            top_db = log_args["top_db"]
            if top_db is not None and log_args["log"] == "log":
                top_db = top_db * math.log(10.0) / 10.0
            S = impl.finish_db(S, log_args["ref"], top_db)
        return S

    def tr():
        impl = _triton_for(inp)
        return impl.spectral(inp.tensor, n_fft=n_fft, hop=hop,
                             window=_window(window, n_fft, win_length), center=center,
                             pad_mode=pad_mode, power=power, fb=_fb_cached(*key),
                             log_args=log_args)

    return ref, nb, tr


def _f64(fft_precision: str) -> bool:
    if fft_precision not in ("float64", "float32"):
        raise ValueError(f"fft_precision must be 'float64' or 'float32', got {fft_precision!r}")
    return fft_precision == "float64"


def _log_scale(log: str) -> float:
    import math

    return 10.0 / math.log(10.0) if log == "db" else 1.0


def _check_log_args(log, ref, amin, top_db):
    if log not in ("db", "log"):
        raise ValueError(f"log must be 'db' or 'log', got {log!r}")
    from affrepro.kernels.spectral.reference import as_float

    amin = as_float("amin", amin, above=0.0)
    if top_db is not None:  # NaN refused: it would blank the whole output
        top_db = as_float("top_db", top_db, least=0.0, allow_inf=True)
    if not callable(ref) and not (isinstance(ref, str) and ref == "max"):
        try:
            ref = as_float("ref", ref)
        except TypeError:
            raise ValueError(f"ref must be a number, 'max' or a callable such as np.max, "
                             f"got {ref!r}") from None
        except ValueError:  # librosa returns all NaN (or -inf) for NaN/inf
            raise ValueError(f"ref must be a finite number, 'max' or a callable, "
                             f"got {ref}") from None
    return {"ref": ref, "amin": amin, "top_db": top_db, "log": log}


def melspectrogram(y: Any, *, sr: float = 22050, n_fft: int = 2048,
                   hop_length: int | None = None, win_length: int | None = None,
                   window: Any = "hann", center: bool = True, pad_mode: str = "constant",
                   power: float = 2.0, n_mels: int = 128, fmin: float = 0.0,
                   fmax: float | None = None, htk: bool = False, norm: Any = "slaney",
                   fft_precision: str = "float64", backend: str = "auto"):
    """Mel power spectrogram (librosa.feature.melspectrogram), (..., n_mels, n_frames)."""
    n_fft, hop, win_length = _stft_params(n_fft, hop_length, pad_mode, win_length, center=center)
    inp = _Input(y)
    ref, nb, tr = _mel_runners(inp, sr, n_fft, hop, win_length, window, center, pad_mode,
                               power, n_mels, fmin, fmax, htk, norm, None, fft_precision)
    wrap = inp.give_back
    return _dispatch("melspectrogram", backend, inp,
                     {"reference": lambda: wrap(ref()), "numba": lambda: wrap(nb()),
                      "triton": tr})


def logmel(y: Any, *, sr: float = 22050, n_fft: int = 2048, hop_length: int | None = None,
           win_length: int | None = None, window: Any = "hann", center: bool = True,
           pad_mode: str = "constant", power: float = 2.0, n_mels: int = 128,
           fmin: float = 0.0, fmax: float | None = None, htk: bool = False,
           norm: Any = "slaney", log: str = "db", ref: Any = 1.0, amin: float = 1e-10,
           top_db: float | None = 80.0, fft_precision: str = "float64",
           backend: str = "auto"):
    """Log-mel spectrogram: ``power_to_db(melspectrogram(y, ...), ref, amin, top_db)``.

    ``log="log"`` gives natural logs instead of decibels (top_db still in dB)."""
    n_fft, hop, win_length = _stft_params(n_fft, hop_length, pad_mode, win_length, center=center)
    log_args = _check_log_args(log, ref, amin, top_db)
    if callable(log_args["ref"]):  # the reference value needs the whole mel power first
        S = melspectrogram(y, sr=sr, n_fft=n_fft, hop_length=hop, win_length=win_length,
                           window=window, center=center, pad_mode=pad_mode, power=power,
                           n_mels=n_mels, fmin=fmin, fmax=fmax, htk=htk, norm=norm,
                           fft_precision=fft_precision, backend=backend)
        return power_to_db(S, ref=ref, amin=amin, top_db=top_db, log=log)
    inp = _Input(y)
    ref_, nb, tr = _mel_runners(inp, sr, n_fft, hop, win_length, window, center, pad_mode,
                                power, n_mels, fmin, fmax, htk, norm, log_args, fft_precision)
    wrap = inp.give_back
    return _dispatch("logmel", backend, inp,
                     {"reference": lambda: wrap(ref_()), "numba": lambda: wrap(nb()),
                      "triton": tr})


def mfcc(y: Any, *, sr: float = 22050, n_mfcc: int = 20, dct_type: int = 2,
         norm: str | None = "ortho", lifter: float = 0.0, n_fft: int = 2048,
         hop_length: int | None = None, win_length: int | None = None, window: Any = "hann",
         center: bool = True, pad_mode: str = "constant", power: float = 2.0,
         n_mels: int = 128, fmin: float = 0.0, fmax: float | None = None, htk: bool = False,
         mel_norm: Any = "slaney", ref: Any = 1.0, amin: float = 1e-10,
         top_db: float | None = 80.0, fft_precision: str = "float64", backend: str = "auto"):
    """MFCC as librosa.feature.mfcc: DCT-II of the dB log-mel, first n_mfcc rows, liftered.

    As in librosa, ``norm`` is the DCT's (``"ortho"`` or None) and ``dct_type`` must be 2
    (the only one here); the mel filters' normalisation is ``mel_norm``."""
    from affrepro.kernels.spectral import reference

    if dct_type != 2:
        raise ValueError(f"dct_type must be 2 (DCT-II, librosa's default; types 1 and 3 "
                         f"are not implemented), got {dct_type!r}")
    n_fft, hop, win_length = _stft_params(n_fft, hop_length, pad_mode, win_length, center=center)
    log_args = _check_log_args("db", ref, amin, top_db)
    n_mfcc = reference.as_int("n_mfcc", n_mfcc)
    d = reference.dct_matrix(reference.as_int("n_mels", n_mels, 0), n_mfcc, norm) * \
        reference.lifter_vector(n_mfcc, float(lifter))[:, None]
    if callable(log_args["ref"]):
        L = logmel(y, sr=sr, n_fft=n_fft, hop_length=hop, win_length=win_length, window=window,
                   center=center, pad_mode=pad_mode, power=power, n_mels=n_mels, fmin=fmin,
                   fmax=fmax, htk=htk, norm=mel_norm, ref=ref, amin=amin, top_db=top_db,
                   fft_precision=fft_precision, backend=backend)
        if is_torch_tensor(L):
            import torch

            return torch.matmul(torch.as_tensor(d, dtype=L.dtype, device=L.device), L)
        import numpy as np

        return np.einsum("km,...mt->...kt", d, L).astype(L.dtype, copy=False)
    inp = _Input(y)
    ref_, nb, tr = _mel_runners(inp, sr, n_fft, hop, win_length, window, center, pad_mode,
                                power, n_mels, fmin, fmax, htk, mel_norm, log_args,
                                fft_precision)

    def r():
        import numpy as np

        return inp.give_back(np.einsum("km,bmt->bkt", d, ref_()))

    def n():
        return inp.give_back(_numba().cepstrum(nb(), d))

    def t():
        import torch

        L = tr()
        D = torch.as_tensor(d, dtype=L.dtype, device=L.device)
        return torch.matmul(D, L)

    return _dispatch("mfcc", backend, inp, {"reference": r, "numba": n, "triton": t})


def power_to_db(S: Any, *, ref: Any = 1.0, amin: float = 1e-10, top_db: float | None = 80.0,
                log: str = "db", backend: str = "auto"):
    """librosa.power_to_db on (..., rows, frames), the peak taken per (rows, frames) slice."""
    import numpy as np

    log_args = _check_log_args(log, ref, amin, top_db)
    is_t = is_torch_tensor(S)
    if is_t:
        import torch

        device = S.device
        if S.is_complex():  # warned about and reduced to |S| below, as NumPy input
            tdtype = torch.float64 if S.dtype == torch.complex128 else torch.float32
        elif not S.is_floating_point():
            S, tdtype = S.to(torch.float64), torch.float64  # as NumPy integers: float64 out
        elif S.dtype in (torch.float16, torch.bfloat16):
            S, tdtype = S.to(torch.float32), torch.float32
        else:
            tdtype = S.dtype
        A = S.detach().cpu().numpy()
    else:
        A = np.asarray(S)
    if A.dtype.kind == "c":
        import warnings

        warnings.warn("power_to_db was given complex input: its magnitude is used (as "
                      "librosa); pass np.abs(D) ** 2 for power", UserWarning, stacklevel=2)
        A = np.abs(A)
    if A.dtype.kind != "f" or A.dtype == np.float16:
        A = A.astype(np.float64 if A.dtype.kind != "f" else np.float32)
    elif A.dtype.itemsize > 8:
        A = A.astype(np.float64)
    if not A.dtype.isnative:
        A = A.astype(A.dtype.newbyteorder("="))
    if A.ndim < 2:
        raise ValueError("power_to_db needs (..., rows, frames)")
    shape = A.shape

    def ref_():
        from affrepro.kernels.spectral import reference

        return reference.power_to_db(A, **log_args).astype(A.dtype, copy=False)

    def nb():
        impl = _numba()
        B = np.array(A.reshape((-1,) + shape[-2:]), dtype=A.dtype, copy=True)
        return impl.to_db(B, _log_scale(log), log_args["amin"], log_args["ref"],
                          log_args["top_db"]).reshape(shape)

    # a callable ref is applied per signal by the reference, as is an empty input
    runners = {"reference": ref_, "numba": ref_ if callable(ref) or not A.size else nb}
    out = dispatch(POWER_TO_DB, backend, runners)
    if is_t:
        return torch.from_numpy(np.ascontiguousarray(out)).to(device=device, dtype=tdtype)
    return out
