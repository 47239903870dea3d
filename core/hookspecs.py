"""The hook specifications of the ``affrepro`` plugin project.

Each ``register_*`` hook receives a ``register`` callback; a plugin calls it once per
component it provides. ``register_commands`` receives the root click group.
"""
from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("affrepro")


@hookspec
def register_datasets(register):
    """Register datasets: call ``register(affrepro.components.Dataset(...))`` for each."""


@hookspec
def register_models(register):
    """Register models: call ``register(affrepro.components.Model(...))`` for each."""


@hookspec
def register_metrics(register):
    """Register metrics: call ``register(affrepro.components.Metric(...))`` for each."""


@hookspec
def register_features(register):
    """Register feature extractors: call ``register(affrepro.components.Feature(...))`` for each."""


@hookspec
def register_reproductions(register):
    """Register paper reproductions: call ``register(affrepro.components.Reproduction(...))`` for each."""


@hookspec
def register_commands(cli):
    """Add click commands or groups to the ``affrepro`` command line (``cli`` is the root group)."""
