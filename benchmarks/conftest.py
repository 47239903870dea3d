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

    return versions(("numpy", "numba", "scipy", "mosqito"))
