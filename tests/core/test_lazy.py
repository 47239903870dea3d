"""lazy("module:attribute"): imports on first call, forwards arguments, names itself."""
from __future__ import annotations

import sys

import pytest

from affrepro.lazy import lazy


def test_imports_on_first_call_and_forwards(monkeypatch):
    monkeypatch.delitem(sys.modules, "colorsys", raising=False)
    rgb_to_hsv = lazy("colorsys:rgb_to_hsv")
    assert "colorsys" not in sys.modules and rgb_to_hsv.__name__ == "rgb_to_hsv"
    assert rgb_to_hsv(1.0, 0.0, 0.0) == (0.0, 1.0, 1.0)
    assert "colorsys" in sys.modules


@pytest.mark.parametrize("target", ["colorsys", ":rgb_to_hsv", "colorsys:"])
def test_a_target_without_module_or_attribute_is_refused(target):
    with pytest.raises(ValueError, match="package.module:attribute"):
        lazy(target)
