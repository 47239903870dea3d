"""Today's (issue 7) Numba time-varying loudness driver, kept unchanged so that benchmarks
can report the speed-up of :func:`affrepro.kernels.zwicker.time_varying_loudness` against
it in the same run (issue 24). Not part of the public API."""
from __future__ import annotations


def time_varying_loudness_baseline(x, fs: float, field: str = "free"):
    """The issue-7 Numba path of ``time_varying_loudness`` (validated like it)."""
    from affrepro.kernels.zwicker import _check_signal, resample_to_48k
    from affrepro.kernels.zwicker import reference as ref

    ref._check_field(field)
    x, fs = _check_signal(x, fs)
    return _tv_numba(resample_to_48k(x, fs), field)


def _tv_numba(x48, field):
    import numpy as np

    from affrepro.kernels._dispatch import BackendUnavailableError

    try:
        from affrepro.kernels.zwicker import numba_impl
    except ImportError as exc:
        raise BackendUnavailableError(f"numba backend needs numba: {exc}") from exc
    from affrepro.kernels.zwicker import reference as ref

    import numba

    lead = x48.shape[:-1]
    flat = np.ascontiguousarray(x48.reshape(-1, x48.shape[-1]), dtype=np.float64)
    # one task per channel when there are enough channels for the threads, else the
    # bands of each channel split into groups
    groups = max(1, min(ref.N_BANDS, -(-numba.get_num_threads() // max(1, len(flat)))))
    levels = numba_impl.tv_levels_2d(flat, np.ascontiguousarray(ref.tv_filterbank_sos()),
                                     ref.TV_GAIN, ref.tv_smoothing_coefficients(),
                                     ref.LEVEL_DECIMATION, ref.LEVEL_FLOOR, 4e-10, groups)
    core = numba_impl.core_loudness_2d(
        levels.reshape(-1, ref.N_BANDS), field == "diffuse", ref.RAP, ref.DLL, ref.LTQ,
        ref.A0, ref.DDF, ref.DCB).reshape(levels.shape[:-1] + (21,))
    core = numba_impl.nl_decay_3d(core, ref.nl_coefficients(), ref.INNER_STEPS)
    tot, spec = numba_impl.slopes_tv(core, ref.ZUP, ref.RNS, np.ascontiguousarray(ref.USL),
                                     ref.OUT_DECIMATION)
    tot = np.ascontiguousarray(ref.round_loudness(tot))
    a1, a2 = (float(np.exp(-1.0 / (ref.LEVEL_RATE * ref.INNER_STEPS * tau)))
              for tau in ref.TW_TAUS)
    n = numba_impl.temporal_weighting_2d(tot, a1, a2, ref.TW_WEIGHTS[0], ref.TW_WEIGHTS[1],
                                         ref.INNER_STEPS, ref.OUT_DECIMATION)
    t = np.arange(n.shape[-1]) / ref.OUT_RATE
    return n.reshape(lead + n.shape[-1:]), spec.reshape(lead + spec.shape[-2:]), t
