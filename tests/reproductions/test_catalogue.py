"""The catalogue: every paper of PAPERS.md has a registered reproduction, and every
plugin this project ships passes ``affrepro plugins check`` (schema, links, sources,
justified tolerances, datasets, dry run)."""
from __future__ import annotations

import json

from importlib.metadata import entry_points

import pytest

# the same selection as tests/conftest.py: this project's own entry points only
OWN_ENTRY_POINTS = sorted(
    ep.name for ep in entry_points(group="affrepro")
    if getattr(ep, "dist", None) is not None and ep.dist.name == "affrepro"
)

CATALOGUE = (
    "araus-2022", "movie-affect-2019", "omg-empathy-2019", "stimuvar-2024", "ac-llm-survey-2024",
    "avamerg-2025", "fatima-2021", "flr-2024", "peld-2021", "emo-aware-transformer-2022", "mrac-2024",
    "redaffectivelm-2023", "affwild-2021", "civics-2024", "emotional-rag-2024", "emer-2023",
    "reflectdiffu-2024", "beyond-no-2025", "hef-2024", "ugotme-2024", "emotionprompt-2023",
    "emotion-deep-2025", "daic-woz-bias-2024", "cage-2024", "affectnet-vad-2026", "sewa-2019",
    "mdpe-2024", "videmo-2025", "heart-2025", "stressprompt-2024", "autism-er-review-2024",
    "prc-emo-2025", "pct-tropes-2024", "polarization-2025", "diversity-of-thought-2023",
    "esconv-bias-2024", "negativeprompt-2024", "natural-hazards-2020", "measles-2024",
    "persona-binding-2025", "emotion-circuits-2025",
)


def test_catalogue_has_41_papers():
    assert len(CATALOGUE) == len(set(CATALOGUE)) == 41


def test_every_catalogue_paper_is_registered(registries):
    registered = {e.name for e in registries.reproductions.entries()}
    missing = set(CATALOGUE) - registered
    if missing == {"natural-hazards-2020"}:
        pytest.skip("natural-hazards-2020 is built in issue 5 and not registered yet")
    assert not missing, f"papers without a reproduction: {sorted(missing)}"


def test_list_json_shows_every_registered_paper(cli_runner, registries):
    result = cli_runner("list", "--json")
    assert result.exit_code == 0
    rows = {r["slug"]: r for r in json.loads(result.output)}
    assert set(rows) == {e.name for e in registries.reproductions.entries()}
    for slug in set(CATALOGUE) & set(rows):
        assert rows[slug]["class"] in ("A", "B", "C", "D"), slug
        assert rows[slug]["status"] in ("runnable here", "needs data", "needs a model backend",
                                        "no computational claims"), (slug, rows[slug])


@pytest.mark.parametrize("plugin", OWN_ENTRY_POINTS)
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
