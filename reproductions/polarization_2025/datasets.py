"""The dataset of polarization-2025: the authors' annotated conversations (not released)."""
from __future__ import annotations

from pathlib import Path

from affrepro.components import Dataset, Problem


def _verify(folder: Path) -> list[Problem]:
    from affrepro.reproductions.polarization_2025.loaders import verify

    return verify(folder)


def _synthesize(folder: Path, seed: int) -> None:
    from affrepro.reproductions.polarization_2025.synthetic import write_corpus

    write_corpus(folder, seed)


CONVERSATIONS = Dataset(
    name="polarization-conversations",
    description="LLM-annotated X/Twitter conversations on climate change and gun control, one "
                "CSV per root tweet (<rootTweetId>_<YYYY-MM-DD>.pkl_conversation_tweets.csv) "
                "in all_climateChange/ and all_gunControl/",
    access="licensed",
    licence="not released by the authors (X/Twitter content; the code is MIT)",
    homepage="https://github.com/hasanjawad001/llm-social-media-polarization",
    how_to_get=("The annotated conversations are not released. Ask the authors (Chowdhury, Rashid, "
                "Terejanu, UNC Charlotte) or rebuild them with their llm_prompting_*.py, then put "
                "the output CSVs into all_climateChange/ and all_gunControl/ and run "
                "`affrepro data link polarization-conversations PATH`."),
    verify=_verify,
    synthesize=_synthesize,
)
