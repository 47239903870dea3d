"""emotional-rag-2024: Emotional RAG: Enhancing Role-Playing Agents through Emotional Retrieval.

Card only for now: it needs an LLM backend and no number has been retrieved."""
from __future__ import annotations

from pathlib import Path

from affrepro import hookimpl
from affrepro.components import Reproduction

SLUG = "emotional-rag-2024"


@hookimpl
def register_reproductions(register):
    register(Reproduction(slug=SLUG, card_path=Path(__file__).with_name("paper.toml")))
