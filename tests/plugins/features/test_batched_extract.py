"""Corpus extraction in batches (issue 24): ``features extract --batch N`` and
``--backend triton`` stack files into one kernel call for the psychoacoustic features;
each file's features must equal what it gets alone on the CPU."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner

sf = pytest.importorskip("soundfile")
PSYCHO = ("laf", "lcf", "third_octave", "zwicker_time_varying", "roughness")


def _cli():
    from affrepro.cli import cli
    from affrepro.plugins.features import register_commands

    register_commands(cli)
    return cli


def _corpus(folder, seconds, sr, lengths=None):
    """Stereo noise files at ~70 dB; ``lengths`` (in samples) may differ per file."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(len(str(folder)))
    paths = []
    for i, n in enumerate(lengths or [int(seconds * sr)] * 3):
        x = rng.normal(size=(n, 2)) * 0.06 * (1 + i)
        path = folder / f"s{i}.wav"
        sf.write(str(path), x, sr, subtype="FLOAT")
        paths.append(path)
    return paths


def _features(out):
    return {p.name: np.load(p)["features"] for p in sorted(out.glob("*.npz"))}


def test_batch_of_files_equals_one_file_a_call(tmp_path):
    # two lengths: the batch splits into one stack per shape; batch 2 leaves a last batch
    # of one; the roughness (serial kernels) and a level feature
    files = _corpus(tmp_path / "in", 0, 8000, lengths=[2400, 2400, 2000, 2400])
    for name in ("laf", "roughness"):
        alone, batched = tmp_path / f"{name}1", tmp_path / f"{name}2"
        for out, extra in ((alone, ["-j", "1"]), (batched, ["--batch", "2"])):
            res = CliRunner().invoke(_cli(), ["features", "extract", name, *map(str, files),
                                              "-o", str(out), *extra])
            assert res.exit_code == 0, res.output
        a, b = _features(alone), _features(batched)
        assert sorted(a) == sorted(b) == [f"s{i}.npz" for i in range(4)]
        for key in a:
            np.testing.assert_allclose(b[key], a[key], rtol=1e-12, err_msg=f"{name} {key}")
        meta = json.loads(str(np.load(batched / "s0.npz")["meta"]))
        assert meta["batched_with"] == 2 and meta["channels"] == 2


def test_batch_names_the_file_that_fails(tmp_path):
    files = _corpus(tmp_path / "in", 0.3, 8000)
    (tmp_path / "in" / "s1.wav").write_bytes(b"RIFF not audio")
    res = CliRunner().invoke(_cli(), ["features", "extract", "lcf", *map(str, files),
                                      "-o", str(tmp_path / "out"), "--batch", "3",
                                      "--keep-going"])
    assert res.exit_code == 1
    assert "s1.wav" in res.output and "cannot read it as audio" in res.output
    assert sorted(_features(tmp_path / "out")) == ["s0.npz", "s2.npz"]


def test_batch_refused_for_a_feature_that_does_not_stack(tmp_path):
    files = _corpus(tmp_path / "in", 0.1, 8000)
    res = CliRunner().invoke(_cli(), ["features", "extract", "logmel", str(files[0]), "-o",
                                      str(tmp_path / "out"), "--batch", "2"])
    assert res.exit_code != 0 and "cannot stack" in res.output


SCRIPT = r"""
import sys
from pathlib import Path
from click.testing import CliRunner
from affrepro.cli import cli
from affrepro.plugins.features import register_commands
register_commands(cli)
root = Path(sys.argv[1])
FOLDER = {"laf": "short", "lcf": "short", "zwicker_time_varying": "tv"}
FOLDER.update({"third_octave": "in", "roughness": "in"})
for name in sys.argv[2:]:
    files = sorted((root / FOLDER[name]).glob("*.wav"))
    for out, extra in ((f"{name}_cpu", ["--backend", "numba", "-j", "1"]),
                       (f"{name}_gpu", ["--backend", "triton"])):
        res = CliRunner().invoke(cli, ["features", "extract", name, *map(str, files), "-o",
                                       str(root / out), *extra])
        assert res.exit_code == 0, (name, out, res.output)
"""


@pytest.mark.slow  # ~25-40 s on the shared 2-core machine: the interpreter walks every sample
def test_triton_backend_extracts_a_batch_under_the_interpreter(tmp_path):
    # every psychoacoustic feature through --backend triton (the default batch: the three
    # files in one call) under TRITON_INTERPRET=1, against the CPU kernels file by file;
    # tiny inputs, the interpreter is slow
    pytest.importorskip("torch")
    pytest.importorskip("triton")
    _corpus(tmp_path / "in", 0.25, 8000)  # one 200 ms roughness frame
    _corpus(tmp_path / "short", 0, 8000, lengths=[160, 160, 160])  # 20 ms, the level filters
    # 2.3 ms: two 2 ms loudness steps (the interpreter walks every 48 kHz sample)
    _corpus(tmp_path / "tv", 0, 44100, lengths=[100, 100, 100])
    env = {**os.environ, "TRITON_INTERPRET": "1"}
    run = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path), *PSYCHO], env=env,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    for name in PSYCHO:
        a, b = _features(tmp_path / f"{name}_cpu"), _features(tmp_path / f"{name}_gpu")
        assert sorted(a) == sorted(b) == ["s0.npz", "s1.npz", "s2.npz"], name
        for key in a:
            np.testing.assert_allclose(b[key], a[key], rtol=1e-8, atol=1e-9,
                                       err_msg=f"{name} {key}")
        meta = json.loads(str(np.load(tmp_path / f"{name}_gpu" / "s0.npz")["meta"]))
        assert meta["backend"] == "triton" and meta["batched_with"] == 3


def test_batch_into_one_table_equals_one_file_a_call(tmp_path):
    # -o FILE.parquet: the batched rows go into the one table in input order
    pq = pytest.importorskip("pyarrow.parquet")
    files = _corpus(tmp_path / "in", 0.3, 8000)
    tables = {}
    for key, extra in (("alone", ["-j", "1"]), ("batched", ["--batch", "2"])):
        out = tmp_path / f"{key}.parquet"
        res = CliRunner().invoke(_cli(), ["features", "extract", "lcf", *map(str, files),
                                          "-o", str(out), *extra])
        assert res.exit_code == 0, res.output
        tables[key] = pq.read_table(out)
    a, b = tables["alone"], tables["batched"]
    assert a.column_names == b.column_names and a.num_rows == b.num_rows == 6
    for name in a.column_names:
        assert a.column(name).to_pylist() == b.column(name).to_pylist(), name
