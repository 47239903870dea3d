"""The psychoacoustic kernels choose their backend through kernels/_dispatch.dispatch()
(issue 24): the environment's per-op override, the fallback from Triton to the
reference with a warning, and the explicit Triton request refused for a NumPy array."""
from __future__ import annotations

import numpy as np
import pytest

from affrepro.kernels import roughness as rk
from affrepro.kernels import sound_level as sl
from affrepro.kernels import zwicker as zw
from affrepro.kernels._dispatch import OPS, BackendFallbackWarning, BackendUnavailableError

FS = 8000
X = np.random.default_rng(24).normal(size=(2, 2000)) * 0.05  # 0.25 s, two channels

CASES = {
    "sound_level.mean_square": (lambda b: sl.mean_square(X, FS, "A", backend=b),
                                lambda: sl.reference.mean_square(X, FS, "A")),
    "sound_level.third_octave_levels": (
        lambda b: sl.third_octave_levels(X, FS, "A", backend=b),
        lambda: sl.reference.third_octave_levels(X, FS, "A")),
    "zwicker.time_varying_loudness": (
        lambda b: zw.time_varying_loudness(X, FS, backend=b)[0],
        lambda: zw.reference.time_varying_loudness(zw.resample_to_48k(X, FS), "free")[0]),
    "roughness.roughness_dw": (lambda b: rk.roughness_dw(X, FS, backend=b)[0],
                               lambda: rk.reference.roughness(X, float(FS), 800)[0]),
}


@pytest.mark.parametrize("op", sorted(CASES))
def test_registered_with_a_triton_backend(op):
    assert OPS[op].backends == ("reference", "numba", "triton")


@pytest.mark.parametrize("op", sorted(CASES))
def test_auto_asked_for_triton_falls_back_to_the_reference(op, monkeypatch):
    # a NumPy array cannot go to Triton: auto, told to try it first, warns and uses the
    # reference (the same numbers as the reference called directly)
    monkeypatch.delenv("TRITON_INTERPRET", raising=False)
    monkeypatch.setenv("AFFREPRO_KERNEL_BACKEND_" + op.upper().replace(".", "_"), "triton")
    run, reference = CASES[op]
    with pytest.warns(BackendFallbackWarning, match="triton"):
        got = run("auto")
    np.testing.assert_array_equal(got, reference())


@pytest.mark.parametrize("op", sorted(CASES))
def test_explicit_triton_refuses_a_numpy_array(op, monkeypatch):
    monkeypatch.delenv("TRITON_INTERPRET", raising=False)
    with pytest.raises(BackendUnavailableError, match="torch tensor"):
        CASES[op][0]("triton")


def test_a_cpu_tensor_on_the_numba_backend_gives_numpy_results():
    torch = pytest.importorskip("torch")
    got = sl.mean_square(torch.from_numpy(X), FS, "C", backend="numba")
    np.testing.assert_allclose(got, sl.mean_square(X, FS, "C"), rtol=0)
