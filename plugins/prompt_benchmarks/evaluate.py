"""Evaluation driver: score a text generator on the benchmarks with and without a
stimulus, the way EmotionPrompt / NegativePrompt report it.

``generate`` is any callable ``generate(queries: list[str]) -> list[str]`` — the future
model backend plugs in here. Every stimulus sees the same test subset and the same
demonstrations (same seed), so per-task gains are paired.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from affrepro.plugins.prompt_benchmarks import loaders, prompts, scoring

Generate = Callable[[Sequence[str]], Sequence[str]]


@dataclass
class StimulusResult:
    stimulus_id: str | None
    scores: dict[str, float] = field(default_factory=dict)  # task -> mean score


def evaluate_instruction_induction(root: Path, generate: Generate, stimulus: str | None = None,
                                   stimulus_id: str | None = None, tasks: Iterable[str] = loaders.II_TASKS,
                                   few_shot: bool = False, seed: int = 0,
                                   joiner: str = prompts.DEFAULT_JOINER,
                                   size: int = prompts.TEST_SIZE) -> StimulusResult:
    """Per-task scores of one prompt variant (no stimulus = the baseline)."""
    out = StimulusResult(stimulus_id)
    for task in tasks:
        test = loaders.load_instruction_induction(root, task, "execute", seed=seed)
        induce = loaders.load_instruction_induction(root, task, "induce", seed=seed)
        pairs = prompts.build_queries(task, test, induce, stimulus, few_shot, seed, joiner, size)
        answers = list(generate([q for q, _ in pairs]))
        if len(answers) != len(pairs):
            raise ValueError(f"{task}: the generator returned {len(answers)} answers for {len(pairs)} queries")
        out.scores[task] = scoring.score_task(task, answers, [e for _, e in pairs])
    return out


def relative_gains(baseline: StimulusResult, treated: Sequence[StimulusResult],
                   how: str = "mean_of_ratios") -> dict[str, float]:
    """stimulus id -> relative gain (percent) over the baseline across tasks."""
    return {r.stimulus_id or "": scoring.relative_gain(baseline.scores, r.scores, how) for r in treated}
