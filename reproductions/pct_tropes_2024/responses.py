"""The paper's response set (not released), read from the user's copy: responses.csv with
columns model, prompt_variant, proposition, response (one generated response a row). The
four count claims are counted from it: rows, distinct propositions, models and prompt
variations."""
from __future__ import annotations

import csv
from pathlib import Path

from affrepro.components import Dataset, Problem

FILE = "responses.csv"
COLUMNS = ("model", "prompt_variant", "proposition", "response")


def read_counts(folder: Path) -> dict[str, float]:
    path = Path(folder) / FILE
    models, variants, props, n = set(), set(), set(), 0
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path}: missing column(s) {', '.join(missing)}; expected {', '.join(COLUMNS)}")
        for row in reader:
            n += 1
            models.add(row["model"])
            variants.add(row["prompt_variant"])
            props.add(row["proposition"])
    return {"n-responses": float(n), "n-propositions": float(len(props)), "n-models": float(len(models)),
            "n-prompt-variations": float(len(variants))}


def verify(folder: Path) -> list[Problem]:
    path = Path(folder) / FILE
    if not path.is_file():
        return [Problem(str(path), f"missing: a CSV with columns {', '.join(COLUMNS)}")]
    try:
        read_counts(folder)
    except ValueError as exc:
        return [Problem(str(path), str(exc))]
    return []


def synthesize(folder: Path, seed: int) -> None:
    from affrepro.reproductions.pct_tropes_2024.propositions import PROPOSITIONS

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / FILE, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(COLUMNS)
        for m in ("model-a", "model-b"):
            for v in ("plain", "persona-1"):
                for p in PROPOSITIONS[:3]:
                    w.writerow((m, v, p, "I agree."))


RESPONSES = Dataset(
    name="pct-tropes-responses",
    description="The paper's generated responses: responses.csv with columns model, prompt_variant, "
                "proposition, response",
    access="licensed", licence="the authors' terms (the 156k-response set was not located)",
    homepage="https://arxiv.org/abs/2406.19238",
    how_to_get="The response set was not located. Export it to responses.csv with columns model, "
               "prompt_variant, proposition, response and link the folder: "
               "`affrepro data link pct-tropes-responses PATH`.",
    verify=lambda folder: verify(folder), synthesize=lambda folder, seed: synthesize(folder, seed),
)
