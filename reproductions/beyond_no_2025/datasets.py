"""The dataset beyond-no-2025 reads from the user (not released by the authors)."""
from __future__ import annotations

from affrepro.components import Dataset
from affrepro.lazy import lazy

_HERE = "affrepro.reproductions.beyond_no_2025"

PROMPTS = Dataset(
    name="beyond-no-prompts",
    description="Emotional-boundary prompts: prompts.csv with columns prompt, language",
    access="licensed", licence="the prompt set's own terms (the paper's 1,156 prompts were not located)",
    homepage="https://arxiv.org/abs/2502.14975",
    how_to_get="The paper's benchmark was described as open source but not located. Put the prompts in "
               "prompts.csv (columns prompt, language; language as 'English', 'French', ...) and link the "
               "folder: `affrepro data link beyond-no-prompts PATH`.",
    verify=lazy(f"{_HERE}.protocol:verify"),
    synthesize=lazy(f"{_HERE}.protocol:synthesize"),
)
