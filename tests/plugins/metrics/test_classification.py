import numpy as np
import pytest

from affrepro.plugins.metrics.classification import (
    F1Macro, UAR, Accuracy, CohenKappa, ConfusionMatrix, accuracy, cohen_kappa,
    confusion_matrix, f1_macro, f1_micro, f1_weighted, per_class_prf, unweighted_average_recall,
)

skm = pytest.importorskip("sklearn.metrics")


@pytest.fixture(params=[0, 1])
def labels(request):
    rng = np.random.default_rng(request.param)
    y = rng.integers(0, 5, 300)
    p = np.where(rng.random(300) < 0.5, y, rng.integers(0, 5, 300))
    return y, p


def test_against_sklearn(labels):
    y, p = labels
    assert accuracy(y, p) == pytest.approx(skm.accuracy_score(y, p))
    assert unweighted_average_recall(y, p) == pytest.approx(skm.balanced_accuracy_score(y, p))
    for avg, fn in [("macro", f1_macro), ("weighted", f1_weighted), ("micro", f1_micro)]:
        assert fn(y, p) == pytest.approx(skm.f1_score(y, p, average=avg))
    assert cohen_kappa(y, p) == pytest.approx(skm.cohen_kappa_score(y, p))
    for w in ("linear", "quadratic"):
        assert cohen_kappa(y, p, weights=w) == pytest.approx(skm.cohen_kappa_score(y, p, weights=w))
    cm, classes = confusion_matrix(y, p)
    np.testing.assert_array_equal(cm, skm.confusion_matrix(y, p, labels=classes))
    prf = per_class_prf(y, p)
    P, R, F, S = skm.precision_recall_fscore_support(y, p, labels=classes)
    for i, c in enumerate(classes):
        assert prf[c]["precision"] == pytest.approx(P[i])
        assert prf[c]["recall"] == pytest.approx(R[i])
        assert prf[c]["f1"] == pytest.approx(F[i])
        assert prf[c]["support"] == S[i]


def test_torchmetrics_agrees(labels):
    torch = pytest.importorskip("torch")
    tmc = pytest.importorskip("torchmetrics.functional.classification")
    y, p = labels
    ty, tp = torch.tensor(p), torch.tensor(y)
    assert f1_macro(y, p) == pytest.approx(float(tmc.multiclass_f1_score(ty, tp, num_classes=5,
                                                                         average="macro")))
    assert unweighted_average_recall(y, p) == pytest.approx(
        float(tmc.multiclass_recall(ty, tp, num_classes=5, average="macro")))


def test_streaming_merge_equals_one_pass(labels):
    y, p = labels
    for cls in (Accuracy, UAR, F1Macro, CohenKappa):
        a = cls().update(y[:100], p[:100])
        b = cls().update(y[100:], p[100:])
        assert a.merge(b).compute() == pytest.approx(cls().update(y, p).compute())


def test_string_labels_and_unknown_label():
    y = ["ang", "hap", "neu", "sad", "neu"]
    p = ["ang", "neu", "neu", "sad", "hap"]
    assert accuracy(y, p) == pytest.approx(0.6)
    with pytest.raises(ValueError, match="not in labels"):
        ConfusionMatrix(labels=["ang", "hap"]).update(y, p)


def test_class_never_predicted_warns_precision_nan():
    y = [0, 0, 1, 1, 2]
    p = [0, 0, 1, 1, 1]
    with pytest.warns(RuntimeWarning, match="never predicted"):
        prf = per_class_prf(y, p)
    assert np.isnan(prf[2]["precision"]) and prf[2]["f1"] == 0.0
    with pytest.warns(RuntimeWarning, match="never predicted"):
        assert f1_macro(y, p) == pytest.approx(skm.f1_score(y, p, average="macro",
                                                            zero_division=0))


def test_label_absent_everywhere_left_out_of_macro():
    with pytest.warns(RuntimeWarning, match="undefined"):
        assert f1_macro([0, 1], [0, 1], labels=[0, 1, 2]) == 1.0
    with pytest.warns(RuntimeWarning, match="never occur"):
        assert unweighted_average_recall([0, 1], [0, 1], labels=[0, 1, 2]) == 1.0


def test_kappa_degenerate_and_empty():
    with pytest.warns(RuntimeWarning, match="chance agreement"):
        assert np.isnan(cohen_kappa([1, 1, 1], [1, 1, 1]))
    with pytest.warns(RuntimeWarning, match="no samples"):
        assert np.isnan(Accuracy().compute())
    with pytest.raises(ValueError):
        confusion_matrix([], [])
