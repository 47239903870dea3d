"""Daniel & Weber roughness on the GPU for corpus extraction (issue 24): the reference's
steps (:mod:`.reference`, ``channel_gains`` and ``frame_roughness``) as batched PyTorch
tensor operations over many frames of many stimuli at once, float64 throughout:

    X = 1.42 rfft(frame w)[:nb],  excitation E[f, c, k] = gain(f, c, k) X[f, k] on the
    audible bins (the slope gains for all 47 channels x bins at once),
    e = |irfft(E, n)|,  G = rfft(e - mean e)[:h_last] H_c,  then depth, correlation and
    R = 0.25 sum g(z) (m k k)^2 as in the reference (Parseval for the band-passed envelope).

No hand-written Triton kernel: the two FFTs per channel and frame (most of the work) are
torch's (cuFFT), the rest elementwise or small reductions. The backend is still called
``"triton"`` (the GPU backend of every affrepro kernel). Frames go through in chunks of
``chunk`` (about 20 MB of intermediates each per frame at 44.1 kHz).
"""
from __future__ import annotations


import torch

from affrepro.kernels.roughness import reference as ref

CHUNK = 64


def _tables(st: ref.Setup, dev) -> dict[str, torch.Tensor]:
    t = lambda a: torch.as_tensor(a, device=dev)  # noqa: E731
    return {"window": t(st.window), "a0": t(st.a0), "threshold": t(st.threshold),
            "bark": t(st.bark), "s2_base": t(st.s2_base), "lo": t(st.ch_low),
            "hi": t(st.ch_high), "min_excit": t(st.min_excit), "hweight": t(st.hweight),
            "gz": t(ref.GZ)}


def frames_roughness(frames: torch.Tensor, st: ref.Setup, tab: dict[str, torch.Tensor]):
    """(F, nperseg) float64 frames -> R (F,), R'(z) (F, 47)."""
    nch = ref.N_CHANNELS
    spec = torch.fft.rfft(frames * tab["window"], dim=-1)[:, :st.nb] * ref.SPECTRUM_GAIN
    x = tab["a0"] * spec  # (F, nb)
    m = x.abs()
    level = 20.0 * torch.log10(m / 2e-5)  # -inf where m = 0
    aud = level > tab["threshold"]
    c = torch.arange(nch, device=frames.device)[:, None]  # (47, 1)
    b = tab["bark"]
    lv = level[:, None, :]  # (F, 1, nb)
    below = c < tab["lo"]  # (47, nb)
    s2 = torch.clamp(tab["s2_base"] + 0.2 * lv, max=0.0)
    sl = torch.where(below, (ref.S_LOW * (b - (c + 2) * 0.5)) + lv, (s2 * (c * 0.5 - b)) + lv)
    j = torch.where(below, c + 1, torch.clamp(c - 1, min=0))
    thr = tab["min_excit"][j]  # (47, nb)
    amp = torch.where(sl > thr, torch.pow(10.0, 0.05 * sl) * 2e-5, torch.zeros_like(sl))
    amp = amp / torch.where(m > 0, m, torch.ones_like(m))[:, None, :]
    gains = torch.where((c == tab["lo"]) | (c == tab["hi"]), torch.ones_like(amp), amp)
    ex = torch.zeros((frames.shape[0], nch, st.nb + 1), dtype=spec.dtype,
                     device=frames.device)
    ex[..., :st.nb] = torch.where(aud[:, None, :], gains * x[:, None, :],
                                  torch.zeros((), dtype=spec.dtype, device=frames.device))
    ex[..., 1:] *= 0.5
    env = torch.fft.irfft(ex, st.n, dim=-1, norm="forward").abs()
    h0 = env.mean(dim=-1)
    g = torch.fft.rfft(env - h0[..., None], dim=-1)[..., :st.h_last] * tab["hweight"]
    power = (g.real ** 2 + g.imag ** 2).sum(dim=-1)
    rms = torch.sqrt(2.0 * power) / st.n
    safe_h0 = torch.where(h0 > 0, h0, torch.ones_like(h0))
    depth = torch.where(h0 > 0, torch.clamp(rms / safe_h0, max=1.0), torch.zeros_like(h0))
    cross = (g[:, :-2] * torch.conj(g[:, 2:])).real.sum(dim=-1)
    modulated = rms > ref.MOD_FLOOR * h0
    ok = modulated[:, :-2] & modulated[:, 2:]
    den = torch.sqrt(power[:, :-2] * power[:, 2:])
    k = torch.where(ok, cross / torch.where(ok, den, torch.ones_like(den)),
                    torch.zeros_like(den))
    kk = torch.ones((frames.shape[0], nch + 2), dtype=torch.float64, device=frames.device)
    kk[:, 2:nch] = k
    spec_r = tab["gz"] * (depth * kk[:, :nch] * kk[:, 2:]) ** 2
    return ref.C_R * spec_r.sum(dim=-1), spec_r


def roughness(x: torch.Tensor, fs: float, hop: int, *, chunk: int = CHUNK):
    """(R (..., frames), R_spec (..., 47, frames)) as float64 tensors on ``x``'s device,
    and the frame times (NumPy), for a validated tensor ``x`` (..., samples)."""
    st = ref.setup(fs)
    x = x.to(torch.float64)
    lead = tuple(x.shape[:-1])
    flat = x.reshape(-1, x.shape[-1])
    starts = ref.frame_starts(flat.shape[-1], st.nperseg, hop)
    frames = flat.unfold(-1, st.nperseg, hop)[:, :starts.size]  # (rows, frames, nperseg)
    allf = frames.reshape(-1, st.nperseg)
    tab = _tables(st, x.device)
    r = torch.empty(allf.shape[0], dtype=torch.float64, device=x.device)
    rs = torch.empty((allf.shape[0], ref.N_CHANNELS), dtype=torch.float64, device=x.device)
    for i in range(0, allf.shape[0], max(1, chunk)):
        r[i:i + chunk], rs[i:i + chunk] = frames_roughness(allf[i:i + chunk], st, tab)
    nfr = starts.size
    return (r.reshape(lead + (nfr,)),
            rs.reshape(lead + (nfr, ref.N_CHANNELS)).movedim(-1, -2),
            ref.frame_times(starts, st.nperseg, fs))


__all__ = ["roughness", "frames_roughness", "CHUNK"]
