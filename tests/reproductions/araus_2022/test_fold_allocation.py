"""The ARAUS soundscape fold allocation: the tie order of NumPy's scalar argsort, the SOM and
cluster steps on small hand-checkable inputs, and the audit on the mirrored soundscapes.csv."""
from __future__ import annotations

import numpy as np
import pytest

from affrepro.reproductions.araus_2022 import fold_allocation as fa


@pytest.mark.parametrize("n", [0, 1, 2, 15, 16, 17, 40, 120, 257])
def test_classic_introsort_sorts(n):
    values = np.random.RandomState(n).randint(0, 9, size=n)
    order = fa.classic_introsort_argsort(values)
    assert sorted(order.tolist()) == list(range(n))
    assert (values[order] == np.sort(values)).all()


def test_classic_introsort_keeps_small_segments_stable_and_reorders_ties_in_large_ones():
    # below 16 elements it is an insertion sort: ties keep their positions
    small = np.array([1, 0, 1, 0, 1, 0])
    assert fa.classic_introsort_argsort(small).tolist() == np.argsort(small, kind="stable").tolist()
    # above, the median-of-3 partition moves tied elements out of their original order
    big = np.repeat(np.arange(4), 5)[::-1].copy()
    assert fa.classic_introsort_argsort(big).tolist() != np.argsort(big, kind="stable").tolist()


def test_clusters_take_the_m_nearest_and_folds_spread_each_cluster():
    data = np.array([[0.0], [0.1], [10.0], [10.1]])
    c = fa.clusters(data, np.array([[10.0], [0.0]]), m=2)
    assert c.tolist() == [1, 1, 0, 0]
    f = fa.folds(c, "stable", m=2)
    assert sorted(f[c == 0].tolist()) == [1, 2] and sorted(f[c == 1].tolist()) == [1, 2]


def test_pca_sign_conventions_differ_only_in_sign():
    x = np.random.RandomState(0).randn(30, 6)
    su, ratio = fa.pca_scores(x, "u")
    sv, _ = fa.pca_scores(x, "v")
    assert np.allclose(np.abs(su), np.abs(sv)) and np.isclose(ratio.sum(), 1)
    from sklearn.decomposition import PCA

    z = (x - x.mean(0)) / x.std(0)
    assert np.allclose(np.abs(PCA().fit(z).transform(z)), np.abs(su))


@pytest.mark.slow
def test_araus_soundscapes_audit_on_the_mirror(mirror, registries, tmp_path):
    from affrepro.audit import audit_dataset

    rep = audit_dataset(registries.datasets.get("araus-soundscapes"), None, tmp_path)
    got = {r.claim.id: (r.measured, r.verdict.value) for r in rep.results}
    assert got["folds.cross-validation"] == (234, "reproduced")
    assert got["pca.components-kept"] == (9, "reproduced")
    assert got["pca.variance-first-9"][1] == "not reproduced" and 0.89 < got["pca.variance-first-9"][0] < 0.9
    assert got["allocation.authors-conventions"] == (120, "reproduced")
    table = rep.details["allocation_by_convention"]
    assert table["PCA signs u, argsort stable"]["clusters_whose_five_recordings_have_five_distinct_published_folds"] == 24
