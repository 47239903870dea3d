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
    for cid in CNN_CLAIMS:
        assert by_id[cid].verdict.value == "skipped" and "araus-cnn" in by_id[cid].reason
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
