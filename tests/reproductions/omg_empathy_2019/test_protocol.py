"""omg-empathy-2019 through `reproduce`: dry run, skips without data, and a hand-made corpus
whose claimed CCCs are checked against a direct computation of calculateCCC.py's formula."""
from __future__ import annotations

import numpy as np
import pytest

from affrepro.reproductions.omg_empathy_2019 import baseline_predictions as bp
from affrepro.reproductions.omg_empathy_2019 import evaluation as ev
from affrepro.runner import reproduce

SLUG = "omg-empathy-2019"
SUBJECT_CLAIMS = [f"listener-personalized-subject-{s}-ccc" for s in range(1, 11)]


def direct_ccc(y: np.ndarray, p: np.ndarray) -> float:
    """calculateCCC.py's per-file CCC written out: population moments, Pearson rho."""
    rho = np.corrcoef(p, y)[0, 1]
    sy, sp = y.std(), p.std()
    return 2 * rho * sy * sp / (sp ** 2 + sy ** 2 + (p.mean() - y.mean()) ** 2)


def test_dry_run_exercises_every_claim(tmp_path):
    report = reproduce(SLUG, dry_run=True, track=False, output_dir=tmp_path / "out")
    assert report.status == "FINISHED", report.error
    assert len(report.results) == 14
    for r in report.results:
        assert r.verdict.value == "skipped" and "dry run" in r.reason
        assert r.measured is not None and np.isfinite(r.measured)
    assert report.data["omg-empathy-baseline-predictions"]["status"] == "synthetic"
    assert "listener.generalized.generalized_mean_ccc" in report.records


def test_without_data_every_claim_is_skipped_with_instructions(tmp_path):
    report = reproduce(SLUG, track=False, output_dir=tmp_path / "out")
    assert report.status == "FINISHED"
    for r in report.results:
        assert r.verdict.value == "skipped" and r.measured is None
        assert "affrepro data link omg-empathy PATH" in r.reason
        assert "affrepro data link omg-empathy-baseline-predictions PATH" in r.reason


@pytest.fixture
def hand_made(tmp_path):
    """10 subjects' validation annotations (plus a training story the claims must ignore)
    and three of the four baseline prediction folders (actor/generalized is left out)."""
    rng = np.random.default_rng(7)
    ann, preds = tmp_path / "ann", tmp_path / "preds"
    ann.mkdir()
    gold, folders = {}, {}
    for s in range(1, 11):
        n = 20 + s
        gold[s] = np.round(np.tanh(np.cumsum(rng.normal(scale=0.3, size=n))), 6)
        ev.write_valence(ann / f"Subject_{s}_Story_1.csv", gold[s])
        ev.write_valence(ann / f"Subject_{s}_Story_2.csv", rng.uniform(-1, 1, size=9))
    for source, track in [("listener", "personalized"), ("listener", "generalized"),
                          ("actor", "personalized")]:
        values = {s: np.round(rng.uniform(-1, 1, size=gold[s].size) * 0.5 + 0.3 * gold[s], 6)
                  for s in gold}
        bp.write_predictions(bp.folder_for(preds, source, track), values)
        folders[(source, track)] = values
    return ann, preds, gold, folders


def test_claims_equal_a_direct_computation(hand_made, tmp_path):
    ann, preds, gold, folders = hand_made
    assert bp.verify(preds) == []
    report = reproduce(SLUG, track=False, output_dir=tmp_path / "out",
                       data_dirs={"omg-empathy": ann, "omg-empathy-baseline-predictions": preds})
    assert report.status == "FINISHED", report.error
    by_id = {r.claim.id: r for r in report.results}

    def per_subject(source, track):
        return [direct_ccc(gold[s], folders[(source, track)][s]) for s in range(1, 11)]

    listener_p = per_subject("listener", "personalized")
    for s, cid in enumerate(SUBJECT_CLAIMS):
        assert by_id[cid].measured == pytest.approx(listener_p[s], abs=1e-12)
    assert by_id["listener-personalized-mean-ccc"].measured == pytest.approx(np.mean(listener_p), abs=1e-12)
    assert by_id["listener-generalized-ccc"].measured == pytest.approx(
        np.mean(per_subject("listener", "generalized")), abs=1e-12)
    assert by_id["actor-personalized-ccc"].measured == pytest.approx(
        np.mean(per_subject("actor", "personalized")), abs=1e-12)
    for cid, r in by_id.items():
        if cid != "actor-generalized-ccc":
            assert r.verdict.value in ("reproduced", "not reproduced"), (cid, r.reason)
    missing = by_id["actor-generalized-ccc"]
    assert missing.verdict.value == "skipped" and missing.measured is None
    assert "actor/generalized" in missing.reason
    assert report.details["scoring"]["validation_story"] == 1


def test_a_wrong_length_prediction_is_an_error_not_a_truncation(hand_made, tmp_path):
    ann, preds, gold, _ = hand_made
    f = bp.folder_for(preds, "listener", "personalized") / "Subject_3_Story_1.csv"
    ev.write_valence(f, np.zeros(gold[3].size - 2) + 0.1)
    report = reproduce(SLUG, track=False, output_dir=tmp_path / "out",
                       data_dirs={"omg-empathy": ann, "omg-empathy-baseline-predictions": preds})
    assert report.status == "FAILED"
    r = {r.claim.id: r for r in report.results}["listener-personalized-subject-3-ccc"]
    assert r.verdict.value == "error" and "Subject_3_Story_1.csv" in r.reason


def test_verify_lists_layout_problems(hand_made, tmp_path):
    _, preds, _, _ = hand_made
    folder = bp.folder_for(preds, "listener", "generalized")
    (folder / "Subject_5_Story_1.csv").unlink()
    (folder / "Subject_6_Story_1.csv").write_text("valence\n0.1\nnan\n")
    (preds / "Subject_1_Story_1.csv").write_text("valence\n0.1\n")
    text = "\n".join(map(str, bp.verify(preds)))
    assert "Subject_5_Story_1.csv" in text and "missing" in text
    assert "Subject_6_Story_1.csv:3 [valence]" in text
    assert "not at the top" in text
    assert "no prediction folders" in "\n".join(map(str, bp.verify(tmp_path / "ann")))


def test_plugins_check_passes():
    from affrepro.conformance import check_plugin
    from affrepro.plugin_manager import current_state, get_registries

    get_registries()
    checks = check_plugin(current_state(), SLUG)
    assert all(c.ok for c in checks), [(c.name, c.detail) for c in checks if not c.ok]
