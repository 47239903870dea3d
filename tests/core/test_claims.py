"""Verdicts: tolerance kinds, direction, non-finite and missing measurements."""
from __future__ import annotations

import math

import pytest

from affrepro.claims import Claim, Tolerance, Verdict, judge


def claim(value=0.9029, tol=Tolerance("absolute", 5e-5, "4 decimals"), std=None, hib=True) -> Claim:
    return Claim(id="c", description="d", source="s", metric="f1_macro", value=value,
                 tolerance=tol, higher_is_better=hib, std=std)


@pytest.mark.parametrize("measured,verdict", [
    (0.902868, Verdict.REPRODUCED),      # rounds to the published 0.9029
    (0.90295, Verdict.REPRODUCED),       # exactly on the bound
    (0.90284, Verdict.NOT_REPRODUCED),
    (0.95, Verdict.NOT_REPRODUCED),
])
def test_absolute_tolerance(measured, verdict):
    assert judge(claim(), measured).verdict is verdict


def test_not_reproduced_shows_the_difference_and_direction():
    r = judge(claim(hib=True), 0.85)
    assert r.verdict is Verdict.NOT_REPRODUCED
    assert r.difference == pytest.approx(0.85 - 0.9029)
    assert "worse" in r.reason
    assert "better" in judge(claim(hib=False), 0.85).reason


def test_relative_and_std_tolerances():
    rel = claim(value=0.1, tol=Tolerance("relative", 0.05, "5 %"))
    assert judge(rel, 0.104).verdict is Verdict.REPRODUCED
    assert judge(rel, 0.106).verdict is Verdict.NOT_REPRODUCED
    sd = claim(value=0.1152, std=0.0020, tol=Tolerance("std_multiple", 2, "seed spread"))
    assert judge(sd, 0.1190).verdict is Verdict.REPRODUCED
    assert judge(sd, 0.1200).verdict is Verdict.NOT_REPRODUCED


@pytest.mark.parametrize("measured, in_report", [(math.nan, "nan"), (math.inf, "inf"), (None, None),
                                                 ("abc", None)])
def test_non_finite_or_missing_measurements_are_errors(measured, in_report):
    r = judge(claim(), measured)
    assert r.verdict is Verdict.ERROR and r.reason
    assert r.difference is None
    d = r.as_dict()
    # a non-finite measurement stays in the report as such (issue 21), a missing one is None
    assert d["measured"] == in_report and d["verdict"] == "error"


def test_as_dict_has_the_report_fields():
    d = judge(claim(), 0.902868).as_dict()
    for key in ("id", "metric", "value", "measured", "difference", "tolerance", "verdict", "reason", "source"):
        assert key in d
    assert d["verdict"] == "reproduced"
