"""Psychoacoustic roughness after Daniel & Weber (1997), as MoSQITo implements it
(``mosqito.sq_metrics.roughness_dw``, version 1.2).

:func:`roughness_dw` cuts the signal (Pa, samples last) into 200 ms frames
(``nperseg = int(0.2 fs)`` samples, hop ``nperseg - int(overlap * nperseg)``; a
trailing part shorter than a frame is dropped), and per frame computes

    R = 0.25 * sum_{i=1..47} g(z_i) * (m_i * k_{i-2} * k_i)^2        [asper]

over 47 channels at z_i = i/2 Bark: m_i the modulation depth of the channel's
band-pass-filtered envelope (at most 1), k_i the correlation of the envelopes of
channels i and i + 2 (k = 1 beyond the ends), g(z) Aures's weighting, 0.25 the
calibration giving 1 asper for a 1 kHz, 60 dB tone 100 % amplitude-modulated at 70 Hz.
Daniel & Weber write g inside the square; MoSQITo (and so this kernel) leaves it outside.
The full procedure and MoSQITo's conventions that we keep (its frequency axis starting at
``fs / nperseg``, the slopes evaluated one channel nearer the component) are in
:mod:`affrepro.kernels.roughness.reference`.

Differences from MoSQITo: batched input; ``overlap`` is the fraction of a frame shared
by neighbouring frames (MoSQITo uses ``int(overlap * nperseg)`` as the hop, so the two
agree only for ``overlap`` 0 and 0.5); an odd ``nperseg`` works (MoSQITo raises); an
audible component at >= 24 Bark (about 15.5 kHz, e.g. a loud 16 kHz tone) no longer
raises IndexError. Results agree with MoSQITo to rounding (about 1e-14 relative) on the
tested signals, up to 2e-9 where a channel's envelope is pure rounding noise (its
correlation is set to 0 here; see :mod:`affrepro.kernels.roughness.reference`).

Backends: ``"reference"`` (NumPy, a Python loop over frames), ``"numba"`` (the per-bin
and per-channel loops compiled; blocks of frames on ``numba.get_num_threads()`` Python
threads (the FFTs and the nogil loops release the GIL); each component's slope gains as
a geometric progression over the channels (one power per side instead of one per
channel); the excitation buffer cleared only where it was written; the FFTs in
``ducc0``, the inverse ones on runs of active channels without a copy, and the envelope
transformed uncentred, since centring changes only its DC bin, which the modulation
filters weight 0); ``"auto"`` = Numba with fallback to the reference. The two FFTs of
0.2 fs points per channel and frame (94 per frame) are most of the time that is left.
The issue-7 Numba driver stays in :mod:`.baseline` for the benchmarks.
``"triton"`` (torch tensors, for corpus batches on a GPU; ``"auto"`` picks it for CUDA
tensors): the reference's steps as batched torch operations on many frames at once
(:mod:`.torch_impl`; torch's FFTs, no hand-written Triton kernel); R and R_spec come back
as tensors on the input's device.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from affrepro.kernels._dispatch import (
    BackendUnavailableError, check_backend, dispatch, is_cuda_tensor, is_torch_tensor,
    register_op,
)
from affrepro.kernels.roughness.reference import Z as BARK

if TYPE_CHECKING:
    import numpy as np

__all__ = ["roughness_dw", "BARK", "frame_hop"]

BLOCK_FRAMES = 2  # frames per FFT call of the Numba backend (about 20 MB a thread, 44.1 kHz)


def frame_hop(fs: float, overlap: float) -> int:
    """Samples between frame starts for a 200 ms frame at ``fs`` and ``overlap``."""
    nperseg = int(0.2 * fs)
    return nperseg - int(overlap * nperseg)


def _check_rate_overlap(fs: Any, overlap: Any) -> tuple[float, float]:
    from affrepro.kernels.roughness import reference as ref

    try:
        fs_f = float(fs)
    except (TypeError, ValueError):
        raise TypeError(f"fs must be a number (Hz), got {fs!r}") from None
    if not math.isfinite(fs_f) or fs_f < ref.MIN_FS:
        raise ValueError(f"fs must be a finite sampling rate >= {ref.MIN_FS:g} Hz, got {fs!r}")
    try:
        ov = float(overlap)
    except (TypeError, ValueError):
        raise TypeError(f"overlap must be a number in [0, 1), got {overlap!r}") from None
    if not 0.0 <= ov < 1.0:
        raise ValueError(f"overlap must be in [0, 1), got {overlap!r}")
    return fs_f, ov


def _validate(x: Any, fs: Any, overlap: Any):
    import numpy as np

    from affrepro.kernels.roughness import reference as ref

    fs_f, ov = _check_rate_overlap(fs, overlap)
    arr = np.asarray(x)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"x must be a real array (Pa), got dtype {arr.dtype}")
    if arr.ndim == 0:
        raise ValueError("x must have a samples axis (last), got a scalar")
    if arr.size == 0:
        raise ValueError(f"x is empty (shape {arr.shape})")
    nperseg = ref.frame_length(fs_f)
    if arr.shape[-1] < nperseg:
        raise ValueError(f"x has {arr.shape[-1]} samples on its last axis, shorter than one "
                         f"200 ms frame ({nperseg} samples at fs={fs_f:g} Hz)")
    arr = np.asarray(arr, dtype=np.float64)
    if not np.isfinite(arr).all():
        raise ValueError("x contains NaN or inf")
    return arr, fs_f, frame_hop(fs_f, ov)


class _Block:
    """The buffers one thread reuses for its blocks of frames: the excitation spectra,
    zeroed once, of which :func:`numba_impl.excitation_block` clears only what it wrote."""

    def __init__(self, frames: int, nb: int, n: int):
        import numpy as np

        from affrepro.kernels.roughness.reference import N_CHANNELS

        rows = frames * N_CHANNELS
        self.ex = np.zeros((rows, nb + 1), dtype=np.complex128)
        self.kmin = np.zeros(rows, dtype=np.int64)
        self.kmax = np.full(rows, -1, dtype=np.int64)
        self.active = np.empty(rows, dtype=np.bool_)
        self.env = np.empty((rows, n))  # the envelopes and their spectra
        self.env_spec = np.empty((rows, n // 2 + 1), dtype=np.complex128)


def _roughness_frames(view, which, nfr, st, tables, buf, r, rs):
    """R and R'(z) of the frames ``which`` (indices into rows x frames), in place."""
    import ducc0.fft as dfft
    import numpy as np

    from affrepro.kernels.roughness import numba_impl as nb
    from affrepro.kernels.roughness import reference as ref

    nch = ref.N_CHANNELS
    nf = which.size
    rows = nf * nch
    frames = view[which // nfr, which % nfr] * st.window
    spec = dfft.r2c(frames, axes=(-1,))[:, :st.nb]
    spec *= ref.SPECTRUM_GAIN
    nb.excitation_block(np.ascontiguousarray(spec), st.a0, st.threshold, st.bark, st.s2_base,
                        st.ch_low, st.ch_high, st.min_excit, ref.S_LOW, *tables, buf.ex[:rows],
                        buf.kmin[:rows], buf.kmax[:rows], buf.active[:rows])
    act = buf.active[:rows]
    g = np.zeros((rows, st.h_last), dtype=np.complex128)
    h0 = np.zeros(rows)
    edge = np.diff(np.concatenate(([0], act.view(np.int8), [0])))
    run_starts, run_stops = np.flatnonzero(edge == 1), np.flatnonzero(edge == -1)
    if run_starts.size:
        n_act = int((run_stops - run_starts).sum())
        env, env_spec = buf.env[:n_act], buf.env_spec[:n_act]
        j = 0
        for r0, r1 in zip(run_starts, run_stops):  # runs of active rows: views, not copies
            # e(t) = sum_k E_k e^{+2 pi i k t / n}, without a 1/n
            dfft.c2r(buf.ex[r0:r1], axes=(-1,), lastsize=st.n, forward=False,
                     out=env[j:j + r1 - r0])
            j += r1 - r0
        np.abs(env, out=env)
        g_act = dfft.r2c(env, axes=(-1,), out=env_spec)[:, :st.h_last]
        # h0 = mean |e| is the DC bin / n; centring |e| would change only that bin, which
        # the modulation filters weight 0 (ref.H_FIRST_BIN), so |e| is transformed as is
        h0_act = g_act[:, 0].real / st.n
        if n_act == rows:
            g[:], h0[:] = g_act, h0_act
        else:
            g[act], h0[act] = g_act, h0_act
    r[which], rs[which] = nb.combine(g.reshape(nf, nch, st.h_last), st.hweight,
                                     h0.reshape(nf, nch), float(st.n), ref.GZ, ref.C_R,
                                     ref.MOD_FLOOR)


def _numba_roughness(x, fs: float, hop: int):
    import numpy as np

    try:
        import ducc0.fft  # noqa: F401 (the FFTs)
        import numba

        from affrepro.kernels.roughness import numba_impl
    except ImportError as exc:
        raise BackendUnavailableError(f"numba backend needs numba and ducc0: {exc}") from exc
    from affrepro.kernels.roughness import reference as ref

    st = ref.setup(fs)
    starts = ref.frame_starts(x.shape[-1], st.nperseg, hop)
    lead = x.shape[:-1]
    flat = np.ascontiguousarray(x.reshape(-1, x.shape[-1]))
    nfr = starts.size
    # a view: (rows, frames, nperseg); each block of frames is gathered (copied) in turn
    view = np.lib.stride_tricks.sliding_window_view(flat, st.nperseg, axis=-1)[:, ::hop]
    total = flat.shape[0] * nfr
    r = np.empty(total)
    rs = np.empty((total, ref.N_CHANNELS))
    block = min(BLOCK_FRAMES, total)
    blocks = [np.arange(b0, min(b0 + block, total)) for b0 in range(0, total, block)]
    threads = max(1, min(numba.get_num_threads(), len(blocks)))

    tables = numba_impl.bin_tables(st.threshold, st.bark, st.ch_low, ref.S_LOW)

    def work(k):  # thread k takes blocks k, k + threads, ... with its own buffers
        buf = _Block(block, st.nb, st.n)
        for which in blocks[k::threads]:
            _roughness_frames(view, which, nfr, st, tables, buf, r, rs)

    if threads == 1:
        work(0)
    else:  # the FFTs and the nogil Numba loops release the GIL
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(work, range(threads)))
    nch = ref.N_CHANNELS
    return (r.reshape(lead + (nfr,)),
            np.moveaxis(rs.reshape(lead + (nfr, nch)), -1, -2),
            ref.frame_times(starts, st.nperseg, fs))


def _run_triton(x, fs, overlap):
    """The GPU path (torch tensors; see torch_impl): R and R_spec as tensors on x's device."""
    from affrepro.kernels._dispatch import triton_interpreting
    from affrepro.kernels.roughness import reference as ref

    if not is_torch_tensor(x):
        raise BackendUnavailableError("triton backend needs a torch tensor (CUDA, or CPU "
                                      "under TRITON_INTERPRET=1)")
    if not x.is_cuda and not triton_interpreting():
        raise BackendUnavailableError("triton backend needs a CUDA tensor (or "
                                      "TRITON_INTERPRET=1 for CPU tensors)")
    fs_f, ov = _check_rate_overlap(fs, overlap)
    if x.is_complex() or x.dim() == 0 or x.numel() == 0:
        raise ValueError(f"x must be a non-empty real tensor with samples last, got "
                         f"{x.dtype} of shape {tuple(x.shape)}")
    nperseg = ref.frame_length(fs_f)
    if x.shape[-1] < nperseg:
        raise ValueError(f"x has {x.shape[-1]} samples on its last axis, shorter than one "
                         f"200 ms frame ({nperseg} samples at fs={fs_f:g} Hz)")
    import torch

    if not bool(torch.isfinite(x).all()):
        raise ValueError("x contains NaN or inf")
    from affrepro.kernels.roughness import torch_impl

    return torch_impl.roughness(x, fs_f, frame_hop(fs_f, ov))


ROUGHNESS = register_op("roughness.roughness_dw", ("numba", "triton"))


def roughness_dw(x: Any, fs: float, overlap: float = 0.5, *,
                 backend: str = "auto") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Daniel & Weber roughness of ``x`` (..., samples) in Pa, per 200 ms frame.

    Returns ``(R, R_spec, time)``: ``R`` (..., frames) in asper; ``R_spec`` (..., 47,
    frames), the channel terms ``g(z_i) (m_i k_{i-2} k_i)^2`` on :data:`BARK` (0.5 ..
    23.5 Bark; ``R = 0.25 * R_spec.sum(-2)``, as MoSQITo's ``R_spec``); ``time``
    (frames,) the frame centres in s. ``overlap`` in [0, 1) is the fraction of a frame
    shared with the next (0.5: a 100 ms hop; MoSQITo's default).
    """
    from affrepro.kernels._checks import host_array
    from affrepro.kernels.roughness import reference as ref

    check_backend(backend)

    def cpu(run):
        def go():
            arr, fs_f, hop = _validate(host_array(x), fs, overlap)
            return run(arr, fs_f, hop)
        return go

    return dispatch(ROUGHNESS, backend, {"numba": cpu(_numba_roughness),
                                         "reference": cpu(ref.roughness),
                                         "triton": lambda: _run_triton(x, fs, overlap)},
                    gpu=is_cuda_tensor(x))
