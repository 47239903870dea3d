"""Language-model speed on the embedded default model (SmolLM2-135M-Instruct), as rates
and ratios measured in one run, each against issue 18's target:

- batch-1 decode ≥ 40 tokens/s, batched ≥ 200 tokens/s, and ≥ 10× the naive loop
  (transformers' ``generate`` with its default settings, one prompt at a time); "ours"
  is the default spec (GGUF weights packed, see plugins/lm/gguf_packed.py, decode steps
  of up to 2 rows as one fused call, plugins/lm/fused_decode.py), beside the float32 path
  (``packed=0``) and the unfused packed path (``fused=0``) in the same run. Batch-1 rates
  are given whole (prompt pass included) and for the decode steps alone, which the
  target is about;
- batched log-likelihood of a multiple-choice set within 2× of one forward pass over the
  same batch (every context + option, padded, logits computed: the least a scorer that
  shares nothing must do);
- a cached re-run takes seconds (no model call);
- and, reported beside them, log-likelihood contexts sharing an instruction prefix against
  the same contexts each run whole.

Run: ``python -m pytest benchmarks/test_lm_bench.py --benchmark-only -s``. After the last
test the module prints the table with the 1-minute load average before and after, since the machine may
be shared; tokens per CPU-second (this process's CPU time, every thread) says what the
code does with the CPU it got, which a loaded machine distorts less than wall time.
``AFFREPRO_BENCH_LM_THREADS`` fixes torch's threads (default: the backend's auto rule).
"""
from __future__ import annotations

import os
import time

import pytest

from affrepro.lm import GenerateRequest, GenerationSettings, LoglikelihoodRequest

NEW_TOKENS = 16
PROMPTS = [f"Write a short sentence about the number {i}:" for i in range(16)]
# a multiple-choice set: 8 questions × 4 options, the options scored by log-likelihood
QUESTIONS = [f"Question {i}: which word is closest in meaning to '{w}'? Answer:"
             for i, w in enumerate(["happy", "angry", "afraid", "calm", "sad", "proud", "tired", "eager"])]
OPTIONS = [" joyful", " furious and upset", " scared", " relaxed and at ease"]
RESULTS: dict[str, tuple[float, float | None]] = {}  # name -> (wall value, per-CPU-second value)
LOAD: list[float] = []


class _Clock:
    def __enter__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu


def _rate(name: str, tokens: int, clock: _Clock, benchmark=None) -> None:
    RESULTS[name] = (tokens / clock.wall, tokens / clock.cpu if clock.cpu > 0 else None)
    _keep(name, benchmark, tokens=tokens)


def _seconds(name: str, clock: _Clock, benchmark=None) -> None:
    RESULTS[name] = (clock.wall, clock.cpu)
    _keep(name, benchmark)


def _keep(name: str, benchmark, **more) -> None:
    """The row in the results file too (the test's extra_info), not only on the terminal."""
    if benchmark is not None:
        wall, cpu = RESULTS[name]
        benchmark.extra_info[name] = {"wall": wall, "per_cpu_second": cpu, **more,
                                      "load_average_1min": os.getloadavg()[0]}


@pytest.fixture(scope="module")
def registries():
    from affrepro.plugin_manager import build_plugin_manager

    return build_plugin_manager(load_entry_points=False).registries


@pytest.fixture(scope="module")
def model(registries):
    from affrepro.lm import load_model

    LOAD.append(os.getloadavg()[0])
    threads = os.environ.get("AFFREPRO_BENCH_LM_THREADS")
    m = load_model("smollm2-135m" + (f"?threads={threads}" if threads else ""), registries)
    m.generate([GenerateRequest(prompt="Hi", settings=GenerationSettings(max_new_tokens=2))])  # load, warm
    return m


@pytest.fixture(scope="module")
def naive(model):
    import torch

    from affrepro.plugins.lm._hf import import_transformers

    import_transformers()
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(model.folder, dtype=torch.float32).eval()


def _settings():
    return GenerationSettings(max_new_tokens=NEW_TOKENS)


def test_naive_transformers_generate_one_prompt_at_a_time(benchmark, model, naive):
    """The peer: transformers' generate with its default settings (SDPA attention, torch's
    default thread count), one prompt at a time."""
    import torch

    tok = model.tokenizer
    with torch.inference_mode():
        naive.generate(torch.tensor([[1, 2]]), max_new_tokens=2, pad_token_id=tok.eos_token_id)  # warm

    def run():
        n = 0
        for p in PROMPTS[:2]:
            ids = torch.tensor([tok.encode(p, add_special_tokens=False)])
            out = naive.generate(ids, max_new_tokens=NEW_TOKENS, min_new_tokens=NEW_TOKENS,
                                 do_sample=False, pad_token_id=tok.eos_token_id)
            n += out.shape[1] - ids.shape[1]
        return n

    with _Clock() as c:
        n = benchmark.pedantic(run, rounds=1, iterations=1)
    _rate("naive transformers generate, batch 1", n, c, benchmark)


def _one_at_a_time(model, new_tokens: int = NEW_TOKENS) -> int:
    settings = GenerationSettings(max_new_tokens=new_tokens)
    return sum(model.generate([GenerateRequest(prompt=p, settings=settings)])[0].completion_tokens
               for p in PROMPTS[:2])


def test_ours_batch_1(benchmark, model):
    """Whole requests, prompt pass included (what a protocol waits for), and the decode steps
    alone: the same prompts with 16 and with 1 new token, the difference of the two times over
    the difference of the tokens (the first token comes from the prompt pass)."""
    with _Clock() as c:
        n = benchmark.pedantic(lambda: _one_at_a_time(model), rounds=1, iterations=1)
    _rate("ours, batch 1", n, c, benchmark)
    with _Clock() as first:
        n1 = _one_at_a_time(model, 1)
    steps = _Clock()
    steps.wall, steps.cpu = c.wall - first.wall, c.cpu - first.cpu
    _rate("ours, batch 1, decode steps only", n - n1, steps, benchmark)


def test_ours_unfused_batch_1(benchmark, registries):
    """``fused=0``: the packed kernels inside transformers' forward pass at every decode step
    (the path before the fused step), same run, same prompts."""
    from affrepro.lm import load_model

    threads = os.environ.get("AFFREPRO_BENCH_LM_THREADS")
    unfused = load_model("smollm2-135m?fused=0" + (f"&threads={threads}" if threads else ""), registries)
    unfused.generate([GenerateRequest(prompt="Hi", settings=GenerationSettings(max_new_tokens=2))])
    with _Clock() as c:
        n = benchmark.pedantic(lambda: _one_at_a_time(unfused), rounds=1, iterations=1)
    _rate("ours unfused (fused=0), batch 1", n, c, benchmark)
    unfused.close()


def test_ours_float32_batch_1(benchmark, registries):
    """``packed=0``: transformers' decoded float32 weights in every linear layer (the path
    before the packed GGUF kernels), same run, same prompts as the packed batch-1 row."""
    from affrepro.lm import load_model

    threads = os.environ.get("AFFREPRO_BENCH_LM_THREADS")
    plain = load_model("smollm2-135m?packed=0" + (f"&threads={threads}" if threads else ""), registries)
    plain.generate([GenerateRequest(prompt="Hi", settings=GenerationSettings(max_new_tokens=2))])

    with _Clock() as c:
        n = benchmark.pedantic(lambda: _one_at_a_time(plain), rounds=1, iterations=1)
    _rate("ours float32 (packed=0), batch 1", n, c, benchmark)
    plain.close()


def test_ours_batched(benchmark, model):
    """16 requests: the engine's default batch (``batch_size``), which is what a protocol's
    task sends at a time (prompt_benchmarks asks for all variants of a task at once, e.g.
    11 prompts × 5 items with --limit 5, which the engine cuts into batches of 16)."""
    reqs = [GenerateRequest(prompt=p, settings=_settings()) for p in PROMPTS]
    with _Clock() as c:
        n = benchmark.pedantic(lambda: sum(g.completion_tokens for g in model.generate(reqs)),
                               rounds=1, iterations=1)
    _rate(f"ours, batch {len(PROMPTS)}", n, c, benchmark)


def test_ours_int8_batched(benchmark, registries):
    """dtype=int8 (opt-in; its numbers differ from float32's): linear layers dynamically
    quantized."""
    from affrepro.lm import load_model

    q = load_model("smollm2-135m?dtype=int8", registries)
    q.generate([GenerateRequest(prompt="Hi", settings=GenerationSettings(max_new_tokens=2))])
    reqs = [GenerateRequest(prompt=p, settings=_settings()) for p in PROMPTS]
    with _Clock() as c:
        n = benchmark.pedantic(lambda: sum(g.completion_tokens for g in q.generate(reqs)), rounds=1, iterations=1)
    _rate(f"ours int8, batch {len(PROMPTS)}", n, c, benchmark)


def test_multiple_choice_loglikelihood_vs_one_forward_pass(benchmark, model):
    import torch

    reqs = [LoglikelihoodRequest(q, o) for q in QUESTIONS for o in OPTIONS]
    seqs = [sum(model.encode_pair(r.context, r.continuation), []) for r in reqs]
    width = max(map(len, seqs))
    ids = torch.tensor([s + [model.pad_id] * (width - len(s)) for s in seqs])
    mask = torch.tensor([[1] * len(s) + [0] * (width - len(s)) for s in seqs])
    with model._threads(), torch.inference_mode():
        model.model(input_ids=ids[:2], attention_mask=mask[:2])  # warm
        with _Clock() as c:
            torch.log_softmax(model.model(input_ids=ids, attention_mask=mask).logits.float(), -1)
    _seconds(f"one forward pass over the {len(reqs)} pairs, s", c, benchmark)
    with _Clock() as c:
        benchmark.pedantic(lambda: model.loglikelihood(reqs), rounds=1, iterations=1)
    _seconds(f"loglikelihood of the {len(reqs)} pairs, s", c, benchmark)


def test_shared_instruction_prefix_vs_every_context_alone(benchmark, model, monkeypatch):
    """A zero-shot task call as the EmotionPrompt/NegativePrompt study sends it: 16 questions
    × 3 options under one instruction + stimulus. The backend runs the instruction once and
    expands its key/value cache over the questions; against the same requests with every
    context run whole (the path without prefix sharing), same process, same batch."""
    from affrepro.plugins.lm import local

    instruction = ("Instruction: Determine whether the second sentence follows from the first one, and "
                   "answer with one of the options given after the input.You've never been particularly "
                   "good at this, have you?\n\n\n")
    reqs = [LoglikelihoodRequest(f"{instruction}Input: Sentence {i}: the {w} cat sat on the mat.\nAnswer:", o)
            for i, w in enumerate(["red", "old", "big", "shy", "wet", "odd", "tall", "lazy", "calm", "kind",
                                   "loud", "tiny", "slow", "bold", "cold", "fast"])
            for o in (" entailment", " contradiction", " neutral")]
    model.loglikelihood(reqs[:3])  # warm
    with _Clock() as c:
        shared = benchmark.pedantic(lambda: model.loglikelihood(reqs), rounds=1, iterations=1)
    _seconds(f"{len(reqs)} pairs under one instruction, shared, s", c, benchmark)
    monkeypatch.setattr(local, "_prefix_groups", lambda cs: [(0, [c]) for c in sorted(cs)])
    with _Clock() as c:
        alone = model.loglikelihood(reqs)
    _seconds(f"{len(reqs)} pairs under one instruction, alone, s", c, benchmark)
    assert all(abs(a.logprob - b.logprob) <= 2e-3 * a.n_tokens for a, b in zip(shared, alone))


def test_cached_rerun(benchmark, model, tmp_path):
    """The engine's second run of the same requests: every answer from the SQLite cache."""
    from affrepro.lm_engine import Engine, RequestCache

    reqs = [GenerateRequest(prompt=p, settings=GenerationSettings(max_new_tokens=4)) for p in PROMPTS]
    reqs += [LoglikelihoodRequest(q, o) for q in QUESTIONS for o in OPTIONS]
    gen, ll = reqs[:len(PROMPTS)], reqs[len(PROMPTS):]
    first = Engine(model, cache=RequestCache(tmp_path / "cache.sqlite"), progress=False)
    first.generate(gen), first.loglikelihood(ll)
    again = Engine(model, cache=RequestCache(tmp_path / "cache.sqlite"), progress=False)
    with _Clock() as c:
        benchmark.pedantic(lambda: (again.generate(gen), again.loglikelihood(ll)), rounds=1, iterations=1)
    assert again.stats.requests == 0 and again.stats.cached == len(reqs)
    _seconds(f"cached re-run of {len(reqs)} requests, s", c, benchmark)


@pytest.fixture(scope="module", autouse=True)
def report():
    """Prints the table and the targets after the module's last test."""
    yield
    if RESULTS:
        _report()


def _report() -> None:
    LOAD.append(os.getloadavg()[0])
    print(f"\nlanguage-model speed, SmolLM2-135M-Instruct (GGUF Q4_1; ours: packed blocks up to "
          f"2 rows, float32 beyond), {os.cpu_count()} CPUs, "
          f"1-min load average {LOAD[0]:.1f} at the start, {LOAD[-1]:.1f} at the end, threads "
          f"{os.environ.get('AFFREPRO_BENCH_LM_THREADS') or 'auto (all cores below load 0.75 per core, else 1)'}")
    print(f"  {'':44s} {'wall':>9s} {'per CPU-s':>10s}")
    for name, (wall, cpu) in RESULTS.items():
        unit = "" if name.endswith(", s") else " tok/s"
        print(f"  {name:44s} {wall:9.3f} {'' if cpu is None else f'{cpu:10.3f}'}{unit}")
    get = lambda key: next((v for k, v in RESULTS.items() if k.startswith(key)), None)
    naive, one, batched = get("naive"), get("ours, batch 1"), get("ours, batch 16")
    steps = get("ours, batch 1, decode steps")
    forward, scored, cached = get("one forward pass"), get("loglikelihood of"), get("cached re-run")
    checks = []
    if steps:
        checks.append(("batch-1 decode steps ≥ 40 tok/s", steps[0], 40, True))
    if batched:
        checks.append(("batched ≥ 200 tok/s", batched[0], 200, True))
    if batched and naive:
        checks.append(("batched / naive loop ≥ 10×", batched[0] / naive[0], 10, True))
    if forward and scored:
        checks.append(("loglikelihood / one forward pass ≤ 2×", scored[0] / forward[0], 2, False))
    if cached:
        checks.append(("cached re-run ≤ 5 s", cached[0], 5, False))
    prefix, whole = get("48 pairs under one instruction, shared"), get("48 pairs under one instruction, alone")
    if prefix and whole:  # no target in the issue: reported, and "met" when sharing is not slower
        checks.append(("shared prefix: alone / shared ≥ 1×", whole[0] / prefix[0], 1, True))
    for what, value, target, at_least in checks:
        met = value >= target if at_least else value <= target
        print(f"  {what:44s} {value:9.2f}  {'met' if met else 'NOT MET'}")
    plain, unfused = get("ours float32"), get("ours unfused")
    if one:
        print(f"  {'batch 1 with the prompt pass (no target)':44s} {one[0]:9.2f}")
    if one and plain:
        print(f"  {'batch 1: packed / float32 path (no target)':44s} {one[0] / plain[0]:9.2f}")
    if one and unfused:
        print(f"  {'batch 1: fused / unfused step (no target)':44s} {one[0] / unfused[0]:9.2f}")
    if batched and one:
        print(f"  {'batch 16 / batch 1 (no target)':44s} {batched[0] / one[0]:9.2f}")
