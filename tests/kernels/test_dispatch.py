"""The one backend dispatcher (kernels/_dispatch.py): the registry of backends per op,
auto's choice and fallback, explicit requests, and the environment overrides."""
from __future__ import annotations

import numpy as np
import pytest

from affrepro.kernels import _dispatch as d
from affrepro.kernels.moments import paired_moments


def runners(ran: list[str], unavailable: tuple[str, ...] = ()):
    def make(name):
        def run():
            if name in unavailable:
                raise d.BackendUnavailableError(f"{name} backend needs something absent")
            ran.append(name)
            return name
        return run
    return {name: make(name) for name in ("reference", "numba", "triton")}


def test_every_kernel_op_is_registered_with_its_backends():
    import affrepro.kernels.gaussian_posterior  # noqa: F401
    import affrepro.kernels.spectral  # noqa: F401

    assert d.OPS["paired_moments"].backends == ("reference", "numba", "triton")
    assert d.OPS["log_posterior"].backends == ("reference", "numba", "triton")
    assert d.OPS["logmel"].backends == ("reference", "numba", "triton")
    assert d.OPS["power_to_db"].backends == ("reference", "numba")


def test_auto_picks_numba_on_the_cpu_and_triton_for_gpu_input(monkeypatch):
    monkeypatch.delenv(d.ENV, raising=False)
    op = d.register_op("test_op_auto", ("numba", "triton"))
    ran: list[str] = []
    assert d.dispatch(op, "auto", runners(ran)) == "numba"
    assert d.dispatch(op, "auto", runners(ran), gpu=True) == "triton"
    cpu_only = d.register_op("test_op_cpu_only", ("numba",))
    assert d.dispatch(cpu_only, "auto", runners(ran), gpu=True) == "numba"


def test_auto_falls_back_with_a_warning_explicit_raises():
    op = d.register_op("test_op_fallback", ("numba", "triton"))
    ran: list[str] = []
    with pytest.warns(d.BackendFallbackWarning, match="test_op_fallback.*needs something absent"):
        assert d.dispatch(op, "auto", runners(ran, ("numba",))) == "reference"
    with pytest.raises(d.BackendUnavailableError, match="needs something absent"):
        d.dispatch(op, "numba", runners(ran, ("numba",)))
    with pytest.raises(ValueError, match="backend must be one of"):
        d.dispatch(op, "cuda", runners(ran))


def test_a_backend_the_op_lacks_is_refused_with_why():
    op = d.register_op("test_op_missing", ("numba",), missing={"triton": "a recursive filter"})
    with pytest.raises(d.BackendUnavailableError, match="has no triton backend .a recursive filter"):
        d.dispatch(op, "triton", runners([]))


def test_environment_overrides_replace_autos_first_choice(monkeypatch):
    op = d.register_op("test_op_env", ("numba", "triton"))
    ran: list[str] = []
    monkeypatch.setenv(d.ENV, "reference")
    assert d.dispatch(op, "auto", runners(ran)) == "reference"
    assert d.dispatch(op, "numba", runners(ran)) == "numba"  # an explicit argument wins
    monkeypatch.setenv(f"{d.ENV}_TEST_OP_ENV", "triton")  # one op: before the global one
    assert d.dispatch(op, "auto", runners(ran)) == "triton"
    monkeypatch.setenv(f"{d.ENV}_TEST_OP_ENV", "gpu")
    with pytest.raises(ValueError, match="AFFREPRO_KERNEL_BACKEND_TEST_OP_ENV='gpu'"):
        d.dispatch(op, "auto", runners(ran))


def test_a_real_kernel_follows_the_override_and_falls_back(monkeypatch):
    x, y = np.arange(10.0), np.arange(10.0) ** 2
    want = paired_moments(x, y, backend="reference")
    # triton cannot take NumPy arrays: auto warns and runs the reference
    monkeypatch.setenv(f"{d.ENV}_PAIRED_MOMENTS", "triton")
    with pytest.warns(d.BackendFallbackWarning, match="paired_moments.*torch tensors"):
        got = paired_moments(x, y)
    assert got == want
