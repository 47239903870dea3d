"""Today's (issue 7) Numba roughness driver, kept unchanged so that benchmarks can report
the speed-up of :func:`affrepro.kernels.roughness.roughness_dw` against it in the same
run (issue 24). Not part of the public API; same results as the current kernel to about
1e-15 relative. Serial per-frame loops, FFTs batched four frames at a time in SciPy on one
thread."""
from __future__ import annotations

BLOCK_FRAMES = 4


def roughness_baseline(x, fs: float, overlap: float = 0.5):
    """The issue-7 Numba path of ``roughness_dw`` (validated like it)."""
    from affrepro.kernels.roughness import _validate

    arr, fs_f, hop = _validate(x, fs, overlap)
    return _numba_roughness(arr, fs_f, hop)


def _numba_roughness(x, fs: float, hop: int):
    import numpy as np
    import scipy.fft as sfft

    from affrepro.kernels._dispatch import BackendUnavailableError

    try:
        from affrepro.kernels.roughness import numba_impl as nb
    except ImportError as exc:
        raise BackendUnavailableError(f"numba backend needs numba: {exc}") from exc
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
    nch = ref.N_CHANNELS
    for b0 in range(0, total, BLOCK_FRAMES):
        which = np.arange(b0, min(b0 + BLOCK_FRAMES, total))
        blk = view[which // nfr, which % nfr]
        nf = blk.shape[0]
        spec = np.ascontiguousarray(ref.spectra(blk, st))
        ex = np.empty((nf, nch, st.nb + 1), dtype=np.complex128)
        active = np.empty((nf, nch), dtype=np.bool_)
        nb.excitation_spectra(spec, st.a0, st.threshold, st.bark, st.s2_base, st.ch_low,
                              st.ch_high, st.min_excit, ref.S_LOW, ex, active)
        act = active.ravel()
        ex = ex.reshape(nf * nch, st.nb + 1)
        g = np.zeros((nf * nch, st.h_last), dtype=np.complex128)
        h0 = np.zeros(nf * nch)
        if act.any():
            everyone = bool(act.all())
            env = sfft.irfft(ex if everyone else ex[act], st.n, axis=-1, norm="forward")
            h0_act = nb.rectify_center(env)
            g_act = sfft.rfft(env, axis=-1)[:, :st.h_last]
            if everyone:
                g[:], h0[:] = g_act, h0_act
            else:
                g[act], h0[act] = g_act, h0_act
        r[b0:b0 + nf], rs[b0:b0 + nf] = nb.combine(
            g.reshape(nf, nch, st.h_last), st.hweight, h0.reshape(nf, nch), float(st.n),
            ref.GZ, ref.C_R, ref.MOD_FLOOR)
    return (r.reshape(lead + (nfr,)),
            np.moveaxis(rs.reshape(lead + (nfr, nch)), -1, -2),
            ref.frame_times(starts, st.nperseg, fs))
