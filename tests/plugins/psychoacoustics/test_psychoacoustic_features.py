"""The laf/lcf/third_octave features: registration, ARAUS column names, calibrated input."""
from __future__ import annotations

import numpy as np
import pytest

from affrepro.plugins.psychoacoustics import feature_names
from affrepro.reproductions.araus_2022.columns import INDICATORS


def test_registered(registries):
    names = set(registries.features.names())
    assert {"laf", "lcf", "third_octave", "zwicker_stationary", "zwicker_time_varying"} <= names
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


def test_zwicker_time_varying_names_are_the_araus_columns():
    names = feature_names("zwicker_time_varying", "_r")
    assert len(names) == 29
    assert names == [f"{n}_r" for n in INDICATORS[:29]]  # S block, then N block
    assert names[:3] == ["Savg_r", "Smax_r", "Sargmax_r"] and names[13] == "S95_r"
    assert names[14:18] == ["Navg_r", "Nrmc_r", "Nmax_r", "Nargmax_r"]
    assert names[-1] == "N95_r" and not any("min" in n for n in names)


def test_roughness_names_through_the_shared_helper():
    names = feature_names("roughness", "_r")
    assert names == [f"{n}_r" for n in INDICATORS if n.startswith("R")]
    assert names[:3] == ["Ravg_r", "Rmax_r", "Rargmax_r"] and len(names) == 14


def test_zwicker_time_varying_feature(registries):
    from affrepro.kernels import zwicker as zw

    feat = registries.features.get("zwicker_time_varying")
    assert feat.settings == {"field": "free", "calibration": 1.0, "skip": 0.0}
    fs = 16000
    t = np.arange(fs) / fs
    # left: 1 kHz at 40 dB (1 sone once settled); right: the same 20 dB louder, gated on
    # for 0.2 .. 0.6 s
    left = np.sqrt(2) * 2e-3 * np.sin(2 * np.pi * 1000 * t)
    right = 10 * left * ((t >= 0.2) & (t < 0.6))
    x = np.stack([left, right])
    out = feat.extract(x / 10.0, fs, calibration=10.0)
    names = feature_names("zwicker_time_varying")
    assert out.shape == (2, 29)
    col = dict(zip(names, out[0]))
    n, ns, tt = zw.time_varying_loudness(x, fs)
    s = zw.sharpness_din_tv(n, ns)
    # the statistics are those of the kernel's series (all 500 steps, nothing skipped)
    assert col["Navg"] == pytest.approx(n[0].mean(), rel=1e-12)
    assert col["Nrmc"] == pytest.approx(np.mean(n[0] ** 3) ** (1 / 3), rel=1e-12)
    assert col["Nmax"] == pytest.approx(n[0].max(), rel=1e-12)
    assert col["N50"] == pytest.approx(np.median(n[0]), rel=1e-12)
    assert col["N05"] == pytest.approx(np.percentile(n[0], 95), rel=1e-12)
    assert col["N95"] == pytest.approx(np.percentile(n[0], 5), rel=1e-12)
    assert col["Savg"] == pytest.approx(s[0].mean(), rel=1e-12)
    assert col["Nmax"] == pytest.approx(1.0, abs=0.02)
    assert col["N50"] == pytest.approx(1.0, abs=0.01)
    assert col["Navg"] < col["Nrmc"] < col["Nmax"]
    assert col["N05"] >= col["N10"] >= col["N50"] >= col["N90"] >= col["N95"]
    # right: loud only while gated on; its maximum is inside the gate
    right_cols = dict(zip(names, out[1]))
    assert 0.2 < right_cols["Nargmax"] < 0.62 and right_cols["Nmax"] > 3.5
    assert right_cols["N95"] < 0.01 < right_cols["N05"]
    assert right_cols["Sargmax"] == pytest.approx(
        tt[int(np.argmax(s[1]))], abs=1e-12)
    # skip drops the start: the statistics of the series from 0.5 s on
    late = feat.extract(x, fs, skip=0.5)
    i0 = int(np.searchsorted(tt, 0.5))
    assert late[0, names.index("Navg")] == pytest.approx(n[0, i0:].mean(), rel=1e-12)
    assert late[1, names.index("Nargmax")] >= 0.5
    with pytest.raises(ValueError, match="skip"):
        feat.extract(x, fs, skip=5.0)
    with pytest.raises(ValueError, match="skip"):
        feat.extract(x, fs, skip=-1)
    with pytest.raises(TypeError, match="unknown settings"):
        feat.extract(x, fs, tau=0.1)
    with pytest.raises(ValueError, match="field"):
        feat.extract(x, fs, field="room")


@pytest.mark.parametrize("name", ["laf", "lcf", "third_octave", "zwicker_stationary",
                                  "zwicker_time_varying", "roughness"])
def test_bad_signal_and_settings_are_named(registries, name):
    feat = registries.features.get(name)
    with pytest.raises(TypeError, match="signal must be real numbers"):
        feat.extract(np.zeros(16000, dtype=complex), 16000)
    with pytest.raises(ValueError, match="setting 'calibration' must be a number"):
        feat.extract(np.zeros(16000), 16000, calibration="abc")
