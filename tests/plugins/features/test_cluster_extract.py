"""``features extract --cluster``: files as tasks on a real Dask LocalCluster of 2 worker
processes, written by the driver in exactly the local path's formats and values."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest

pytest.importorskip("distributed", reason="needs affrepro[cluster] (Dask distributed)")
sf = pytest.importorskip("soundfile")

FEATURE = "laf"  # an ARAUS _r feature (Numba), quick on short files


@pytest.fixture
def stimuli(tmp_path):
    folder = tmp_path / "stimuli"
    (folder / "sub").mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(5):
        x = rng.standard_normal((2, 44100 // 2)) * (0.02 * (i + 1))
        sf.write(str(folder / ("sub" if i % 2 else "") / f"s{i}.wav"), x.T, 44100, subtype="PCM_24")
    return folder


def _feature():
    from affrepro.plugin_manager import get_registries

    return get_registries().features.get(FEATURE)


@pytest.mark.parametrize("out_name", ["feats.parquet", "npz_dir"])
def test_cluster_extraction_writes_what_the_local_path_writes(dask_local2, stimuli, tmp_path, out_name):
    from affrepro.plugins.features.cluster import extract_many_on
    from affrepro.plugins.features.extract import audio_files, extract_many, load_features

    files = audio_files([stimuli])
    feature = _feature()
    settings = dict(feature.settings)
    local_out, remote_out = tmp_path / "local" / out_name, tmp_path / "remote" / out_name
    local = extract_many(FEATURE, feature, files, local_out, settings, [stimuli], 1, False, "float32", "auto")
    seen = []
    remote = extract_many_on(dask_local2, FEATURE, feature, files, remote_out, settings, [stimuli], False,
                             "float32", "auto", progress=seen.append)
    assert [r.source for r in remote] == [r.source for r in local] == files  # input order
    assert len(seen) == len(files)
    assert [r.shape for r in remote] == [r.shape for r in local]
    for f, lr, rr in zip(files, local, remote):
        a, ma = load_features(lr.output, str(f))
        b, mb = load_features(rr.output, str(f))
        assert np.array_equal(a, b, equal_nan=True)  # bit for bit
        assert {k: v for k, v in ma.items()} == {k: v for k, v in mb.items()}
    if out_name == "npz_dir":
        assert sorted(p.relative_to(remote_out) for p in remote_out.rglob("*.npz")) == \
            sorted(p.relative_to(local_out) for p in local_out.rglob("*.npz"))
    assert not [p for p in remote_out.parent.rglob(".*")]  # no temporaries left


def test_a_file_changed_after_submission_is_refused_by_the_worker(dask_local2, stimuli, tmp_path):
    from affrepro.plugins.features.cluster import extract_unit

    f = sorted(stimuli.glob("*.wav"))[0]
    outs = list(dask_local2.run(extract_unit, [("f", (FEATURE, _feature(), str(f), "0" * 64,
                                                      dict(_feature().settings), False, "float32",
                                                      "auto", False))]))
    assert not outs[0].ok and "sha256" in outs[0].error and str(f) in outs[0].error


def test_a_failing_file_aborts_the_table_and_leaves_nothing(dask_local2, stimuli, tmp_path):
    from affrepro.plugins.features.cluster import extract_many_on
    from affrepro.plugins.features.extract import audio_files

    bad = stimuli / "zz_broken.wav"
    bad.write_bytes(b"RIFF not really a wave file")
    out = tmp_path / "t.parquet"
    with pytest.raises(ValueError, match="zz_broken.wav"):
        extract_many_on(dask_local2, FEATURE, _feature(), audio_files([stimuli]), out,
                        dict(_feature().settings), [stimuli], False, "float32", "auto")
    assert not out.exists() and not list(tmp_path.glob(".*"))


def test_the_cli_extracts_on_a_scheduler_address(dask_local2, stimuli, tmp_path, cli_runner):
    address = dask_local2.client.scheduler.address
    out = tmp_path / "feats.parquet"
    res = cli_runner("features", "extract", FEATURE, str(stimuli), "-o", str(out), "--cluster", address, "--json")
    assert res.exit_code == 0, res.output
    summary = json.loads(res.output)
    assert len(summary["files"]) == 5 and out.is_file()


def test_the_cli_names_an_unreachable_scheduler_before_any_work(stimuli, tmp_path, cli_runner, monkeypatch):
    monkeypatch.setenv("AFFREPRO_CLUSTER_TIMEOUT", "2")
    out = tmp_path / "feats.parquet"
    res = cli_runner("features", "extract", FEATURE, str(stimuli), "-o", str(out),
                     "--cluster", "tcp://127.0.0.1:9")
    assert res.exit_code == 1 and "unreachable" in res.output and not out.exists()
    assert not os.listdir(tmp_path / "stimuli" / "sub") == []


def test_keep_going_on_the_cluster_records_the_bad_file_with_its_traceback_and_extracts_the_rest(
        dask_local2, stimuli, tmp_path, cli_runner):
    import pyarrow.parquet as pq

    (stimuli / "zz_broken.wav").write_bytes(b"RIFF not really a wave file")
    address = dask_local2.client.scheduler.address
    local, remote = tmp_path / "local.parquet", tmp_path / "remote.parquet"
    res_local = cli_runner("features", "extract", FEATURE, str(stimuli), "-o", str(local), "-j", "1",
                           "--keep-going", "--json")
    res = cli_runner("features", "extract", FEATURE, str(stimuli), "-o", str(remote), "--cluster", address,
                     "--keep-going", "--json")
    assert res.exit_code == res_local.exit_code == 1, res.output  # a file failed: exit status 1
    summary = json.loads(res.stdout)
    assert len(summary["files"]) == 5
    (bad,) = summary["failed"]
    assert bad["source"].endswith("zz_broken.wav") and "zz_broken.wav" in bad["error"]
    assert "Traceback" in bad["traceback"] and "cannot read it as audio" in bad["traceback"]
    assert pq.read_table(remote).equals(pq.read_table(local))  # the good files, as the local path wrote them
    assert not list(tmp_path.glob(".*"))
