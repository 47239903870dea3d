"""The EmotionPrompt / NegativePrompt study on a language model: every task of
Instruction Induction (24), BIG-Bench (21) and TruthfulQA, under the plain instruction
(the baseline) and under each stimulus, zero- and few-shot; per-task scores, per-stimulus
means and relative gains.

Every variant of a task sees the same test subset and the same demonstrations, so the
comparison with the baseline is paired. Calls to the model are batched per task × shot
setting (every prompt variant in one call). Scoring: see :mod:`scoring` (Instruction Induction),
:mod:`bigbench` and :mod:`truthfulqa`.

Relative gain of a stimulus in one suite and shot setting (percent):
``100 · (mean_t s_stim(t) − mean_t s_base(t)) / mean_t s_base(t)`` over the suite's tasks t
("ratio of means"); the "mean of ratios" ``mean_t 100 · (s_stim(t) − s_base(t)) / s_base(t)``
over tasks with a non-zero baseline is reported beside it. Neither paper says which one it
uses, nor how its headline number averages over stimuli and settings; the claim value is
the ratio of means of the score pooled over stimuli, tasks and shot settings.
"""
from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from affrepro.plugins.prompt_benchmarks import bigbench, lmcalls, loaders, prompts, scoring, truthfulqa

SUITES = ("instruction_induction", "bigbench", "truthfulqa")
BASELINE = "baseline"
TASKS_ENV = "AFFREPRO_LM_TASKS"  # comma-separated task names ("truthfulqa" for TruthfulQA): run only these
_ANSWER_LABELS = ("answer:", "output:")
#: tasks whose answer is a sentence or a list get ``max_new_tokens``; every other task's
#: answer is a word, a number or a label and gets ``short_new_tokens``
LONG_ANSWER_TASKS = frozenset({
    "active_to_passive", "negation", "informal_to_formal", "num_to_verbal", "common_concept",
    "orthography_starts_with", "letters_list", "taxonomy_animal", "cause_and_effect",
    "gender_inclusive_sentences_german", "tense", "word_sorting", "linguistics_puzzles"})


@dataclass(frozen=True)
class StudyConfig:
    """What to run. ``test_size`` is the papers' per-task test subset (min(100, n) examples
    sampled with ``seed``); ``limit`` (``--limit``) keeps the first N of that subset (of
    TruthfulQA's rows in file order), so a limited run is a prefix of the full one.
    ``shots`` holds 0 (zero-shot) and/or 5 (few-shot)."""

    suites: tuple[str, ...] = SUITES
    shots: tuple[int, ...] = (0, prompts.N_DEMOS)
    joiner: str = prompts.DEFAULT_JOINER
    test_size: int = prompts.TEST_SIZE
    limit: int | None = None
    seed: int = 0
    max_new_tokens: int = 32
    short_new_tokens: int = 12
    only_tasks: tuple[str, ...] = ()

    def cut(self, items: Sequence[Any]) -> list[Any]:
        return list(items) if self.limit is None else list(items)[:max(0, self.limit)]

    def tasks(self, suite: str) -> tuple[str, ...]:
        every = {"instruction_induction": loaders.II_TASKS, "bigbench": loaders.BB_TASKS,
                 "truthfulqa": ("mc1", "mc2")}[suite]
        if not self.only_tasks:
            return every
        if suite == "truthfulqa":
            return every if "truthfulqa" in self.only_tasks else ()
        return tuple(t for t in every if t in self.only_tasks)

    def shot_settings(self, suite: str) -> tuple[int, ...]:
        return (0,) if suite == "truthfulqa" else self.shots  # the papers ran TruthfulQA zero-shot


@dataclass
class StudyResult:
    """scores[(suite, shots)][task][variant] = mean score; variants = baseline + stimuli."""

    variants: tuple[str, ...]
    scores: dict[tuple[str, int], dict[str, dict[str, float]]] = field(default_factory=dict)
    samples: list[dict[str, Any]] = field(default_factory=list)

    def table(self, suite: str, shots: int) -> dict[str, dict[str, float]]:
        return self.scores.get((suite, shots), {})

    def means(self, suite: str, shots: int) -> dict[str, float]:
        t = self.table(suite, shots)
        return {v: sum(row[v] for row in t.values()) / len(t) for v in self.variants} if t else {}

    def gains(self, suite: str, shots: int, how: str = "ratio_of_means") -> dict[str, float]:
        """stimulus -> relative gain (percent) over the baseline; NaN where undefined."""
        t = self.table(suite, shots)
        base = {task: row[BASELINE] for task, row in t.items()}
        out = {}
        for v in self.variants:
            if v == BASELINE:
                continue
            try:
                out[v] = scoring.relative_gain(base, {task: row[v] for task, row in t.items()}, how)
            except (ValueError, ZeroDivisionError):
                out[v] = math.nan
        return out

    def headline_gain(self, suite: str) -> float:
        """The claim value: the ratio-of-means gain of the score averaged over every stimulus,
        task and shot setting over the baseline's average over the same tasks and settings
        (NaN when that baseline average is 0)."""
        tables = [t for (s, _), t in self.scores.items() if s == suite and t]
        stims = [v for v in self.variants if v != BASELINE]
        if not tables or not stims:
            return math.nan
        base = [row[BASELINE] for t in tables for row in t.values()]
        treated = [row[v] for t in tables for row in t.values() for v in stims]
        b = sum(base) / len(base)
        return 100.0 * (sum(treated) / len(treated) - b) / b if b else math.nan


def clean_answer(text: str) -> str:
    """The model's answer without surrounding space and a leading "Answer:"/"Output:"
    label (chat models often repeat the template's label)."""
    t = text.strip()
    for label in _ANSWER_LABELS:
        if t.lower().startswith(label):
            t = t[len(label):].strip()
    return t


def config_from(protocol: Mapping[str, Any], limit: int | None, seed: int) -> StudyConfig:
    """The study settings from a card's [protocol] table and the run (``--limit``,
    ``AFFREPRO_LM_TASKS``)."""
    only = tuple(t.strip() for t in os.environ.get(TASKS_ENV, "").split(",") if t.strip())
    known = set(loaders.II_TASKS) | set(loaders.BB_TASKS) | {"truthfulqa"}
    unknown = [t for t in only if t not in known]
    if unknown:
        raise ValueError(f"{TASKS_ENV}: unknown task(s) {', '.join(unknown)}; known: "
                         + ", ".join(loaders.II_TASKS + loaders.BB_TASKS + ("truthfulqa",)))
    suites = tuple(protocol.get("suites", SUITES))
    bad = [s for s in suites if s not in SUITES]
    if bad:
        raise ValueError(f"[protocol] suites: unknown {bad}; known: {list(SUITES)}")
    return StudyConfig(suites=suites, shots=tuple(int(s) for s in protocol.get("shots", (0, prompts.N_DEMOS))),
                       joiner=str(protocol.get("joiner", prompts.DEFAULT_JOINER)),
                       test_size=int(protocol.get("test_size", prompts.TEST_SIZE)), limit=limit,
                       seed=seed, max_new_tokens=int(protocol.get("max_new_tokens", 32)),
                       short_new_tokens=int(protocol.get("short_new_tokens", 12)), only_tasks=only)


Progress = Callable[[str, int, int], None]


def study_units(config: StudyConfig) -> list[tuple[str, int, str]]:
    """The study's independent units, in order: (suite, shots, task); TruthfulQA's MC1 and
    MC2 come from one unit ("mc1")."""
    return [(suite, shots, task) for suite in config.suites for shots in config.shot_settings(suite)
            for task in config.tasks(suite) if not (suite == "truthfulqa" and task == "mc2")]


def unit_name(unit: tuple[str, int, str]) -> str:
    suite, shots, task = unit
    return f"{suite}/{shots}shot/{'mc' if suite == 'truthfulqa' else task}"


def run_unit(model, root: Path, stimuli: Mapping[str, str], config: StudyConfig,
             unit: tuple[str, int, str]) -> StudyResult:
    """One task × shot setting under the baseline and every stimulus: its scores and sample
    rows (a module-level function: a unit of ``ctx.map_model``, run where it is scheduled)."""
    suite, shots, task = unit
    variants: dict[str, str | None] = {BASELINE: None, **stimuli}
    res = StudyResult(tuple(variants))
    # a chat answer starts on its first line; a completion may start with a line break
    stop = ("\n",) if lmcalls.supports_chat(model) else ("\n\n", "\nInput:")
    plan = lmcalls.GenerationPlan(
        max_new_tokens=config.max_new_tokens if task in LONG_ANSWER_TASKS else config.short_new_tokens,
        stop=stop)
    if suite == "instruction_induction":
        _run_ii(model, root, task, shots, variants, config, plan, res)
    elif suite == "bigbench":
        _run_bb(model, root, task, shots, variants, config, plan, res)
    else:
        _run_tqa(model, root, variants, config, res)
    return res


def merge(into: StudyResult, part: StudyResult) -> None:
    """A unit's scores and samples added to the study's (units taken in order)."""
    for key, table in part.scores.items():
        into.scores.setdefault(key, {}).update(table)
    into.samples += part.samples


def run_study(model, root: Path, stimuli: Mapping[str, str], config: StudyConfig,
              progress: Progress = lambda label, done, total: None,
              on_samples: Callable[[list[dict[str, Any]]], None] = lambda rows: None) -> StudyResult:
    """Run every suite, task, shot setting and variant in this process; return the scores
    and one sample row per model answer (prompt, answer, gold, score). ``on_samples`` gets
    each task's rows as soon as the task is scored (so an interrupted run keeps the log of
    what it did). The protocol runs the same units through ``ctx.map_model``."""
    res = StudyResult((BASELINE, *stimuli))
    units = study_units(config)
    for done, unit in enumerate(units):
        progress("tasks", done, len(units))
        part = run_unit(model, root, stimuli, config, unit)
        merge(res, part)
        on_samples(part.samples)
    if units:
        progress("tasks", len(units), len(units))
    return res


def _put(res: StudyResult, suite: str, shots: int, task: str, variant: str, value: float) -> None:
    res.scores.setdefault((suite, shots), {}).setdefault(task, {})[variant] = value


def _chunks(flat: Sequence[Any], sizes: Sequence[int]) -> list[list[Any]]:
    """``flat`` cut into consecutive pieces of the given sizes."""
    out, k = [], 0
    for n in sizes:
        out.append(list(flat[k:k + n]))
        k += n
    if k != len(flat):
        raise RuntimeError(f"{len(flat)} results for {k} requests")
    return out


def _run_ii(model, root, task, shots, variants, config, plan, res) -> None:
    """One generate call for the task: every variant's queries together."""
    test = loaders.load_instruction_induction(root, task, "execute", seed=config.seed)
    induce = loaders.load_instruction_induction(root, task, "induce", seed=config.seed)
    per_variant = {vid: config.cut(prompts.build_queries(task, test, induce, stim, shots > 0, config.seed,
                                                         config.joiner, config.test_size))
                   for vid, stim in variants.items()}
    texts = lmcalls.generate_texts(model, [q for pairs in per_variant.values() for q, _ in pairs], plan,
                                   seed=config.seed, description=f"{task} {shots}-shot")
    for (vid, pairs), outs in zip(per_variant.items(), _chunks(texts, [len(p) for p in per_variant.values()])):
        answers = [clean_answer(a) for a in outs]
        per = [scoring.score_example(task, a, ex) for a, (_, ex) in zip(answers, pairs)]
        _put(res, "instruction_induction", shots, task, vid, sum(per) / len(per) if per else math.nan)
        res.samples += [{"suite": "instruction_induction", "task": task, "shots": shots, "variant": vid,
                         "prompt": q, "answer": a, "gold": list(ex.answers), "score": s}
                        for (q, ex), a, s in zip(pairs, answers, per)]


def _run_bb(model, root, task, shots, variants, config, plan, res) -> None:
    """One loglikelihood (multiple choice) or generate call for the task, all variants together."""
    t = bigbench.load_task(root, task)
    sp = bigbench.split(t, config.seed, config.test_size)
    test = config.cut(sp.test)
    queries = {vid: bigbench.build_queries(t, test, sp.demo_pool, stim, shots > 0, config.seed, config.joiner)
               for vid, stim in variants.items()}
    rows: dict[str, list[tuple]] = {vid: [] for vid in variants}
    if t.multiple_choice:
        flat = [p for qs in queries.values() for q, ex in zip(qs, test) for p in bigbench.option_pairs(q, ex)]
        lps = lmcalls.loglikelihoods(model, flat, description=f"{task} {shots}-shot")
        per_q = _chunks(lps, [len(ex.options) for _ in queries for ex in test])
        k = 0
        for vid, qs in queries.items():
            for q, ex in zip(qs, test):
                mine = per_q[k]
                k += 1
                choice = bigbench.pick_option(mine, ex)
                rows[vid].append((q, choice, bigbench.score_choice(choice, ex), ex, dict(zip(ex.options, mine))))
    else:
        texts = lmcalls.generate_texts(model, [q for qs in queries.values() for q in qs], plan,
                                       seed=config.seed, description=f"{task} {shots}-shot")
        for (vid, qs), outs in zip(queries.items(), _chunks(texts, [len(qs) for qs in queries.values()])):
            for q, a, ex in zip(qs, outs, test):
                a = clean_answer(a)
                rows[vid].append((q, a, scoring.score_bigbench_example(a, ex), ex, None))
    for vid, rs in rows.items():
        _put(res, "bigbench", shots, task, vid, sum(r[2] for r in rs) / len(rs) if rs else math.nan)
        res.samples += [{"suite": "bigbench", "task": task, "shots": shots, "variant": vid, "prompt": q,
                         "answer": a, "gold": list(ex.answers), "score": sc,
                         **({"option_logprobs": lp} if lp is not None else {})}
                        for q, a, sc, ex, lp in rs]


def _run_tqa(model, root, variants, config, res) -> None:
    """One loglikelihood call: every variant × question × answer."""
    subset = config.cut(loaders.load_truthfulqa(root))
    n = len(subset)
    per_item = [(vid, it, truthfulqa.pairs(it, stim, config.joiner))
                for vid, stim in variants.items() for it in subset]
    lps = lmcalls.loglikelihoods(model, [p for _, _, ps in per_item for p in ps], description="truthfulqa")
    mc: dict[str, list[tuple[float, float]]] = {vid: [] for vid in variants}
    for (vid, it, ps), mine in zip(per_item, _chunks(lps, [len(ps) for _, _, ps in per_item])):
        mc1, mc2 = truthfulqa.mc_scores(it, mine)
        mc[vid].append((mc1, mc2))
        res.samples.append({"suite": "truthfulqa", "task": "mc", "shots": 0, "variant": vid,
                            "prompt": ps[0][0], "answer": None, "gold": it.best_answer,
                            "score": {"mc1": mc1, "mc2": mc2},
                            "answer_logprobs": [[c.strip(), lp] for (_, c), lp in zip(ps, mine)]})
    for vid, vals in mc.items():
        _put(res, "truthfulqa", 0, "mc1", vid, sum(v[0] for v in vals) / n if n else math.nan)
        _put(res, "truthfulqa", 0, "mc2", vid, sum(v[1] for v in vals) / n if n else math.nan)


def _finite(x: float | None) -> float | None:
    return x if x is not None and math.isfinite(x) else None  # report.json refuses NaN


def tables(res: StudyResult) -> list[dict[str, Any]]:
    """One table per suite × shot setting: a row per task (baseline and each stimulus),
    then the mean and both relative gains (percent; empty where undefined)."""
    out = []
    for (suite, shots), t in res.scores.items():
        cols = ["task", *res.variants]
        rows = [[task, *[row[v] for v in res.variants]] for task, row in t.items()]
        means = res.means(suite, shots)
        rows.append(["mean", *[means[v] for v in res.variants]])
        for how, label in (("ratio_of_means", "gain % (ratio of means)"),
                           ("mean_of_ratios", "gain % (mean of ratios)")):
            g = res.gains(suite, shots, how)
            rows.append([label, None, *[g[v] for v in res.variants if v != BASELINE]])
        title = f"{suite} {'zero-shot' if shots == 0 else f'{shots}-shot'}" + (
            " (MC1/MC2 by log-likelihood)" if suite == "truthfulqa" else "")
        rows = [[r[0], *[_finite(x) for x in r[1:]]] for r in rows]
        out.append({"title": title, "columns": cols, "rows": rows})
    return out


DRY_RUN_TASKS = ("sum", "navigate", "object_counting", "truthfulqa")
CLAIM_SUITES = {"instruction-induction-relative-gain": "instruction_induction",
                "bigbench-relative-gain": "bigbench"}
DATASET = "negativeprompt"


def deviations(config: StudyConfig, chat: bool) -> list[str]:
    """What this run does differently from the papers (each lands in the report)."""
    out = [
        f"decoding is greedy (temperature 0), at most {config.max_new_tokens} new tokens for sentence and "
        f"list answers and {config.short_new_tokens} for word, number and label answers, stopping at the "
        "end of the first line (the scorers read the first line; a completion model stops at a blank line "
        "or the next 'Input:'); the papers sampled "
        "ChatGPT at temperature 0.7 and Llama 2 with 50 sampled tokens",
        ("each query is sent as one user message through the model's chat template"
         if chat else "each query is sent as a plain completion prompt (the model has no chat template)"),
        "a leading 'Answer:'/'Output:' label is removed from answers before scoring",
        "test subset and demonstrations: drawn once with the run's seed, so every prompt variant sees the "
        "same examples (paired); the released code draws them afresh, unseeded, in each run of a stimulus",
        "BIG-Bench: the released code runs only Instruction Induction; the instruction is the task's "
        "task_prefix, multiple-choice tasks are scored by the log-likelihood of each option (options "
        "appended to the input as BIG-Bench does), the others by exact match; few-shot demonstrations "
        "come from the task's examples outside the test subset",
        "TruthfulQA: the papers' fine-tuned GPT-judge/GPT-info are not available; TruthfulQA is scored "
        "as multiple choice (MC1, MC2) by the model's log-likelihoods over the CSV's correct and "
        "incorrect answers, zero-shot, prompt 'Q: question+stimulus\\nA:'",
        "relative gain: neither paper defines its aggregate; the claim value is the ratio-of-means gain "
        "of the score pooled over stimuli, tasks and shot settings over the baseline's, and the papers "
        "pool their five/six models besides",
    ]
    if config.limit is not None:
        out.append(f"--limit {config.limit}: the first {config.limit} examples of each task's test subset "
                   f"(the papers use min(100, n); TruthfulQA all 817 questions)")
    if config.only_tasks:
        out.append(f"{TASKS_ENV} restricts the run to: {', '.join(config.only_tasks)}")
    if set(config.shots) != {0, prompts.N_DEMOS}:
        out.append(f"shot settings run: {list(config.shots)} (the papers: zero- and 5-shot)")
    return out


def run_for_paper(ctx, stimuli: Mapping[str, str]) -> dict[str, float]:
    """The protocol of emotionprompt-2023 / negativeprompt-2024 on the run's model."""
    limit = getattr(ctx, "limit", None)
    config = config_from(ctx.card.raw.get("protocol", {}) or {}, limit, ctx.seeds[0])
    if ctx.dry_run and not config.only_tasks:
        # a smoke test of every code path on synthetic data: one generated and one multiple-choice
        # task of each kind, TruthfulQA, the baseline and one stimulus, one example
        config = replace(config, limit=1 if limit is None else limit, only_tasks=DRY_RUN_TASKS)
        stimuli = dict(list(stimuli.items())[:1])
        ctx.deviation(f"dry run: tasks {', '.join(DRY_RUN_TASKS)}, the baseline and "
                      f"{next(iter(stimuli), 'no stimulus')} only")
    model = ctx.model
    if not lmcalls.supports_logprobs(model) and {"bigbench", "truthfulqa"} & set(config.suites):
        config = replace(config, suites=tuple(s for s in config.suites if s == "instruction_induction"))
        ctx.deviation(f"model {getattr(model, 'name', '?')!r} gives no log-likelihoods: BIG-Bench (multiple "
                      "choice) and TruthfulQA are not run")
    for d in deviations(config, lmcalls.supports_chat(model)):
        ctx.deviation(d)
    ctx.stage(f"running {sum(len(config.tasks(s)) for s in config.suites)} tasks × "
              f"{len(stimuli) + 1} prompts on the model")
    def log(rows):
        for row in rows:
            ctx.sample_log(f"{row['suite']}.{row['task']}", row)

    # each task × shot setting is a unit of the run's executor (in-process, or a Dask worker
    # with --cluster); results come back in order, the driver logs and records them
    res = StudyResult((BASELINE, *stimuli))

    def take(name: str, part: StudyResult) -> None:
        merge(res, part)
        log(part.samples)

    units = {unit_name(u): (ctx.data_ref(DATASET), dict(stimuli), config, u) for u in study_units(config)}
    ctx.map_model(run_unit, units, label="tasks", on_result=take)
    ctx.note("tables", tables(res))
    for (suite, shots) in res.scores:
        for v, m in res.means(suite, shots).items():
            ctx.record(f"{suite}.{shots}shot.{v}.mean", m)
        for v, g in res.gains(suite, shots).items():
            if math.isfinite(g):
                ctx.record(f"{suite}.{shots}shot.{v}.gain_pct", g)
    measured = {}
    for cid in ctx.claims_to_measure:
        suite = CLAIM_SUITES.get(cid)
        if suite is None or suite not in config.suites:
            ctx.skip(cid, f"this run did not include the suite the claim needs ({suite})")
            continue
        if not any(s == suite for s, _ in res.scores):
            ctx.skip(cid, f"this run scored no {suite} task ({TASKS_ENV} left none)")
            continue
        value = res.headline_gain(suite)
        if math.isfinite(value):
            measured[cid] = value
        else:
            ctx.skip(cid, f"the baseline's mean {suite} score on this model is 0, so the relative gain "
                          "is undefined (see the per-task tables)")
    return measured
