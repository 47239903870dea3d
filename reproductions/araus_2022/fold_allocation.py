"""The ARAUS soundscape fold allocation, recomputed from ``soundscapes.csv`` with the
procedure the authors publish (``code/replication_code.ipynb`` and ``code/araus_utils.py``
in github ntudsp/araus-dataset-baseline-models), written here from its description:

1. rows with ``fold_s != 0`` (the test set left out); the two 15-s halves of each
   recording side by side (half 2's recordings kept, half 1's columns joined to them), so
   both halves land in one fold; 132 indicators per half (no argmin/argmax columns);
2. each column standardised (population std), PCA by SVD; k = the number of components
   whose cumulative explained-variance ratio is **below** 0.9 (the notebook's
   ``np.sum(np.cumsum(ratio) < 0.9)``), and the PCA scores of the first k components;
3. a 1-D self-organising map of n/5 neurons (seed 2021 in NumPy's legacy generator:
   weights ~ N(0, 1); 3,000 self-organising steps with an exponentially shrinking learning
   rate (1 -> 0.1) and Gaussian neighbourhood, then 50,000 winner-only steps at 0.1);
4. clusters: neuron by neuron, its five nearest unassigned recordings;
5. folds: recordings in order of their cluster (``argsort``), each cluster's five take
   the five folds in a random permutation (legacy seed 2021, popped from the end).

Two conventions the published code leaves to its libraries change the result, and both
are parameters here: the sign of each principal component (scikit-learn's ``svd_flip``
made the rows of V^T, not the columns of U, decide from version 1.5 on) and the order
of recordings tied on the same cluster in ``np.argsort`` (NumPy's default introsort is
not stable).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

N_SO, N_CONV, ETA_SO, ETA_CONV, SEED = 3000, 50000, 1.0, 0.1, 2021
_EXCLUDED = ("argmax", "argmin")


def indicator_columns(columns) -> list[str]:
    """The 132 per-soundscape indicators ``*_s`` of the PCA: no fold/gain/LAeq/argmin/argmax."""
    skip = {"soundscape", "fold_s", "insitu_leq", "gain_s"}
    return [c for c in columns if c.endswith("_s") and c not in skip and not any(x in c for x in _EXCLUDED)]


def paired_halves(frame):
    """(video ids, features of half 1 then half 2, published fold per video = max of the halves)."""
    import pandas as pd

    rel = frame[frame["fold_s"] != 0]
    cols = indicator_columns(frame.columns)
    parts = rel["soundscape"].str.extract(r"(.*?)_.*_.*_.*_(.*?)\.wav")
    rel = pd.concat([rel, parts.rename(columns={0: "video", 1: "half"})], axis=1)
    h1 = rel[rel["half"] == "1"].set_index("video")
    h2 = rel[rel["half"] == "2"].set_index("video")
    joined = h1[cols + ["fold_s"]].add_suffix("_1").join(h2[cols + ["fold_s"]].add_suffix("_2"), how="right")
    x = joined[[f"{c}_1" for c in cols] + [f"{c}_2" for c in cols]].to_numpy(dtype=float)
    published = joined[["fold_s_1", "fold_s_2"]].max(axis=1).to_numpy()
    return list(joined.index), x, published, cols


def pca_scores(x: np.ndarray, sign: str) -> tuple[np.ndarray, np.ndarray]:
    """Scores and explained-variance ratios of standardised ``x``.

    ``sign="u"``: each component's sign makes the largest-|.| entry of its column of U
    positive (scikit-learn < 1.5); ``sign="v"``: the largest-|.| entry of its row of V^T
    (scikit-learn >= 1.5)."""
    z = (x - x.mean(axis=0, keepdims=True)) / x.std(axis=0, keepdims=True)
    z = z - z.mean(axis=0, keepdims=True)
    u, s, vt = np.linalg.svd(z, full_matrices=False)
    if sign == "u":
        signs = np.sign(u[np.argmax(np.abs(u), axis=0), range(u.shape[1])])
    elif sign == "v":
        signs = np.sign(vt[range(vt.shape[0]), np.argmax(np.abs(vt), axis=1)])
    else:
        raise ValueError(f"sign convention {sign!r}: use 'u' or 'v'")
    u, vt = u * signs, vt * signs[:, None]
    ratio = s**2 / np.sum(s**2)
    return u * s, ratio


def som_1d(data: np.ndarray, n_neurons: int, seed: int = SEED) -> np.ndarray:
    """Prototype weights of a 1-D Kohonen map (NumPy legacy RNG, the published schedule).

    Self-organising step n: eta = (eta_SO - eta_Conv) e^(-n/N_SO) + eta_Conv,
    sigma = sigma0 e^(-n/tau), sigma0 = (n_neurons - 1)/2, tau = N_SO / ln sigma0;
    w_j += eta h_j (x - w_j), h_j = exp(-|j - winner| / (2 sigma^2)). Convergence step:
    w_winner += eta_Conv (x - w_winner)."""
    rng = np.random.RandomState(seed)
    n_obs, n_feat = data.shape
    w = rng.randn(n_neurons, n_feat)
    sigma0 = (n_neurons - 1) / 2
    tau = N_SO / np.log(sigma0)
    grid = np.abs(np.arange(n_neurons)[:, None] - np.arange(n_neurons)[None, :]).astype(float)
    for n in range(N_SO):
        eta = (ETA_SO - ETA_CONV) * np.exp(-n / N_SO) + ETA_CONV
        sigma = sigma0 * np.exp(-n / tau)
        x = data[rng.randint(n_obs)]
        win = int(np.argmin(np.sum((w - x) ** 2, axis=1)))
        h = np.exp(-grid[:, win] / 2 / sigma**2)[:, None]
        w += eta * h * (x - w)
    for _ in range(N_CONV):
        x = data[rng.randint(n_obs)]
        win = int(np.argmin(np.sum((w - x) ** 2, axis=1)))
        w[win] += ETA_CONV * (x - w[win])
    return w


def clusters(data: np.ndarray, weights: np.ndarray, m: int = 5) -> np.ndarray:
    """Neuron by neuron, its m nearest recordings not yet taken."""
    d = np.sqrt(((weights[:, None, :] - data[None, :, :]) ** 2).sum(axis=2))
    out = -np.ones(len(data), dtype=int)
    for c in range(len(weights)):
        take = np.argsort(d[c])[:m]
        out[take] = c
        d[:, take] = np.inf
    if (out < 0).any():
        raise ValueError("some recordings were left without a cluster")
    return out


def folds(cluster_of: np.ndarray, argsort_kind: str, m: int = 5, seed: int = SEED) -> np.ndarray:
    """Recordings in argsort order of their cluster; folds popped from seeded permutations."""
    rng = np.random.RandomState(seed)
    if argsort_kind == "classic introsort":
        order = classic_introsort_argsort(cluster_of)
    elif argsort_kind == "installed":
        order = np.argsort(cluster_of.astype(np.int32))
    else:
        order = np.argsort(cluster_of, kind=argsort_kind)
    out = np.empty(len(cluster_of), dtype=int)
    pool: list[int] = list(rng.permutation(m))
    for idx in order:
        if not pool:
            pool = list(rng.permutation(m))
        out[idx] = pool.pop() + 1
    return out


@dataclass
class Allocation:
    n_components: int
    variance_of_first_k: float
    k_reaching_90: int
    clusters: np.ndarray
    folds: dict[str, np.ndarray]  # argsort kind -> folds


ARGSORT_KINDS = ("classic introsort", "stable")


def allocate(x: np.ndarray, sign: str, argsort_kinds=ARGSORT_KINDS) -> Allocation:
    """The allocation under one PCA sign convention ("u", "v", or "installed": scikit-learn's
    own PCA as installed) and each argsort tie order ("installed": NumPy's default argsort
    as installed, on the int32 cluster indices the published code builds)."""
    if sign == "installed":
        from sklearn.decomposition import PCA

        z = (x - x.mean(axis=0, keepdims=True)) / x.std(axis=0, keepdims=True)
        pca = PCA().fit(z)
        scores, ratio = pca.transform(z), pca.explained_variance_ratio_
    else:
        scores, ratio = pca_scores(x, sign)
    cum = np.cumsum(ratio)
    k = int(np.sum(cum < 0.9))
    w = som_1d(scores[:, :k], len(x) // 5)
    c = clusters(scores[:, :k], w)
    return Allocation(k, float(cum[k - 1]), int(np.searchsorted(cum, 0.9) + 1), c,
                      {kind: folds(c, kind) for kind in argsort_kinds})


def classic_introsort_argsort(values, small: int = 15) -> np.ndarray:
    """``np.argsort(values)`` as NumPy's scalar introsort orders ties (the algorithm of
    NumPy's ``aquicksort`` before SIMD sorting was dispatched for argsort): median-of-three
    quicksort partitions while a segment spans more than ``small`` = 15 positions (NumPy's
    ``SMALL_QUICKSORT``), then insertion sort. The tie order of this
    algorithm is part of the published fold allocation."""
    v = list(values)
    idx = list(range(len(v)))
    stack: list[tuple[int, int]] = []
    pl, pr = 0, len(v) - 1
    while True:
        while pr - pl > small:
            pm = pl + ((pr - pl) >> 1)
            if v[idx[pm]] < v[idx[pl]]:
                idx[pm], idx[pl] = idx[pl], idx[pm]
            if v[idx[pr]] < v[idx[pm]]:
                idx[pr], idx[pm] = idx[pm], idx[pr]
            if v[idx[pm]] < v[idx[pl]]:
                idx[pm], idx[pl] = idx[pl], idx[pm]
            vp = v[idx[pm]]
            pi, pj = pl, pr - 1
            idx[pm], idx[pj] = idx[pj], idx[pm]
            while True:
                pi += 1
                while v[idx[pi]] < vp:
                    pi += 1
                pj -= 1
                while vp < v[idx[pj]]:
                    pj -= 1
                if pi >= pj:
                    break
                idx[pi], idx[pj] = idx[pj], idx[pi]
            pk = pr - 1
            idx[pi], idx[pk] = idx[pk], idx[pi]
            if pi - pl < pr - pi:
                stack.append((pi + 1, pr))
                pr = pi - 1
            else:
                stack.append((pl, pi - 1))
                pl = pi + 1
        for pi in range(pl + 1, pr + 1):
            vi = idx[pi]
            vp = v[vi]
            pj = pi
            while pj > pl and vp < v[idx[pj - 1]]:
                idx[pj] = idx[pj - 1]
                pj -= 1
            idx[pj] = vi
        if not stack:
            break
        pl, pr = stack.pop()
    return np.asarray(idx, dtype=np.intp)
