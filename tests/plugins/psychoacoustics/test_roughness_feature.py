"""The ``roughness`` feature: registration, ARAUS ``R*`` names, statistics checked against
MoSQITo's roughness_dw series and by hand, calibration, lazy loading."""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from affrepro.plugins.psychoacoustics.roughness import feature_names, roughness_statistics
from affrepro.reproductions.araus_2022.columns import INDICATORS

FS = 44100


def am_tone(fc, fm, db=60.0, seconds=1.0, depth=1.0):
    t = np.arange(int(seconds * FS)) / FS
    s = (1 + depth * np.sin(2 * np.pi * fm * t)) * np.sin(2 * np.pi * fc * t)
    return s * 2e-5 * 10 ** (db / 20) / np.sqrt(np.mean(s ** 2))


def growing(fc=2000, fm=40, db=65.0):
    """1 s AM tone whose modulation depth grows from 0.2 to 1: rougher towards the end."""
    t = np.arange(FS) / FS
    s = (1 + (0.2 + 0.8 * t) * np.sin(2 * np.pi * fm * t)) * np.sin(2 * np.pi * fc * t)
    return s * 2e-5 * 10 ** (db / 20) / np.sqrt(np.mean(s ** 2))


def test_registered(registries):
    feat = registries.features.get("roughness")
    assert dict(feat.settings) == {"calibration": 1.0, "overlap": 0.5}
    assert "ARAUS" in feat.description


def test_names_are_the_araus_columns():
    assert feature_names() == [n for n in INDICATORS if n.startswith("R")]
    assert feature_names("_r") == ["Ravg_r", "Rmax_r", "Rargmax_r", "R05_r", "R10_r", "R20_r",
                                   "R30_r", "R40_r", "R50_r", "R60_r", "R70_r", "R80_r",
                                   "R90_r", "R95_r"]


def test_statistics_by_hand():
    r = np.array([[0.1, 0.4, 0.2, 0.4, 0.3], [0.0, 0.0, 0.0, 0.0, 0.0]])
    time = np.array([0.1, 0.2, 0.3, 0.4, 0.5])
    out = roughness_statistics(r, time)
    assert out.shape == (2, 14)
    np.testing.assert_allclose(out[0, :3], [0.28, 0.4, 0.2])  # avg, max, first argmax
    # R50 = median 0.3; R10 = 90th percentile of [0.1 .. 0.4] = 0.4; R95 = 5th = 0.12
    names = feature_names()
    got = dict(zip(names, out[0]))
    assert got["R50"] == pytest.approx(0.3) and got["R10"] == pytest.approx(0.4)
    assert got["R95"] == pytest.approx(0.12) and got["R90"] == pytest.approx(0.14)
    np.testing.assert_array_equal(out[1], [0.0, 0.0, 0.1] + [0.0] * 11)
    with pytest.raises(ValueError, match="frame"):
        roughness_statistics(np.zeros((2, 0)), np.zeros(0))


def test_binaural_matches_mosqito_series(registries):
    sq = pytest.importorskip("mosqito.sq_metrics")
    # the two ears: the 1-asper reference tone, and a 2 kHz tone AM at 40 Hz growing in depth
    x = np.stack([am_tone(1000, 70), growing()])
    out = registries.features.get("roughness").extract(x / 4.0, FS, calibration=4.0)
    assert out.shape == (2, 14)
    for ch in range(2):
        r, _, _, time = sq.roughness_dw(x[ch], FS, overlap=0.5)
        assert len(r) == 9  # 1 s: frames every 100 ms
        want = np.concatenate([[np.mean(r), np.max(r), time[np.argmax(r)]],
                               np.percentile(r, [95, 90, 80, 70, 60, 50, 40, 30, 20, 10, 5])])
        keep = [0, 1] + list(range(3, 14)) if ch == 0 else list(range(14))
        # (the left ear is stationary: its argmax is any of 9 equal frames, up to rounding)
        np.testing.assert_allclose(out[ch, keep], want[keep], rtol=1e-6, atol=1e-12)
    assert out[0, 0] == pytest.approx(1.0, rel=0.03)  # Ravg of the reference signal
    assert out[1, 2] == pytest.approx(39689.5 / FS)  # rougher towards the end: last frame
    assert out[1, 3] > out[1, 8] > out[1, 13]  # R05 > R50 > R95


def test_overlap_setting_and_backends(registries):
    feat = registries.features.get("roughness")
    x = growing()
    half = feat.extract(x, FS)
    none = feat.extract(x, FS, overlap=0.0)  # 5 frames instead of 9
    assert none[2] == pytest.approx((4 * 8820 + 8819 / 2) / FS)  # centre of the last frame
    assert half[2] == pytest.approx((8 * 4410 + 8819 / 2) / FS)
    assert none[1] == half[1]  # both grids end with the frame starting at 35280 (the max)
    np.testing.assert_allclose(feat.extract(x, FS, backend="reference"), half, rtol=1e-10)


def test_errors(registries):
    feat = registries.features.get("roughness")
    with pytest.raises(TypeError, match="unknown settings"):
        feat.extract(np.zeros(FS), FS, tau=0.125)
    with pytest.raises(ValueError, match="shorter than one 200 ms frame"):
        feat.extract(np.zeros(100), FS)
    with pytest.raises(ValueError, match="overlap"):
        feat.extract(np.zeros(FS), FS, overlap=1.0)


def test_loading_the_plugin_is_light():
    code = ("import sys\nimport affrepro.plugins.psychoacoustics.roughness\n"
            "from affrepro.plugin_manager import get_registries\n"
            "assert 'roughness' in get_registries().features.names()\n"
            "print('HEAVY', sorted(m for m in ('numpy', 'numba', 'scipy', "
            "'affrepro.kernels.roughness') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=os.environ, check=True)
    assert "HEAVY []" in out.stdout, out.stdout[-500:] + out.stderr[-500:]
