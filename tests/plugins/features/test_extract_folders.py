"""`features extract` on folders (issue 20): hidden entries are skipped, --keep-going
extracts the rest and lists the bad files, the first bad file otherwise stops the batch
with its name and leaves the files already written whole; a log gets progress lines."""
from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

sf = pytest.importorskip("soundfile")


def _cli():
    from affrepro.cli import cli
    from affrepro.plugins.features import register_commands

    register_commands(cli)
    return cli


def _wav(path, seconds=0.3, sr=16000):
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(sr * seconds)) / sr
    sf.write(str(path), 0.3 * np.sin(2 * np.pi * 440 * t), sr)


def test_hidden_folders_and_files_are_not_walked(tmp_path):
    from affrepro.plugins.features.extract import audio_files

    _wav(tmp_path / "a.wav")
    _wav(tmp_path / "sub" / "b.wav")
    _wav(tmp_path / ".venv" / "lib" / "site-packages" / "x" / "test.wav")
    _wav(tmp_path / "sub" / ".git" / "c.wav")
    _wav(tmp_path / "._a.wav")  # macOS resource fork beside a.wav
    assert audio_files([tmp_path]) == [tmp_path / "a.wav", tmp_path / "sub" / "b.wav"]
    assert audio_files([tmp_path / "._a.wav"]) == [tmp_path / "._a.wav"]  # named itself: kept


def _batch(tmp_path):
    audio = tmp_path / "audio"
    _wav(audio / "a.wav")
    (audio / "b.wav").write_text("not audio at all")
    _wav(audio / "c.wav")
    return audio


def test_the_first_bad_file_stops_the_batch_naming_it(tmp_path):
    audio = _batch(tmp_path)
    out = tmp_path / "feats"
    res = CliRunner().invoke(_cli(), ["features", "extract", "logmel", str(audio), "-o", str(out), "-j", "1"])
    assert res.exit_code == 1 and f"{audio / 'b.wav'}: cannot read it as audio" in res.output
    with np.load(out / "a.npz") as z:  # written before it: whole
        assert z["features"].shape[0] == json.loads(str(z["settings"]))["n_mels"] > 0
    assert not (out / "c.npz").exists()
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporaries left


def test_keep_going_extracts_the_rest_and_lists_the_bad_files_at_the_end(tmp_path):
    audio = _batch(tmp_path)
    out = tmp_path / "feats"
    res = CliRunner().invoke(_cli(), ["features", "extract", "logmel", str(audio), "-o", str(out),
                                      "-j", "2", "--keep-going"], catch_exceptions=False)
    assert res.exit_code == 1, res.output
    assert (out / "a.npz").is_file() and (out / "c.npz").is_file() and not (out / "b.npz").exists()
    tail = res.stderr.splitlines()[-2:]
    assert tail[0] == "1 file(s) could not be extracted:"
    assert tail[1].startswith(f"  {audio / 'b.wav'}: cannot read it as audio")
    assert "logmel: 2 file(s)" in res.stdout
    # on a log (stderr not a terminal): one line as it starts and one when it is done
    assert "logmel: files 0/3 (0%)" in res.stderr and "logmel: files 3/3 (100%)" in res.stderr
    js = CliRunner().invoke(_cli(), ["features", "extract", "logmel", str(audio), "-o", str(tmp_path / "j"),
                                     "--keep-going", "--json"])
    d = json.loads(js.stdout)
    assert js.exit_code == 1 and [f["source"] for f in d["failed"]] == [str(audio / "b.wav")]
    assert len(d["files"]) == 2


def test_keep_going_into_one_table_holds_the_good_files(tmp_path):
    from affrepro.plugins.features.extract import load_features

    audio = _batch(tmp_path)
    res = CliRunner().invoke(_cli(), ["features", "extract", "logmel", str(audio), "-o",
                                      str(tmp_path / "t.parquet"), "--keep-going"])
    assert res.exit_code == 1
    feats, meta = load_features(tmp_path / "t.parquet", audio / "c.wav")
    assert feats.shape[0] == meta["settings"]["n_mels"] and meta["source"].endswith("c.wav")
