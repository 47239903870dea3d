"""The ``araus-soundscapes`` dataset audit: the fold counts of the ARAUS README, the
"first 9 components explain 90 %" statement, and the soundscape fold allocation recomputed
with the authors' procedure (:mod:`.fold_allocation`), under the library conventions the
audit identified as the authors' and under the libraries installed here."""
from __future__ import annotations

import numpy as np

from affrepro.reproductions.araus_2022 import fold_allocation as fa


def araus_soundscapes(ctx) -> dict[str, float]:
    import pandas as pd

    frame = pd.read_csv(ctx.folder / "soundscapes.csv")
    counts = frame["fold_s"].value_counts().to_dict()
    measured: dict[str, float] = {
        "folds.cross-validation": int(sum(n for f, n in counts.items() if 1 <= f <= 5)),
        "folds.test": int(counts.get(0, 0)), "folds.none": int(counts.get(-1, 0)),
    }
    ctx.note("soundscapes_per_fold_s", {int(k): int(v) for k, v in sorted(counts.items())})

    videos, x, published, cols = fa.paired_halves(frame)
    runs = {}
    for sign in ("u", "v", "installed"):
        kinds = ("installed",) if sign == "installed" else fa.ARGSORT_KINDS
        runs[sign] = fa.allocate(x, sign, argsort_kinds=kinds)
    table = {}
    for sign, a in runs.items():
        distinct = int(sum(len(set(published[a.clusters == c])) == 5 for c in range(len(x) // 5)))
        for kind, f in a.folds.items():
            table[f"PCA signs {sign}, argsort {kind}"] = {
                "recordings_in_published_fold": int((f == published).sum()),
                "clusters_whose_five_recordings_have_five_distinct_published_folds": distinct}
    ctx.note("allocation_by_convention", table)
    ctx.note("allocation_input", {"recordings": len(videos), "features": x.shape[1], "indicators_per_half": len(cols)})
    a = runs["u"]
    measured["pca.components-kept"] = a.n_components
    measured["pca.variance-first-9"] = a.variance_of_first_k if a.n_components == 9 else float("nan")
    ctx.note("pca", {"components_below_90pct (notebook rule)": a.n_components,
                     "cumulative_variance_of_those": a.variance_of_first_k,
                     "smallest_k_reaching_90pct": a.k_reaching_90})
    ctx.explain("pca.variance-first-9",
                f"the notebook keeps np.sum(np.cumsum(ratio) < 0.9) = {a.n_components} components, i.e. those "
                f"whose cumulative ratio is still below 90 %: together they explain {a.variance_of_first_k:.4f}; "
                f"{a.k_reaching_90} components are needed to reach 90 %")
    measured["allocation.authors-conventions"] = int((a.folds["classic introsort"] == published).sum())
    inst = runs["installed"].folds["installed"]
    measured["allocation.installed-libraries"] = int((inst == published).sum())
    import sklearn

    evidence = "; ".join(f"{k}: {v['recordings_in_published_fold']}/120 recordings, "
                         f"{v['clusters_whose_five_recordings_have_five_distinct_published_folds']}/24 clusters "
                         "with five distinct published folds" for k, v in table.items())
    for cid in ("allocation.authors-conventions", "allocation.installed-libraries"):
        ctx.explain(cid, f"scikit-learn {sklearn.__version__}, NumPy {np.__version__}; {evidence}")
    ctx.deviation("PCA sign 'u': each component's sign makes the largest-|.| entry of its score column (U) "
                  "positive, scikit-learn's svd_flip before 1.5; 'v': the largest-|.| loading (row of V^T), "
                  "scikit-learn 1.5 and later")
    ctx.deviation("argsort 'classic introsort': NumPy's scalar argsort (median-of-3 quicksort, insertion sort "
                  "for segments of at most 16 elements), whose order of tied cluster indices the published folds follow; newer "
                  "NumPy builds dispatch a SIMD argsort that orders ties differently")
    return {k: v for k, v in measured.items() if k in ctx.claims_to_measure}
