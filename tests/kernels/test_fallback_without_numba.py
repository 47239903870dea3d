"""backend="auto" falls back to the NumPy reference, with a warning, when Numba cannot be
imported at all (not installed, or built against another NumPy), for every CPU kernel
family; backend="numba" then raises BackendUnavailableError naming numba."""
from __future__ import annotations

import sys

import numpy as np
import pytest

from affrepro.kernels import roughness as rk
from affrepro.kernels import sound_level as sl
from affrepro.kernels import zwicker as zw
from affrepro.kernels._dispatch import BackendFallbackWarning, BackendUnavailableError

FS = 48000
NUMBA_MODULES = ["affrepro.kernels.sound_level.numba_impl", "affrepro.kernels.zwicker.numba_impl",
                 "affrepro.kernels.roughness.numba_impl"]


@pytest.fixture
def signal():
    t = np.arange(FS // 2) / FS
    return 0.02 * np.sin(2 * np.pi * 1000 * t) * (1 + np.sin(2 * np.pi * 70 * t))


@pytest.fixture
def no_numba(monkeypatch):
    monkeypatch.setitem(sys.modules, "numba", None)
    for name in NUMBA_MODULES:
        monkeypatch.setitem(sys.modules, name, None)
        package, _, attr = name.rpartition(".")
        monkeypatch.delattr(sys.modules[package], attr, raising=False)


CASES = {
    "third_octave_levels": lambda x, b: sl.third_octave_levels(x, FS, backend=b),
    "level": lambda x, b: sl.level(x, FS, "A", backend=b),
    "stationary_loudness": lambda x, b: zw.stationary_loudness(x, FS, backend=b)[0],
    "time_varying_loudness": lambda x, b: zw.time_varying_loudness(x, FS, backend=b)[0],
    "roughness_dw": lambda x, b: rk.roughness_dw(x, FS, backend=b)[0],
}


@pytest.mark.parametrize("name", list(CASES))
def test_auto_falls_back_when_numba_is_missing(name, signal, no_numba):
    fn = CASES[name]
    want = fn(signal, "reference")
    with pytest.warns(BackendFallbackWarning, match="numba"):
        got = fn(signal, "auto")
    np.testing.assert_array_equal(got, want)
    with pytest.raises(BackendUnavailableError, match="numba"):
        fn(signal, "numba")
