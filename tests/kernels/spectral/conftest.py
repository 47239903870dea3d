"""Signals for the spectral tests: synthesised speech (espeak-ng) and noise."""
from __future__ import annotations

import io
import shutil
import subprocess

import numpy as np
import pytest

SENTENCE = ("The quick brown fox jumps over the lazy dog, and she sells sea shells "
            "by the sea shore.")


def espeak_speech(sr: int = 16000, text: str = SENTENCE) -> np.ndarray:
    """Real synthetic speech from espeak-ng, resampled to ``sr`` (float64 in [-1, 1])."""
    exe = shutil.which("espeak-ng")
    if exe is None:
        pytest.skip("speech parity needs espeak-ng (Debian: apt-get install espeak-ng); "
                    "it is not installed here")
    import soundfile as sf
    from scipy.signal import resample_poly

    wav = subprocess.run([exe, "--stdout", "-s", "150", text], capture_output=True,
                         check=True, timeout=60).stdout
    y, native = sf.read(io.BytesIO(wav), dtype="float64")
    if y.ndim > 1:
        y = y.mean(axis=1)
    if native != sr:
        g = np.gcd(int(native), int(sr))
        y = resample_poly(y, sr // g, native // g)
    return y


@pytest.fixture(scope="session")
def speech16k() -> np.ndarray:
    return espeak_speech(16000)


@pytest.fixture(scope="session")
def noise() -> np.ndarray:
    return np.random.default_rng(7).standard_normal(16000 * 2) * 0.1
