"""Language-model speed on the embedded default model (SmolLM2-135M-Instruct), as rates
and ratios measured in one run (issue 18's targets):

- batch-1 decode ≥ 40 tokens/s, batched ≥ 200 tokens/s on 2 cores, and ≥ 10× the naive
  loop (transformers' ``generate`` with its default settings, one prompt at a time);
- batched log-likelihood within 2× of one forward pass per batch.

Run: ``python -m pytest benchmarks/test_lm_bench.py --benchmark-only -s``. The fixture
prints the table with the 1-minute load average, since the machine may be shared.
``AFFREPRO_BENCH_LM_THREADS`` fixes torch's threads (default: the backend's auto rule).
"""
from __future__ import annotations

import os
import time

import pytest

from affrepro.lm import GenerateRequest, GenerationSettings, LoglikelihoodRequest

NEW_TOKENS = 16
PROMPTS = [f"Write a short sentence about the number {i}:" for i in range(16)]
RESULTS: dict[str, float] = {}


@pytest.fixture(scope="module")
def model():
    from affrepro.lm import load_model
    from affrepro.plugin_manager import build_plugin_manager

    threads = os.environ.get("AFFREPRO_BENCH_LM_THREADS")
    spec = "smollm2-135m" + (f"?threads={threads}" if threads else "")
    m = load_model(spec, build_plugin_manager(load_entry_points=False).registries)
    yield m
    _report()


@pytest.fixture(scope="module")
def naive(model):
    import torch

    from affrepro.plugins.lm._hf import import_transformers

    import_transformers()
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(model.folder, dtype=torch.float32).eval()


def _settings():
    return GenerationSettings(max_new_tokens=NEW_TOKENS)


def _rate(name: str, tokens: int, seconds: float) -> None:
    RESULTS[name] = tokens / seconds


@pytest.mark.parametrize("threads", ["torch default", "ours"])
def test_naive_transformers_generate_one_prompt_at_a_time(benchmark, model, naive, threads):
    """The peer: transformers' generate with its default settings (SDPA attention, torch's
    default thread count), one prompt at a time; and the same with our thread rule."""
    import contextlib

    import torch

    tok = model.tokenizer
    prompts = PROMPTS[:2]

    def run():
        n = 0
        with model._threads() if threads == "ours" else contextlib.nullcontext():
            for p in prompts:
                ids = torch.tensor([tok.encode(p, add_special_tokens=False)])
                out = naive.generate(ids, max_new_tokens=NEW_TOKENS, min_new_tokens=NEW_TOKENS,
                                     do_sample=False, pad_token_id=tok.eos_token_id)
                n += out.shape[1] - ids.shape[1]
        return n

    t0 = time.perf_counter()
    n = benchmark.pedantic(run, rounds=1, iterations=1)
    _rate(f"naive generate, batch 1 ({threads} threads)", n, time.perf_counter() - t0)


def test_ours_batch_1(benchmark, model):
    prompts = PROMPTS[:2]

    def run():
        return sum(model.generate([GenerateRequest(prompt=p, settings=_settings())])[0].completion_tokens
                   for p in prompts)

    t0 = time.perf_counter()
    n = benchmark.pedantic(run, rounds=1, iterations=1)
    _rate("ours, batch 1", n, time.perf_counter() - t0)


def test_ours_batched(benchmark, model):
    reqs = [GenerateRequest(prompt=p, settings=_settings()) for p in PROMPTS]

    def run():
        return sum(g.completion_tokens for g in model.generate(reqs))

    t0 = time.perf_counter()
    n = benchmark.pedantic(run, rounds=1, iterations=1)
    _rate(f"ours, batch {len(PROMPTS)}", n, time.perf_counter() - t0)


def test_ours_int8_batch_1_and_batched(benchmark, model):
    """dtype=int8 (opt-in): linear layers dynamically quantized."""
    from affrepro.lm import load_model
    from affrepro.plugin_manager import build_plugin_manager

    q = load_model("smollm2-135m?dtype=int8", build_plugin_manager(load_entry_points=False).registries)
    one = [GenerateRequest(prompt=p, settings=_settings()) for p in PROMPTS[:2]]
    t0 = time.perf_counter()
    n = sum(q.generate([r])[0].completion_tokens for r in one)
    _rate("ours int8, batch 1", n, time.perf_counter() - t0)
    reqs = [GenerateRequest(prompt=p, settings=_settings()) for p in PROMPTS]
    t0 = time.perf_counter()
    n = benchmark.pedantic(lambda: sum(g.completion_tokens for g in q.generate(reqs)), rounds=1, iterations=1)
    _rate(f"ours int8, batch {len(PROMPTS)}", n, time.perf_counter() - t0)


def test_loglikelihood_vs_one_forward_pass(benchmark, model):
    import torch

    reqs = [LoglikelihoodRequest(p, " seven") for p in PROMPTS]
    seqs = [sum(model.encode_pair(r.context, r.continuation), []) for r in reqs]
    width = max(map(len, seqs))
    ids = torch.tensor([s + [model.pad_id] * (width - len(s)) for s in seqs])
    with model._threads(), torch.inference_mode():
        model.model(input_ids=ids)  # warm
        t0 = time.perf_counter()
        model.model(input_ids=ids)
        RESULTS["one forward pass, s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    benchmark.pedantic(lambda: model.loglikelihood(reqs), rounds=1, iterations=1)
    RESULTS["loglikelihood, s"] = time.perf_counter() - t0


def _report() -> None:
    load = os.getloadavg()[0]
    print(f"\nlanguage-model speed, SmolLM2-135M float32, {os.cpu_count()} CPUs, "
          f"1-min load average {load:.1f}")
    for name, value in RESULTS.items():
        print(f"  {name:32s} {value:8.2f}" + ("" if name.endswith(", s") else " tokens/s"))
    naive = RESULTS.get("naive generate, batch 1 (torch default threads)")
    for name in [k for k in RESULTS if k.startswith("ours")]:
        if naive:
            print(f"  {name} / naive = {RESULTS[name] / naive:.1f}x")
    if "one forward pass, s" in RESULTS and "loglikelihood, s" in RESULTS:
        print(f"  loglikelihood / forward pass = "
              f"{RESULTS['loglikelihood, s'] / RESULTS['one forward pass, s']:.2f}x (target ≤ 2x)")
