"""BIG-Bench (the 21 tasks of the Instruction-Induction BIG-Bench subset) in the
EmotionPrompt / NegativePrompt template.

The released NegativePrompt code runs only Instruction Induction, so this part is written
from the papers and the task files (recorded as deviations by the protocol):

- instruction = the task's ``task_prefix`` (stripped), followed by the stimulus exactly as
  for Instruction Induction; query = the same "Instruction / Input / Answer" template;
- multiple-choice tasks (``target_scores``): the options are appended to the input as
  BIG-Bench does (``append_choices_to_input``, default true; ``choice_prefix``, default
  "\\n  choice: "), every option is scored by its log-likelihood after "Answer:", and the
  answer is right when the most likely option is one of the best-scored targets;
- the other tasks (``target`` only) are generated greedily and scored by BIG-Bench's
  exact string match after :func:`scoring.normalize` against every target;
- few-shot: 5 demonstrations drawn from the task's examples outside the test subset
  ("Input: x\\nOutput: y", y = the first accepted answer).
"""
from __future__ import annotations

import ast
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from affrepro.plugins.prompt_benchmarks import prompts
from affrepro.plugins.prompt_benchmarks.loaders import BB_DIR, BB_TASKS, Example, _as_list

DEFAULT_CHOICE_PREFIX = "\n  choice: "


@dataclass(frozen=True)
class BigBenchTask:
    name: str
    instruction: str
    examples: tuple[Example, ...]
    append_choices: bool
    choice_prefix: str

    @property
    def multiple_choice(self) -> bool:
        return bool(self.examples) and all(ex.options for ex in self.examples)


def load_task(root: Path, task: str) -> BigBenchTask:
    """One task with its instruction and the settings that shape its queries."""
    if task not in BB_TASKS:
        raise KeyError(f"unknown BIG-Bench task {task!r}; known: {', '.join(BB_TASKS)}")
    path = Path(root) / BB_DIR / task / "task.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    examples = []
    for i, ex in enumerate(doc["examples"]):
        scores = ex.get("target_scores")
        if isinstance(scores, str):
            scores = ast.literal_eval(scores)
        options: tuple[str, ...] = ()
        answers: list[str] = []
        if scores:
            options = tuple(scores)
            best = max(scores.values())
            answers = [k for k, v in scores.items() if v == best]
        elif "target" in ex:
            answers = _as_list(ex["target"])
        if not answers:
            raise ValueError(f"{path}: example {i} has neither target_scores nor target")
        examples.append(Example(ex["input"], tuple(answers), options))
    return BigBenchTask(task, str(doc.get("task_prefix", "")).strip(), tuple(examples),
                        bool(doc.get("append_choices_to_input", True)),
                        str(doc.get("choice_prefix", DEFAULT_CHOICE_PREFIX)))


def shown_input(task: BigBenchTask, ex: Example) -> str:
    """The input as the model sees it (options appended for multiple choice)."""
    if ex.options and task.append_choices:
        return ex.input + "".join(f"{task.choice_prefix}{o}" for o in ex.options)
    return ex.input


@dataclass(frozen=True)
class Split:
    test: tuple[Example, ...]
    demo_pool: tuple[Example, ...]


def split(task: BigBenchTask, seed: int, size: int) -> Split:
    """min(size, n) test examples sampled without replacement; the rest are demonstrations."""
    rng = random.Random(seed)
    idx = rng.sample(range(len(task.examples)), min(size, len(task.examples)))
    chosen = set(idx)
    return Split(tuple(task.examples[i] for i in idx),
                 tuple(ex for i, ex in enumerate(task.examples) if i not in chosen))


def build_queries(task: BigBenchTask, test: Sequence[Example], demo_pool: Sequence[Example],
                  stimulus: str | None, few_shot: bool, seed: int = 0,
                  joiner: str = prompts.DEFAULT_JOINER) -> list[str]:
    """One query per test example; the same seed gives the same demonstrations for every
    stimulus (paired comparison)."""
    rng = random.Random(seed)
    prompt = prompts.with_stimulus(task.instruction, stimulus, joiner)
    out = []
    for ex in test:
        demos = None
        if few_shot and demo_pool:
            picked = rng.sample(list(demo_pool), min(prompts.N_DEMOS, len(demo_pool)))
            demos = [(shown_input(task, d), d.answers[0]) for d in picked]
        out.append(prompts.build_query(prompt, shown_input(task, ex), demos))
    return out


def option_pairs(query: str, ex: Example) -> list[tuple[str, str]]:
    """(context, continuation) per option: the query without its trailing space, and
    " option" (so the space belongs to the option's first token, as tokenizers expect)."""
    context = query.rstrip(" ")
    return [(context, " " + o) for o in ex.options]


def pick_option(logprobs: Sequence[float], ex: Example) -> str:
    """The most likely option (the first of equals)."""
    if len(logprobs) != len(ex.options) or not ex.options:
        raise ValueError(f"{len(logprobs)} log-likelihoods for {len(ex.options)} options")
    best = max(range(len(logprobs)), key=lambda i: (logprobs[i], -i))
    return ex.options[best]


def score_choice(choice: str, ex: Example) -> float:
    return float(choice in ex.answers)
