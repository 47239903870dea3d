"""omg-empathy-2019: calculateCCC.py semantics, layout verification, bad prediction files."""
import numpy as np
import pytest

from affrepro.plugins.evaluate.common import PredictionError
from affrepro.reproductions.omg_empathy_2019 import evaluation as E


def _write_pair(root, subject, story, truth, pred):
    (root / "ann").mkdir(exist_ok=True)
    (root / "pred").mkdir(exist_ok=True)
    E.write_valence(root / "ann" / f"Subject_{subject}_Story_{story}.csv", np.array(truth))
    E.write_valence(root / "pred" / f"Subject_{subject}_Story_{story}.csv", np.array(pred))


@pytest.fixture
def hand_case(tmp_path):
    # per-file CCCs worked out by hand with calculateCCC.py's formula (population σ, ρ := 0
    # when undefined): 1, 0 (constant prediction), -1, and 2/3 (σ = 0.1 each, μ off by 0.1:
    # 2·0.01 / (0.01 + 0.01 + 0.01))
    _write_pair(tmp_path, 1, 1, [0.1, 0.2, 0.3], [0.1, 0.2, 0.3])
    _write_pair(tmp_path, 1, 2, [0.1, 0.2, 0.3], [0.2, 0.2, 0.2])
    _write_pair(tmp_path, 2, 1, [0.0, 0.1], [0.1, 0.0])
    _write_pair(tmp_path, 2, 2, [0.1, 0.3], [0.2, 0.4])
    return tmp_path


def test_hand_computed_case(hand_case):
    r = E.evaluate(hand_case / "ann", hand_case / "pred")
    per_file = {row[0]: row[4] for row in r.tables[0].rows}
    assert per_file["Subject_1_Story_1.csv"] == pytest.approx(1.0)
    assert per_file["Subject_1_Story_2.csv"] == 0.0
    assert per_file["Subject_2_Story_1.csv"] == pytest.approx(-1.0)
    assert per_file["Subject_2_Story_2.csv"] == pytest.approx(2 / 3)
    assert r.aggregate["personalized_subject_1_ccc"] == pytest.approx(0.5)
    assert r.aggregate["personalized_subject_2_ccc"] == pytest.approx(-1 / 6)
    assert r.aggregate["generalized_story_1_ccc"] == pytest.approx(0.0)
    assert r.aggregate["generalized_story_2_ccc"] == pytest.approx(1 / 3)
    assert r.aggregate["personalized_mean_ccc"] == pytest.approx(1 / 6)
    assert r.aggregate["generalized_mean_ccc"] == pytest.approx(1 / 6)


def _official_ccc(y_true, y_pred):
    """calculateCCC.py's formula, written out independently with scipy and numpy."""
    stats = pytest.importorskip("scipy.stats")
    rho = stats.pearsonr(y_pred, y_true)[0]
    rho = 0.0 if np.isnan(rho) else rho
    sp, st = np.std(y_pred), np.std(y_true)
    return 2 * rho * st * sp / (sp ** 2 + st ** 2 + (np.mean(y_pred) - np.mean(y_true)) ** 2)


def test_matches_the_official_formula_on_a_synthetic_corpus(tmp_path):
    E.synthesize(tmp_path / "ann", seed=3, subjects=10, stories=(1,))
    assert E.verify(tmp_path / "ann") == []
    (tmp_path / "pred").mkdir()
    rng = np.random.default_rng(0)
    expected = []
    for (subject, story), p in E.list_files(tmp_path / "ann").items():
        y = E.read_valence(p)
        pred = np.clip(0.5 * y + rng.normal(scale=0.2, size=y.size) + 0.05, -1, 1)
        E.write_valence(tmp_path / "pred" / p.name, pred)
        expected.append(_official_ccc(y, E.read_valence(tmp_path / "pred" / p.name)))
    r = E.evaluate(tmp_path / "ann", tmp_path / "pred")
    assert r.n_files == 10
    assert r.aggregate["personalized_mean_ccc"] == pytest.approx(np.mean(expected), abs=1e-12)
    # files are ordered by subject number, not lexically (Subject_10 last)
    assert [row[1] for row in r.tables[0].rows] == list(range(1, 11))


def test_missing_unknown_and_misnamed_prediction_files(hand_case):
    (hand_case / "pred" / "Subject_2_Story_2.csv").unlink()
    E.write_valence(hand_case / "pred" / "Subject_9_Story_1.csv", np.zeros(2))
    with pytest.raises(PredictionError, match=r"1 missing \(Subject_2_Story_2.csv\).*unknown"):
        E.evaluate(hand_case / "ann", hand_case / "pred")
    (hand_case / "pred" / "Subject_9_Story_1.csv").unlink()
    E.write_valence(hand_case / "pred" / "Subject_2_Story_2.csv", np.array([0.2, 0.4]))
    (hand_case / "pred" / "subject2story2.csv").write_text("valence\n0.1\n")
    with pytest.raises(PredictionError, match="not named"):
        E.evaluate(hand_case / "ann", hand_case / "pred")


def test_wrong_column_nan_and_length(hand_case):
    bad = hand_case / "pred" / "Subject_1_Story_1.csv"
    bad.write_text("arousal\n0.1\n0.2\n0.3\n")
    with pytest.raises(PredictionError, match=r"line 1.*valence"):
        E.evaluate(hand_case / "ann", hand_case / "pred")
    bad.write_text("valence\n0.1\nnan\n0.3\n")
    with pytest.raises(PredictionError, match=r"line 3, column valence"):
        E.evaluate(hand_case / "ann", hand_case / "pred")
    bad.write_text("valence\n0.1\n0.2\n")
    with pytest.raises(PredictionError, match="2 predictions for 3"):
        E.evaluate(hand_case / "ann", hand_case / "pred")
    r = E.evaluate(hand_case / "ann", hand_case / "pred", length_policy="crop-pad")
    assert any("repeating the last" in w for w in r.warnings) and r.deviations
    with pytest.raises(ValueError):
        E.evaluate(hand_case / "ann", hand_case / "pred", length_policy="truncate")


def test_ragged_annotations_refused(hand_case):
    (hand_case / "ann" / "Subject_2_Story_2.csv").unlink()
    (hand_case / "pred" / "Subject_2_Story_2.csv").unlink()
    with pytest.raises(PredictionError, match="ragged"):
        E.evaluate(hand_case / "ann", hand_case / "pred")


def test_verify_lists_problems(tmp_path):
    E.synthesize(tmp_path, seed=1, subjects=2, stories=(1, 2))
    (tmp_path / "Subject_1_Story_1.csv").write_text("valence\n0.5\n1.7\n")
    (tmp_path / "Subject_2_Story_2.csv").write_text("val\n0.5\n")
    (tmp_path / "Subject_11_Story_9.csv").write_text("valence\n0.1\n")
    (tmp_path / "notes.csv").write_text("x\n")
    problems = [str(p) for p in E.verify(tmp_path)]
    text = "\n".join(problems)
    assert "outside [-1, 1]" in text and ":3 [valence]" in text
    assert "expected columns 'valence'" in text
    assert "subject 11 outside" in text and "story 9 outside" in text
    assert "not Subject_<X>_Story_<Y>.csv" in text
    assert "different story sets" in text
