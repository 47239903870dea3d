"""affwild-2021: ABAW2 scoring (P_VA, P_EXPR, P_AU) on hand-computed frames, bad input."""
import numpy as np
import pytest

from affrepro.plugins.evaluate.common import PredictionError
from affrepro.reproductions.affwild_2021 import evaluation as E


@pytest.fixture
def hand_case(tmp_path):
    ann, pred = tmp_path / "ann", tmp_path / "pred"
    for task in E.TASKS:
        (ann / E.SET_NAMES[task][0] / "Validation_Set").mkdir(parents=True)
        (pred / task).mkdir(parents=True)
    va = ann / "VA_Set" / "Validation_Set"
    E.write_task_file(va / "v1.txt", "VA", np.array([[0.1, 0.2], [-5, -5], [0.3, 0.4]]))
    E.write_task_file(pred / "VA" / "v1.txt", "VA", np.array([[0.1, 0.2], [0.9, 0.9], [0.3, 0.4]]))
    ex = ann / "EXPR_Set" / "Validation_Set"
    E.write_task_file(ex / "v1.txt", "EXPR", np.array([0, 1, 1, -1]))
    E.write_task_file(pred / "EXPR" / "v1.txt", "EXPR", np.array([0, 1, 0, 3]))
    au_t = np.zeros((3, 12))
    au_t[0, 0] = 1
    au_t[1, :2] = 1
    au_t[2] = -1
    au_p = np.zeros((3, 12))
    au_p[0, 0] = au_p[1, 0] = 1
    E.write_task_file(ann / "AU_Set" / "Validation_Set" / "v1.txt", "AU", au_t)
    E.write_task_file(pred / "AU" / "v1.txt", "AU", au_p)
    return tmp_path


def test_hand_computed_case(hand_case):
    r = E.evaluate(hand_case / "ann", hand_case / "pred")
    a = r.aggregate
    # VA: the -5 frame is dropped; the rest agree exactly
    assert a["va_ccc_valence"] == pytest.approx(1.0) and a["va_score"] == pytest.approx(1.0)
    # EXPR: frames (0,0) (1,1) (1,0) after dropping -1: accuracy 2/3; F1 of both classes 2/3
    assert a["expr_accuracy"] == pytest.approx(2 / 3)
    assert a["expr_f1_macro"] == pytest.approx(2 / 3)
    assert a["expr_score"] == pytest.approx(0.67 * 2 / 3 + 0.33 * 2 / 3)
    # AU: AU1 F1 = 1, AU2 F1 = 0 (missed), 10 AUs never present nor predicted count 0;
    # accuracy 23 of 24 entries
    assert a["au_f1_AU1"] == 1.0 and a["au_f1_AU2"] == 0.0 and a["au_f1_AU26"] == 0.0
    assert a["au_f1_mean"] == pytest.approx(1 / 12)
    assert a["au_accuracy"] == pytest.approx(23 / 24)
    assert a["au_score"] == pytest.approx(0.5 / 12 + 0.5 * 23 / 24)


def test_against_sklearn_on_synthetic_corpus(tmp_path):
    skm = pytest.importorskip("sklearn.metrics")
    E.synthesize(tmp_path / "ann", seed=2, videos=3)
    assert E.verify(tmp_path / "ann") == []
    rng = np.random.default_rng(0)
    truth, preds = [], []
    (tmp_path / "pred" / "EXPR").mkdir(parents=True)
    for p in sorted((tmp_path / "ann" / "EXPR_Set" / "Validation_Set").glob("*.txt")):
        y = E.read_task_file(p, "EXPR")[:, 0]
        q = np.where(rng.random(y.size) < 0.6, np.maximum(y, 0), rng.integers(0, 7, y.size))
        E.write_task_file(tmp_path / "pred" / "EXPR" / p.name, "EXPR", q)
        keep = y != -1
        truth.append(y[keep])
        preds.append(q[keep])
    y, q = np.concatenate(truth), np.concatenate(preds)
    r = E.evaluate(tmp_path / "ann", tmp_path / "pred")
    expected = 0.67 * skm.f1_score(y, q, average="macro") + 0.33 * skm.accuracy_score(y, q)
    assert r.aggregate["expr_score"] == pytest.approx(expected)
    assert r.policies["tasks"] == "EXPR"


def test_bad_predictions(hand_case):
    pred = hand_case / "pred"
    (pred / "EXPR" / "v1.txt").write_text("Neutral,Anger,Disgust,Fear,Happiness,Sadness,Surprise\n0\n1\n9\n0\n")
    with pytest.raises(PredictionError, match="line 4"):
        E.evaluate(hand_case / "ann", pred)
    (pred / "EXPR" / "v1.txt").write_text("Neutral,Anger\n0\n1\n0\n0\n")
    with pytest.raises(PredictionError, match="header"):
        E.evaluate(hand_case / "ann", pred)
    E.write_task_file(pred / "EXPR" / "v1.txt", "EXPR", np.array([0, 1, 0]))
    with pytest.raises(PredictionError, match="3 predictions for 4"):
        E.evaluate(hand_case / "ann", pred)
    E.write_task_file(pred / "EXPR" / "v1.txt", "EXPR", np.array([0, 1, 0, 0]))
    E.write_task_file(pred / "EXPR" / "v2.txt", "EXPR", np.array([0]))
    with pytest.raises(PredictionError, match="unknown videos"):
        E.evaluate(hand_case / "ann", pred)
    (pred / "EXPR" / "v2.txt").unlink()
    (pred / "VA" / "v1.txt").write_text("valence,arousal\n0.1,0.2\n0.1,-5\n0.3,0.4\n")
    with pytest.raises(PredictionError, match="unannotated"):
        E.evaluate(hand_case / "ann", pred)
    with pytest.raises(PredictionError, match="none of the task folders"):
        E.evaluate(hand_case / "ann", hand_case / "ann")


def test_verify_reports_problems(tmp_path):
    assert "no annotation set" in str(E.verify(tmp_path)[0])
    E.synthesize(tmp_path, seed=0, videos=1)
    f = next((tmp_path / "AU_Set" / "Train_Set").glob("*.txt"))
    f.write_text(f.read_text().replace("AU26", "AU27", 1))
    assert any("header" in str(p) for p in E.verify(tmp_path))
