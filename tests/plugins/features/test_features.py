"""The logmel/mfcc features and `affrepro features extract`."""
import json
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner

sf = pytest.importorskip("soundfile")


def _cli():
    """The root group with the plugins' commands added, as `affrepro` builds it."""
    from affrepro.cli import cli
    from affrepro.plugins.features import register_commands

    register_commands(cli)
    return cli


def _wav(path, sr, seconds, channels=1, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(int(sr * seconds)) / sr
    y = 0.3 * np.sin(2 * np.pi * 440 * t) + 0.05 * rng.standard_normal(t.size)
    data = np.stack([y * (0.5 + 0.5 * c) for c in range(channels)], axis=1)
    sf.write(str(path), data, sr)
    return data


def test_features_are_registered(registries):
    assert {"logmel", "mfcc"} <= set(registries.features.names())
    f = registries.features.get("logmel")
    assert f.settings["n_mels"] == 64 and f.settings["target_sample_rate"] == 16000


def test_feature_extract_matches_the_kernel(registries):
    from affrepro.kernels import spectral as sp

    y = np.random.default_rng(1).standard_normal(16000).astype(np.float32)
    got = registries.features.get("logmel").extract(y, 16000, n_mels=40)
    ref = sp.logmel(y, sr=16000, n_fft=1024, hop_length=160, n_mels=40, backend="reference")
    np.testing.assert_allclose(got, ref, atol=1e-4)
    m = registries.features.get("mfcc").extract(y, 16000, n_mfcc=13, lifter=22)
    assert m.shape == (13, ref.shape[-1])


def test_extract_resamples_to_the_feature_rate(registries):
    from affrepro.kernels import spectral as sp
    from affrepro.plugins.features.extract import resample

    y = np.random.default_rng(2).standard_normal(44100)
    got = registries.features.get("logmel").extract(y, 44100)
    y16 = resample(y, 44100, 16000)
    assert y16.shape == (16000,)
    np.testing.assert_allclose(got, sp.logmel(y16, sr=16000, n_fft=1024, hop_length=160,
                                              n_mels=64, backend="reference"), atol=1e-6)


@pytest.mark.parametrize("res_type", ["soxr_hq", "soxr_vhq", "polyphase"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_resample_is_librosa_resample(res_type, dtype):
    librosa = pytest.importorskip("librosa")
    from affrepro.plugins.features.extract import resample

    rng = np.random.default_rng(3)
    for shape, sr_from, sr_to in [((4411,), 44100, 16000), ((2, 3001), 22050, 16000),
                                  ((2, 3, 997), 16000, 44100), ((1,), 48000, 16000)]:
        y = rng.standard_normal(shape).astype(dtype)
        ours = resample(y, sr_from, sr_to, res_type)
        theirs = librosa.resample(y, orig_sr=sr_from, target_sr=sr_to, res_type=res_type)
        assert ours.dtype == theirs.dtype == dtype and ours.shape == theirs.shape
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-6 if dtype == np.float32
                                   else 1e-12)
    assert resample(y, 16000, 16000) is y
    with pytest.raises(ValueError, match="res_type must be one of"):
        resample(y, 44100, 16000, "kaiser_best")
    with pytest.raises(ValueError, match="sample rates must be positive"):
        resample(y, 0, 16000)


def test_cli_mono_logmel_is_librosa_load_melspectrogram_power_to_db(tmp_path):
    """A 44.1 kHz stereo file through `features extract logmel --mono` against the librosa
    pipeline a researcher would write: load(sr=16000) (mono, soxr_hq), melspectrogram
    with the same settings, power_to_db (ref 1, amin 1e-10, top_db 80)."""
    librosa = pytest.importorskip("librosa")
    _wav(tmp_path / "s.wav", 44100, 1.3, channels=2, seed=4)
    _extract_ok = CliRunner().invoke(_cli(), ["features", "extract", "logmel",
                                              str(tmp_path / "s.wav"), "-o",
                                              str(tmp_path / "s.npz"), "--mono"],
                                     catch_exceptions=False)
    assert _extract_ok.exit_code == 0, _extract_ok.output
    with np.load(tmp_path / "s.npz") as z:
        ours = z["features"]
        assert json.loads(str(z["settings"]))["res_type"] == "soxr_hq"
    y, sr = librosa.load(str(tmp_path / "s.wav"), sr=16000)
    S = librosa.feature.melspectrogram(y=y, sr=sr, n_fft=1024, hop_length=160, n_mels=64)
    theirs = librosa.power_to_db(S)
    assert ours.shape == theirs.shape == (64, 1 + int(np.ceil(1.3 * 16000)) // 160)
    np.testing.assert_allclose(ours, theirs, atol=2e-3)


def test_cli_extract_a_folder(tmp_path):
    audio = tmp_path / "audio"
    (audio / "sub").mkdir(parents=True)
    _wav(audio / "a.wav", 16000, 1.0)
    _wav(audio / "sub" / "b.wav", 22050, 0.5, seed=1)
    stereo = _wav(audio / "c.flac", 44100, 0.3, channels=2, seed=2)
    (audio / "notes.txt").write_text("not audio")
    out = tmp_path / "feats"
    res = CliRunner().invoke(_cli(), ["features", "extract", "logmel", str(audio), "-o", str(out),
                                      "--set", "n_mels=40", "-j", "2", "--json"],
                             catch_exceptions=False)
    assert res.exit_code == 0, res.output
    summary = json.loads(res.output)
    assert len(summary["files"]) == 3
    with np.load(out / "a.npz") as z:
        feats = z["features"]
        settings = json.loads(str(z["settings"]))
        meta = json.loads(str(z["meta"]))
    assert feats.shape == (40, 101) and feats.dtype == np.float32
    assert settings["n_mels"] == 40 and settings["hop_length"] == 160
    assert meta["source_sample_rate"] == 16000 and meta["feature"] == "logmel"
    with np.load(out / "sub" / "b.npz") as z:
        assert z["features"].shape == (40, 51)  # 0.5 s resampled 22.05 -> 16 kHz
    with np.load(out / "c.npz") as z:
        assert z["features"].shape[0] == stereo.shape[1] == 2  # channels kept
        assert json.loads(str(z["meta"]))["channels"] == 2


def test_cli_extract_one_file_to_npz_and_mono(tmp_path):
    _wav(tmp_path / "x.wav", 16000, 0.5, channels=2)
    res = CliRunner().invoke(_cli(), ["features", "extract", "mfcc", str(tmp_path / "x.wav"),
                                      "-o", str(tmp_path / "x.npz"), "--mono", "--set",
                                      "n_mfcc=13"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert "1 file(s)" in res.output
    with np.load(tmp_path / "x.npz") as z:
        assert z["features"].shape == (13, 51)


def test_cli_extract_errors(tmp_path):
    _wav(tmp_path / "x.wav", 16000, 0.1)
    cli = _cli()
    r = CliRunner().invoke(cli, ["features", "extract", "nope", str(tmp_path / "x.wav"), "-o",
                                 str(tmp_path / "o")])
    assert r.exit_code != 0 and "no feature named 'nope'" in r.output
    r = CliRunner().invoke(cli, ["features", "extract", "logmel", str(tmp_path / "x.wav"),
                                 "-o", str(tmp_path / "o"), "--set", "n_bananas=3"])
    assert r.exit_code != 0 and "no setting 'n_bananas'" in r.output
    (tmp_path / "empty").mkdir()
    r = CliRunner().invoke(cli, ["features", "extract", "logmel", str(tmp_path / "empty"),
                                 "-o", str(tmp_path / "o")])
    assert r.exit_code != 0 and "no audio files" in r.output


def test_loading_the_plugins_imports_nothing_heavy():
    code = ("import sys, affrepro.plugins.features, affrepro.plugins.bench\n"
            "print([m for m in ('numpy', 'torch', 'numba', 'scipy', 'soundfile')"
            " if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


def test_affrepro_features_list_through_the_real_entry_point():
    out = subprocess.run([sys.executable, "-c", "from affrepro.cli import main; main()",
                          "features", "list"], capture_output=True, text=True, check=True)
    assert "logmel" in out.stdout and "mfcc" in out.stdout


def test_parallel_extraction_survives_the_workqueue_threading_layer(tmp_path):
    """Numba's 'workqueue' layer aborts the process when two threads launch parallel
    kernels at once (the time-varying loudness kernels are parallel): with it, -j 4 falls
    back to one file at a time with a warning, and every file is extracted."""
    for i in range(4):
        _wav(tmp_path / f"s{i}.wav", 16000, 0.3, seed=i)
    code = ("import warnings, sys; from affrepro.cli import main\n"
            "sys.argv = ['affrepro', 'features', 'extract', 'zwicker_time_varying', "
            f"{str(tmp_path)!r}, '-o', {str(tmp_path / 'out')!r}, '-j', '4']\n"
            "main()\n")
    env = {**__import__("os").environ, "NUMBA_THREADING_LAYER": "workqueue"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "workqueue" in out.stderr and "one file at a time" in out.stderr
    assert "'zwicker_time_varying'" in out.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [f"s{i}.npz" for i in range(4)]


def test_logmel_extracts_in_parallel_under_the_workqueue_layer(tmp_path):
    """logmel's Numba kernels are serial (numba_parallel=False), so the workqueue guard
    leaves -j alone: no fallback warning, and the same arrays as one file at a time."""
    for i in range(4):
        _wav(tmp_path / f"s{i}.wav", 16000, 0.5, seed=i)
    env = {**__import__("os").environ, "NUMBA_THREADING_LAYER": "workqueue"}
    for jobs, out_dir in (("4", "par"), ("1", "ser")):
        code = ("import sys; from affrepro.cli import main\n"
                "sys.argv = ['affrepro', 'features', 'extract', 'logmel', "
                f"{str(tmp_path)!r}, '-o', {str(tmp_path / out_dir)!r}, '-j', {jobs!r}]\n"
                "main()\n")
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             env=env, timeout=600)
        assert out.returncode == 0, out.stderr[-2000:]
        assert "one file at a time" not in out.stderr
    for i in range(4):
        with np.load(tmp_path / "par" / f"s{i}.npz") as a:
            with np.load(tmp_path / "ser" / f"s{i}.npz") as b:
                assert np.array_equal(a["features"], b["features"])


# ---------------------------------------------------------------- Parquet output
pd = pytest.importorskip("pandas")
pytest.importorskip("pyarrow")


def _extract(args):
    res = CliRunner().invoke(_cli(), ["features", "extract", *map(str, args)],
                             catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return res


def _audio_folder(tmp_path):
    audio = tmp_path / "audio"
    (audio / "sub").mkdir(parents=True)
    _wav(audio / "a.wav", 16000, 1.0)
    _wav(audio / "sub" / "b.wav", 22050, 0.5, seed=1)
    _wav(audio / "c.flac", 44100, 0.3, channels=2, seed=2)
    return audio


def test_one_parquet_table_holds_every_input_and_reads_back_as_the_npz_arrays(tmp_path):
    from affrepro.plugins.features.extract import load_features

    audio = _audio_folder(tmp_path)
    _extract(["logmel", audio, "-o", tmp_path / "npz", "--set", "n_mels=40"])
    _extract(["logmel", audio, "-o", tmp_path / "all.parquet", "--set", "n_mels=40", "-j", "2"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["all.parquet", "audio", "npz"]
    df = pd.read_parquet(tmp_path / "all.parquet")
    assert list(df.columns[:4]) == ["source", "channel", "frame", "time_s"]
    assert list(df.columns[4:]) == [f"mel_{i:02d}" for i in range(40)]
    assert df["mel_00"].dtype == np.float32
    total = 0
    for rel in ("a", "sub/b", "c"):
        with np.load(tmp_path / "npz" / f"{rel}.npz") as z:
            want = z["features"]
            want_meta = json.loads(str(z["meta"]))
        src = str(next(audio.glob(f"{rel}.*")))
        got, meta = load_features(tmp_path / "all.parquet", source=src)
        np.testing.assert_array_equal(got, want)  # same shape, channels kept, bit-identical
        assert meta == want_meta
        rows = df[df["source"] == src]
        n_ch = 1 if want.ndim == 2 else want.shape[0]
        assert len(rows) == n_ch * want.shape[-1]
        first = rows[rows["channel"] == n_ch - 1]
        np.testing.assert_array_equal(first["frame"], np.arange(want.shape[-1]))
        np.testing.assert_allclose(first["time_s"], np.arange(want.shape[-1]) * 160 / 16000)
        np.testing.assert_array_equal(first["mel_07"], want.reshape(n_ch, 40, -1)[-1, 7])
        total += len(rows)
    assert total == len(df)
    import pyarrow.parquet as pq

    kv = pq.read_metadata(tmp_path / "all.parquet").metadata
    assert json.loads(kv[b"affrepro.settings"])["n_mels"] == 40
    assert kv[b"affrepro.feature"] == b"logmel"


def test_parquet_per_file_in_a_folder_reads_as_one_table(tmp_path):
    from affrepro.plugins.features.extract import load_features

    audio = _audio_folder(tmp_path)
    _extract(["mfcc", audio, "-o", tmp_path / "out", "--format", "parquet", "--set", "n_mfcc=13"])
    files = sorted(str(p.relative_to(tmp_path / "out")) for p in (tmp_path / "out").rglob("*"))
    assert files == ["a.parquet", "c.parquet", "sub", "sub/b.parquet"]
    got, meta = load_features(tmp_path / "out" / "sub" / "b.parquet")
    assert got.shape == (13, 51) and meta["source_sample_rate"] == 22050
    both = pd.concat([pd.read_parquet(p) for p in sorted((tmp_path / "out").rglob("*.parquet"))])
    assert list(both.columns[4:]) == [f"mfcc_{i:02d}" for i in range(13)]
    assert both["source"].nunique() == 3


def test_per_file_features_become_one_row_per_channel_with_araus_names(tmp_path):
    from affrepro.plugins.features.extract import load_features
    from affrepro.plugins.psychoacoustics import feature_names

    audio = _audio_folder(tmp_path)
    _extract(["laf", audio, "-o", tmp_path / "laf.parquet"])
    _extract(["laf", audio / "c.flac", "-o", tmp_path / "c.npz"])
    df = pd.read_parquet(tmp_path / "laf.parquet")
    assert list(df.columns) == ["source", "channel", *feature_names("laf")]
    assert len(df) == 1 + 1 + 2  # a, b mono; c stereo
    with np.load(tmp_path / "c.npz") as z:
        want = z["features"]
    got, _ = load_features(tmp_path / "laf.parquet", source=str(audio / "c.flac"))
    np.testing.assert_array_equal(got, want)
    rows = df[df["source"] == str(audio / "c.flac")]
    np.testing.assert_array_equal(rows["LAavg"], want[:, 0])


def test_parquet_and_npz_output_errors(tmp_path):
    from affrepro.plugins.features.extract import load_features

    audio = _audio_folder(tmp_path)
    cli = _cli()
    r = CliRunner().invoke(cli, ["features", "extract", "logmel", str(audio), "-o",
                                 str(tmp_path / "x.npz")])
    assert r.exit_code != 0 and "a .npz file holds one input" in r.output
    assert "3 inputs" in r.output and not (tmp_path / "x.npz").exists()
    r = CliRunner().invoke(cli, ["features", "extract", "logmel", str(audio), "-o",
                                 str(tmp_path / "x.parquet"), "--format", "npz"])
    assert r.exit_code != 0 and "is a .parquet file" in r.output
    # a file that is not audio stops the run: no table, no temporary left behind
    (audio / "zz_broken.wav").write_bytes(b"RIFF not really a wave file")
    r = CliRunner().invoke(cli, ["features", "extract", "logmel", str(audio), "-o",
                                 str(tmp_path / "t" / "all.parquet")])
    assert r.exit_code != 0 and "zz_broken.wav" in r.output and "cannot read" in r.output
    assert not (tmp_path / "t").exists() or list((tmp_path / "t").iterdir()) == []
    _extract(["logmel", audio / "a.wav", "-o", tmp_path / "one.parquet"])
    with pytest.raises(KeyError, match="no source"):
        load_features(tmp_path / "one.parquet", source="elsewhere.wav")
    pd.DataFrame({"a": [1.0]}).to_parquet(tmp_path / "foreign.parquet")
    with pytest.raises(ValueError, match="not a features table"):
        load_features(tmp_path / "foreign.parquet")
    with pytest.raises(ValueError, match="expected a .npz or .parquet"):
        load_features(tmp_path / "feats.csv")


def test_column_names_are_checked():
    from affrepro.components import Feature
    from affrepro.plugins.features.tables import column_names

    plain = Feature(name="f", extract=lambda *a, **k: None)
    assert column_names(plain, {}, 3) == ["f_0", "f_1", "f_2"]
    assert column_names(plain, {}, 11)[:2] == ["f_00", "f_01"]
    short = Feature(name="g", extract=lambda *a, **k: None, columns=lambda s, n: ["x"])
    with pytest.raises(ValueError, match="names 1 columns for an array with 2"):
        column_names(short, {}, 2)
    clash = Feature(name="h", extract=lambda *a, **k: None, columns=lambda s, n: ["frame"])
    with pytest.raises(ValueError, match="unique and not source"):
        column_names(clash, {}, 1)


@pytest.mark.parametrize("channels", [1, 2])
def test_parquet_round_trips_features_with_no_frames(tmp_path, channels):
    from affrepro.plugins.features.extract import load_features

    sf.write(str(tmp_path / "empty.wav"), np.zeros((0, channels)), 16000)
    _wav(tmp_path / "tiny.wav", 16000, 48 / 16000, channels=channels)
    for args in (["empty.wav"], ["tiny.wav", "--set", "center=false"]):
        out = tmp_path / f"{args[0]}.parquet"
        _extract(["logmel", tmp_path / args[0], "-o", out, *args[1:]])
        _extract(["logmel", tmp_path / args[0], "-o", tmp_path / "x.npz", *args[1:]])
        got, meta = load_features(out)
        want, _ = load_features(tmp_path / "x.npz")
        assert got.shape == want.shape == ((64, 0) if channels == 1 else (2, 64, 0))
        assert got.dtype == want.dtype and meta["shape"] == list(want.shape)


def test_one_table_groups_small_sources_and_finds_a_source_by_any_spelling(tmp_path,
                                                                          monkeypatch):
    import pyarrow.parquet as pq

    from affrepro.plugins.features.extract import load_features

    for i in range(5):
        _wav(tmp_path / f"s{i}.wav", 16000, 0.2, seed=i)
    monkeypatch.chdir(tmp_path)
    _extract(["laf", ".", "-o", "laf.parquet"])
    assert pq.ParquetFile("laf.parquet").num_row_groups == 1  # not one per source
    a, meta = load_features("laf.parquet", source="s3.wav")
    for spelling in (tmp_path / "s3.wav", "./s3.wav", str(tmp_path / "s3.wav")):
        b, _ = load_features("laf.parquet", source=spelling)
        np.testing.assert_array_equal(a, b)
    assert meta["source"] == "s3.wav" and meta["settings"]["calibration"] is not None
    assert not [p for p in tmp_path.iterdir() if ".tmp" in p.name]


def test_input_and_output_name_clashes_are_named(tmp_path):
    audio = tmp_path / "g"
    audio.mkdir()
    _wav(audio / "a.wav", 16000, 0.2)
    _wav(audio / "b.wav", 16000, 0.2)
    sf.write(str(audio / "a.flac"), np.zeros(1600), 16000)
    cli = _cli()
    r = CliRunner().invoke(cli, ["features", "extract", "logmel", str(audio / "b.wav"),
                                 str(audio), "-o", str(tmp_path / "t.parquet")])
    assert r.exit_code != 0 and "is an input twice" in r.output and "b.wav" in r.output
    r = CliRunner().invoke(cli, ["features", "extract", "logmel", str(audio), "-o",
                                 str(tmp_path / "o"), "--format", "parquet"])
    assert r.exit_code != 0 and "a.flac and" in r.output and "a.wav would both" in r.output
    (tmp_path / "d.parquet").mkdir()
    r = CliRunner().invoke(cli, ["features", "extract", "logmel", str(audio / "b.wav"), "-o",
                                 str(tmp_path / "d.parquet")])
    assert r.exit_code != 0 and "is a folder" in r.output


def test_a_failing_file_is_named_in_the_error(tmp_path):
    _wav(tmp_path / "ok.wav", 16000, 0.5)
    _wav(tmp_path / "short.wav", 16000, 48 / 16000)
    r = CliRunner().invoke(_cli(), ["features", "extract", "roughness", str(tmp_path), "-o",
                                    str(tmp_path / "r.parquet")])
    assert r.exit_code != 0 and "short.wav: roughness:" in r.output
    assert not (tmp_path / "r.parquet").exists()


def test_one_table_names_the_column_whose_type_changed(tmp_path):
    from affrepro.components import Feature
    from affrepro.plugins.features.extract import extract_many

    def toy(signal, sr, **settings):  # float32 for short files, float64 for long ones
        return np.ones(3, dtype=np.float32 if signal.shape[-1] < 5000 else np.float64)

    _wav(tmp_path / "a.wav", 16000, 0.1)
    _wav(tmp_path / "b.wav", 16000, 0.5)
    with pytest.raises(ValueError, match=r"b.wav: .*toy_0: double vs float"):
        extract_many("toy", Feature(name="toy", extract=toy), sorted(tmp_path.glob("*.wav")),
                     tmp_path / "t.parquet", {}, [tmp_path], 2, False, "float32", "auto")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.wav", "b.wav"]


def test_sigterm_leaves_no_half_written_table(tmp_path):
    """A scheduler's SIGTERM mid-run: no table and no temporary left behind."""
    import signal
    import time

    for i in range(3):
        _wav(tmp_path / f"s{i}.wav", 16000, 0.3, seed=i)
    code = ("import os, signal, sys, threading\n"
            "from affrepro.plugins.features import extract as ex\n"
            "real = ex.compute_file\n"
            "def slow(*a, **k):\n"
            "    r = real(*a, **k)\n"
            "    if str(a[2]).endswith('s1.wav'):\n"
            "        print('ready', flush=True); threading.Event().wait(60)\n"
            "    return r\n"
            "ex.compute_file = slow\n"
            "from affrepro.cli import main\n"
            f"sys.argv = ['affrepro', 'features', 'extract', 'laf', {str(tmp_path)!r}, '-o', "
            f"{str(tmp_path / 'out' / 't.parquet')!r}, '-j', '1']\n"
            "main()\n")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=120) == 128 + signal.SIGTERM
    assert list((tmp_path / "out").iterdir()) == []


def test_cli_backend_triton_runs_the_triton_kernel(tmp_path):
    """--backend triton hands the kernel a torch tensor (CUDA; here the CPU under
    TRITON_INTERPRET=1) and saves NumPy; same log-mel as the numba backend."""
    pytest.importorskip("triton")
    torch = pytest.importorskip("torch")
    _wav(tmp_path / "s.wav", 22050, 0.11, channels=2)
    env = dict(__import__("os").environ)
    if not torch.cuda.is_available():  # on a GPU machine this checks the real kernel
        env["TRITON_INTERPRET"] = "1"
    for backend in ("triton", "numba"):
        code = ("import sys; from affrepro.cli import main\n"
                "sys.argv = ['affrepro', 'features', 'extract', 'logmel', "
                f"{str(tmp_path / 's.wav')!r}, '-o', {str(tmp_path / (backend + '.npz'))!r}, "
                f"'--backend', {backend!r}]\n"
                "main()\n")
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             env=env, timeout=600)
        assert out.returncode == 0, out.stderr[-2000:]
    with np.load(tmp_path / "triton.npz") as a, np.load(tmp_path / "numba.npz") as b:
        assert a["features"].shape == b["features"].shape == (2, 64, 12)
        assert a["features"].dtype == np.float32
        np.testing.assert_allclose(a["features"], b["features"], atol=2e-3)


def test_cli_backend_triton_without_a_gpu_says_so(tmp_path, monkeypatch):
    pytest.importorskip("torch")
    import torch

    if torch.cuda.is_available():
        pytest.skip("a CUDA GPU is here")
    monkeypatch.delenv("TRITON_INTERPRET", raising=False)
    _wav(tmp_path / "s.wav", 16000, 0.1)
    r = CliRunner().invoke(_cli(), ["features", "extract", "logmel", str(tmp_path / "s.wav"),
                                    "-o", str(tmp_path / "s.npz"), "--backend", "triton"])
    assert r.exit_code != 0 and "needs a CUDA GPU" in r.output
    assert not (tmp_path / "s.npz").exists()


def test_empty_file_at_another_rate_and_setting_checks(tmp_path):
    from affrepro.plugins.features.extract import load_features

    sf.write(str(tmp_path / "empty.wav"), np.zeros((0, 2)), 44100)
    _extract(["logmel", tmp_path / "empty.wav", "-o", tmp_path / "e.npz"])
    got, meta = load_features(tmp_path / "e.npz")
    assert got.shape == (2, 64, 0) and meta["source_sample_rate"] == 44100
    _wav(tmp_path / "s.wav", 16000, 0.2)
    r = CliRunner().invoke(_cli(), ["features", "extract", "logmel", str(tmp_path / "s.wav"),
                                    "-o", str(tmp_path / "x.npz"), "--set",
                                    "res_type=kaiser_best"])
    assert r.exit_code != 0 and "res_type must be one of" in r.output  # even at 16 kHz
    _extract(["logmel", tmp_path / "s.wav", "-o", tmp_path / "h.parquet", "--set",
              "hop_length=null"])  # librosa's default hop, 512
    got, meta = load_features(tmp_path / "h.parquet")
    assert got.shape == (64, 1 + 3200 // 512) and meta["hop_seconds"] == 512 / 16000


def test_cpus_left_over_by_parallel_files_go_to_each_files_kernels(tmp_path, monkeypatch):
    """One file with -j 4 on a 4-CPU budget: its kernels get 4 threads; 4 files, 1 each;
    the arrays are the same either way."""
    from affrepro.kernels.spectral import numba_impl
    from affrepro.plugins.features import extract as ex

    seen = []
    real = numba_impl.thread_limit

    def spy(n):
        seen.append(n)
        return real(n)

    monkeypatch.setattr(numba_impl, "thread_limit", spy)
    monkeypatch.setattr(ex, "default_jobs", lambda: 4)
    for i in range(4):
        _wav(tmp_path / f"s{i}.wav", 16000, 0.5, seed=i)
    _extract(["logmel", tmp_path / "s0.wav", "-o", tmp_path / "one.npz", "-j", "4"])
    assert seen == [4]
    seen.clear()
    _extract(["logmel", tmp_path, "-o", tmp_path / "all", "-j", "4"])
    assert seen == [1, 1, 1, 1]
    with np.load(tmp_path / "one.npz") as a, np.load(tmp_path / "all" / "s0.npz") as b:
        np.testing.assert_array_equal(a["features"], b["features"])


def test_audio_that_is_not_finite_is_refused_naming_file_and_sample(tmp_path):
    """One NaN sample would blank the whole log-mel matrix (top_db floors every frame
    against a NaN peak): the file is named with its first bad sample instead."""
    import librosa

    x = 0.1 * np.random.default_rng(0).standard_normal((16000, 2)).astype(np.float32)
    x[5000, 1] = np.nan
    x[7000, 0] = np.inf
    sf.write(str(tmp_path / "bad.wav"), x, 16000, subtype="FLOAT")
    _wav(tmp_path / "good.wav", 16000, 0.2)
    r = CliRunner().invoke(_cli(), ["features", "extract", "logmel", str(tmp_path), "-o",
                                    str(tmp_path / "all.parquet")])
    assert r.exit_code != 0
    assert "bad.wav: sample 5000 of channel 1 is nan (2 non-finite samples" in r.output
    assert not (tmp_path / "all.parquet").exists()
    with pytest.raises(librosa.util.exceptions.ParameterError, match="not finite"):
        librosa.feature.melspectrogram(y=x[:, 1], sr=16000)  # the peer refuses it too


def test_jobs_and_target_sample_rate_are_checked(tmp_path):
    _wav(tmp_path / "s.wav", 16000, 0.2)
    r = CliRunner().invoke(_cli(), ["features", "extract", "logmel", str(tmp_path / "s.wav"),
                                    "-o", str(tmp_path / "x.npz"), "-j", "-1"])
    assert r.exit_code != 0 and "-j" in r.output and ">=1" in r.output.replace(" ", "")
    for bad in ("0", "-16000", "true", "fast"):
        r = CliRunner().invoke(_cli(), ["features", "extract", "logmel",
                                        str(tmp_path / "s.wav"), "-o", str(tmp_path / "x.npz"),
                                        "--set", f"target_sample_rate={bad}"])
        assert r.exit_code != 0, bad
        assert "target_sample_rate must be a positive number of Hz or none" in r.output, bad
    assert not (tmp_path / "x.npz").exists()


def test_settings_take_numpy_scalars_and_inf_from_the_command_line(tmp_path):
    from affrepro.kernels import spectral as sp
    from affrepro.plugins.features.extract import load_features, parse_value, run_extractor

    y = np.random.default_rng(0).standard_normal(8000)
    for rate in (np.int64(16000), np.float32(16000.0), np.array(16000)):
        got = run_extractor("logmel", y, 8000, {"target_sample_rate": rate, "n_mels": 40,
                                                "hop_length": 160})
        assert got.shape == (40, 101)
    assert parse_value("inf") == float("inf") and parse_value("-Infinity") == -float("inf")
    _wav(tmp_path / "s.wav", 16000, 0.2)
    _extract(["logmel", tmp_path / "s.wav", "-o", tmp_path / "n.npz", "--set", "norm=inf"])
    got, meta = load_features(tmp_path / "n.npz")
    assert meta["settings"]["norm"] == float("inf")
    y16, _ = sf.read(str(tmp_path / "s.wav"))
    want = sp.logmel(y16, sr=16000, norm=np.inf, n_mels=64, n_fft=meta["settings"]["n_fft"],
                     hop_length=meta["settings"]["hop_length"])
    np.testing.assert_allclose(got, want, atol=1e-3)


def test_flags_are_strict_and_the_output_records_dtype_backend_and_window(tmp_path):
    """`--set center=no` is truthy text: refused, not run as center=True; the stored
    meta holds what else shaped the numbers (the read dtype, the backend asked for)."""
    from affrepro.plugins.features.extract import load_features

    _wav(tmp_path / "s.wav", 16000, 0.2)
    for flag in ("center=no", "center=0", "htk=yes"):
        r = CliRunner().invoke(_cli(), ["features", "extract", "logmel", str(tmp_path / "s.wav"),
                                        "-o", str(tmp_path / "x.npz"), "--set", flag])
        assert r.exit_code != 0, flag
        assert f"{flag.split('=')[0]} must be True or False" in r.output, flag
    _extract(["logmel", tmp_path / "s.wav", "-o", tmp_path / "k.npz", "--dtype", "float64",
              "--backend", "reference", "--set", 'window=["kaiser", 8]', "--set", "center=false"])
    got, meta = load_features(tmp_path / "k.npz")
    assert meta["read_dtype"] == "float64" and meta["backend"] == "reference"
    import librosa

    y, _ = sf.read(str(tmp_path / "s.wav"), dtype="float64")
    s = meta["settings"]
    S = librosa.feature.melspectrogram(y=y, sr=16000, n_fft=s["n_fft"], hop_length=s["hop_length"],
                                       n_mels=s["n_mels"], window=("kaiser", 8), center=False)
    np.testing.assert_allclose(got, librosa.power_to_db(S), atol=1e-6)
