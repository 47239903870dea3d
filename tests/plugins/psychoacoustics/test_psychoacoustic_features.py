"""The laf/lcf/third_octave features: registration, ARAUS column names, calibrated input."""
from __future__ import annotations

import numpy as np
import pytest

from affrepro.plugins.psychoacoustics import feature_names
from affrepro.reproductions.araus_2022.columns import INDICATORS


def test_registered(registries):
    names = set(registries.features.names())
    assert {"laf", "lcf", "third_octave", "zwicker_stationary"} <= names
    assert registries.features.get("laf").settings["tau"] == 0.125


def test_names_are_the_araus_columns():
    for feat, prefix in (("laf", "LA"), ("lcf", "LC"), ("third_octave", "M")):
        names = feature_names(feat)
        assert names == [n for n in INDICATORS if n.startswith(prefix)]
    assert len(feature_names("third_octave", "_r")) == 37
    assert feature_names("laf", "_r")[0] == "LAavg_r"
    with pytest.raises(KeyError):
        feature_names("loudness")


def test_binaural_calibrated_tone(registries):
    fs = 16000
    t = np.arange(fs) / fs
    # full scale 1.0 = 10 Pa peak: a 1 kHz tone at amplitude 0.1 is 1 Pa peak, 90.97 dB
    x = np.stack([0.1 * np.sin(2 * np.pi * 1000 * t), 0.05 * np.sin(2 * np.pi * 1000 * t)])
    laf = registries.features.get("laf").extract(x, fs, calibration=10.0)
    assert laf.shape == (2, 16)
    assert laf[0, 0] == pytest.approx(90.97, abs=0.02)
    assert laf[0, 0] - laf[1, 0] == pytest.approx(6.02, abs=0.01)
    lcf = registries.features.get("lcf").extract(x, fs, calibration=10.0, step=0.01)
    assert lcf[0, 0] == pytest.approx(90.97, abs=0.02)  # C is 0 dB at 1 kHz
    assert lcf[0, 4] <= 1.0 and lcf[0, 4] * 100 == pytest.approx(round(lcf[0, 4] * 100))
    bands = registries.features.get("third_octave").extract(x, fs, calibration=10.0)
    assert bands.shape == (2, 37)
    assert int(np.argmax(bands[0])) == 23 and bands[0, 23] == pytest.approx(90.97, abs=0.02)


def test_unknown_settings_are_refused(registries):
    with pytest.raises(TypeError, match="unknown settings"):
        registries.features.get("laf").extract(np.ones(100), 8000, weighting="C")
    with pytest.raises(TypeError, match="unknown settings"):
        registries.features.get("third_octave").extract(np.ones(100), 8000, tau=1)


def test_zwicker_stationary_feature(registries):
    fs = 16000
    t = np.arange(fs) / fs
    # 1 kHz at 40 dB in both ears: 1 sone, 40 phon
    x = np.stack([np.sqrt(2) * 2e-3 * np.sin(2 * np.pi * 1000 * t)] * 2)
    out = registries.features.get("zwicker_stationary").extract(x / 10.0, fs, calibration=10.0)
    assert out.shape == (2, 3) and feature_names("zwicker_stationary") == ["N", "LN", "S"]
    assert out[0, 0] == pytest.approx(1.0, abs=0.01)
    assert out[0, 1] == pytest.approx(40.0, abs=0.15)
    assert 0.5 < out[0, 2] < 1.5
    with pytest.raises(ValueError, match="field"):
        registries.features.get("zwicker_stationary").extract(x, fs, field="room")
