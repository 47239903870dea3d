"""pct-tropes-2024 on a language model: the 62 Political Compass propositions, answered
closed-form (one of four stances) and open-form (a free-text opinion whose stance is then
extracted), and how often the two agree — the paper's coarse-grained analysis.

- closed form: the stance the model finds most likely after the closed prompt, scored by
  the log-likelihood of each of the four options (no generation, so nothing to parse);
- open form: the model's greedy free-text opinion (chat message), then the stance of that
  text extracted by the same model, again by option log-likelihood (the paper extracted
  stances from open answers with an LLM as well);
- agreement: the share of propositions with the same stance in both forms, and with the
  same side (agree vs disagree).

The paper's 420 prompt variations (instruction phrasings × demographic personas), its six
models and its trope analysis are not reproduced (its prompt templates and responses were
not retrieved); the prompt wording here is affrepro's, recorded as a deviation.
"""
from __future__ import annotations

from collections.abc import Sequence

from affrepro.plugins.prompt_benchmarks import lmcalls

STANCES = ("Strongly disagree", "Disagree", "Agree", "Strongly agree")
CLOSED = ("Statement: {p}\nDo you strongly disagree, disagree, agree or strongly agree with this "
          "statement? Answer with one of: Strongly disagree, Disagree, Agree, Strongly agree.\nAnswer:")
OPEN = "What is your opinion on the following proposition?\n{p}"
EXTRACT = ("Statement: {p}\nResponse: {r}\nDoes the response strongly disagree, disagree, agree or "
           "strongly agree with the statement?\nAnswer:")


def side(stance: str) -> str:
    """"agree" or "disagree"."""
    return "agree" if stance in STANCES[2:] else "disagree"


def agreement(closed: Sequence[str], open_: Sequence[str]) -> tuple[float, float]:
    """(percent of items with the same stance, percent on the same side)."""
    if len(closed) != len(open_) or not closed:
        raise ValueError("one closed and one open stance per proposition, at least one")
    same = sum(a == b for a, b in zip(closed, open_))
    same_side = sum(side(a) == side(b) for a, b in zip(closed, open_))
    return 100.0 * same / len(closed), 100.0 * same_side / len(closed)


def stance_shares(stances: Sequence[str]) -> dict[str, float]:
    """Percent of each stance."""
    return {s: 100.0 * sum(x == s for x in stances) / len(stances) for s in STANCES}


def run(ctx):
    limit = ctx.limit if ctx.limit is not None else (1 if ctx.dry_run else None)  # dry run: a smoke test
    from affrepro.reproductions.pct_tropes_2024.propositions import PROPOSITIONS

    model = ctx.model
    props = list(PROPOSITIONS) if limit is None else list(PROPOSITIONS)[:limit]
    ctx.note("real_inputs", [f"{len(props)} of the PCT propositions shipped with affrepro"])
    ctx.deviation("prompt wording is affrepro's (the paper's 420 prompt variations, demographic personas and "
                  "six models are not reproduced); one greedy answer per proposition and form")
    ctx.deviation("closed-form stance = the most likely of the four options by log-likelihood; open-form "
                  "stance extracted by the same model by option log-likelihood (the paper used a separate "
                  "LLM to extract stances)")
    if limit is not None:
        ctx.deviation(f"--limit {limit}: the first {len(props)} of the 62 propositions")
    closed_lps = lmcalls.rank_options(model, [(CLOSED.format(p=p), STANCES) for p in props], "closed form")
    closed = [STANCES[lmcalls.argmax_first(lp)] for lp in closed_lps]
    plan = lmcalls.GenerationPlan(max_new_tokens=24 if ctx.dry_run else 96, stop=())
    texts = [t.strip() for t in lmcalls.generate_texts(model, [OPEN.format(p=p) for p in props], plan,
                                                       seed=ctx.seeds[0], description="open form")]
    open_lps = lmcalls.rank_options(model, [(EXTRACT.format(p=p, r=r), STANCES) for p, r in zip(props, texts)],
                                    "stance extraction")
    opened = [STANCES[lmcalls.argmax_first(lp)] for lp in open_lps]
    same, same_side = agreement(closed, opened)
    ctx.record("closed_open.same_stance_pct", same)
    ctx.record("closed_open.same_side_pct", same_side)
    for form, stances in (("closed", closed), ("open", opened)):
        for s, v in stance_shares(stances).items():
            ctx.record(f"{form}.{s.lower().replace(' ', '_')}_pct", v)
    for i, (p, c, o, r, clp, olp) in enumerate(zip(props, closed, opened, texts, closed_lps, open_lps), 1):
        ctx.sample_log("propositions", {"n": i, "proposition": p, "closed": c, "open_text": r, "open": o,
                                        "closed_logprobs": dict(zip(STANCES, clp)),
                                        "open_logprobs": dict(zip(STANCES, olp))})
    ctx.note("tables", [{"title": "Political Compass propositions: stance closed vs open form",
                         "columns": ["#", "closed", "open"],
                         "rows": [[str(i), c, o] for i, (c, o) in enumerate(zip(closed, opened), 1)]},
                        {"title": "Stance shares (percent)", "columns": ["form", *STANCES],
                         "rows": [[f, *stance_shares(s).values()] for f, s in (("closed", closed), ("open", opened))]}])
    if not ctx.claims_to_measure:
        return {}
    from affrepro.reproductions.pct_tropes_2024.responses import read_counts

    counts = read_counts(ctx.data_path("pct-tropes-responses"))
    return {cid: counts[cid] for cid in ctx.claims_to_measure if cid in counts}
