"""The two ways a protocol here talks to a language model, batched: generate texts for a
list of queries, and score (context, continuation) pairs by log-likelihood. Requests are
the frozen ``affrepro.lm`` types; one call per task × prompt variant, so the engine sees
the whole batch (and caches each request)."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class GenerationPlan:
    """Greedy decoding with a token cap and stop strings (the papers' answers are one short
    line; the cap and stops are recorded as deviations by the protocols that set them)."""

    max_new_tokens: int = 32
    stop: tuple[str, ...] = ("\n\n",)
    temperature: float = 0.0
    top_p: float = 1.0


def supports_chat(model) -> bool:
    caps = getattr(model, "capabilities", None)
    caps = caps() if callable(caps) else caps
    return bool(getattr(caps, "chat", False))


def supports_logprobs(model) -> bool:
    caps = getattr(model, "capabilities", None)
    caps = caps() if callable(caps) else caps
    return bool(getattr(caps, "logprobs", False))


def _call(method, requests, description: str):
    """``method(requests)``, with a progress description where the model takes one (the engine)."""
    import inspect

    try:
        takes = "description" in inspect.signature(method).parameters
    except (TypeError, ValueError):
        takes = False
    return method(requests, description=description) if takes else method(requests)


def generate_texts(model, queries: Sequence[str], plan: GenerationPlan = GenerationPlan(),
                   seed: int = 0, chat: bool | None = None, description: str = "generating") -> list[str]:
    """One answer per query. A chat model gets each query as one user message (what the
    papers sent to ChatGPT/Vicuna); a completion model gets the query as the prompt."""
    from affrepro.lm import GenerateRequest, GenerationSettings, Message

    if not queries:
        return []
    chat = supports_chat(model) if chat is None else chat
    settings = GenerationSettings(max_new_tokens=plan.max_new_tokens, temperature=plan.temperature,
                                  top_p=plan.top_p, stop=tuple(plan.stop))
    requests = [GenerateRequest(prompt=None if chat else q,
                                messages=(Message("user", q),) if chat else None,
                                settings=settings, seed=seed, sample_index=0)
                for q in queries]
    out = _call(model.generate, requests, description)
    if len(out) != len(requests):
        raise RuntimeError(f"the model returned {len(out)} generations for {len(requests)} requests")
    return [g.text for g in out]


def loglikelihoods(model, pairs: Sequence[tuple[str, str]], description: str = "scoring") -> list[float]:
    """log P(continuation | context) for each pair (sum over the continuation's tokens)."""
    from affrepro.lm import LoglikelihoodRequest

    if not pairs:
        return []
    out = _call(model.loglikelihood, [LoglikelihoodRequest(context=c, continuation=x) for c, x in pairs],
                description)
    if len(out) != len(pairs):
        raise RuntimeError(f"the model returned {len(out)} log-likelihoods for {len(pairs)} requests")
    return [float(r.logprob) for r in out]


def loglikelihoods_with_lengths(model, pairs: Sequence[tuple[str, str]],
                                description: str = "scoring") -> list[tuple[float, int]]:
    """(log P(continuation | context), continuation tokens) for each pair."""
    from affrepro.lm import LoglikelihoodRequest

    if not pairs:
        return []
    out = _call(model.loglikelihood, [LoglikelihoodRequest(context=c, continuation=x) for c, x in pairs],
                description)
    if len(out) != len(pairs):
        raise RuntimeError(f"the model returned {len(out)} log-likelihoods for {len(pairs)} requests")
    return [(float(r.logprob), int(r.n_tokens)) for r in out]


def rank_options(model, items: Sequence[tuple[str, Sequence[str]]],
                 description: str = "choosing") -> list[list[float]]:
    """For each (context, options): the log-likelihood of " option" after the context
    (trailing spaces of the context removed), in one batched call."""
    flat = [(ctx.rstrip(" "), " " + o) for ctx, opts in items for o in opts]
    lps = loglikelihoods(model, flat, description)
    out, k = [], 0
    for _, opts in items:
        out.append(lps[k:k + len(opts)])
        k += len(opts)
    return out


def argmax_first(values: Sequence[float]) -> int:
    """Index of the largest value, the first of equals."""
    if not values:
        raise ValueError("no values")
    return max(range(len(values)), key=lambda i: (values[i], -i))
