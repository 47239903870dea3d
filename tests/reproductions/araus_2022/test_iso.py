"""The ISO 12913-3 projection against hand computations, the ARAUS notebooks' weights and
soundscapy's published doctest values."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from affrepro.reproductions.araus_2022 import iso


def frame(**cols):
    return pd.DataFrame({k: [float(v) for v in vs] for k, vs in cols.items()})


def test_a_hand_computed_response():
    # pleasant 4, annoying 2, calm 5, chaotic 1, vibrant 3, monotonous 2, eventful 2, uneventful 4
    r = dict(pleasant=4, annoying=2, calm=5, chaotic=1, vibrant=3, monotonous=2, eventful=2, uneventful=4)
    c = math.sqrt(2) / 2
    p_hand = ((4 - 2) + c * (5 - 1) + c * (3 - 2)) / (4 + math.sqrt(32))  # = (2 + 5c)/9.657
    e_hand = ((2 - 4) + c * (1 - 5) + c * (3 - 2)) / (4 + math.sqrt(32))  # = (-2 - 3c)/9.657
    assert p_hand == pytest.approx(0.5732, abs=1e-4) and e_hand == pytest.approx(-0.4268, abs=1e-4)
    df = frame(**{k: [v] for k, v in r.items()})
    assert iso.pleasantness(df)[0] == pytest.approx(p_hand, abs=1e-15)
    assert iso.eventfulness(df)[0] == pytest.approx(e_hand, abs=1e-15)
    assert iso.pleasantness_scalar(r) == pytest.approx(p_hand, abs=1e-15)
    assert iso.eventfulness_scalar(r) == pytest.approx(e_hand, abs=1e-15)


def test_soundscapy_doctest_values():
    # soundscapy surveys/processing.py calculate_iso_coords docstring: PAQ1..PAQ8 =
    # pleasant, vibrant, eventful, chaotic, annoying, monotonous, uneventful, calm
    names = [n for n, _ in iso.CIRCUMPLEX]
    rows = [[4, 3, 2, 1, 5, 3, 4, 2], [2, 5, 4, 3, 1, 2, 3, 5]]
    df = pd.DataFrame(rows, columns=names)
    assert np.round(iso.pleasantness(df), 2).tolist() == [-0.03, 0.47]
    assert np.round(iso.eventfulness(df), 2).tolist() == [-0.28, 0.18]


def test_equals_the_araus_notebook_weights_on_random_ratings():
    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.integers(1, 6, size=(500, 8)), columns=iso.ARAUS_ORDER)
    # code/replication_code.ipynb: ISOPl_weights / ISOEv_weights over this column order
    s = np.sqrt(2) / 2
    w_p = np.array([1, 0, -s, s, 0, s, -1, -s])
    w_e = np.array([0, 1, s, s, -1, -s, 0, -s])
    x = df[list(iso.ARAUS_ORDER)].to_numpy(float)
    np.testing.assert_allclose(iso.pleasantness(df), x @ w_p / (4 + np.sqrt(32)), atol=1e-14)
    np.testing.assert_allclose(iso.eventfulness(df), x @ w_e / (4 + np.sqrt(32)), atol=1e-14)
    assert [iso.PLEASANTNESS_WEIGHTS[k] for k in iso.ARAUS_ORDER] == pytest.approx(w_p.tolist())
    assert [iso.EVENTFULNESS_WEIGHTS[k] for k in iso.ARAUS_ORDER] == pytest.approx(w_e.tolist())


def test_range_is_minus_one_to_one_and_neutral_is_zero():
    best = dict(pleasant=5, calm=5, vibrant=5, annoying=1, chaotic=1, monotonous=1, eventful=3, uneventful=3)
    worst = {k: 6 - v for k, v in best.items()}
    df = frame(**{k: [best[k], worst[k], 3] for k in best})
    np.testing.assert_allclose(iso.pleasantness(df), [1.0, -1.0, 0.0], atol=1e-15)
    loud = dict(eventful=5, chaotic=5, vibrant=5, uneventful=1, calm=1, monotonous=1, pleasant=3, annoying=3)
    assert iso.eventfulness(frame(**{k: [v] for k, v in loud.items()}))[0] == pytest.approx(1.0)


def test_missing_ratings_give_nan_and_missing_columns_an_error():
    names = [n for n, _ in iso.CIRCUMPLEX]
    df = pd.DataFrame([[3.0] * 7 + [float("nan")]], columns=names)
    assert np.isnan(iso.pleasantness(df)[0])
    with pytest.raises(KeyError, match="calm"):
        iso.pleasantness(df.drop(columns="calm"))
    with pytest.raises(ValueError, match="axis"):
        iso.project(df, "valence")
