"""Relabelling a (valence, arousal, dominance) annotation into a probability
distribution over emotion classes (affectnet-vad-2026): each class is a diagonal
Gaussian in VAD space (Russell & Mehrabian 1977, as the authors use them), and

    p(c | x) = N(x; μ_c, diag σ_c²) / Σ_k N(x; μ_k, diag σ_k²),

computed in log space (log-likelihoods, then log-sum-exp normalisation) so that points
far from every Gaussian do not underflow to 0/0.

The computation is the batched kernel ``affrepro.kernels.gaussian_posterior`` (NumPy
reference, Numba on the CPU, Triton on CUDA tensors); ``log_likelihoods`` below is the
plain per-class density kept for the scipy cross-check.
"""
from __future__ import annotations

import math

#: class -> (valence mean, valence std, arousal mean, arousal std, dominance mean, dominance std),
#: Russell & Mehrabian (1977) as transcribed by the authors (github jbcnrlz/emotion_recognition)
GAUSSIANS: dict[str, tuple[float, float, float, float, float, float]] = {
    "happy": (0.81, 0.21, 0.51, 0.26, 0.46, 0.38),
    "contempt": (-0.23, 0.39, 0.31, 0.33, 0.18, 0.29),
    "surprised": (0.40, 0.30, 0.67, 0.27, -0.13, 0.38),
    "angry": (-0.51, 0.20, 0.59, 0.33, 0.25, 0.39),
    "disgusted": (-0.60, 0.20, 0.35, 0.41, 0.11, 0.34),
    "fearful": (-0.64, 0.20, 0.60, 0.32, -0.21, 0.27),
    "sad": (-0.63, 0.23, -0.27, 0.34, -0.33, 0.22),
}
#: neutral is N(0, 0.01) on each axis (PAPERS.md); 0.01 is read as the standard deviation,
#: like the other rows' spreads — pass ``neutral_std`` to use another reading
NEUTRAL_STD = 0.01
#: column order of the released ``<id>_prob_rank_universal.txt`` files (authors' export script)
UNIVERSAL_ORDER = ("happy", "contempt", "surprised", "angry", "disgusted", "fearful", "sad", "neutral")


def class_parameters(neutral_std: float = NEUTRAL_STD, order=UNIVERSAL_ORDER):
    """(means, stds) as (K, 3) float64 arrays in ``order``."""
    import numpy as np

    rows = []
    for c in order:
        if c == "neutral":
            rows.append((0.0, neutral_std, 0.0, neutral_std, 0.0, neutral_std))
        else:
            rows.append(GAUSSIANS[c])
    a = np.asarray(rows, dtype=np.float64)
    return a[:, 0::2], a[:, 1::2]


def log_likelihoods(vad, means, stds):
    """(N, K) diagonal-Gaussian log densities of N points under K classes."""
    import numpy as np

    x = np.asarray(vad, dtype=np.float64).reshape(-1, 3)
    mu, sd = np.asarray(means, np.float64), np.asarray(stds, np.float64)
    z = (x[:, None, :] - mu[None, :, :]) / sd[None, :, :]
    return -0.5 * (z ** 2).sum(-1) - np.log(sd).sum(-1)[None, :] - 1.5 * math.log(2 * math.pi)


def relabel(vad, means=None, stds=None, *, backend: str = "auto"):
    """(N, K) class probabilities of N VAD points, rows summing to 1 (NaN rows for NaN input)."""
    import numpy as np

    from affrepro.kernels.gaussian_posterior import posterior

    if means is None or stds is None:
        means, stds = class_parameters()
    return posterior(np.asarray(vad, dtype=np.float64).reshape(-1, 3), means, stds, backend=backend)
