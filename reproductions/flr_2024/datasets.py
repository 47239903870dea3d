"""The dataset flr-2024 reads from the user (not released by the authors)."""
from __future__ import annotations

from affrepro.components import Dataset
from affrepro.lazy import lazy

_HERE = "affrepro.reproductions.flr_2024"

PREFERENCE = Dataset(
    name="flr-preference",
    description="Pairwise preferences to score with FLR: pairs.jsonl, one JSON object a line "
                "{\"conversation\": [user, assistant, ..., user], \"chosen\": str, \"rejected\": str}",
    access="licensed", licence="the user's (the paper's benchmarks are under their own terms)",
    homepage="https://github.com/e0397123/FLR",
    how_to_get="Export the pairwise-preference benchmark you want to score (the paper used eight, e.g. "
               "HH-RLHF-style sets) to pairs.jsonl in the layout above and link the folder: "
               "`affrepro data link flr-preference PATH`.",
    verify=lazy(f"{_HERE}.protocol:verify"),
    synthesize=lazy(f"{_HERE}.protocol:synthesize"),
)
