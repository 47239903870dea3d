"""Building blocks of the ARAUS CNN: mixing gains, log-mel features, cache key, network
shape and parameter count, and a tiny training run with early stopping."""
from __future__ import annotations

import numpy as np
import pytest

from affrepro.reproductions.araus_2022 import cnn


@pytest.fixture
def one_thread():
    """Tiny networks train several times faster on one torch thread on a small shared machine."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def masker_row(level_offset=0.3):
    row = {f"gain_{db}dB": 10 ** ((db - 65) / 20) for db in range(46, 84)}
    row.update({f"leq_at_gain_{db}dB": db + level_offset for db in range(46, 84)})
    return row


def test_masker_gain_follows_the_authors_interpolation():
    # insitu 65.2 dB, SMR -3 -> target 68.2 dB, rounds to 68; gain_68 = 10^(3/20) measured 68.3 dB
    g = cnn.masker_gain(masker_row(0.3), 65.2, -3)
    assert g == pytest.approx(10 ** (3 / 20) * 10 ** ((68.2 - 68.3) / 20), rel=1e-12)
    # NumPy rounds halves to even: 62.5 -> 62
    assert cnn.masker_gain(masker_row(0.0), 62.5, 0) == pytest.approx(10 ** (-3 / 20) * 10 ** (0.5 / 20))
    with pytest.raises(ValueError, match="outside the calibrated"):
        cnn.masker_gain(masker_row(), 80.0, -6)


def test_mix_duplicates_the_masker_into_both_ears():
    s = np.array([[1.0, 2.0], [3.0, 4.0]])
    out = cnn.mix(s, np.array([10.0, 20.0]), gain_s=2.0, gain_m=0.5)
    np.testing.assert_allclose(out, [[7.0, 9.0], [16.0, 18.0]])
    with pytest.raises(ValueError, match="mono"):
        cnn.mix(s, np.zeros(3), 1, 1)


def test_features_match_librosa_per_channel_and_have_the_paper_shape():
    import librosa

    x = np.random.default_rng(0).normal(size=(44100, 2)) * [1.0, 1e-3]
    f = cnn.logmel_features(x)
    assert f.shape == (1 + (44100 - 4096) // 2048, 64, 2) and f.dtype == np.float32
    for c in range(2):
        S = np.abs(librosa.stft(np.asfortranarray(x[:, c]), n_fft=4096, hop_length=2048, center=False)) ** 2
        m = librosa.feature.melspectrogram(S=S, sr=44100, n_mels=64, hop_length=2048, n_fft=4096,
                                           fmin=20, fmax=20000)
        np.testing.assert_allclose(f[:, :, c], librosa.power_to_db(m, ref=1.0).T, atol=1e-3)
    assert cnn.N_FRAMES == 644


def test_cache_key_changes_with_content_gain_and_settings(tmp_path, monkeypatch):
    k = cnn.cache_key("a" * 64, "b" * 64, 1.0, 0.5)
    assert k != cnn.cache_key("a" * 64, "c" * 64, 1.0, 0.5)
    assert k != cnn.cache_key("a" * 64, "b" * 64, 1.0, 0.25)
    monkeypatch.setitem(cnn.FEATURE_SETTINGS, "n_mels", 128)
    assert k != cnn.cache_key("a" * 64, "b" * 64, 1.0, 0.5)
    calls = []
    for _ in range(2):
        out = cnn.cached_features(tmp_path, k, lambda: calls.append(1) or np.ones((2, 2), np.float32))
    assert calls == [1] and out.sum() == 4


def test_network_shape_and_parameter_count():
    import torch

    model = cnn.build_model()
    n_params = sum(p.numel() for p in model.parameters())
    # conv 1584 + 12560 + 25120, BN 2*(16+16+32), dense 1024*100+100, out 101: "about 140k"
    assert n_params == 1584 + 12560 + 25120 + 2 * 64 + 102_500 + 101
    model.eval()
    assert model(torch.zeros(3, 2, 644, 64)).shape == (3,)


def test_a_tiny_training_run_stops_early_and_reports_keras_style(one_thread):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(48, 20, 10, 2)).astype(np.float32)
    y = (X[:, :, :, 0].mean(axis=(1, 2)) * 5).astype(np.float32)
    out = cnn.train_fold((X[:32], y[:32]), (X[32:40], y[32:40]), (X[40:], y[40:]), seed=1,
                         epochs=6, patience=2, batch_size=8, lr=1e-3)
    assert 1 <= out["best_epoch"] <= out["epochs_run"] <= 6
    assert out["val"] == min(h["val_loss"] for h in out["history"])
    assert all(np.isfinite([out["train"], out["val"], out["test"]]))


def test_stimulus_features_from_synthetic_wavs_are_mixed_and_cached(tmp_path):
    import soundfile as sf

    from affrepro.reproductions.araus_2022.loaders import read, verify_araus
    from affrepro.reproductions.araus_2022.synthetic import write_araus

    root = tmp_path / "araus"
    write_araus(root, seed=0, audio_seconds=0.2)
    assert verify_araus(root) == []
    r, s, m = (read(root, t) for t in ("responses", "soundscapes", "maskers"))
    rows = r[r["fold_r"] == 1].head(3)
    cache = tmp_path / "cache"
    f = cnn.stimulus_features(root, rows, s, m, cache)
    n = int(0.2 * 44100)
    assert f.shape == (3, 1 + (n - 4096) // 2048, 64, 2)
    assert len(list(cache.rglob("*.npy"))) == len({tuple(x) for x in rows[["soundscape", "masker", "smr"]].values})
    # the first stimulus by hand
    row = rows.iloc[0]
    srow, mrow = s.set_index("soundscape").loc[row["soundscape"]], m.set_index("masker").loc[row["masker"]]
    x_s, _ = sf.read(root / "soundscapes" / row["soundscape"])
    x_m, _ = sf.read(root / "maskers" / row["masker"])
    g_m = cnn.masker_gain(mrow, srow["insitu_leq"], row["smr"])
    np.testing.assert_allclose(f[0], cnn.logmel_features(srow["gain_s"] * x_s + g_m * x_m[:, None]), atol=1e-5)
    again = cnn.stimulus_features(root, rows, s, m, cache)  # from the cache
    np.testing.assert_array_equal(f, again)
    # a WAV at the wrong rate is refused by the verifier
    name = s.loc[s["fold_s"] == 1, "soundscape"].iloc[0]
    sf.write(root / "soundscapes" / name, np.zeros((100, 2)), 48000)
    assert any("sample rate 48000 Hz" in p.message for p in verify_araus(root))


def test_streaming_from_the_cache_trains_exactly_as_in_memory(tmp_path, one_thread):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(40, 6, 64, 2)).astype(np.float32)
    y = rng.normal(size=40).astype(np.float32)
    paths = []
    for i, x in enumerate(X):
        paths.append(tmp_path / f"{i}.npy")
        np.save(paths[-1], x)
    streamed = cnn.CachedStimuli(paths, y)
    assert len(streamed) == 40
    np.testing.assert_array_equal(streamed[5][0], np.transpose(X[5], (2, 0, 1)))
    a = cnn.train_fold((X[:24], y[:24]), (X[24:32], y[24:32]), (X[32:], y[32:]), seed=4, epochs=2, batch_size=8)
    b = cnn.train_fold(cnn.CachedStimuli(paths[:24], y[:24]), cnn.CachedStimuli(paths[24:32], y[24:32]),
                       cnn.CachedStimuli(paths[32:], y[32:]), seed=4, epochs=2, batch_size=8)
    assert a["history"] == b["history"] and a["test"] == b["test"]
    model = cnn.ArausCNN(seed=4, epochs=1, batch_size=8).fit(streamed, (X[:8], y[:8]))
    assert model.predict(streamed).shape == (40,)
    assert model.mse(streamed) == pytest.approx(float(np.mean((model.predict(X) - y) ** 2)), rel=1e-5)
    with pytest.raises(RuntimeError, match="fit"):
        cnn.ArausCNN().predict(streamed)


def test_cnn_cross_validation_runs_every_fold_and_seed_on_a_synthetic_corpus(tmp_path, one_thread):
    from affrepro.reproductions.araus_2022.loaders import read
    from affrepro.reproductions.araus_2022.protocol import labelled_responses
    from affrepro.reproductions.araus_2022.synthetic import write_araus

    root = tmp_path / "araus"
    write_araus(root, seed=0, audio_seconds=0.35)
    frame = labelled_responses(read(root, "responses"))
    progress = {}
    out = cnn.cross_validate_cnn(frame, root, read(root, "soundscapes"), read(root, "maskers"), seeds=(1, 2),
                                 cache_dir=tmp_path / "cache", epochs=1, patience=1, batch_size=64,
                                 progress=lambda label, done, total: progress.__setitem__(label, (done, total)))
    assert set(out["per_seed"]) == {1, 2} and all(len(f) == 5 for f in out["folds"].values())
    assert progress["CNN training (seeds x folds)"] == (10, 10)
    done, total = progress["CNN features (stimuli)"]
    # one file per distinct stimulus; stimuli with equal contents and gains (the silent
    # maskers are all-zero files) share one
    rated = frame.loc[frame["fold_r"] >= 0, ["soundscape", "masker", "smr"]]
    assert done == total == len({tuple(r) for r in rated.values})
    assert 0 < len(list((tmp_path / "cache").rglob("*.npy"))) <= total
    for s in ("train", "val", "test"):
        vals = [out["per_seed"][seed][s] for seed in (1, 2)]
        assert out["mean"][s] == pytest.approx(np.mean(vals)) and out["std"][s] == pytest.approx(np.std(vals, ddof=1))
