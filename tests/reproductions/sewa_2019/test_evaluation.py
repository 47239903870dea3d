"""sewa-2019: AVEC 2019 CES scoring (concatenation, cov/n with var/(n-1)), layout, bad input."""
import numpy as np
import pytest

from affrepro.plugins.evaluate.common import PredictionError
from affrepro.reproductions.sewa_2019 import evaluation as E


def _gold(root, name, arousal):
    a = np.asarray(arousal, dtype=float)
    E.write_file(root / f"{name}.csv", name, np.stack([a, a / 2, -a], axis=1))


def test_hand_computed_ccc(tmp_path):
    ann, pred = tmp_path / "ann", tmp_path / "pred"
    ann.mkdir()
    pred.mkdir()
    _gold(ann, "Devel_DE_01", [0, 1, 2, 3])
    E.write_file(pred / "Devel_DE_01.csv", "Devel_DE_01",
                 np.array([[0, 0, 0], [1, 0.5, -1], [2, 1, -2], [4, 2, -4]], dtype=float))
    r = E.evaluate(ann, pred)
    # x = 0,1,2,3, y = 0,1,2,4: Σ(x−x̄)(y−ȳ) = 6.5, so cov = 6.5/4; s_x² = 5/3, s_y² = 8.75/3,
    # (x̄ − ȳ)² = 1/16  ->  CCC = 2·1.625 / (5/3 + 8.75/3 + 1/16)
    expected = 3.25 / (5 / 3 + 8.75 / 3 + 1 / 16)
    assert r.aggregate["devel_DE_arousal_ccc"] == pytest.approx(expected)
    assert r.aggregate["devel_DE_valence_ccc"] == pytest.approx(expected)
    # PCC mixes the same way: r·(n−1)/n
    rr = np.corrcoef([0, 1, 2, 3], [0, 1, 2, 4])[0, 1]
    assert r.aggregate["devel_DE_arousal_pcc"] == pytest.approx(rr * 3 / 4)
    assert r.aggregate["devel_DE_arousal_rmse"] == pytest.approx(0.5)


def test_concatenation_groups_and_padding(tmp_path):
    ann, pred = tmp_path / "ann", tmp_path / "pred"
    E.synthesize(ann, seed=4, per_culture=2)
    assert E.verify(ann) == []
    for d in E.DIMENSIONS:
        (pred / d).mkdir(parents=True)
    rng = np.random.default_rng(1)
    gold, preds = {}, {}
    for n, p in E.list_files(ann, "Devel").items():
        g = E.read_labels(p)
        q = g + rng.normal(scale=0.1, size=g.shape)
        q = q[:-3] if n == "Devel_HU_02.csv" else q  # 3 frames short: repeated last value
        for j, d in enumerate(E.DIMENSIONS):
            E.write_file(pred / d / n, n[:-4], np.stack([q[:, j]] * 3, axis=1))
        full = np.concatenate([q, np.repeat(q[-1:], g.shape[0] - q.shape[0], axis=0)])
        gold[n], preds[n] = g, np.round(full, 6)
    r = E.evaluate(ann, pred)
    assert r.policies["layout"] == "one folder per dimension"
    assert sum("repeating the last" in w for w in r.warnings) == 3  # once per dimension
    g = np.concatenate([gold[n] for n in sorted(gold)])
    q = np.concatenate([preds[n] for n in sorted(gold)])
    for j, d in enumerate(E.DIMENSIONS):
        x, y = g[:, j], q[:, j]
        cov = np.mean((x - x.mean()) * (y - y.mean()))
        ccc = 2 * cov / (x.var(ddof=1) + y.var(ddof=1) + (x.mean() - y.mean()) ** 2)
        assert r.aggregate[f"devel_DE_HU_{d}_ccc"] == pytest.approx(ccc, rel=1e-9)
    assert "devel_DE_arousal_ccc" in r.aggregate and "devel_HU_liking_ccc" in r.aggregate
    with pytest.raises(PredictionError, match="for 2"):
        E.evaluate(ann, pred, length_policy="error")


def test_bad_predictions(tmp_path):
    ann, pred = tmp_path / "ann", tmp_path / "pred"
    ann.mkdir()
    pred.mkdir()
    _gold(ann, "Devel_DE_01", [0, 1, 2, 3])
    with pytest.raises(PredictionError, match="missing"):
        E.evaluate(ann, pred)
    (pred / "Devel_DE_01.csv").write_text("name;timestamp;arousal;valence\n'x';0;1;1\n")
    with pytest.raises(PredictionError, match="liking"):
        E.evaluate(ann, pred)
    (pred / "Devel_DE_01.csv").write_text(
        "name;timestamp;arousal;valence;liking\n'x';0;1;1;1\n'x';0.1;nan;1;1\n")
    with pytest.raises(PredictionError, match="line 3, column arousal"):
        E.evaluate(ann, pred)


def test_verify_checks_the_10hz_grid(tmp_path):
    _gold(tmp_path, "Devel_DE_01", [0, 1, 2])
    f = tmp_path / "Devel_DE_01.csv"
    f.write_text(f.read_text().replace("0.200000", "0.300000"))
    assert any("10 Hz" in str(p) for p in E.verify(tmp_path))
