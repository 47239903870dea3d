"""The ``negativeprompt`` dataset audit: the task counts and TruthfulQA's size that the
NegativePrompt and EmotionPrompt abstracts (and the TruthfulQA paper) state, counted from the
released folder: tasks are discovered on disk (``instruction_induction/raw/execute/*.json``,
``bigbench/*/task.json``) and each must load with at least one example."""
from __future__ import annotations

from affrepro.plugins.prompt_benchmarks.loaders import (
    BB_DIR, II_DIR, load_bigbench, load_instruction_induction, load_truthfulqa)


def negativeprompt(ctx) -> dict[str, float]:
    root = ctx.folder
    loaded: dict[str, dict[str, int]] = {"instruction_induction": {}, "bigbench": {}}
    problems: dict[str, str] = {}
    for path in sorted((root / II_DIR / "execute").glob("*.json")):
        try:
            loaded["instruction_induction"][path.stem] = len(load_instruction_induction(root, path.stem))
        except (KeyError, ValueError) as exc:
            problems[f"instruction_induction/{path.stem}"] = str(exc)
    for path in sorted((root / BB_DIR).glob("*/task.json")):
        task = path.parent.name
        try:
            loaded["bigbench"][task] = len(load_bigbench(root, task)[1])
        except (KeyError, ValueError) as exc:
            problems[f"bigbench/{task}"] = str(exc)
    ii = sum(1 for n in loaded["instruction_induction"].values() if n > 0)
    bb = sum(1 for n in loaded["bigbench"].values() if n > 0)
    tqa = load_truthfulqa(root)
    ctx.note("examples_per_task", loaded)
    ctx.note("tasks_that_did_not_load", problems)
    ctx.note("truthfulqa_categories", len({q.category for q in tqa}))
    ctx.explain("tasks", f"{ii} Instruction Induction + {bb} BIG-Bench tasks load; did not load: {problems or 'none'}")
    measured = {"tasks": ii + bb, "instruction-induction-tasks": ii, "bigbench-tasks": bb,
                "truthfulqa.questions": len(tqa)}
    return {k: v for k, v in measured.items() if k in ctx.claims_to_measure}
