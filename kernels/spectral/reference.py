"""The spectral front-end in plain NumPy, float64 throughout: the source of truth.

Conventions follow librosa (0.10/0.11) so that results can be compared one to one:

- the window is ``scipy.signal.get_window(window, win_length, fftbins=True)`` (periodic;
  Hann, Hamming, Blackman, Bartlett and boxcar are built with NumPy, same values),
  zero-padded to ``n_fft`` in the centre;
- ``center=True`` pads ``n_fft // 2`` samples on both sides with ``np.pad(mode=pad_mode)``
  (``constant`` — librosa's default — ``edge``, ``reflect``, ``symmetric``); librosa ≥ 0.10
  pads only the edge frames, and with ``reflect`` and a hop above ``n_fft`` (or n_fft 2)
  its last frame then differs from ``np.pad``'s; ours is ``np.pad``'s;
- frame ``t`` starts at sample ``t * hop_length`` of the (padded) signal; without a
  ``hop_length``, 512 for the mel/MFCC functions and ``win_length // 4`` for the power
  spectrogram, as librosa's ``melspectrogram``/``mfcc`` and ``stft`` default;
  ``n_frames = 1 + (len_padded - n_fft) // hop_length`` (0 when the padded signal is
  shorter than ``n_fft``, and 0 for an empty signal, where librosa gives one all-zero frame
  with ``pad_mode="constant"`` and raises with the other modes);
- the mel filterbank is ``librosa.filters.mel`` (Slaney or HTK mel scale, ``norm``
  ``"slaney"``, ``None`` or a p-norm), computed in float64;
- ``power_to_db`` is librosa's: ``10 log10(max(amin, S)) − 10 log10(max(amin, ref))``,
  then ``max(·, peak − top_db)``, where the peak is taken PER SIGNAL (over the last two
  axes; librosa, called on one signal, does the same);
- MFCC is the DCT-II (``dct_type=2``; ``norm="ortho"`` or ``None``, as librosa's
  ``mfcc(norm=)``; the mel filters' norm is then ``mel_norm``) of the dB log-mel along the mel
  axis, the first ``n_mfcc`` rows, with librosa's liftering
  ``M[n] *= 1 + lifter/2 · sin(π (n + 1) / lifter)``.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

PAD_MODES = ("constant", "edge", "reflect", "symmetric")
# librosa's hop when none is given: 512 in its feature functions (melspectrogram, mfcc),
# win_length // 4 in stft (power_spectrogram here)
FEATURE_HOP = 512


# ---------------------------------------------------------------- window & framing
# scipy.signal.get_window's names (aliases included) for the windows NumPy also builds
_NUMPY_WINDOWS = {**dict.fromkeys(("hann", "han"), np.hanning),
                  **dict.fromkeys(("hamming", "hamm", "ham"), np.hamming),
                  **dict.fromkeys(("blackman", "black", "blk"), np.blackman),
                  **dict.fromkeys(("bartlett", "bart", "brt"), np.bartlett),
                  **dict.fromkeys(("boxcar", "box", "ones", "rect", "rectangular"), np.ones)}


def _periodic_numpy_window(name: str, length: int) -> np.ndarray:
    """``get_window(name, length, fftbins=True)`` without importing scipy.signal: the
    periodic window is the symmetric one of length + 1 without its last point, e.g. Hann
    ``w[n] = 0.5 - 0.5 cos(2πn / length)``; scipy returns ones for length 1."""
    if length == 1:
        return np.ones(1)
    return np.asarray(_NUMPY_WINDOWS[name](length + 1)[:-1], dtype=np.float64)


def window_vector(window, n_fft: int, win_length: int | None = None) -> np.ndarray:
    """The analysis window as librosa builds it (periodic, centred in n_fft), float64."""
    win_length = n_fft if win_length is None else int(win_length)
    if not 0 < win_length <= n_fft:
        raise ValueError(f"win_length must be in 1..n_fft={n_fft}, got {win_length}")
    if isinstance(window, str) and window in _NUMPY_WINDOWS:
        w = _periodic_numpy_window(window, win_length)
    elif isinstance(window, (str, tuple)) or (isinstance(window, numbers.Real)
                                               and not isinstance(window, (bool, np.bool_))):
        from scipy.signal import get_window  # importing scipy.signal takes about 1 s

        # a number is a Kaiser window's beta, as in scipy and librosa
        w = get_window(window, win_length, fftbins=True).astype(np.float64)
    elif callable(window):  # librosa: window(win_length)
        w = np.asarray(window(win_length), dtype=np.float64)
        if w.shape != (win_length,):
            raise ValueError(f"window({win_length}) returned shape {w.shape}, expected "
                             f"({win_length},)")
    else:
        w = np.asarray(window, dtype=np.float64)
        if w.shape != (win_length,):
            raise ValueError(f"a window array must have length win_length={win_length}, "
                             f"got shape {w.shape}")
    out = np.zeros(n_fft, dtype=np.float64)
    lpad = (n_fft - win_length) // 2
    out[lpad:lpad + win_length] = w
    return out


def n_frames(n_samples: int, n_fft: int, hop_length: int, center: bool) -> int:
    if n_samples == 0:
        return 0
    padded = n_samples + 2 * (n_fft // 2) if center else n_samples
    if padded < n_fft:
        return 0
    return 1 + (padded - n_fft) // hop_length


def as_int(name: str, value, least: int = 1) -> int:
    """An integer argument (Python or NumPy integer) as a Python int, at least ``least``."""
    if type(value) is not int and (isinstance(value, bool)
                                   or not isinstance(value, numbers.Integral)):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if int(value) < least:
        raise ValueError(f"{name} must be >= {least}, got {value}")
    return int(value)


def as_float(name: str, value, least: float | None = None, above: float | None = None,
             allow_inf: bool = False) -> float:
    """A real-number argument (Python or NumPy; not bool, not text) as a Python float, not
    NaN, finite unless ``allow_inf``, and ``>= least`` / ``> above`` where given."""
    if type(value) is not float and type(value) is not int:  # the common case, fast
        if getattr(value, "shape", None) == () and hasattr(value, "item"):
            value = value.item()  # a 0-d NumPy array or torch tensor
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
            raise TypeError(f"{name} must be a number, got {value!r}")
    v = float(value)
    if v != v:
        raise ValueError(f"{name} must be a number, got {value}")
    if math.isinf(v) and not allow_inf:
        raise ValueError(f"{name} must be a finite number, got {value}")
    if least is not None and v < least:
        raise ValueError(f"{name} must be >= {least}, got {value}")
    if above is not None and v <= above:
        raise ValueError(f"{name} must be > {above}, got {value}")
    return v


def as_bool(name: str, value) -> bool:
    """A flag: True or False (Python or NumPy), nothing else (``"no"`` is truthy)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def check_mel_norm(norm):
    """The mel filters' ``norm``: "slaney", None or a p > 0 (np.inf: max), as librosa."""
    if norm is None or (isinstance(norm, str) and norm == "slaney"):
        return norm
    try:
        return as_float("norm", norm, above=0.0, allow_inf=True)
    except (TypeError, ValueError):
        raise ValueError(f"norm (of the mel filters) must be 'slaney', None or a p > 0 "
                         f"(np.inf: max), got {norm!r}") from None


def check_params(n_fft: int, hop_length: int | None, pad_mode: str,
                 win_length: int | None = None, default_hop: int | None = None) -> int:
    """The hop in samples. Without ``hop_length``: ``default_hop`` (librosa's feature
    functions: 512), else ``win_length // 4`` (``librosa.stft``; win_length defaults to
    n_fft)."""
    n_fft = as_int("n_fft", n_fft)
    if hop_length is not None:
        hop = as_int("hop_length", hop_length)
    elif default_hop is not None:
        hop = default_hop
    else:
        win = n_fft if win_length is None else as_int("win_length", win_length)
        hop = win // 4
        if hop < 1:
            raise ValueError(f"hop_length: the default win_length // 4 is 0 for "
                             f"win_length={win}; give hop_length")
    if pad_mode not in PAD_MODES:
        raise ValueError(f"pad_mode must be one of {PAD_MODES}, got {pad_mode!r}")
    return hop


def frames(y: np.ndarray, n_fft: int, hop_length: int, center: bool,
           pad_mode: str) -> np.ndarray:
    """(..., n_frames, n_fft) float64 frames of y (..., samples)."""
    y = np.asarray(y, dtype=np.float64)
    nf = n_frames(y.shape[-1], n_fft, hop_length, center)
    if nf == 0:
        return np.zeros(y.shape[:-1] + (0, n_fft))
    if center:
        pad = [(0, 0)] * (y.ndim - 1) + [(n_fft // 2, n_fft // 2)]
        y = np.pad(y, pad, mode=pad_mode)
    idx = np.arange(nf)[:, None] * hop_length + np.arange(n_fft)[None, :]
    return y[..., idx]


def power_spectrogram(y, n_fft: int = 2048, hop_length: int | None = None,
                      win_length: int | None = None, window="hann", center: bool = True,
                      pad_mode: str = "constant", power: float = 2.0) -> np.ndarray:
    """|STFT|**power, shape (..., 1 + n_fft // 2, n_frames), float64."""
    hop = check_params(n_fft, hop_length, pad_mode, win_length)
    fr = frames(y, n_fft, hop, center, pad_mode) * window_vector(window, n_fft, win_length)
    spec = np.abs(np.fft.rfft(fr, n=n_fft, axis=-1))
    spec = spec ** 2 if power == 2.0 else spec ** power
    return np.swapaxes(spec, -1, -2)


# ---------------------------------------------------------------- mel scale
def hz_to_mel(f, htk: bool = False):
    f = np.asarray(f, dtype=np.float64)
    if htk:
        return 2595.0 * np.log10(1.0 + f / 700.0)
    f_sp = 200.0 / 3
    mels = f / f_sp
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = math.log(6.4) / 27.0
    with np.errstate(divide="ignore"):
        log_part = min_log_mel + np.log(np.maximum(f, 1e-300) / min_log_hz) / logstep
    return np.where(f >= min_log_hz, log_part, mels)


def mel_to_hz(m, htk: bool = False):
    m = np.asarray(m, dtype=np.float64)
    if htk:
        return 700.0 * (10.0 ** (m / 2595.0) - 1.0)
    f_sp = 200.0 / 3
    freqs = f_sp * m
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = math.log(6.4) / 27.0
    return np.where(m >= min_log_mel, min_log_hz * np.exp(logstep * (m - min_log_mel)), freqs)


def mel_filterbank(sr: float, n_fft: int, n_mels: int = 128, fmin: float = 0.0,
                   fmax: float | None = None, htk: bool = False,
                   norm="slaney") -> np.ndarray:
    """Triangular mel filters, shape (n_mels, 1 + n_fft // 2), float64 (librosa.filters.mel).
    Filters that catch no FFT bin (too many mels for n_fft) are zero, with a warning, as
    librosa's."""
    sr = as_float("sr", sr, above=0.0)
    n_fft = as_int("n_fft", n_fft)
    fmin = as_float("fmin", fmin, least=0.0)
    fmax = sr / 2 if fmax is None else as_float("fmax", fmax, above=0.0)
    if not fmin < fmax:
        raise ValueError(f"need 0 <= fmin < fmax, got fmin={fmin}, fmax={fmax}")
    n_mels = as_int("n_mels", n_mels, 0)
    norm = check_mel_norm(norm)
    n_bins = 1 + n_fft // 2
    fftfreqs = np.fft.rfftfreq(n_fft, 1.0 / sr)
    mel_f = mel_to_hz(np.linspace(hz_to_mel(fmin, htk), hz_to_mel(fmax, htk), n_mels + 2), htk)
    fdiff = np.diff(mel_f)
    ramps = mel_f[:, None] - fftfreqs[None, :]
    weights = np.zeros((n_mels, n_bins))
    for i in range(n_mels):
        lower = -ramps[i] / fdiff[i]
        upper = ramps[i + 2] / fdiff[i + 1]
        weights[i] = np.maximum(0.0, np.minimum(lower, upper))
    if not np.all((mel_f[:-2] == 0) | (weights.max(axis=1, initial=0.0) > 0)):
        import warnings

        warnings.warn(f"empty mel filters: {n_mels} mels over {fmin:g}-{fmax:g} Hz with n_fft "
                      f"{n_fft} at {sr:g} Hz leave some filters without an FFT bin (they give "
                      "zero power); use fewer mels or a larger n_fft", UserWarning, stacklevel=2)
    if norm == "slaney":
        weights *= (2.0 / (mel_f[2:n_mels + 2] - mel_f[:n_mels]))[:, None]
    elif norm is not None:
        p = norm
        if p == math.inf:
            scale = np.max(np.abs(weights), axis=-1, keepdims=True)
        else:
            scale = np.sum(np.abs(weights) ** p, axis=-1, keepdims=True) ** (1.0 / p)
        weights = np.where(scale > 0, weights / np.where(scale > 0, scale, 1.0), weights)
    return weights


def melspectrogram(y, sr: float = 22050, n_fft: int = 2048, hop_length: int | None = None,
                   win_length: int | None = None, window="hann", center: bool = True,
                   pad_mode: str = "constant", power: float = 2.0, n_mels: int = 128,
                   fmin: float = 0.0, fmax: float | None = None, htk: bool = False,
                   norm="slaney") -> np.ndarray:
    """Mel power spectrogram, shape (..., n_mels, n_frames), float64."""
    hop_length = FEATURE_HOP if hop_length is None else hop_length
    S = power_spectrogram(y, n_fft, hop_length, win_length, window, center, pad_mode, power)
    fb = mel_filterbank(sr, n_fft, n_mels, fmin, fmax, htk, norm)
    return np.einsum("mb,...bt->...mt", fb, S)


# ---------------------------------------------------------------- log & cepstrum
def power_to_db(S, ref=1.0, amin: float = 1e-10, top_db: float | None = 80.0,
                log: str = "db") -> np.ndarray:
    """librosa.power_to_db per signal (peak over the last two axes); ``log="log"`` gives
    natural logs (``ln(max(amin, S)) − ln(max(amin, ref))``, top_db converted to nepers·2).
    ``ref`` is a number, ``"max"`` or a callable of each signal's (rows, frames) power
    (librosa's ``ref=np.max``)."""
    amin = as_float("amin", amin, above=0.0)
    if top_db is not None:
        top_db = as_float("top_db", top_db, least=0.0, allow_inf=True)
    if log not in ("db", "log"):
        raise ValueError(f"log must be 'db' or 'log', got {log!r}")
    if callable(ref):
        S = np.asarray(S, dtype=np.float64)
        if S.size == 0:  # nothing to take a reference of
            return _to_db(S, 1.0, amin, top_db, log)
        flat = S.reshape((-1,) + S.shape[-2:])
        out = np.empty_like(flat)
        for i, x in enumerate(flat):
            # as librosa: max(amin, value), no abs for a callable's value; NaN stays NaN,
            # +inf (an overflowed peak) subtracts +inf
            out[i] = _to_db(x, float(ref(x)), amin, top_db, log)
        return out.reshape(S.shape)
    if not (isinstance(ref, str) and ref == "max"):
        ref = abs(as_float("ref", ref))
    return _to_db(np.asarray(S, dtype=np.float64), ref, amin, top_db, log)


def _to_db(S: np.ndarray, ref, amin: float, top_db: float | None, log: str) -> np.ndarray:
    """power_to_db with checked arguments; ``ref`` "max" or a float (any, NaN included)."""
    scale = 10.0 / math.log(10.0) if log == "db" else 1.0
    with np.errstate(invalid="ignore"):
        out = scale * np.log(np.maximum(amin, S))
        if ref == "max":
            if S.shape[-1] * S.shape[-2] == 0:
                return out
            out = out - np.max(out, axis=(-2, -1), keepdims=True)
        else:
            out = out - scale * np.log(np.maximum(amin, ref))
        if top_db is not None and S.shape[-1] * S.shape[-2] > 0:
            clip = top_db if log == "db" else top_db * math.log(10.0) / 10.0
            out = np.maximum(out, np.max(out, axis=(-2, -1), keepdims=True) - clip)
    return out


def dct_matrix(n_mels: int, n_mfcc: int, norm: str | None = "ortho") -> np.ndarray:
    """Rows 0..n_mfcc-1 of the DCT-II matrix (scipy's convention), shape (n_mfcc, n_mels)."""
    if not 0 < n_mfcc <= n_mels:
        raise ValueError(f"n_mfcc must be in 1..n_mels={n_mels}, got {n_mfcc}")
    k = np.arange(n_mfcc)[:, None]
    n = np.arange(n_mels)[None, :]
    d = 2.0 * np.cos(np.pi * k * (2 * n + 1) / (2.0 * n_mels))
    if norm == "ortho":
        d *= np.sqrt(1.0 / (2.0 * n_mels))
        d[0] *= np.sqrt(0.5)
    elif norm is not None:
        raise ValueError(f"norm must be 'ortho' or None, got {norm!r}")
    return d


def lifter_vector(n_mfcc: int, lifter: float) -> np.ndarray:
    if lifter < 0:
        raise ValueError(f"lifter must be >= 0, got {lifter}")
    if lifter == 0:
        return np.ones(n_mfcc)
    return 1.0 + (lifter / 2.0) * np.sin(np.pi * np.arange(1, 1 + n_mfcc) / lifter)


def cepstrum(log_mel: np.ndarray, n_mfcc: int = 20, norm: str | None = "ortho",
             lifter: float = 0.0) -> np.ndarray:
    log_mel = np.asarray(log_mel, dtype=np.float64)
    d = dct_matrix(log_mel.shape[-2], n_mfcc, norm) * lifter_vector(n_mfcc, lifter)[:, None]
    return np.einsum("km,...mt->...kt", d, log_mel)
