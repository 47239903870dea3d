"""The araus-2022 protocol: the authors' folds, label-mean and ElasticNet against direct
computations, the dry run end to end, skips without data, and the ISD extension on the
real database (through the mirror)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from affrepro.reproductions.araus_2022 import columns as C
from affrepro.reproductions.araus_2022.iso import pleasantness
from affrepro.reproductions.araus_2022.loaders import read
from affrepro.reproductions.araus_2022.protocol import (
    check_folds, cross_validate, fold_split, labelled_responses)
from affrepro.reproductions.araus_2022.synthetic import write_araus
from affrepro.runner import reproduce

SLUG = "araus-2022"
BASELINE_CLAIMS = [f"{t}-{m}-{s}-mse" for t, models in (("pleasantness", ("label-mean", "elasticnet")),
                                                       ("eventfulness", ("label-mean",)))
                   for m in models for s in ("train", "val", "test")]
CNN_CLAIMS = [f"pleasantness-cnn-{s}-mse" for s in ("train", "val", "test")]


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("araus")
    write_araus(root, seed=0)
    return root


@pytest.fixture(scope="module")
def frame(synthetic):
    return labelled_responses(read(synthetic, "responses"))


def mse(a, b):
    return float(np.mean((np.asarray(a) - np.asarray(b)) ** 2))


def test_folds_follow_the_authors_rule(frame):
    for k in C.CV_FOLDS:
        train, val, test = fold_split(frame, k)
        assert set(train["fold_r"]) == set(C.CV_FOLDS) - {k}
        assert set(val["fold_r"]) == {k}
        assert len(train) + len(val) == int((frame["fold_r"] > 0).sum())
        assert len(test) == 48
        raw = frame[frame["fold_r"] == 0]
        want = raw.groupby(["soundscape", "masker", "smr"])["pleasantness"].mean().to_numpy()
        np.testing.assert_allclose(test["pleasantness"].to_numpy(), want, atol=1e-15)
        # the projection is linear: the mean label equals the label of the mean ratings
        np.testing.assert_allclose(test["pleasantness"].to_numpy(), pleasantness(test), atol=1e-12)
    with pytest.raises(ValueError, match="validation fold"):
        fold_split(frame, 0)


def test_label_mean_matches_a_direct_computation(frame, registries):
    out = cross_validate(frame, "pleasantness", registries.models.get("label-mean").factory, None,
                         registries.metrics.get("mse"))
    per = []
    for k in C.CV_FOLDS:
        tr = frame[(frame["fold_r"] != k) & (frame["fold_r"] > 0)]["pleasantness"]
        va = frame[frame["fold_r"] == k]["pleasantness"]
        te = frame[frame["fold_r"] == 0].groupby(["soundscape", "masker", "smr"])["pleasantness"].mean()
        mu = tr.mean()
        per.append((mse(tr, mu), mse(va, mu), mse(te, mu)))
        assert out["folds"][k]["label_mean"] == pytest.approx(mu, abs=1e-15)
    for i, s in enumerate(("train", "val", "test")):
        assert out["mean"][s] == pytest.approx(np.mean([p[i] for p in per]), abs=1e-13)


def test_elasticnet_matches_scikit_learn_on_the_132_features(frame, registries):
    from sklearn.linear_model import ElasticNet

    out = cross_validate(frame, "eventfulness", registries.models.get("elasticnet").factory,
                         C.ELASTICNET_FEATURES, registries.metrics.get("mse"))
    train, val, test = fold_split(frame, 3)
    cols = list(C.ELASTICNET_FEATURES)
    m = ElasticNet().fit(train[cols].to_numpy(), train["eventfulness"].to_numpy())
    assert out["folds"][3]["val"] == pytest.approx(mse(val["eventfulness"], m.predict(val[cols].to_numpy())),
                                                   abs=1e-12)
    assert out["folds"][3]["test"] == pytest.approx(mse(test["eventfulness"], m.predict(test[cols].to_numpy())),
                                                    abs=1e-12)
    assert len(C.ELASTICNET_FEATURES) == 132 and not any("argm" in c for c in C.ELASTICNET_FEATURES)


class _Ctx:
    def __init__(self):
        self.deviations = []

    def deviation(self, text):
        self.deviations.append(text)


def test_araus_v2_folds_are_flagged_and_missing_folds_refused(frame):
    ctx = _Ctx()
    v2 = pd.concat([frame, frame[frame["fold_r"] == 1].assign(fold_r=6.0)])
    check_folds(v2, ctx)
    assert "ARAUSv2 folds 6/7" in ctx.deviations[0]
    from affrepro.errors import DataError

    with pytest.raises(DataError, match=r"fold\(s\) \[0\]"):
        check_folds(frame[frame["fold_r"] != 0], _Ctx())


def test_dry_run_runs_every_stage_on_the_synthetic_corpus(tmp_path, no_mirror):
    report = reproduce(SLUG, dry_run=True, output_dir=tmp_path / "out", track=False)
    assert report.status == "FINISHED", report.error
    by_id = {r.claim.id: r for r in report.results}
    for cid in BASELINE_CLAIMS:
        assert by_id[cid].verdict.value == "skipped" and "dry run" in by_id[cid].reason
        assert np.isfinite(by_id[cid].measured)
    for cid in CNN_CLAIMS:  # the CNN stage ran end to end on the synthetic WAVs
        assert by_id[cid].verdict.value == "skipped" and "dry run" in by_id[cid].reason
        assert np.isfinite(by_id[cid].measured) and by_id[cid].measured > 0
    cnn = report.details["araus_cnn"]
    assert cnn["seeds"] == [0] and cnn["training"]["epochs"] == 1 and len(cnn["folds"][0]) == 5
    assert report.records["araus.pleasantness.cnn.test_mse"] == by_id["pleasantness-cnn-test-mse"].measured
    assert any(d.startswith("dry run: the CNN trained 1 epoch") for d in report.deviations)
    assert report.data["araus"]["status"] == "synthetic"
    assert "araus.eventfulness.elasticnet.test_mse" in report.records
    assert report.records["isd.acoustic.pleasantness.elasticnet.val_mse"] > 0
    assert "per_fold" in report.details["araus_folds"]
    assert (tmp_path / "out" / "report.json").is_file()


def test_without_the_data_every_claim_is_skipped_with_instructions(tmp_path, no_mirror):
    report = reproduce(SLUG, output_dir=tmp_path / "out", track=False)
    assert report.status == "FINISHED"
    for r in report.results:
        assert r.verdict.value == "skipped"
        assert "affrepro data fetch araus" in r.reason and "affrepro data link araus PATH" in r.reason


def test_linked_data_runs_the_claims_and_the_real_isd_extension(synthetic, tmp_path, mirror, cli_runner):
    res = cli_runner("data", "link", "araus", str(synthetic))
    assert res.exit_code == 0, res.output
    res = cli_runner("data", "verify", "araus")
    assert res.exit_code == 0, res.output
    report = reproduce(SLUG, output_dir=tmp_path / "out", track=False)
    assert report.status == "FINISHED", report.error
    by_id = {r.claim.id: r for r in report.results}
    for cid in BASELINE_CLAIMS:  # synthetic numbers: measured and judged, not reproduced
        assert by_id[cid].verdict.value == "not reproduced"
    assert report.records["isd.n_responses"] == 3589
    assert report.details["isd_sha256"]["ISD v1.0 Data.csv"].startswith("1e54e41c")
    assert report.details["soundscapes_csv_is_public_copy"] is False
    assert any("differs from the public copy" in d for d in report.deviations)
    assert any("the authors' notebook has {'n_train': 20160" in d for d in report.deviations)
    for cid in CNN_CLAIMS:  # tables only, no WAV folders
        assert by_id[cid].verdict.value == "skipped" and "soundscapes/ and maskers/" in by_id[cid].reason


@pytest.fixture(scope="module")
def with_audio(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("araus-audio")
    write_araus(root, seed=0, audio_seconds=0.35)
    return root


def _cnn_results(report, status="FINISHED"):
    assert report.status == status, report.error
    return {r.claim.id: r for r in report.results if r.claim.id in CNN_CLAIMS}


def test_on_the_cpu_the_cnn_claims_are_skipped_with_the_reason(with_audio, tmp_path, no_mirror, monkeypatch):
    monkeypatch.delenv("AFFREPRO_ARAUS_CNN_CPU", raising=False)
    report = reproduce(SLUG, data_dirs={"araus": with_audio}, output_dir=tmp_path / "out", track=False)
    for r in _cnn_results(report).values():
        assert r.verdict.value == "skipped" and r.measured is None
        assert "--device cuda" in r.reason and "AFFREPRO_ARAUS_CNN_CPU=1" in r.reason
        assert "hours" in r.reason
    assert "araus_cnn" not in report.details
    by_id = {r.claim.id: r for r in report.results}
    assert by_id["pleasantness-elasticnet-val-mse"].verdict.value == "not reproduced"  # still measured


def test_a_failing_cnn_stage_errors_only_the_cnn_claims(with_audio, tmp_path, no_mirror, monkeypatch):
    from affrepro.reproductions.araus_2022 import protocol

    def out_of_memory(ctx, root, frame):
        raise RuntimeError("CUDA out of memory (simulated)")

    monkeypatch.setattr(protocol, "cnn_claims", out_of_memory)
    report = reproduce(SLUG, data_dirs={"araus": with_audio}, output_dir=tmp_path / "out", track=False)
    # the other stages finish, and the CNN claims' `error` verdicts fail the run (issue 21)
    for r in _cnn_results(report, status="FAILED").values():
        assert r.verdict.value == "error" and "CUDA out of memory (simulated)" in r.reason
    by_id = {r.claim.id: r for r in report.results}
    assert by_id["pleasantness-elasticnet-val-mse"].verdict.value == "not reproduced"  # still measured
    assert "out_of_memory" in report.details["cnn_error"]


def test_device_cuda_without_a_gpu_skips_the_cnn_claims(with_audio, tmp_path, no_mirror):
    import torch

    if torch.cuda.is_available():
        pytest.skip("checks a machine without CUDA; this one has a GPU")
    report = reproduce(SLUG, data_dirs={"araus": with_audio}, device="cuda", output_dir=tmp_path / "out",
                       track=False)
    for r in _cnn_results(report).values():
        assert r.verdict.value == "skipped" and "sees no CUDA GPU" in r.reason


def test_cpu_opt_in_trains_and_judges_the_cnn_claims(with_audio, tmp_path, no_mirror, monkeypatch):
    import torch

    from affrepro.reproductions.araus_2022 import cnn

    monkeypatch.setenv("AFFREPRO_ARAUS_CNN_CPU", "1")
    monkeypatch.setenv("AFFREPRO_ARAUS_CNN_CACHE", str(tmp_path / "cache"))
    # the paper's protocol with a smaller budget: one seed, one epoch (and one torch thread)
    monkeypatch.setattr(cnn, "PAPER_SEEDS", (3,))
    monkeypatch.setitem(cnn.TRAINING, "epochs", 1)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        report = reproduce(SLUG, data_dirs={"araus": with_audio}, output_dir=tmp_path / "out", track=False)
    finally:
        torch.set_num_threads(threads)
    for r in _cnn_results(report).values():  # synthetic numbers, measured and judged (either way)
        assert r.verdict.value in ("reproduced", "not reproduced") and np.isfinite(r.measured)
    cnn_details = report.details["araus_cnn"]
    assert cnn_details["seeds"] == [3] and cnn_details["device"] == "cpu"
    assert cnn_details["feature_cache"] == str(tmp_path / "cache")
    assert len(list((tmp_path / "cache").rglob("*.npy"))) > 48  # streamed from the cache
    assert not any(d.startswith("dry run") for d in report.deviations)


def test_the_model_registry_has_araus_cnn(registries):
    from affrepro.reproductions.araus_2022.cnn import ArausCNN

    model = registries.models.get("araus-cnn")
    assert registries.models.plugin_of("araus-cnn") == "araus-2022"
    est = model.factory(seed=2, epochs=3)
    assert isinstance(est, ArausCNN) and est.seed == 2 and est.epochs == 3 and est.patience == 10


def test_isd_extension_on_the_real_database(mirror, registries):
    from affrepro import data as datamod
    from affrepro.reproductions.araus_2022.isd import FEATURES, load_isd, run_extension

    ds = registries.datasets.get("isd")
    datamod.fetch(ds)
    path = datamod.dataset_path(ds) / "ISD v1.0 Data.csv"
    models = {n: registries.models.get(n).factory for n in ("label-mean", "elasticnet")}
    notes = {}
    res = run_extension(path, models, note=notes.__setitem__)
    assert res["isd.n_responses_complete_paqs"] == 3552 and res["isd.n_locations"] == 26
    assert res["isd.acoustic.n_responses"] == 1443 and res["isd.acoustic.n_locations"] == 18
    # label-mean, leave-one-location-out, recomputed independently with pandas
    df = load_isd(path).dropna(subset=["pleasantness"])
    per_loc = [((g["pleasantness"] - df.loc[df["LocationID"] != loc, "pleasantness"].mean()) ** 2).mean()
               for loc, g in df.groupby("LocationID")]
    assert res["isd.all.pleasantness.label-mean.val_mse"] == pytest.approx(np.mean(per_loc), abs=1e-12)
    # the acoustic indicators carry information on unseen locations
    for t in ("pleasantness", "eventfulness"):
        assert (res[f"isd.acoustic.{t}.elasticnet.val_mse"]
                < res[f"isd.acoustic.{t}.label-mean.val_mse"])
    assert notes["isd_extension"]["features"] == list(FEATURES)
    assert len(notes["isd_extension"]["per_location"]["isd.acoustic.pleasantness.elasticnet"]) == 18


def test_the_araus_isd_command_prints_the_extension_table(mirror, cli_runner):
    import json

    res = cli_runner("araus-isd", "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["isd.n_locations"] == 26 and "isd.acoustic.pleasantness.elasticnet.val_mse" in out
    res = cli_runner("araus-isd")
    assert "acoustic  pleasantness  elasticnet" in res.output
