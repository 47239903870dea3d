"""Class posteriors under diagonal Gaussians: the batched kernel behind VAD relabelling.

For N points x (N, D) and K classes with means μ (K, D) and standard deviations σ (K, D):

    ℓ_nk = −½ Σ_d ((x_nd − μ_kd)/σ_kd)² − Σ_d log σ_kd − (D/2) log 2π
    log p(k | x_n) = ℓ_nk − logsumexp_j ℓ_nj

computed in log space (max-shifted log-sum-exp), so a point far from every Gaussian gets
a proper distribution instead of 0/0. A row with a NaN or an infinite coordinate is NaN.
Equal class priors (the affectnet-vad-2026 protocol); add log priors to ℓ for others.

Backends (DESIGN.md, "kernels/"): ``"reference"`` (NumPy float64), ``"numba"`` (CPU,
parallel over rows, float64), ``"triton"`` (CUDA tensors; CPU tensors only under
``TRITON_INTERPRET=1``; float32, or float64 for float64 input). ``"auto"`` picks Triton
for CUDA tensors and Numba otherwise, falling back to the reference with a warning.
"""
from __future__ import annotations

from typing import Any

from affrepro.kernels._dispatch import (
    check_backend, dispatch, import_backend, is_cuda_tensor, is_torch_tensor, register_op,
    require_triton_tensor,
)

__all__ = ["log_posterior", "posterior"]


def _validate(x, means, stds):
    import numpy as np

    xs, ms, ss = (tuple(a.shape) for a in (x, means, stds))
    if len(xs) != 2:
        raise ValueError(f"x must be (N, D), got shape {xs}")
    if len(ms) != 2 or ms != ss:
        raise ValueError(f"means and stds must both be (K, D), got {ms} and {ss}")
    if ms[0] == 0:
        raise ValueError("need at least one class (K = 0)")
    if ms[1] != xs[1]:
        raise ValueError(f"x has D = {xs[1]} coordinates but the classes have {ms[1]}")
    sd = stds.detach().cpu().numpy() if is_torch_tensor(stds) else np.asarray(stds)
    if not (sd > 0).all():
        raise ValueError("every standard deviation must be > 0")


def _numpy(a):
    import numpy as np

    return a.detach().cpu().numpy() if is_torch_tensor(a) else np.asarray(a)


def _run_reference(x, means, stds):
    from affrepro.kernels.gaussian_posterior import reference

    return reference.log_posterior(_numpy(x), _numpy(means), _numpy(stds))


def _run_numba(x, means, stds):
    numba_impl = import_backend(f"{__name__}.numba_impl", "numba")
    return numba_impl.log_posterior(_numpy(x), _numpy(means), _numpy(stds))


def _run_triton(x, means, stds):
    require_triton_tensor(x)
    triton_impl = import_backend(f"{__name__}.triton_impl", "triton")
    import torch

    return triton_impl.log_posterior(x, torch.as_tensor(means), torch.as_tensor(stds))


_RUNNERS = {"reference": _run_reference, "numba": _run_numba, "triton": _run_triton}
LOG_POSTERIOR = register_op("log_posterior", _RUNNERS)


def log_posterior(x: Any, means: Any, stds: Any, *, backend: str = "auto") -> Any:
    """(N, K) log p(k | x_n); NumPy in, NumPy out (float64); a torch tensor in, the Triton
    path returns a tensor on its device and the others a NumPy array."""
    check_backend(backend)
    if not is_torch_tensor(x):
        import numpy as np

        x = np.asarray(x)
        if x.ndim == 1:
            x = x.reshape(1, -1)
    _validate(x, means, stds)
    return dispatch(LOG_POSTERIOR, backend,
                    {name: (lambda run=run: run(x, means, stds)) for name, run in _RUNNERS.items()},
                    gpu=is_cuda_tensor(x))


def posterior(x: Any, means: Any, stds: Any, *, backend: str = "auto") -> Any:
    """(N, K) p(k | x_n), rows summing to 1 (NaN rows where the posterior is undefined)."""
    lp = log_posterior(x, means, stds, backend=backend)
    return lp.exp() if is_torch_tensor(lp) else __import__("numpy").exp(lp)
