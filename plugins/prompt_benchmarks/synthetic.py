"""A tiny benchmark folder in exactly the released layout (for dry runs and tests)."""
from __future__ import annotations

import csv
import json
import random
from pathlib import Path

from affrepro.plugins.prompt_benchmarks.loaders import BB_DIR, BB_TASKS, II_DIR, II_TASKS, TQA_FILE


def _ii_example(task: str, i: int, rng: random.Random) -> dict:
    w = f"word{i}"
    if task == "cause_and_effect":
        return {"cause": f"Cause number {i} happened.", "effect": f"Effect number {i} followed."}
    if task == "common_concept":
        return {"concept": "are things.", "items": [f"a{i}", f"b{i}", f"c{i}"],
                "all_common_concepts": ["are things.", "are objects."]}
    if task == "rhymes":
        return {"input": w, "output": f"r{i}", "other_rhymes": [f"r{i}", f"s{i}"]}
    if task.startswith("translation"):
        return {"input": w, "output": f"t{i}", "possible_translations": [f"t{i}", f"u{i}"]}
    if task in ("sum", "diff"):
        x, y = rng.randint(0, 50), rng.randint(0, 50)
        return {"input": f"{x} {y}", "output": str(x + y if task == "sum" else x - y)}
    if task == "sentiment":
        return {"input": f"review {i}", "output": rng.choice(["positive", "negative"])}
    if task == "word_in_context":
        return {"input": f"Sentence 1: a {w}. Sentence 2: b {w}.", "output": rng.choice(["same", "not the same"])}
    if task == "sentence_similarity":
        return {"input": f"Sentence 1: x{i} Sentence 2: y{i}", "output": "3 - probably"}
    if task == "letters_list":
        return {"input": w, "output": " ".join(w)}
    if task == "taxonomy_animal":
        return {"input": f"cat, car{i}, dog", "output": "cat, dog"}
    return {"input": f"input {i}", "output": f"output {i}"}


def write_benchmarks(folder: Path, seed: int = 0, n: int = 6) -> None:
    rng = random.Random(seed)
    root = Path(folder)
    for split in ("induce", "execute"):
        d = root / II_DIR / split
        d.mkdir(parents=True, exist_ok=True)
        for task in II_TASKS:
            examples = {str(i + 1): _ii_example(task, i, rng) for i in range(n)}
            (d / f"{task}.json").write_text(json.dumps({"metadata": {"num_examples": n},
                                                        "examples": examples}), encoding="utf-8")
    for task in BB_TASKS:
        d = root / BB_DIR / task
        d.mkdir(parents=True, exist_ok=True)
        examples = [{"input": f"question {i}", "target_scores": {"yes": 1, "no": 0}} for i in range(n)]
        (d / "task.json").write_text(json.dumps({"name": task, "task_prefix": "",
                                                 "examples": examples}), encoding="utf-8")
    tqa = root / TQA_FILE
    tqa.parent.mkdir(parents=True, exist_ok=True)
    with open(tqa, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["Type", "Category", "Question", "Best Answer", "Correct Answers",
                    "Incorrect Answers", "Source"])
        for i in range(n):
            w.writerow(["Adversarial", "Misconceptions", f"Question {i}?", f"Answer {i}",
                        f"Answer {i}; Also {i}", f"Wrong {i}", "https://example.org"])
