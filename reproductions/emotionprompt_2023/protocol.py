"""The protocol: Instruction Induction, BIG-Bench and TruthfulQA under the plain
instruction and each stimulus, zero- and few-shot, on the run's language model (shared
with the sibling paper: affrepro.plugins.prompt_benchmarks.study)."""
from __future__ import annotations


def run(ctx):
    from affrepro.plugins.prompt_benchmarks.stimuli import EMOTION_PROMPT
    from affrepro.plugins.prompt_benchmarks.study import run_for_paper

    return run_for_paper(ctx, EMOTION_PROMPT)
