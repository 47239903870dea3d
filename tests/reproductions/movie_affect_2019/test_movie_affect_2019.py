"""movie-affect-2019: the cognimuse-extended layout (verify names every problem), the
synthetic corpus in that layout, the early-fusion models learning its signal (held-out
PCC above chance, MSE below the label-mean baseline), and reproduce --dry-run."""
from __future__ import annotations

import json

import numpy as np
import pytest

from affrepro.reproductions.movie_affect_2019 import cognimuse, protocol


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("cognimuse")
    cognimuse.synthesize(root, seed=0, n_movies=3, minutes=2.0)
    return root


def test_synthetic_corpus_verifies_and_loads(corpus):
    assert cognimuse.verify(corpus) == []
    movies = cognimuse.load(corpus)
    assert len(movies) == 3
    m = movies[0]
    assert m.audio.shape == (120, 24) and m.visual.shape == (120, 32) and m.targets.shape == (120, 2)
    assert np.abs(m.targets).max() <= 1.0


def test_verify_names_file_line_and_column(corpus, tmp_path):
    import shutil

    bad = tmp_path / "bad"
    shutil.copytree(corpus, bad)
    movie = sorted(p for p in bad.iterdir())[0]
    lines = (movie / "annotations.csv").read_text().splitlines()
    lines[5] = "0.16,1.7,0.1"
    (movie / "annotations.csv").write_text("\n".join(lines) + "\n")
    np.save(movie / "visual.npy", np.zeros((7, 32), np.float32))
    (sorted(bad.iterdir())[1] / "audio.npy").unlink()
    problems = [str(p) for p in cognimuse.verify(bad)]
    assert any("annotations.csv:6" in p and "valence" in p and "outside [-1, 1]" in p
               for p in problems), problems
    assert any("visual.npy" in p and "has 7 steps" in p for p in problems), problems
    assert any("audio.npy" in p and "missing" in p for p in problems), problems
    with pytest.raises(ValueError, match="is not usable"):
        cognimuse.load(bad)


def test_early_fusion_learns_the_synthetic_signal(corpus):
    from affrepro.plugin_manager import get_registries

    movies = cognimuse.load(corpus)
    for name in ("early-fusion-mlp", "early-fusion-lstm"):
        res = protocol.evaluate(movies, name, get_registries(), seed=0, dry_run=True)
        for target in protocol.TARGETS:
            assert res[f"{target}.pcc"] > 0.5, (name, res)
            assert res[f"{target}.mse"] < 0.7 * res[f"{target}.mse_label_mean"], (name, res)


def test_pcc_mse_match_numpy():
    rng = np.random.default_rng(1)
    y, p = rng.standard_normal(50), rng.standard_normal(50)
    r, mse = protocol.pcc_mse(y, p)
    assert r == pytest.approx(np.corrcoef(y, p)[0, 1], rel=1e-10)
    assert mse == pytest.approx(np.mean((y - p) ** 2), rel=1e-10)


@pytest.mark.slow
def test_reproduce_dry_run_records_the_metrics(tmp_path, tracking_uri):
    from affrepro.runner import reproduce

    report = reproduce("movie-affect-2019", dry_run=True, output_dir=tmp_path / "out",
                       tracking_uri=tracking_uri)
    data = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report.status == "FINISHED", data.get("error")
    recs = data.get("records") or data.get("measurements") or {}
    text = json.dumps(data)
    for name in ("early-fusion-mlp", "early-fusion-lstm"):
        assert f"{name}.seed0.valence.pcc" in text and f"{name}.seed0.arousal.mse" in text
    assert "leave-one-movie-out" in text
    del recs
