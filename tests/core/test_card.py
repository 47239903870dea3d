"""paper.toml validation: every bad field is named, with the file."""
from __future__ import annotations

import textwrap

import pytest

from affrepro.card import load_card
from affrepro.errors import CardError

GOOD = """
slug = "toy-paper-2024"
title = "A toy paper"
authors = ["A. Author"]
venue = "Workshop"
year = 2024
class = "A"
doi = "10.1234/toy.5"
published_numbers = "retrieved"

[links]
code = ["https://github.com/example/toy"]

[[claims]]
id = "acc"
description = "accuracy"
source = "Table 1"
metric = "accuracy"
value = 0.81
higher_is_better = true
tolerance = { absolute = 0.005, why = "two decimals" }
requires = { datasets = ["toy-data"] }
"""


def write(tmp_path, text):
    p = tmp_path / "paper.toml"
    p.write_text(textwrap.dedent(text))
    return p


def test_a_good_card_loads(tmp_path):
    card = load_card(write(tmp_path, GOOD))
    assert card.slug == "toy-paper-2024" and card.paper_class == "A"
    (c,) = card.claims
    assert c.value == 0.81 and c.tolerance.kind == "absolute" and c.requires.datasets == ("toy-data",)


@pytest.mark.parametrize("change,expected", [
    (('slug = "toy-paper-2024"', 'slug = "Toy Paper"'), "slug"),
    (('class = "A"', 'class = "E"'), "class"),
    (('source = "Table 1"', 'source = ""'), "claims[0].source"),
    (('absolute = 0.005, why = "two decimals"', 'absolute = 0.005, relative = 0.1, why = "x"'),
     "claims[0].tolerance"),
    (('why = "two decimals"', 'why = ""'), "claims[0].tolerance.why"),
    (('value = 0.81', 'value = "high"'), "claims[0].value"),
    (('code = ["https://github.com/example/toy"]', 'code = ["github.com/x"]'), "links"),
    (('doi = "10.1234/toy.5"', 'doi = "toy"'), "doi"),
    (('published_numbers = "retrieved"', 'published_numbers = "not retrieved"'), "published_numbers"),
])
def test_bad_fields_are_named(tmp_path, change, expected):
    p = write(tmp_path, GOOD.replace(*change))
    with pytest.raises(CardError) as err:
        load_card(p)
    assert str(p) in str(err.value) and expected in str(err.value)


def test_invalid_toml_names_the_file(tmp_path):
    p = write(tmp_path, "slug = \n")
    with pytest.raises(CardError, match="not valid TOML"):
        load_card(p)


def test_std_multiple_needs_a_std(tmp_path):
    p = write(tmp_path, GOOD.replace('absolute = 0.005, why = "two decimals"', 'std_multiple = 2, why = "seeds"'))
    with pytest.raises(CardError, match=r"claims\[0\].std"):
        load_card(p)
