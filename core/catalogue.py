"""Plugins found by walking a folder: component packages and paper cards.

A package that holds several plugins exposes them through ONE entry point whose object
has ``affrepro_plugins()``, returning :class:`PluginEntry` items; the plugin manager loads
each on its own (a broken one is recorded and skipped, the others still load). affrepro's
own ``affrepro.plugins`` and ``affrepro.reproductions`` are two such collections, so adding
a built-in plugin or paper is adding a folder, with no list to edit:

- :func:`component_plugins`: every sub-package of a folder is a plugin named after it
  (``prompt_benchmarks`` -> ``prompt-benchmarks``);
- :func:`paper_plugins`: every ``<folder>/paper.toml`` is a paper named ``<folder>`` with
  ``-`` for ``_``. The card says what runs (``[protocol] run = ".protocol:run"``, the
  ``datasets`` it reads, ``run_without_claims``, ``[protocol.evaluation]``); a card-only
  paper is the card and nothing else. When the folder is a package with hooks (datasets,
  models, metrics, commands only this paper uses), its ``register_*`` functions join the
  paper's plugin; if it defines ``register_reproductions`` itself, that replaces the card's.
"""
from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from affrepro import hookimpl, hookspecs
from affrepro.components import Reproduction
from affrepro.errors import AffreproError
from affrepro.lazy import lazy

CARD = "paper.toml"
HOOKS = tuple(name for name in vars(hookspecs) if name.startswith("register_"))


@dataclass(frozen=True)
class PluginEntry:
    """One plugin of a collection: its name, the module it comes from, and how to load it
    (``load()`` returns the pluggy plugin object; it may raise, which fails only this one)."""

    name: str
    module: str
    load: Callable[[], object]


def component_plugins(folder: Path, package: str) -> list[PluginEntry]:
    """Every sub-package of ``folder`` (the directory of ``package``) as a plugin."""
    entries = []
    for sub in sorted(p for p in folder.iterdir() if (p / "__init__.py").is_file()):
        module = f"{package}.{sub.name}"
        entries.append(PluginEntry(sub.name.replace("_", "-"), module,
                                   lambda m=module: importlib.import_module(m)))
    return entries


def paper_plugins(folder: Path, package: str) -> list[PluginEntry]:
    """Every ``folder/<paper>/paper.toml`` as a plugin named by the paper's slug."""
    entries = []
    for card in sorted(folder.glob(f"*/{CARD}")):
        module = f"{package}.{card.parent.name}"
        entries.append(PluginEntry(card.parent.name.replace("_", "-"), module,
                                   lambda c=card, m=module: paper_plugin(c, m)))
    return entries


def resolve(ref: str, package: str) -> str:
    """``".protocol:run"`` -> ``"<package>.protocol:run"``; absolute references unchanged."""
    return package + ref if ref.startswith(".") else ref


def reproduction_from_card(card_path: Path, package: str) -> Reproduction:
    """The paper as its card describes it. A card that does not validate still gives a
    paper (without a protocol), so ``list`` shows it as a card error, naming the field."""
    from affrepro.card import load_card

    slug = card_path.parent.name.replace("_", "-")
    try:
        card = load_card(card_path)
    except AffreproError:
        return Reproduction(slug=slug, card_path=card_path)
    evaluation = card.evaluation
    if evaluation is not None:
        evaluation = dataclasses.replace(evaluation, module=resolve(evaluation.module, package))
    return Reproduction(
        slug=slug, card_path=card_path,
        protocol=lazy(resolve(card.protocol_run, package)) if card.protocol_run else None,
        datasets=card.protocol_datasets, run_without_claims=card.run_without_claims,
        evaluation=evaluation)


class PaperPlugin:
    """One paper's pluggy plugin: its hook functions as attributes (hashable, as pluggy needs)."""

    def __init__(self, card_path: Path, hooks: dict[str, Callable[..., None]]):
        self.card_path = card_path
        for name, fn in hooks.items():
            setattr(self, name, fn)

    def __repr__(self) -> str:
        return f"<paper plugin {self.card_path.parent.name}>"


def paper_plugin(card_path: Path, package: str) -> PaperPlugin:
    """The plugin of one paper: the card's reproduction plus the hooks of its package."""
    hooks: dict[str, Callable[..., None]] = {}
    if (card_path.parent / "__init__.py").is_file():
        hooks.update(_hooks_of(importlib.import_module(package)))
    if "register_reproductions" not in hooks:
        rep = reproduction_from_card(card_path, package)
        hooks["register_reproductions"] = hookimpl(lambda register: register(rep))
    return PaperPlugin(card_path, hooks)


def _hooks_of(module: ModuleType) -> dict[str, Callable[..., None]]:
    return {name: getattr(module, name) for name in HOOKS
            if hasattr(getattr(module, name, None), "affrepro_impl")}
