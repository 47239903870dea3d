"""persona-binding-2025: virtual personas answer ordinal survey questions; their answer
distribution is compared with the human one by the 1-D Wasserstein distance.

For each question q, persona condition k (the first condition in the file is the baseline,
e.g. short demographic personas; the others, e.g. the paper's interview backstories) and
persona text x, the virtual respondent's answer is the option with the highest
log-likelihood after "{x}\\n\\nQuestion: {q}\\nAnswer with one of: …\\nAnswer:". The
answers of a condition give its distribution over the ordinal options; then

    W_k(q) = W₁(human(q), model_k(q))   (options at positions 0, 1, …, K−1)
    improvement_k(q) = 100 · (W_base(q) − W_k(q)) / W_base(q)

and the claim is the largest improvement over questions and non-baseline conditions
("up to 87%"). The paper's survey data and generated backstories were not located: the
user supplies them (``persona-binding-survey``: survey.jsonl, one question a line with
question_id, question, options (low → high), human_counts, personas {condition: [texts]}).
"""
from __future__ import annotations

import json
import math
import random
from collections.abc import Mapping
from pathlib import Path

from affrepro.components import Problem
from affrepro.plugins.prompt_benchmarks import lmcalls
from affrepro.plugins.stats.functions import ordinal_distribution, wasserstein_improvement_percent, wasserstein_ordinal

SURVEY_FILE = "survey.jsonl"
CLAIM = "max-wasserstein-improvement"


def prompt(persona: str, question: str, options) -> str:
    return f"{persona}\n\nQuestion: {question}\nAnswer with one of: {', '.join(options)}.\nAnswer:"


def read_survey(folder: Path) -> list[dict]:
    path = Path(folder) / SURVEY_FILE
    out = []
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{n}: not JSON ({exc.msg})") from None
            ok = (isinstance(row, Mapping) and isinstance(row.get("question"), str)
                  and isinstance(row.get("options"), list) and len(row["options"]) >= 2
                  and isinstance(row.get("human_counts"), list) and len(row["human_counts"]) == len(row["options"])
                  and all(isinstance(c, (int, float)) and c >= 0 for c in row["human_counts"])
                  and sum(row["human_counts"]) > 0
                  and isinstance(row.get("personas"), Mapping) and len(row["personas"]) >= 2
                  and all(isinstance(v, list) and v and all(isinstance(t, str) for t in v)
                          for v in row["personas"].values()))
            if not ok:
                raise ValueError(f"{path}:{n}: expected question, options (≥ 2), human_counts (one "
                                 "non-negative count per option, not all 0) and personas with ≥ 2 conditions, "
                                 "each a non-empty list of texts")
            row.setdefault("question_id", str(n))
            out.append(row)
    if not out:
        raise ValueError(f"{path}: no questions")
    return out


def verify(folder: Path) -> list[Problem]:
    path = Path(folder) / SURVEY_FILE
    if not path.is_file():
        return [Problem(str(path), "missing: one question a line (see the dataset's description)")]
    try:
        read_survey(folder)
    except ValueError as exc:
        return [Problem(str(path), str(exc))]
    return []


def synthesize(folder: Path, seed: int) -> None:
    rng = random.Random(seed)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    scale = ["Strongly disagree", "Disagree", "Neither agree nor disagree", "Agree", "Strongly agree"]
    rows = []
    for i, topic in enumerate(("taxes on high incomes should rise", "the other party's voters are patriotic",
                               "the government should regulate social media")):
        rows.append({"question_id": f"q{i + 1}", "question": f"Do you agree that {topic}?", "options": scale,
                     "human_counts": [rng.randint(1, 40) for _ in scale],
                     "personas": {"baseline": ["You are a Democrat.", "You are a Republican."],
                                  "backstory": ["Interviewer: Tell me about yourself.\nMe: I grew up in Ohio, "
                                                "teach school and vote for Democrats.",
                                                "Interviewer: Tell me about yourself.\nMe: I run a farm in "
                                                "Texas and have always voted Republican."]}})
    (folder / SURVEY_FILE).write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def run(ctx):
    limit = ctx.limit if ctx.limit is not None else (1 if ctx.dry_run else None)  # dry run: a smoke test
    survey = read_survey(ctx.data_path("persona-binding-survey"))
    if limit is not None:
        survey = survey[:limit]
        ctx.deviation(f"--limit {limit}: the first {len(survey)} questions")
    ctx.deviation("a virtual respondent's answer is the option with the highest log-likelihood (the paper "
                  "sampled answers); the prompt wording is affrepro's")
    items = [(q, cond, prompt(p, q["question"], q["options"]))
             for q in survey for cond, texts in q["personas"].items() for p in texts]
    lps = lmcalls.rank_options(ctx.model, [(c, q["options"]) for q, _, c in items], "persona answers")
    answers: dict[tuple[str, str], list[str]] = {}
    for (q, cond, c), lp in zip(items, lps):
        a = q["options"][lmcalls.argmax_first(lp)]
        answers.setdefault((q["question_id"], cond), []).append(a)
        ctx.sample_log("answers", {"question_id": q["question_id"], "condition": cond, "prompt": c,
                                   "answer": a, "option_logprobs": dict(zip(q["options"], lp))})
    rows, best = [], -math.inf
    for q in survey:
        conds = list(q["personas"])
        dist = {k: ordinal_distribution(answers[(q["question_id"], k)], q["options"]) for k in conds}
        w = {k: wasserstein_ordinal(q["human_counts"], dist[k]) for k in conds}
        for k in conds[1:]:
            imp = wasserstein_improvement_percent(q["human_counts"], dist[conds[0]], dist[k])
            rows.append([q["question_id"], k, w[conds[0]], w[k], imp if math.isfinite(imp) else None])
            if math.isfinite(imp):
                best = max(best, imp)
                ctx.record(f"improvement_pct.{q['question_id']}.{k}", imp)
    ctx.note("tables", [{"title": "Wasserstein distance to the human answers, and improvement over the baseline personas",
                         "columns": ["question", "condition", "W baseline", "W condition", "improvement %"],
                         "rows": rows}])
    if CLAIM in ctx.claims_to_measure:
        if math.isfinite(best):
            return {CLAIM: best}
        ctx.fail(CLAIM, "every baseline distribution equals the human one (W = 0): improvement undefined")
    return {}
