"""Fixtures shared by the benchmark suites (pytest loads this file for every suite here)."""
from __future__ import annotations

import numpy as np
import pytest


def noise_1f(seconds: float, fs: int = 44100, db: float = 65.0, channels: int = 2,
             seed: int = 2022) -> np.ndarray:
    """(channels, samples) noise with a 1/f power spectrum (amplitude ∝ f^-1/2), each
    channel scaled to ``db`` dB SPL, in pascals: an ARAUS-like urban-noise stand-in."""
    rng = np.random.default_rng(seed)
    n = int(fs * seconds)
    spec = np.fft.rfft(rng.normal(size=(channels, n)), axis=-1)
    f = np.fft.rfftfreq(n, 1 / fs)
    spec[:, 1:] /= np.sqrt(f[1:])
    x = np.fft.irfft(spec, n, axis=-1)
    return x * 2e-5 * 10 ** (db / 20) / np.sqrt(np.mean(x ** 2, axis=-1, keepdims=True))


@pytest.fixture(scope="session")
def binaural_noise():
    """The :func:`noise_1f` factory."""
    return noise_1f


@pytest.fixture(scope="session")
def bench_versions() -> dict[str, str]:
    """Machine and library identity for the psychoacoustic suites' extra_info."""
    from affrepro.hardware import versions

    return versions(("numpy", "numba", "scipy", "ducc0", "mosqito"))


def interleaved_best(fns, rounds: int) -> dict[str, float]:
    """Best-of-``rounds`` seconds of each named callable, run in turn within each round so
    that a change of load hits all alike (DESIGN.md, "Measuring speed")."""
    import time

    best = {name: float("inf") for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            t = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - t)
    return best


def with_threads(n: int, fn):
    """``fn`` run with ``n`` Numba threads (the kernels also give SciPy's FFTs that many
    workers); the previous count is restored."""
    import numba

    def run():
        old = numba.get_num_threads()
        numba.set_num_threads(n)
        try:
            return fn()
        finally:
            numba.set_num_threads(old)
    return run


@pytest.fixture(scope="session")
def machine_load() -> dict[str, object]:
    """The 1-minute load average when a suite starts (the 2-core machine is shared)."""
    import os

    return {"loadavg_1m_at_start": os.getloadavg()[0], "cpu_count": os.cpu_count()}


@pytest.fixture(scope="session")
def timing():
    """:func:`interleaved_best` and :func:`with_threads` for the suites (a fixture: the
    suites are imported by path, not as a package)."""
    from types import SimpleNamespace

    return SimpleNamespace(interleaved_best=interleaved_best, with_threads=with_threads)
