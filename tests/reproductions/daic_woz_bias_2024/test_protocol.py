"""daic-woz-bias-2024 on the authors' released predictions (real data through the mirror),
checked against scikit-learn, the authors' own released reports, and the published values."""
from __future__ import annotations

import json

import pytest

from affrepro.reproductions.daic_woz_bias_2024.loaders import read_id_list, read_predictions
from affrepro.reproductions.daic_woz_bias_2024.protocol import ensemble_and
from affrepro.runner import reproduce

SLUG = "daic-woz-bias-2024"
PUBLISHED = {"ellie-only-macro-f1": 0.8776, "participant-only-macro-f1": 0.8493, "ensemble-macro-f1": 0.9029}


def test_ensemble_is_the_logical_and_of_both_models():
    assert ensemble_and([1, 1, 0, 0], [1, 0, 1, 0]) == [1, 0, 0, 0]


@pytest.fixture
def real(mirror):
    return mirror / "daic_woz_bias"


def test_macro_f1_matches_scikit_learn_on_the_released_predictions(real, registries):
    from sklearn.metrics import classification_report, f1_score

    f1 = registries.metrics.get("f1_macro")
    for prefix in ("Ellie_E-GCN", "Participant_P-GCN"):
        p = read_predictions(real / f"{prefix}_results_predictions.json")
        ours = f1(p.y_true, p.y_pred)
        assert ours == pytest.approx(f1_score(p.y_true, p.y_pred, average="macro"), abs=1e-12)
        released = json.loads((real / f"{prefix}_results.json").read_text())
        assert ours == pytest.approx(released["macro avg"]["f1-score"], abs=1e-12)
        assert ours == pytest.approx(classification_report(p.y_true, p.y_pred, output_dict=True)
                                     ["macro avg"]["f1-score"], abs=1e-12)


def test_dev_ids_agree_with_the_prediction_ground_truth(real):
    dev = read_id_list(real / "dev_IDS.txt")
    assert len(dev) == 35 and sum(r.category for r in dev) == 12
    assert [r.category for r in dev] == read_predictions(real / "Ellie_E-GCN_results_predictions.json").y_true
    train = read_id_list(real / "train_IDS.txt")
    assert len(train) == 107


def test_reproduce_reproduces_the_three_published_scores(real, tmp_path, tracking_uri):
    report = reproduce(SLUG, output_dir=tmp_path / "out", tracking_uri=tracking_uri)
    assert report.status == "FINISHED"
    by_id = {r.claim.id: r for r in report.results}
    for cid, value in PUBLISHED.items():
        assert by_id[cid].verdict.value == "reproduced", by_id[cid].reason
        assert round(by_id[cid].measured, 4) == value
    for cid in ("ellie-only-macro-f1-retrained", "participant-only-macro-f1-retrained"):
        assert by_id[cid].verdict.value == "skipped"
        assert "daic-woz" in by_id[cid].reason and "inductgcn" in by_id[cid].reason
    checks = report.details["consistency_checks"]
    assert checks["y_true_equals_dev_IDS_category"] and checks["ellie_results_json_agrees"]
    assert checks["participant_results_json_agrees"]
    assert report.deviations == []
    assert report.data["daic-woz-bias"]["sha256"]["dev_IDS.txt"].startswith("0a5666ee")
    # every cell of the README's three classification reports, and both studies' best trials
    cells = [r for r in report.results if ".report." in r.claim.id or "optuna" in r.claim.id]
    assert len(cells) == 41 and all(r.verdict.value == "reproduced" for r in cells)
    assert by_id["ensemble.report.class1.recall"].measured == pytest.approx(10 / 12)
    studies = report.details["optuna_studies"]
    assert studies["ellie"]["complete_trials"] == 100 and studies["ellie"]["best_trial_numbers"][0] == 51

    from mlflow.tracking import MlflowClient

    run = MlflowClient(tracking_uri).get_run(report.run_id)
    assert run.info.status == "FINISHED"
    assert round(run.data.metrics["claim.ensemble-macro-f1.measured"], 4) == 0.9029


def test_a_tampered_file_is_refused_by_checksum(real, tmp_path, no_mirror):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(real, copy)
    p = copy / "Ellie_E-GCN_results_predictions.json"
    p.write_text(p.read_text().replace("[0, 0, 1", "[1, 1, 1", 1))
    report = reproduce(SLUG, data_dirs={"daic-woz-bias": copy}, output_dir=tmp_path / "o", track=False)
    ellie = report.results[0]
    # an integrity failure is an error (issue 20), never the "not downloaded" skip
    assert ellie.verdict.value == "error" and "sha256" in ellie.reason
    assert "Ellie_E-GCN_results_predictions.json" in ellie.reason


def test_report_cells_match_the_authors_released_reports(real):
    from affrepro.reproductions.daic_woz_bias_2024.protocol import report_cells

    for model, prefix in (("ellie", "Ellie_E-GCN"), ("participant", "Participant_P-GCN")):
        p = read_predictions(real / f"{prefix}_results_predictions.json")
        released = json.loads((real / f"{prefix}_results.json").read_text())
        cells = report_cells(model, p.y_true, p.y_pred)
        assert cells[f"{model}.report.class0.precision"] == pytest.approx(released["0"]["precision"], abs=1e-12)
        assert cells[f"{model}.report.weighted.f1"] == pytest.approx(released["weighted avg"]["f1-score"], abs=1e-12)
        assert cells[f"{model}.report.accuracy"] == pytest.approx(released["accuracy"], abs=1e-12)


def test_optuna_best_trial_with_ties_from_a_study_database(tmp_path):
    from affrepro.reproductions.daic_woz_bias_2024.loaders import read_optuna_best
    from affrepro.reproductions.daic_woz_bias_2024.synthetic import write_optuna_study

    db = tmp_path / "db.sqlite3"
    write_optuna_study(db, "s", [0.5, 0.9, 0.7, 0.9])
    best = read_optuna_best(db)
    assert (best.best_value, best.best_trials, best.n_complete) == (0.9, [1, 3], 4)
    (tmp_path / "not.sqlite3").write_text("hello")
    with pytest.raises(Exception, match="not.sqlite3"):
        read_optuna_best(tmp_path / "not.sqlite3")


def test_dry_run_needs_no_network_and_no_data(tmp_path, no_mirror):
    report = reproduce(SLUG, dry_run=True, output_dir=tmp_path / "o", track=False)
    assert report.status == "FINISHED"
    assert [r.verdict.value for r in report.results[:3]] == ["skipped"] * 3
    assert all(0 <= r.measured <= 1 for r in report.results[:3])
