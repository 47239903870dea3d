"""Where the time of an EmotionPrompt/NegativePrompt run goes, without running the model:
every request the study would send, counted in tokens of the default model's tokenizer,
per suite × shot setting × kind (generation, log-likelihood).

    python tools/lm_request_profile.py [--paper negativeprompt-2024] [--limit 5] [--data FOLDER]

Columns: requests; distinct contexts (prompts); their tokens (a generation prompt through
the chat template); the tokens left when every prefix shared within one model call runs
once (the size of the token trie of that call's contexts); continuation tokens
(log-likelihood) or the token cap (generation); the share of all tokens. Needs the
``negativeprompt`` data folder (default: $AFFREPRO_DATA_MIRROR/negativeprompt) and the
default model's tokenizer (fetched on first use).
"""
from __future__ import annotations

import argparse
import collections
import os
from collections.abc import Sequence
from pathlib import Path


def trie_tokens(seqs: Sequence[Sequence[int]]) -> int:
    """Tokens of the prefix trie of ``seqs``: each shared prefix counted once."""
    total, prev = 0, ()
    for s in sorted(set(map(tuple, seqs))):
        k = 0
        while k < min(len(s), len(prev)) and s[k] == prev[k]:
            k += 1
        total += len(s) - k
        prev = s
    return total


class _Recorder:
    """Stands in for the model: records each call's requests and answers with blanks."""

    name = "recorder"

    def __init__(self, capabilities):
        self.capabilities = capabilities
        self.calls: list[tuple[str, str, list]] = []

    def generate(self, requests, description=""):
        from affrepro.lm import Generation

        self.calls.append(("generate", description, list(requests)))
        return [Generation(text="", prompt_tokens=0, completion_tokens=0, finish_reason="stop")
                for _ in requests]

    def loglikelihood(self, requests, description=""):
        from affrepro.lm import Loglikelihood

        self.calls.append(("loglikelihood", description, list(requests)))
        return [Loglikelihood(logprob=0.0, is_greedy=False, n_tokens=1) for _ in requests]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--paper", default="negativeprompt-2024", choices=["negativeprompt-2024", "emotionprompt-2023"])
    ap.add_argument("--limit", type=int, default=5)
    ap.add_argument("--data", default=os.path.join(os.environ.get("AFFREPRO_DATA_MIRROR", "."), "negativeprompt"))
    args = ap.parse_args()

    from affrepro.lm import load_model
    from affrepro.plugin_manager import build_plugin_manager
    from affrepro.plugins.prompt_benchmarks import loaders, stimuli, study
    from affrepro.card import load_card

    model = load_model("smollm2-135m", build_plugin_manager(load_entry_points=False).registries)
    root = Path(args.data)
    if not root.is_dir():
        raise SystemExit(f"{root}: no such folder (give --data, the negativeprompt data folder)")
    stim = stimuli.NEGATIVE_PROMPT if args.paper.startswith("negative") else stimuli.EMOTION_PROMPT
    card = Path(__file__).resolve().parents[1] / "reproductions" / args.paper.replace("-", "_") / "paper.toml"
    config = study.config_from(load_card(card).raw.get("protocol", {}) or {}, args.limit, 0)
    rec = _Recorder(model.capabilities)
    study.run_study(rec, root, stim, config)

    rows = collections.defaultdict(collections.Counter)
    for kind, desc, reqs in rec.calls:
        task = desc.split(" ")[0]
        suite = ("instruction_induction" if task in loaders.II_TASKS else
                 "bigbench" if task in loaders.BB_TASKS else "truthfulqa")
        shots = "5" if "5-shot" in desc else "0"
        r = rows[(suite, shots, kind)]
        if kind == "generate":
            prompts = [model.prompt_ids(q) for q in reqs]
            r["cont"] += sum(q.settings.max_new_tokens for q in reqs)
        else:
            ctxs: dict[tuple[int, ...], list[int]] = {}
            for q in reqs:
                ctx, cont = model.encode_pair(q.context, q.continuation)
                ctxs.setdefault(tuple(ctx), []).append(len(cont))
            prompts = list(ctxs)
            r["cont"] += sum(n for ns in ctxs.values() for n in ns)
        r["requests"] += len(reqs)
        r["contexts"] += len(set(map(tuple, prompts)))
        r["tokens"] += sum(len(p) for p in {tuple(p) for p in prompts})
        r["shared"] += trie_tokens(prompts)
    total = sum(r["tokens"] + r["cont"] for r in rows.values())
    print(f"{'suite':22}{'shots':>6}{'kind':>15}{'requests':>9}{'contexts':>9}{'tokens':>9}"
          f"{'shared':>9}{'cont/cap':>9}{'share':>7}")
    for (suite, shots, kind), r in sorted(rows.items()):
        print(f"{suite:22}{shots:>6}{kind:>15}{r['requests']:9}{r['contexts']:9}{r['tokens']:9}"
              f"{r['shared']:9}{r['cont']:9}{100 * (r['tokens'] + r['cont']) / total:6.1f}%")
    t = {k: sum(r[k] for r in rows.values()) for k in ("requests", "tokens", "shared", "cont")}
    print(f"{'total':22}{'':>6}{'':>15}{t['requests']:9}{'':>9}{t['tokens']:9}{t['shared']:9}{t['cont']:9}")


if __name__ == "__main__":
    main()
