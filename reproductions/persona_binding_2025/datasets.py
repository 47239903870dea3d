"""The dataset persona-binding-2025 reads from the user (not released by the authors)."""
from __future__ import annotations

from affrepro.components import Dataset
from affrepro.lazy import lazy

_HERE = "affrepro.reproductions.persona_binding_2025"

SURVEY = Dataset(
    name="persona-binding-survey",
    description="Ordinal survey questions with the human answer counts and the persona texts per "
                "condition: survey.jsonl, one JSON object a line {\"question_id\", \"question\", "
                "\"options\": [low .. high], \"human_counts\": [...], \"personas\": {condition: [text, ...]}} "
                "(the first condition is the baseline)",
    access="licensed", licence="the survey's own terms (the paper's data was not located)",
    homepage="https://arxiv.org/abs/2504.11673",
    how_to_get="The paper's survey items, human response distributions and generated backstories were not "
               "released. Write them (or another survey's) to survey.jsonl in the layout above and link the "
               "folder: `affrepro data link persona-binding-survey PATH`.",
    verify=lazy(f"{_HERE}.protocol:verify"),
    synthesize=lazy(f"{_HERE}.protocol:synthesize"),
)
