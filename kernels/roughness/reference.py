"""Reference Daniel & Weber (1997) roughness, as MoSQITo 1.2 implements it
(``mosqito.sq_metrics.roughness_dw``). Plain NumPy, float64; one frame at a time.

The steps for one 200 ms frame (``nperseg = int(0.2 * fs)`` samples, ``n = 2 *
(nperseg // 2)``, bin spacing ``df = fs / nperseg``):

1. spectrum: ``X = 1.42 * FFT(x * w / sum(w))`` on bins ``0 .. n/2 - 1`` (Blackman
   window ``w``). As in MoSQITo, bin ``k`` is given the frequency ``(k + 1) * df`` (its
   frequency axis starts at ``df``, not 0) and the Bark scale is the piecewise-linear
   Zwicker table (:data:`BARK_HZ`);
2. outer/middle ear: ``X *= 10^(a0(z)/20)`` (Zwicker & Fastl fig. 8.18, :data:`A0_DB`);
   level ``L_k = 20 log10(|X_k| / 20 uPa)``; a bin is audible when ``L_k`` exceeds the
   roughness threshold in quiet (:data:`LTQ_DB`) at its Bark value ``b_k``;
3. excitation: 47 channels ``z_i = i / 2`` Bark, ``i = 1 .. 47`` (0-based ``c = i - 1``).
   An audible bin lies in channels ``lo = floor(2 b) - 1`` and ``hi = ceil(2 b) - 1``
   (gain 1 there). Towards lower channels ``c < lo`` it falls at ``s1 = -27`` dB/Bark,
   towards higher ones ``c > hi`` at ``s2 = min(-24 - 230 Hz / f + 0.2 L, 0)`` dB/Bark,
   and is dropped where the slope is not above the threshold in quiet at that channel.
   MoSQITo evaluates the slope (and that threshold) one channel nearer to the
   component than the channel it feeds (at ``c + 1`` below, ``c - 1`` above); we do the
   same. The bin keeps its phase: ``E_c[k] = X_k * A_k,c / |X_k|``;
4. envelope: ``e_c(t) = |n Re IFFT(E_c)(t)|``; ``h0_c`` its mean; the envelope spectrum
   ``FFT(e_c - h0_c)`` is weighted by the modulation filter ``H_c`` (Daniel & Weber
   fig. 2) giving ``G_c``; ``hBP_c = 2 Re IFFT(G_c)``. As MoSQITo: H2, H5, H16, H21 and
   H42 are tabulated, each copied to its neighbouring channels (MoSQITo's own docstring
   describes interpolating between them for channels 6 .. 16 and 22 .. 42, its code
   copies), evaluated on envelope bins 2 .. 358 Hz (H2) or 2 .. 502 Hz (the others,
   cutting H16/H21/H42 short of their 645 Hz end);
5. modulation depth ``m_c = min(rms(hBP_c) / h0_c, 1)`` (0 where ``h0_c = 0``);
   correlation ``k_c = corr(hBP_c, hBP_{c+2})`` (c = 0 .. 44), 0 where either channel is
   unmodulated: ``rms(hBP) <= 1e-9 h0`` (:data:`MOD_FLOOR`; MoSQITo: where either hBP has
   an exact zero, and otherwise correlates rounding noise);
6. ``R'_c = g(z_c) * (m_c * k_{c-2} * k_c)^2`` with ``k`` outside 0 .. 44 taken as 1 and
   ``g`` Aures's weighting (:data:`GZ`) OUTSIDE the square, as in MoSQITo (Daniel &
   Weber's formula is ``(g m k k)^2``); ``R = 0.25 * sum_c R'_c`` asper.

Steps 4-5 use Parseval instead of the last inverse FFT: ``G_c`` is zero outside bins
2 .. 100-ish, so ``mean(hBP_c^2) = 2 sum|G_c|^2 / n^2`` and ``sum_t hBP_c hBP_d =
(2/n) Re sum G_c conj(G_d)`` exactly (``hBP`` has zero mean since ``G[0] = 0``).
"""
from __future__ import annotations

import math

import numpy as np

N_CHANNELS = 47
Z = np.arange(1, N_CHANNELS + 1) / 2.0  # channel centres, Bark
C_R = 0.25  # asper: 1 kHz, 60 dB, 100 % AM at 70 Hz -> 1 asper
S_LOW = -27.0  # dB/Bark
FRAME_SECONDS = 0.2
SPECTRUM_GAIN = 1.42  # MoSQITo's amplitude correction of the windowed spectrum

# Zwicker critical-band rate: Hz at 0, 0.5, ..., 24.5 Bark (interpolated linearly)
BARK_HZ = np.array([0, 50, 100, 150, 200, 250, 300, 350, 400, 450, 510, 570, 630, 700, 770,
                    840, 920, 1000, 1080, 1170, 1270, 1370, 1480, 1600, 1720, 1850, 2000,
                    2150, 2320, 2500, 2700, 2900, 3150, 3400, 3700, 4000, 4400, 4800, 5300,
                    5800, 6400, 7000, 7700, 8500, 9500, 10500, 12000, 13500, 15500, 20000],
                   dtype=np.float64)
BARK_AXIS = np.arange(0, 25, 0.5)
# outer/middle-ear transmission a0(z) in dB (Zwicker & Fastl 1990, fig. 8.18)
A0_Z = np.array([0, 10, 12, 13, 14, 15, 16, 16.5, 17, 18, 18.5, 19, 20, 21, 21.5, 22, 22.5,
                 23, 23.5, 24, 25, 26], dtype=np.float64)
A0_DB = np.array([0, 0, 1.15, 2.31, 3.85, 5.62, 6.92, 7.38, 6.92, 4.23, 2.31, 0, -1.43, -2.59,
                  -3.57, -5.19, -7.41, -11.3, -20, -40, -130, -999], dtype=np.float64)
# threshold in quiet used for roughness (dB SPL over Bark)
LTQ_Z = np.array([0, 0.01, 0.17, 0.8, 1, 1.5, 2, 3.3, 4, 5, 6, 8, 10, 12, 13.3, 15, 16, 17,
                  18, 19, 20, 21, 22, 23, 24, 24.5, 25], dtype=np.float64)
LTQ_DB = np.array([130, 70, 60, 30, 25, 20, 15, 10, 8.1, 6.3, 5, 3.5, 2.5, 1.7, 0, -2.5, -4,
                   -3.7, -1.5, 1.4, 3.8, 5, 7.5, 15, 48, 60, 130], dtype=np.float64)
# Aures's weighting g(z) of the specific roughness, at 0, 1, ..., 24 Bark
GZ_Z = np.arange(25, dtype=np.float64)
GZ_TAB = np.array([0.15, 0.26, 0.38, 0.47, 0.54, 0.65, 0.76, 0.83, 0.90, 0.98, 0.98, 0.90,
                   0.80, 0.70, 0.62, 0.54, 0.49, 0.43, 0.39, 0.35, 0.30, 0.30, 0.30, 0.30,
                   0.30])
GZ = np.interp(Z, GZ_Z, GZ_TAB)

# Modulation filters (Daniel & Weber fig. 2): (Hz, gain), the highest frequency kept,
# and the 0-based channels using each (MoSQITo's assignment).
_H_TABLES = (
    ((0, 17, 23, 25, 32, 37, 48, 67, 90, 114, 171, 206, 247, 294, 358),
     (0, 0.8, 0.95, 0.975, 1, 0.975, 0.9, 0.8, 0.7, 0.6, 0.4, 0.3, 0.2, 0.1, 0),
     358.0, range(0, 4)),
    ((0, 32, 43, 56, 69, 92, 120, 142, 165, 231, 277, 331, 397, 502),
     (0, 0.8, 0.95, 1, 0.975, 0.9, 0.8, 0.7, 0.6, 0.4, 0.3, 0.2, 0.1, 0),
     502.0, range(4, 15)),
    ((0, 23.5, 34, 47, 56, 63, 79, 100, 115, 135, 159, 172, 194, 215, 244, 290, 348, 415,
      500, 645),
     (0, 0.4, 0.6, 0.8, 0.9, 0.95, 1, 0.975, 0.95, 0.9, 0.85, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3,
      0.2, 0.1, 0),
     502.0, range(15, 20)),
    ((0, 19, 44, 52.5, 58, 75, 101.5, 114.5, 132.5, 143.5, 165.5, 197.5, 241, 290, 348, 415,
      500, 645),
     (0, 0.4, 0.8, 0.9, 0.95, 1, 0.95, 0.9, 0.85, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0),
     502.0, range(20, 41)),
    ((0, 15, 41, 49, 53, 64, 71, 88, 94, 106, 115, 137, 180, 238, 290, 348, 415, 500, 645),
     (0, 0.4, 0.8, 0.9, 0.965, 0.99, 1, 0.95, 0.9, 0.85, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2,
      0.1, 0),
     502.0, range(41, 47)),
)
# A channel whose band-passed envelope has an rms below MOD_FLOOR times its mean is
# taken as unmodulated (hBP = 0): such an hBP is rounding noise (e.g. a single spectral
# line in the channel: |cos| has no components below 500 Hz), and its correlation with a
# neighbour is arbitrary (MoSQITo computes it anyway; it only skips hBP with exact zeros).
# Real modulation of depth 1e-9 would add ~1e-18 asper.
MOD_FLOOR = 1e-9
H_FIRST_BIN = 2  # the modulation filters start at bin 2 (0 and 1 Hz-ish bins dropped)
# The 502 Hz modulation filters must lie below the envelope's Nyquist frequency (fs / 2)
# for the Parseval step above; 2 kHz keeps a margin (and is far below any audio rate).
MIN_FS = 2000.0


def frame_length(fs: float) -> int:
    return int(FRAME_SECONDS * fs)


def frame_starts(n_samples: int, nperseg: int, hop: int) -> np.ndarray:
    return np.arange(0, n_samples - nperseg + 1, hop)


def frame_times(starts: np.ndarray, nperseg: int, fs: float) -> np.ndarray:
    """The centre of each frame in seconds (the mean of its sample times, as MoSQITo)."""
    return (starts + (nperseg - 1) / 2.0) / fs


class Setup:
    """Everything that depends only on ``fs`` (frame length, bins, tables on the bins)."""

    def __init__(self, fs: float):
        self.fs = float(fs)
        self.nperseg = frame_length(fs)
        self.nb = self.nperseg // 2  # spectrum bins kept
        self.n = 2 * self.nb  # length of the excitation / envelope transforms
        win = np.blackman(self.nperseg)
        self.window = win / win.sum()
        self.freq = np.arange(1, self.nb + 1) * (self.fs / self.nperseg)
        self.bark = np.interp(self.freq, BARK_HZ, BARK_AXIS)
        self.a0 = np.power(10.0, 0.05 * np.interp(self.bark, A0_Z, A0_DB))
        self.threshold = np.interp(self.bark, LTQ_Z, LTQ_DB)
        self.s2_base = -24.0 - 230.0 / self.freq
        self.ch_low = np.floor(2.0 * self.bark).astype(np.int64) - 1
        self.ch_high = np.ceil(2.0 * self.bark).astype(np.int64) - 1
        # threshold at the channel centres, plus a 48th centre (24 Bark) that only an
        # audible component at >= 24 Bark (~15.5 kHz) reaches (MoSQITo raises IndexError)
        zc = np.interp(np.arange(1, N_CHANNELS + 2) / 2.0, BARK_AXIS, BARK_HZ) * self.n / self.fs
        self.min_excit = np.interp(zc, np.arange(1, self.nb + 1), self.threshold)
        self.h_last = int(math.floor(502.0 / self.fs * self.n))
        self.hweight = self._modulation_filters()

    def _modulation_filters(self) -> np.ndarray:
        """(47, h_last) gains on envelope bins 0 .. h_last - 1 (bin j at j fs / n Hz)."""
        h = np.zeros((N_CHANNELS, self.h_last))
        for hz, gain, top, channels in _H_TABLES:
            last = int(math.floor(top / self.fs * self.n))
            j = np.arange(H_FIRST_BIN, last)
            row = np.interp(j * self.fs / self.n, np.asarray(hz, float), np.asarray(gain, float))
            for c in channels:
                h[c, H_FIRST_BIN:last] = row
        return h


_SETUPS: dict[float, Setup] = {}


def setup(fs: float) -> Setup:
    s = _SETUPS.get(float(fs))
    if s is None:
        s = _SETUPS[float(fs)] = Setup(fs)
    return s


def spectra(frames: np.ndarray, st: Setup) -> np.ndarray:
    """(..., nperseg) frames -> (..., nb) complex spectra in Pa (MoSQITo's scaling)."""
    return np.fft.fft(frames * st.window, axis=-1)[..., :st.nb] * SPECTRUM_GAIN


def channel_gains(spec: np.ndarray, st: Setup):
    """Ear-weighted spectrum ``X`` (nb,), its audible bins and the (47, n_aud) gains that
    turn ``X`` on those bins into each channel's excitation spectrum."""
    x = st.a0 * spec
    mod = np.abs(x)
    with np.errstate(divide="ignore"):
        level = 20.0 * np.log10(mod / 2e-5)
    aud = np.nonzero(level > st.threshold)[0]
    lv, b, m = level[aud], st.bark[aud], mod[aud]
    lo, hi = st.ch_low[aud], st.ch_high[aud]
    s2 = np.minimum(st.s2_base[aud] + 0.2 * lv, 0.0)
    c = np.arange(N_CHANNELS)[:, None]
    # below the component: the lower slope at channel c + 1; above: the upper at c - 1
    sl_below = (S_LOW * (b - (c + 2) * 0.5)) + lv
    sl_above = (s2 * (c * 0.5 - b)) + lv
    below = c < lo
    sl = np.where(below, sl_below, sl_above)
    j = np.where(below, c + 1, np.maximum(c - 1, 0))
    with np.errstate(over="ignore"):
        amp = np.where(sl > st.min_excit[j], np.power(10.0, 0.05 * sl) * 2e-5, 0.0) / m
    gains = np.where((c == lo) | (c == hi), 1.0, amp)
    return x, aud, gains


def frame_roughness(spec: np.ndarray, st: Setup):
    """R (asper) and R'(z) (47,) of one frame's spectrum (nb,)."""
    x, aud, gains = channel_gains(spec, st)
    # one-sided excitation spectra -> n Re IFFT via the half-spectrum inverse
    ex = np.zeros((N_CHANNELS, st.nb + 1), dtype=np.complex128)
    ex[:, aud] = gains * x[aud]
    ex[:, 1:] *= 0.5
    env = np.abs(np.fft.irfft(ex, st.n, axis=-1, norm="forward"))
    h0 = env.mean(axis=-1)
    g = np.fft.rfft(env - h0[:, None], axis=-1)[:, :st.h_last] * st.hweight
    power = np.sum(g.real ** 2 + g.imag ** 2, axis=-1)
    rms = np.sqrt(2.0 * power) / st.n
    with np.errstate(divide="ignore", invalid="ignore"):
        depth = np.where(h0 > 0, np.minimum(rms / h0, 1.0), 0.0)
    cross = np.sum((g[:-2] * np.conj(g[2:])).real, axis=-1)
    modulated = rms > MOD_FLOOR * h0  # else hBP is rounding noise (or 0): no correlation
    ok = modulated[:-2] & modulated[2:]
    with np.errstate(divide="ignore", invalid="ignore"):
        k = np.where(ok, cross / np.sqrt(power[:-2] * power[2:]), 0.0)
    kk = np.ones(N_CHANNELS + 2)
    kk[2:N_CHANNELS] = k  # kk[c + 2] = k_c for c = 0 .. 44, 1 elsewhere
    spec_r = GZ * (depth * kk[:N_CHANNELS] * kk[2:]) ** 2
    return C_R * spec_r.sum(), spec_r


def roughness(x: np.ndarray, fs: float, hop: int):
    """``(R (..., frames), R_spec (..., 47, frames), time (frames,))`` of a validated
    float64 ``x`` (..., samples), frames ``hop`` samples apart; see
    :func:`affrepro.kernels.roughness.roughness_dw`."""
    st = setup(fs)
    starts = frame_starts(x.shape[-1], st.nperseg, hop)
    lead = x.shape[:-1]
    flat = x.reshape(-1, x.shape[-1])
    r = np.empty((flat.shape[0], starts.size))
    rs = np.empty((flat.shape[0], N_CHANNELS, starts.size))
    for a in range(flat.shape[0]):
        for f, s0 in enumerate(starts):
            spec = spectra(flat[a, s0:s0 + st.nperseg], st)
            r[a, f], rs[a, :, f] = frame_roughness(spec, st)
    return (r.reshape(lead + (starts.size,)), rs.reshape(lead + (N_CHANNELS, starts.size)),
            frame_times(starts, st.nperseg, fs))
