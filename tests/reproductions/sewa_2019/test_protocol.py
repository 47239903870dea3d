"""sewa-2019 through `reproduce`: no claims, so the run describes the label files."""
from __future__ import annotations

import numpy as np

from affrepro.reproductions.sewa_2019 import evaluation as ev
from affrepro.runner import reproduce


def test_dry_run_records_the_synthetic_corpus(tmp_path):
    report = reproduce("sewa-2019", dry_run=True, track=False, output_dir=tmp_path / "out")
    assert report.status == "FINISHED", report.error
    assert report.results == []
    assert report.records["Devel.HU.recordings"] == 3
    assert "affrepro evaluate sewa-2019" in report.details["corpus"]["evaluate"]


def test_counts_of_a_hand_made_corpus(tmp_path):
    folder = tmp_path / "sewa"
    folder.mkdir()
    ev.write_file(folder / "Devel_DE_01.csv", "Devel_DE_01", np.zeros((5, 3)))
    ev.write_file(folder / "Devel_DE_02.csv", "Devel_DE_02", np.ones((3, 3)) * 0.1)
    report = reproduce("sewa-2019", data_dirs={"sewa-avec2019": folder}, track=False,
                       output_dir=tmp_path / "out")
    assert report.status == "FINISHED", report.error
    assert report.records == {"Devel.DE.recordings": 2, "Devel.DE.frames": 8,
                              "Devel.DE.seconds": 0.8}


def test_without_data_nothing_runs(tmp_path):
    report = reproduce("sewa-2019", track=False, output_dir=tmp_path / "out")
    assert report.status == "FINISHED" and report.records == {}
    assert report.data["sewa-avec2019"]["status"] == "unavailable"
