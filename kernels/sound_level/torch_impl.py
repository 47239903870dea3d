"""One-third-octave band levels on the GPU for corpus batches (issue 24): the reference's
frequency-domain computation (:func:`affrepro.kernels.sound_level.reference.
third_octave_levels`) in PyTorch, float64: the Parseval-scaled periodogram of every
channel (torch's rfft), times the analog weighting power |W(f)|^2, summed per band with
the Butterworth response |H|^2 = 1 / (1 + Omega^(2N)) as one matrix product (bins x
bands, built on the device). No hand-written Triton kernel."""
from __future__ import annotations

import math

import torch

from affrepro.kernels.sound_level import reference as ref


def _weighting_power(f2: torch.Tensor, weighting: str) -> torch.Tensor:
    if weighting == "Z":
        return torch.ones_like(f2)

    def raw(q):
        num = q ** 2 if weighting == "C" else q ** 4
        den = (q + ref.F1 ** 2) ** 2 * (q + ref.F4 ** 2) ** 2
        if weighting == "A":
            den = den * (q + ref.F2 ** 2) * (q + ref.F3 ** 2)
        return num / den

    return raw(f2) / raw(torch.tensor(1.0e6, dtype=torch.float64, device=f2.device))


def third_octave_levels(x: torch.Tensor, fs: float, weighting: str, indices, order: int = 3):
    """(..., n) tensor in Pa -> (..., n_bands) levels in dB re 20 uPa (a tensor)."""
    w = ref._check_weighting(weighting)
    x = x.to(torch.float64)
    n = x.shape[-1]
    spec = torch.fft.rfft(x, dim=-1)
    p = (spec.real ** 2 + spec.imag ** 2) / float(n) ** 2
    p[..., 1:(n + 1) // 2] *= 2.0
    f = torch.arange(p.shape[-1], dtype=torch.float64, device=x.device) * (fs / n)
    pw = p * _weighting_power(f * f, w)
    fm = torch.as_tensor(ref.band_centres(indices), dtype=torch.float64, device=x.device)
    qr = 1.0 / (ref.G10 ** (1.0 / 6.0) - ref.G10 ** (-1.0 / 6.0))
    qd = qr * (math.pi / (2 * order)) / math.sin(math.pi / (2 * order))
    safe_f = torch.where(f > 0, f, torch.ones_like(f))
    omega = qd * (safe_f[:, None] / fm - fm / safe_f[:, None])  # (bins, bands)
    resp = torch.where(f[:, None] > 0, 1.0 / (1.0 + omega ** (2 * order)),
                       torch.zeros_like(omega))
    return 10.0 * torch.log10((pw @ resp) / ref.P0 ** 2)
