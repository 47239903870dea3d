"""`affrepro evaluate`: the command end to end on synthetic corpora, tracked in MLflow."""
import json

import numpy as np
import pytest

from affrepro.reproductions.omg_empathy_2019 import evaluation as omg


@pytest.fixture
def evaluate_cli(cli_runner):
    from affrepro.cli import cli
    from affrepro.plugins.evaluate import register_commands

    register_commands(cli)  # what `affrepro` does for every loaded plugin at start-up
    return cli_runner


@pytest.fixture
def omg_corpus(tmp_path):
    ann, pred = tmp_path / "ann", tmp_path / "pred"
    omg.synthesize(ann, seed=0, subjects=3, stories=(1,))
    pred.mkdir()
    for p in ann.iterdir():
        y = omg.read_valence(p)
        omg.write_valence(pred / p.name, 0.8 * y)
    return ann, pred


def test_datasets_registered(registries):
    for name in ("omg-empathy", "aff-wild2", "sewa-avec2019"):
        ds = registries.datasets.get(name)
        assert ds.access == "licensed" and ds.verify and ds.synthesize


def test_evaluate_tracks_and_writes_reports(evaluate_cli, omg_corpus, tmp_path, tracking_uri):
    ann, pred = omg_corpus
    out = tmp_path / "out"
    res = evaluate_cli("evaluate", "omg-empathy-2019", "--predictions", str(pred),
                       "--data-dir", str(ann), "-o", str(out), "--tracking-uri", tracking_uri)
    assert res.exit_code == 0, res.output
    assert "personalized_mean_ccc" in res.output and "Subject_3_Story_1.csv" in res.output
    report = json.loads((out / "evaluation.json").read_text())
    assert report["paper"] == "omg-empathy-2019" and report["n_files"] == 3
    assert (out / "evaluation.md").read_text().startswith("# omg-empathy-2019")
    from mlflow.tracking import MlflowClient

    run = MlflowClient(tracking_uri).get_run(report["run_id"])
    assert run.info.status == "FINISHED"
    assert run.data.metrics["personalized_mean_ccc"] == pytest.approx(
        report["aggregate"]["personalized_mean_ccc"])
    assert run.data.tags["affrepro.command"] == "evaluate"


@pytest.mark.parametrize("paper", ["affwild-2021", "sewa-2019"])
def test_dry_corpora_end_to_end_json(evaluate_cli, tmp_path, paper):
    import importlib

    mod = importlib.import_module({"affwild-2021": "affrepro.reproductions.affwild_2021.evaluation",
                                   "sewa-2019": "affrepro.reproductions.sewa_2019.evaluation"}[paper])
    ann = tmp_path / "ann"
    mod.synthesize(ann, 0)
    pred = tmp_path / "pred"
    if paper == "sewa-2019":
        pred.mkdir()
        for n, p in mod.list_files(ann, "Devel").items():
            mod.write_file(pred / n, n[:-4], mod.read_labels(p) * 0.5)
    else:
        (pred / "VA").mkdir(parents=True)
        for p in (ann / "VA_Set" / "Validation_Set").glob("*.txt"):
            y = mod.read_task_file(p, "VA")
            mod.write_task_file(pred / "VA" / p.name, "VA", np.where(y == -5, 0.0, y * 0.5))
    res = evaluate_cli("evaluate", paper, "--predictions", str(pred), "--data-dir", str(ann),
                       "--json", "--no-track", "-o", str(tmp_path / "o"))
    assert res.exit_code == 0, res.output
    agg = json.loads(res.output)["aggregate"]
    key = "va_score" if paper == "affwild-2021" else "devel_DE_HU_arousal_ccc"
    assert 0.5 < agg[key] < 1.0


def test_bad_input_is_a_clean_error(evaluate_cli, omg_corpus, tmp_path):
    ann, pred = omg_corpus
    (pred / "Subject_1_Story_1.csv").unlink()
    res = evaluate_cli("evaluate", "omg-empathy-2019", "--predictions", str(pred),
                       "--data-dir", str(ann), "--no-track")
    assert res.exit_code == 1 and "missing" in res.output
    res = evaluate_cli("evaluate", "omg-empathy", "--predictions", str(pred), "--no-track")
    assert res.exit_code == 1 and "omg-empathy-2019" in res.output
    res = evaluate_cli("evaluate", "omg-empathy-2019", "--predictions", str(pred), "--no-track")
    assert res.exit_code == 1 and "data link omg-empathy" in res.output


@pytest.mark.parametrize("paper", ["omg-empathy-2019", "affwild-2021", "sewa-2019"])
def test_dry_run_end_to_end(evaluate_cli, tmp_path, paper):
    res = evaluate_cli("evaluate", paper, "--dry-run", "--json", "--no-track",
                       "-o", str(tmp_path / "o"))
    assert res.exit_code == 0, res.output
    report = json.loads(res.output)
    assert report["deviations"][0].startswith("dry run")
    assert all(v is None or -1.0 <= v <= 10.0 for v in report["aggregate"].values())
    assert report["n_files"] > 0


def test_predictions_required_without_dry_run(evaluate_cli):
    res = evaluate_cli("evaluate", "sewa-2019", "--no-track")
    assert res.exit_code == 2 and "--predictions" in res.output
