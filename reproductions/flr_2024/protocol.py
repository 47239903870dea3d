"""flr-2024: Follow-up Likelihood as Reward, scored on pairwise preferences.

For a conversation c (user turns alternating with assistant turns, ending with the user)
and a candidate response r, FLR for one dimension d is

    FLR_d(c, r) = mean_{f ∈ POS_d} ℓ(f | c, r) − mean_{f ∈ NEG_d} ℓ(f | c, r),

ℓ(f | c, r) = log P(f | c, r) / |f| the mean per-token log-probability of the user's
follow-up f after the response (follow-up lists: :mod:`followups`), and FLR_all the same
over all six dimensions' lists pooled. A preference pair (c, chosen, rejected) is right
when FLR(c, chosen) > FLR(c, rejected); pairwise accuracy is the share of right pairs.

The conversation is rendered as plain text, "User: …\\nAssistant: …" lines, and the
follow-up is scored as the continuation " f" after "\\nUser:" (the released code uses the
model's chat template and averages raw logits over the follow-up's tokens; affrepro uses
log-probabilities, the quantity the paper names). The paper's eight pairwise benchmarks
and its fine-tuned follow-up model are not public here: the pairs come from the user
(``flr-preference``, one JSON object a line: conversation, chosen, rejected).
"""
from __future__ import annotations

import json
import random
from collections.abc import Mapping, Sequence
from pathlib import Path

from affrepro.components import Problem
from affrepro.plugins.prompt_benchmarks import lmcalls
from affrepro.reproductions.flr_2024.followups import DIMENSIONS, NEGATIVE, POSITIVE

PAIRS_FILE = "pairs.jsonl"


def render(conversation: Sequence[str], response: str) -> str:
    """"User: …\\nAssistant: …" with the response as the last assistant turn, then
    "\\nUser:". An even number of turns drops the first, so the list starts with the user
    (as the released code does)."""
    turns = list(conversation)
    if len(turns) % 2 == 0:
        turns = turns[1:]
    lines = [f"{'User' if i % 2 == 0 else 'Assistant'}: {t}" for i, t in enumerate(turns)]
    return "\n".join(lines + [f"Assistant: {response}", "User:"])


def followup_pairs(conversation: Sequence[str], response: str) -> list[tuple[str, str]]:
    """(context, " follow-up") for every positive then every negative follow-up, dimension by dimension."""
    ctx = render(conversation, response)
    return [(ctx, " " + f) for d in DIMENSIONS for f in POSITIVE[d] + NEGATIVE[d]]


def flr_scores(scored: Sequence[tuple[float, int]]) -> dict[str, float]:
    """dimension (and "all") -> FLR from :func:`followup_pairs`' (logprob, tokens) in order."""
    per_token = [lp / n for lp, n in scored]
    out, k, pos_all, neg_all = {}, 0, [], []
    for d in DIMENSIONS:
        pos = per_token[k:k + len(POSITIVE[d])]
        k += len(POSITIVE[d])
        neg = per_token[k:k + len(NEGATIVE[d])]
        k += len(NEGATIVE[d])
        out[d] = sum(pos) / len(pos) - sum(neg) / len(neg)
        pos_all += pos
        neg_all += neg
    if k != len(per_token):
        raise ValueError(f"{len(per_token)} scores for {k} follow-ups")
    out["all"] = sum(pos_all) / len(pos_all) - sum(neg_all) / len(neg_all)
    return out


def read_pairs(folder: Path) -> list[dict]:
    path = Path(folder) / PAIRS_FILE
    out = []
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{n}: not JSON ({exc.msg})") from None
            conv = row.get("conversation") if isinstance(row, Mapping) else None
            if (not isinstance(conv, list) or not conv or not all(isinstance(t, str) for t in conv)
                    or not isinstance(row.get("chosen"), str) or not isinstance(row.get("rejected"), str)):
                raise ValueError(f"{path}:{n}: expected {{\"conversation\": [str, ...], \"chosen\": str, "
                                 "\"rejected\": str}")
            out.append(row)
    if not out:
        raise ValueError(f"{path}: no pairs")
    return out


def verify(folder: Path) -> list[Problem]:
    path = Path(folder) / PAIRS_FILE
    if not path.is_file():
        return [Problem(str(path), "missing: one JSON object a line with conversation, chosen, rejected")]
    try:
        read_pairs(folder)
    except ValueError as exc:
        return [Problem(str(path), str(exc))]
    return []


def synthesize(folder: Path, seed: int) -> None:
    """A few arithmetic questions with a right (chosen) and a wrong, off-topic (rejected) answer."""
    rng = random.Random(seed)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for _ in range(8):
        a, b = rng.randint(2, 40), rng.randint(2, 40)
        rows.append({"conversation": [f"What is {a} plus {b}?"], "chosen": f"{a} plus {b} is {a + b}.",
                     "rejected": "I like to watch the clouds go by."})
    (folder / PAIRS_FILE).write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def run(ctx):
    limit = ctx.limit if ctx.limit is not None else (1 if ctx.dry_run else None)  # dry run: a smoke test
    pairs = read_pairs(ctx.data_path("flr-preference"))
    if limit is not None:
        pairs = pairs[:limit]
        ctx.deviation(f"--limit {limit}: the first {len(pairs)} preference pairs")
    ctx.deviation("follow-up likelihood = mean per-token log-probability of the follow-up after a plain-text "
                  "'User:/Assistant:' rendering (the released code averages raw logits under the chat template)")
    requests = [p for row in pairs for resp in (row["chosen"], row["rejected"])
                for p in followup_pairs(row["conversation"], resp)]
    scored = lmcalls.loglikelihoods_with_lengths(ctx.model, requests, "follow-up likelihood")
    per = len(requests) // (2 * len(pairs))
    right = {d: 0 for d in (*DIMENSIONS, "all")}
    for i, row in enumerate(pairs):
        chosen = flr_scores(scored[(2 * i) * per:(2 * i + 1) * per])
        rejected = flr_scores(scored[(2 * i + 1) * per:(2 * i + 2) * per])
        for d in right:
            right[d] += chosen[d] > rejected[d]
        ctx.sample_log("pairs", {"n": i, "conversation": row["conversation"], "chosen": row["chosen"],
                                 "rejected": row["rejected"], "flr_chosen": chosen, "flr_rejected": rejected})
    acc = {d: 100.0 * n / len(pairs) for d, n in right.items()}
    for d, v in acc.items():
        ctx.record(f"pairwise_accuracy_pct.{d}", v)
    ctx.note("tables", [{"title": f"FLR pairwise accuracy (percent, {len(pairs)} pairs)",
                         "columns": ["dimension", "accuracy %"], "rows": [[d, v] for d, v in acc.items()]}])
    return {}
