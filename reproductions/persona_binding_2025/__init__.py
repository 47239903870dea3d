"""persona-binding-2025: Higher-Order Binding of Language Model Virtual Personas: a Study on Approximating Political Partisan Misperceptions.

Virtual personas answer the user's ordinal survey questions on the run's language model;
the answer distributions are compared with the human ones by the Wasserstein distance
(protocol.py). The paper's survey data and backstories were not located."""
from __future__ import annotations

from affrepro import hookimpl


@hookimpl
def register_datasets(register):
    from affrepro.reproductions.persona_binding_2025.datasets import SURVEY

    register(SURVEY)
