"""The catalogue: every paper card is a registered reproduction, and every plugin this
project ships passes ``affrepro plugins check`` (schema, links, sources, justified
tolerances, datasets, dry run)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

import affrepro.plugins
import affrepro.reproductions
from affrepro.catalogue import component_plugins, paper_plugins

# the cards are the catalogue: every reproductions/<folder>/paper.toml is a paper
CARDS = sorted(Path(affrepro.reproductions.__file__).parent.glob("*/paper.toml"))
CATALOGUE = tuple(c.parent.name.replace("_", "-") for c in CARDS)
BUILTIN_PLUGINS = sorted(
    e.name for e in component_plugins(Path(affrepro.plugins.__file__).parent, "affrepro.plugins")
    + paper_plugins(Path(affrepro.reproductions.__file__).parent, "affrepro.reproductions"))


def test_the_41_papers_of_the_catalogue_have_cards():
    # the 41 papers the project started with; more may be added, none may vanish
    assert len(CATALOGUE) == len(set(CATALOGUE)) >= 41
    assert {"araus-2022", "daic-woz-bias-2024", "natural-hazards-2020", "emotionprompt-2023",
            "sewa-2019", "ac-llm-survey-2024"} <= set(CATALOGUE)


def test_every_card_is_registered_as_a_paper_named_by_its_folder(registries):
    assert set(CATALOGUE) == set(registries.reproductions.names())
    for card in CARDS:
        slug = card.parent.name.replace("_", "-")
        assert registries.reproductions.get(slug).card.slug == slug, card


def test_list_json_shows_every_registered_paper(cli_runner, registries):
    result = cli_runner("list", "--json")
    assert result.exit_code == 0
    rows = {r["slug"]: r for r in json.loads(result.output)}
    assert set(rows) == {e.name for e in registries.reproductions.entries()}
    for slug in set(CATALOGUE) & set(rows):
        assert rows[slug]["class"] in ("A", "B", "C", "D"), slug
        assert rows[slug]["status"] in ("runnable here", "needs data", "needs a model backend",
                                        "no computational claims"), (slug, rows[slug])


@pytest.mark.parametrize("plugin", BUILTIN_PLUGINS)
def test_plugin_conforms(plugin):
    from affrepro.conformance import check_plugin
    from affrepro.plugin_manager import get_state

    checks = check_plugin(get_state(), plugin)
    failed = [f"{c.name}: {c.detail}" for c in checks if not c.ok]
    assert not failed, "\n".join(failed)


def test_claims_have_sources_and_justified_tolerances(registries):
    for entry in registries.reproductions.entries():
        card = entry.obj.card
        if card.numbers == "not retrieved":
            assert not card.claims, entry.name
        for claim in card.claims:
            assert claim.source.strip() and claim.tolerance.why.strip(), (entry.name, claim.id)
