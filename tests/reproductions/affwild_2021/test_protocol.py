"""affwild-2021 through `reproduce`: no claims, so the run describes the annotations."""
from __future__ import annotations

import numpy as np

from affrepro.reproductions.affwild_2021 import evaluation as ev
from affrepro.runner import reproduce


def test_dry_run_records_the_synthetic_corpus(tmp_path):
    report = reproduce("affwild-2021", dry_run=True, track=False, output_dir=tmp_path / "out")
    assert report.status == "FINISHED", report.error
    assert report.results == []
    assert report.records["VA.Validation_Set.videos"] == 4
    assert "affrepro evaluate affwild-2021" in report.details["corpus"]["evaluate"]


def test_counts_of_a_hand_made_corpus(tmp_path):
    root = tmp_path / "aw2"
    (root / "VA_Set" / "Validation_Set").mkdir(parents=True)
    ev.write_task_file(root / "VA_Set" / "Validation_Set" / "a.txt", "VA",
                       np.array([[0.1, 0.2], [-5, -5], [0.3, -0.1]]))
    ev.write_task_file(root / "VA_Set" / "Validation_Set" / "b.txt", "VA", np.array([[0.0, 0.5]]))
    report = reproduce("affwild-2021", data_dirs={"aff-wild2": root}, track=False,
                       output_dir=tmp_path / "out")
    assert report.status == "FINISHED", report.error
    assert report.records == {"VA.Validation_Set.videos": 2, "VA.Validation_Set.frames": 4,
                              "VA.Validation_Set.annotated_frames": 3}


def test_without_data_nothing_runs(tmp_path):
    report = reproduce("affwild-2021", track=False, output_dir=tmp_path / "out")
    assert report.status == "FINISHED" and report.records == {}
    assert report.data["aff-wild2"]["status"] == "unavailable"
