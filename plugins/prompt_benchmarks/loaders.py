"""Loaders for the benchmark data that EmotionPrompt and NegativePrompt evaluate on, in
the layout of github wangxu0820/NegativePrompt ``data/``:

- Instruction Induction (24 tasks): ``instruction_induction/raw/{induce,execute}/<task>.json``,
  ``{"metadata": …, "examples": {"1": {...}, "2": …}}``. Inputs and gold answers per task as
  the authors' ``load_data`` builds them: cause_and_effect shows both sentences in a random
  order and the answer is the cause; common_concept shows the items joined by ", " *without
  the last item* (as the released loader does) and accepts every concept in
  ``all_common_concepts``; rhymes accepts ``other_rhymes``; translations accept
  ``possible_translations``; every other task its single ``output``.
- BIG-Bench (21 tasks): ``bigbench/<task>/task.json`` with ``task_prefix`` and examples
  holding ``target_scores`` (multiple choice: the options with the highest score are right)
  and/or ``target`` (a string or a list of strings).
- TruthfulQA: ``TruthfulQA/TruthfulQA.csv`` (Type, Category, Question, Best Answer, Correct
  Answers, Incorrect Answers, Source; answers separated by "; ").
"""
from __future__ import annotations

import ast
import csv
import json
import random
from dataclasses import dataclass, field
from pathlib import Path

II_DIR = Path("data/instruction_induction/raw")
BB_DIR = Path("data/bigbench")
TQA_FILE = Path("data/TruthfulQA/TruthfulQA.csv")

II_TASKS = (
    "active_to_passive", "antonyms", "cause_and_effect", "common_concept", "diff",
    "first_word_letter", "informal_to_formal", "larger_animal", "letters_list", "negation",
    "num_to_verbal", "orthography_starts_with", "rhymes", "second_word_letter",
    "sentence_similarity", "sentiment", "singular_to_plural", "sum", "synonyms",
    "taxonomy_animal", "translation_en-de", "translation_en-es", "translation_en-fr",
    "word_in_context",
)
BB_TASKS = (
    "causal_judgment", "disambiguation_qa", "dyck_languages", "epistemic_reasoning",
    "gender_inclusive_sentences_german", "implicatures", "linguistics_puzzles",
    "logical_fallacy_detection", "movie_recommendation", "navigate", "object_counting",
    "operators", "presuppositions_as_nli", "question_selection", "ruin_names", "snarks",
    "sports_understanding", "tense", "winowhy", "word_sorting", "word_unscrambling",
)


@dataclass(frozen=True)
class Example:
    input: str
    answers: tuple[str, ...]                 # every accepted gold answer
    options: tuple[str, ...] = ()            # multiple-choice options (BIG-Bench)
    meta: dict = field(default_factory=dict, compare=False)


def _as_list(value) -> list[str]:
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("[") and text.endswith("]"):
            try:
                parsed = ast.literal_eval(text)
                if isinstance(parsed, list):
                    return [str(v) for v in parsed]
            except (ValueError, SyntaxError):
                pass
        return [value]
    return [str(v) for v in value]


def load_instruction_induction(root: Path, task: str, split: str = "execute",
                               seed: int = 0) -> list[Example]:
    """One task's examples; ``split`` is "execute" (test) or "induce" (demonstrations).
    ``seed`` fixes cause_and_effect's sentence order (the released loader draws it with
    ``random.random()`` unseeded)."""
    if task not in II_TASKS:
        raise KeyError(f"unknown Instruction Induction task {task!r}")
    if split not in ("execute", "induce"):
        raise ValueError("split is 'execute' or 'induce'")
    path = Path(root) / II_DIR / split / f"{task}.json"
    data = json.loads(path.read_text(encoding="utf-8"))["examples"]
    rng = random.Random(seed)
    out = []
    for i in range(1, len(data) + 1):
        ex = data[str(i)]
        if task == "cause_and_effect":
            cause, effect = ex["cause"], ex["effect"]
            first, second = (cause, effect) if rng.random() < 0.5 else (effect, cause)
            out.append(Example(f"Sentence 1: {first} Sentence 2: {second}", (cause,)))
        elif task == "common_concept":
            out.append(Example(", ".join(ex["items"][:-1]), tuple(_as_list(ex["all_common_concepts"]))))
        elif task == "rhymes":
            out.append(Example(ex["input"], tuple(_as_list(ex["other_rhymes"]))))
        elif task.startswith("translation"):
            out.append(Example(ex["input"], tuple(_as_list(ex["possible_translations"]))))
        else:
            out.append(Example(ex["input"], (ex["output"],)))
    return out


def load_bigbench(root: Path, task: str) -> tuple[str, list[Example]]:
    """(task_prefix, examples) of one BIG-Bench task."""
    if task not in BB_TASKS:
        raise KeyError(f"unknown BIG-Bench task {task!r}")
    doc = json.loads((Path(root) / BB_DIR / task / "task.json").read_text(encoding="utf-8"))
    out = []
    for ex in doc["examples"]:
        scores = ex.get("target_scores")
        if isinstance(scores, str):
            scores = ast.literal_eval(scores)
        options: tuple[str, ...] = ()
        answers: list[str] = []
        if scores:
            options = tuple(scores)
            best = max(scores.values())
            answers = [k for k, v in scores.items() if v == best]
        if "target" in ex:
            answers = _as_list(ex["target"]) + [a for a in answers if a not in _as_list(ex["target"])]
        out.append(Example(ex["input"], tuple(answers), options))
    return doc.get("task_prefix", ""), out


@dataclass(frozen=True)
class TruthfulQAItem:
    type: str
    category: str
    question: str
    best_answer: str
    correct_answers: tuple[str, ...]
    incorrect_answers: tuple[str, ...]
    source: str


def load_truthfulqa(root: Path) -> list[TruthfulQAItem]:
    with open(Path(root) / TQA_FILE, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))

    def split(s: str) -> tuple[str, ...]:
        return tuple(a.strip() for a in s.split(";") if a.strip())

    return [TruthfulQAItem(r["Type"], r["Category"], r["Question"], r["Best Answer"],
                           split(r["Correct Answers"]), split(r["Incorrect Answers"]), r["Source"])
            for r in rows]
