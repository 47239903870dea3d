"""The local backend on the real default model (SmolLM2-135M-Instruct from the PyPI wheel):
log-likelihoods against a plain transformers forward pass, greedy decoding against
transformers' own generate, determinism, sampling seeds, stop strings, bad input."""
from __future__ import annotations

import shutil

import pytest

from affrepro.errors import ContextTooLong, ModelFileError, UnknownModelSpec
from affrepro.lm import (GenerateRequest, GenerationSettings, LoglikelihoodRequest, Message,
                         load_model)


@pytest.fixture(scope="module")
def reference(smollm2_folder):
    """transformers with its default settings (SDPA attention), one request at a time."""
    import torch

    from affrepro.plugins.lm._hf import import_transformers

    import_transformers()
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(smollm2_folder, dtype=torch.float32).eval()
    return model, AutoTokenizer.from_pretrained(smollm2_folder)


PAIRS = [("The capital of France is", " Paris"),
         ("The capital of France is", " a city in Europe with many museums"),
         ("Q: Is the sky blue? A:", " yes"),
         ("I feel", " happy today because the sun is shining"),
         ("", "Hello")]


@pytest.mark.slow
def test_loglikelihoods_agree_with_a_plain_forward_pass(smollm2, reference):
    import torch

    model, tok = reference
    got = smollm2.loglikelihood([LoglikelihoodRequest(c, x) for c, x in PAIRS])
    for (context, continuation), res in zip(PAIRS, got):
        ctx = tok.encode(context, add_special_tokens=False) or [tok.eos_token_id]
        whole = tok.encode(context + continuation, add_special_tokens=False)
        cont = whole[len(tok.encode(context, add_special_tokens=False)):]
        ids = torch.tensor([ctx + cont])
        with torch.no_grad():
            logp = torch.log_softmax(model(ids).logits[0].double(), -1)
        rows = logp[len(ctx) - 1:len(ctx) - 1 + len(cont)]
        expected = sum(rows[i, t].item() for i, t in enumerate(cont))
        assert res.n_tokens == len(cont)
        assert res.logprob == pytest.approx(expected, abs=2e-3 * len(cont))
        assert res.is_greedy == all(rows[i].argmax().item() == t for i, t in enumerate(cont))
    assert got[0].is_greedy and got[0].logprob > got[1].logprob


@pytest.mark.slow
def test_long_contexts_shared_by_options_agree_with_a_plain_forward_pass(smollm2, reference):
    """A context of more than 256 tokens (its pass runs SDPA attention, the short ones
    eager) with three options sharing it, beside a short context in the same batch."""
    import torch

    model, tok = reference
    long_ctx = " ".join(f"Item {i} is a {'red' if i % 3 else 'blue'} box." for i in range(60)) + " The last box is"
    pairs = [(long_ctx, " red"), (long_ctx, " blue"), (long_ctx, " a green ball"), ("I feel", " happy")]
    assert len(tok.encode(long_ctx, add_special_tokens=False)) > 256
    got = smollm2.loglikelihood([LoglikelihoodRequest(c, x) for c, x in pairs])
    for (context, continuation), res in zip(pairs, got):
        ctx = tok.encode(context, add_special_tokens=False)
        cont = tok.encode(context + continuation, add_special_tokens=False)[len(ctx):]
        with torch.no_grad():
            logp = torch.log_softmax(model(torch.tensor([ctx + cont])).logits[0].double(), -1)
        expected = sum(logp[len(ctx) - 1 + i, t].item() for i, t in enumerate(cont))
        assert res.logprob == pytest.approx(expected, abs=2e-3 * len(cont))


@pytest.mark.slow
def test_greedy_output_matches_transformers_generate_and_is_deterministic(smollm2, reference):
    import torch

    model, tok = reference
    prompts = ["The opposite of hot is", "Write one word for joy:", "1, 2, 3, 4,"]
    settings = GenerationSettings(max_new_tokens=6)
    first = smollm2.generate([GenerateRequest(prompt=p, settings=settings) for p in prompts])
    again = smollm2.generate([GenerateRequest(prompt=p, settings=settings) for p in reversed(prompts)])
    assert [g.text for g in first] == [g.text for g in reversed(again)]
    for p, g in zip(prompts, first):
        ids = torch.tensor([tok.encode(p, add_special_tokens=False)])
        with torch.no_grad():
            out = model.generate(ids, max_new_tokens=6, do_sample=False, pad_token_id=tok.eos_token_id)
        assert g.text == tok.decode(out[0, ids.shape[1]:], skip_special_tokens=True)
        assert g.prompt_tokens == ids.shape[1] and 0 < g.completion_tokens <= 6


def test_chat_messages_use_the_chat_template_and_stop_at_the_end_token(smollm2):
    req = GenerateRequest(messages=(Message("user", "What is the capital of France?"),),
                          settings=GenerationSettings(max_new_tokens=24))
    g = smollm2.generate([req])[0]
    assert "Paris" in g.text and g.finish_reason == "stop" and g.completion_tokens < 24


def test_a_batch_sharing_its_chat_prefix_answers_as_each_prompt_alone(smollm2):
    """A batch of chat requests runs the system turn they share once (through the key/value
    cache); the greedy answers are those of each request run on its own, which shares nothing."""
    from affrepro.plugins.lm.local import _common_prefix

    settings = GenerationSettings(max_new_tokens=8, stop=("\n",))
    reqs = [GenerateRequest(messages=(Message("user", q),), settings=settings)
            for q in ("What is the opposite of hot?", "Give the antonym: happy",
                      "Instruction: answer with one word.\nInput: cat\nOutput:")]
    assert _common_prefix([smollm2.prompt_ids(r) for r in reqs]) >= 8  # the shared path runs
    together = [g.text for g in smollm2.generate(reqs)]
    assert together == [smollm2.generate([r])[0].text for r in reqs]
    assert all(together)


def test_contexts_sharing_a_prefix_score_as_each_request_alone(smollm2, monkeypatch):
    """Multiple-choice questions under one instruction (a task's prompt, as the study asks
    them): the instruction runs once and its key/value cache is expanded over the questions
    of the batch; every log-likelihood equals that of the request scored on its own (which
    shares nothing) within the backend's per-token tolerance, beside a context sharing
    nothing in the same call."""
    from affrepro.plugins.lm.local import LocalModel, _prefix_groups

    instruction = ("Instruction: Determine whether the conclusion follows from the premises. "
                   "Answer with one of the options.\n\n")
    questions = [("Input: All cats are animals. Tom is a cat. Is Tom an animal?\nAnswer:", (" yes", " no")),
                 ("Input: Some birds fly. A penguin is a bird. Does a penguin fly?\nAnswer:", (" yes", " no", " maybe")),
                 ("Input: If it rains the street is wet. It rains.\nAnswer:", (" the street is wet", " no"))]
    reqs = [LoglikelihoodRequest(instruction + q, x) for q, opts in questions for x in opts]
    reqs.append(LoglikelihoodRequest("I feel", " happy"))
    contexts = {tuple(smollm2.encode_pair(r.context, r.continuation)[0]) for r in reqs}
    shared = [(p, run) for p, run in _prefix_groups(list(contexts)) if p]
    assert len(shared) == 1 and len(shared[0][1]) == 3  # one prefix group: the three questions
    assert shared[0][0] >= len(smollm2.tokenizer.encode(instruction.rstrip(), add_special_tokens=False)) - 1
    batches = []  # the prefix path runs (a spy: the real method still scores them)
    real = LocalModel._score_with_prefixes
    monkeypatch.setattr(LocalModel, "_score_with_prefixes",
                        lambda self, batch, *a: batches.append(batch) or real(self, batch, *a))
    together = smollm2.loglikelihood(reqs)
    assert [len(cs) for _, cs in batches[0]] == [3]
    for r, res in zip(reqs, together):
        alone = smollm2.loglikelihood([r])[0]
        assert res.n_tokens == alone.n_tokens
        assert res.logprob == pytest.approx(alone.logprob, abs=2e-3 * res.n_tokens)


def test_stop_strings_cut_the_answer(smollm2):
    plain = smollm2.generate([GenerateRequest(prompt="1, 2, 3, 4,", settings=GenerationSettings(max_new_tokens=8))])[0]
    assert "6" in plain.text
    cut = smollm2.generate([GenerateRequest(prompt="1, 2, 3, 4,",
                                            settings=GenerationSettings(max_new_tokens=8, stop=("6",)))])[0]
    assert cut.finish_reason == "stop" and cut.text == plain.text[:plain.text.index("6")]


def test_sampling_is_fixed_by_seed_and_sample_index(smollm2):
    s = GenerationSettings(max_new_tokens=10, temperature=1.0, top_p=0.95)
    reqs = [GenerateRequest(prompt="Once upon a time", settings=s, seed=3, sample_index=i) for i in range(3)]
    a = [g.text for g in smollm2.generate(reqs)]
    b = [g.text for g in smollm2.generate(reqs[::-1])][::-1]
    assert a == b
    assert len(set(a)) > 1, "three samples of a 10-token story came out identical"


def test_a_prompt_longer_than_the_context_is_named(smollm2_folder):
    model = load_model("smollm2-135m?max_context=16")
    assert model.capabilities.max_context == 16
    with pytest.raises(ContextTooLong, match=r"smollm2-135m.*16 tokens"):
        model.generate([GenerateRequest(prompt="word " * 20, settings=GenerationSettings(max_new_tokens=4))])
    with pytest.raises(ContextTooLong):
        model.loglikelihood([LoglikelihoodRequest("word " * 20, " end")])


def test_a_corrupted_model_file_is_named_with_its_sha256(smollm2_folder, models_dir, tmp_path, monkeypatch):
    from affrepro.plugins.lm import smollm2 as default

    bad_dir = tmp_path / "models"
    target = bad_dir / default.NAME / default.FILE_NAME
    target.parent.mkdir(parents=True)
    shutil.copyfile(models_dir / default.NAME / default.FILE_NAME, target)
    with open(target, "r+b") as fh:
        fh.seek(5_000_000)
        byte = fh.read(1)
        fh.seek(5_000_000)
        fh.write(bytes([byte[0] ^ 0xFF]))
    monkeypatch.setenv("AFFREPRO_MODELS_DIR", str(bad_dir))
    with pytest.raises(ModelFileError) as err:
        load_model("smollm2-135m")
    msg = str(err.value)
    assert str(target) in msg and default.GGUF_SHA256 in msg and "sha256" in msg


def test_an_unknown_spec_lists_the_known_ones():
    with pytest.raises(UnknownModelSpec) as err:
        load_model("gpt-17")
    msg = str(err.value)
    assert "'gpt-17'" in msg and "smollm2-135m" in msg and "local:" in msg and "openai:" in msg


def test_a_missing_local_path_is_named(tmp_path):
    with pytest.raises(ModelFileError, match="no-such.gguf"):
        load_model(f"local:{tmp_path / 'no-such.gguf'}")


def test_auto_threads_are_decided_once_per_model(smollm2_folder, monkeypatch):
    """``threads=auto`` looks at the load once; later calls keep that count, so a run's
    numbers (whose last bits depend on the thread count) do not follow the load."""
    import os

    cores = os.cpu_count() or 1
    monkeypatch.setattr(os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    idle = load_model("smollm2-135m")
    assert idle.effective_threads() == cores
    monkeypatch.setattr(os, "getloadavg", lambda: (50.0 * cores, 0.0, 0.0))
    assert idle.effective_threads() == cores and idle.describe()["threads"] == f"auto ({cores})"
    busy = load_model("smollm2-135m")
    assert busy.effective_threads() == 1
    assert load_model("smollm2-135m?threads=3").effective_threads() == 3
