"""affrepro.card.CARD_KEYS, the declarative table of paper.toml keys that the parser
checks cards against and docs/plugin-api.md is generated from, agrees with the parser:
each key's "required" is what the parser requires, every key the parser reads is in it,
and a key that is not in it is refused by name (issue 20)."""
from __future__ import annotations

import copy
import tomllib
from pathlib import Path

import pytest

from affrepro.card import CARD_KEYS, OPEN_TABLES, parse_card
from affrepro.errors import CardError

ROOT = Path(__file__).resolve().parents[2]
LEAVES = [k for k in CARD_KEYS if k.type not in ("table", "array of tables")]
OTHER_TOLERANCES = ("claims[].tolerance.relative", "claims[].tolerance.std_multiple")


def _set(doc: dict, path: str, value) -> None:
    node = doc
    parts = path.split(".")
    for part in parts[:-1]:
        if part.endswith("[]"):
            node = node.setdefault(part[:-2], [{}])[0]
        else:
            node = node.setdefault(part, {})
    node[parts[-1]] = value


def _full_card() -> dict:
    """A card holding every key, each at its documented example (one tolerance kind)."""
    doc: dict = {}
    for k in LEAVES:
        if k.path not in OTHER_TOLERANCES:
            _set(doc, k.path, tomllib.loads(f"x = {k.example}")["x"])
    return doc


def _problems(doc: dict) -> str:
    try:
        parse_card(Path("paper.toml"), doc)
    except CardError as exc:
        return str(exc)
    return ""


def _remove(doc: dict, path: str) -> dict:
    doc = copy.deepcopy(doc)
    node = doc
    parts = path.split(".")
    for part in parts[:-1]:
        node = node[part[:-2]][0] if part.endswith("[]") else node[part]
    del node[parts[-1]]
    return doc


def test_every_documented_example_parses():
    assert _problems(_full_card()) == ""


@pytest.mark.parametrize("key", [k for k in LEAVES if k.path not in OTHER_TOLERANCES], ids=lambda k: k.path)
def test_required_in_the_table_is_what_the_parser_requires(key):
    where = key.path.replace("claims[]", "claims[0]")
    problems = _problems(_remove(_full_card(), key.path))
    assert (f"{where}: missing" in problems) == key.required, problems


def test_a_key_not_in_the_table_is_refused_by_name_except_in_protocol():
    doc = _full_card()
    doc["titel"] = "typo"
    doc["claims"][0]["higher_is_beter"] = True
    doc["claims"][0]["tolerance"]["whyy"] = "typo"
    doc["protocol"]["shots"] = 5  # a paper's own setting: allowed
    problems = _problems(doc)
    assert "titel: unknown key" in problems and "claims[0].higher_is_beter: unknown key" in problems
    assert "claims[0].tolerance.whyy: unknown key" in problems and "shots" not in problems
    assert OPEN_TABLES == ("protocol",)


class _Reads(dict):
    """A TOML table that records every key read from it (get, [], in)."""

    def __init__(self, data: dict, prefix: str, seen: set[str]):
        super().__init__({k: _wrap(v, f"{prefix}{k}", seen) for k, v in data.items()})
        self.prefix, self.seen = prefix, seen

    def __getitem__(self, key):
        self.seen.add(self.prefix + key)
        return super().__getitem__(key)

    def get(self, key, default=None):
        self.seen.add(self.prefix + key)
        return super().get(key, default)

    def __contains__(self, key):
        self.seen.add(self.prefix + key)
        return super().__contains__(key)


def _wrap(value, path: str, seen: set[str]):
    if isinstance(value, dict):
        return _Reads(value, path + ".", seen)
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        return [_Reads(v, path + "[].", seen) for v in value]
    return value


def test_every_key_the_parser_reads_is_in_the_table():
    seen: set[str] = set()
    cards = sorted(ROOT.glob("reproductions/*/paper.toml"))
    assert len(cards) > 30
    from affrepro.noise import noise_spec  # [protocol.noise] is read by the noise module

    for path in cards:
        noise_spec(parse_card(path, _Reads(tomllib.loads(path.read_text(encoding="utf-8")), "", seen)))
    noise_spec(parse_card(Path("paper.toml"), _Reads(_full_card(), "", seen)))
    documented = {k.path for k in CARD_KEYS}
    assert seen - documented == set()
    assert {k.path for k in LEAVES} - seen == set()  # and the table lists nothing it never reads
