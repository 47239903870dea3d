"""Loaders, prompts and per-task scorers for the EmotionPrompt / NegativePrompt
benchmarks: golden tests on the real data (every gold answer scores 1.0) and hand-made
wrong answers with the expected partial scores."""
from __future__ import annotations

import random

import pytest

from affrepro.plugins.prompt_benchmarks import loaders as L
from affrepro.plugins.prompt_benchmarks import prompts as P
from affrepro.plugins.prompt_benchmarks import scoring as S
from affrepro.plugins.prompt_benchmarks import stimuli
from affrepro.plugins.prompt_benchmarks.loaders import Example
from affrepro.plugins.prompt_benchmarks.synthetic import write_benchmarks


@pytest.fixture
def bench(mirror):
    root = mirror / "negativeprompt"
    if not root.is_dir():
        pytest.skip("the mirror has no negativeprompt/ folder")
    return root


def test_real_files_match_the_declared_checksums(bench, registries):
    from affrepro import data

    assert data.verify(registries.datasets.get("negativeprompt"), bench) == []


@pytest.mark.realdata
@pytest.mark.parametrize("task", L.II_TASKS)
def test_gold_answers_score_one_instruction_induction(bench, task):
    for split in ("execute", "induce"):
        examples = L.load_instruction_induction(bench, task, split)
        assert examples
        for ex in examples:
            for gold in ex.answers:
                assert S.score_example(task, gold, ex) == 1.0, (task, split, gold)
    ex = L.load_instruction_induction(bench, task)
    assert S.score_task(task, [e.answers[0] for e in ex], ex) == 1.0


@pytest.mark.realdata
def test_gold_answers_score_one_bigbench_and_sizes(bench):
    sizes = {}
    for task in L.BB_TASKS:
        prefix, ex = L.load_bigbench(bench, task)
        sizes[task] = len(ex)
        assert S.score_bigbench([e.answers[0] for e in ex], ex) == 1.0, task
    assert sizes["snarks"] == 181 and sizes["navigate"] == 1000
    assert len(L.II_TASKS) == 24 and len(L.BB_TASKS) == 21
    tqa = L.load_truthfulqa(bench)
    assert len(tqa) == 817
    assert tqa[0].best_answer in tqa[0].correct_answers


def test_instruction_induction_sizes_and_special_tasks(bench):
    ce = L.load_instruction_induction(bench, "cause_and_effect", seed=3)
    assert len(ce) == 25 and ce[0].answers == ("The child hurt their knee.",)
    cc = L.load_instruction_induction(bench, "common_concept")
    assert cc[0].input == "rock climbing, elevators"  # the last item is left out, as released
    assert cc[0].answers == ("involve vertical movement.", "involve going up.")
    assert len(L.load_instruction_induction(bench, "rhymes")[0].answers) > 1


# ------------------------------------------------------------ hand-made wrong answers

def ex(answers, input_="x"):
    return Example(input_, tuple(answers))


def test_normalize():
    assert S.normalize("The Cat-dog can't run.\nsecond line") == "the cat dog cannot run"
    assert S.normalize("Sentence 1: Rock and roll!") == "rock roll"


def test_token_f1_partial():
    # prediction "involve moving up" vs gold "involve going up": 2 common of 3 and 3 -> F1 2/3
    assert S.score_example("common_concept", "involve moving up",
                           ex(["involve vertical movement.", "involve going up."])) == pytest.approx(2 / 3)
    assert S.token_f1("a b c d", "a b") == pytest.approx(2 * 0.5 * 1 / 1.5)
    assert S.score_example("informal_to_formal", "nothing shared", ex(["How are you?"])) == 0.0


def test_exact_set_and_contains():
    gold = ex(["beetle, bear, kangaroo, bird"])
    assert S.score_example("taxonomy_animal", "bird, bear, kangaroo, beetle", gold) == 1.0
    assert S.score_example("taxonomy_animal", "bear, kangaroo, bird", gold) == 0.0
    assert S.score_example("synonyms", "A good synonym is process.", ex(["process"])) == 1.0
    assert S.score_example("synonyms", "processing", ex(["process"])) == 0.0  # word-bounded
    assert S.score_example("sum", "The sum is 47", ex(["47"])) == 1.0
    assert S.score_example("translation_en-de", "Ort", ex(["Platz", "Ort"])) == 1.0


def test_task_specific_exact_match():
    assert S.score_example("sentiment", "Positive.", ex(["positive"])) == 1.0
    assert S.score_example("sentiment", "positive or negative", ex(["positive"])) == 0.0
    assert S.score_example("sentiment", "0", ex(["negative"])) == 1.0  # a number's sign
    assert S.score_example("sentiment", "3", ex(["positive"])) == 1.0
    # '-' is replaced by a space before the sign is read (as released), so "-2" reads as 2
    assert S.score_example("sentiment", "-2", ex(["positive"])) == 1.0
    assert S.score_example("sentence_similarity", "I'd say 3 - probably", ex(["3 - probably"])) == 1.0
    assert S.score_example("sentence_similarity", "4 - almost", ex(["3 - probably"])) == 0.0
    assert S.score_example("word_in_context", "No, different meanings", ex(["not the same"])) == 1.0
    assert S.score_example("word_in_context", "Yes", ex(["not the same"])) == 0.0
    assert S.score_example("larger_animal", "The alligator is larger than the carp",
                           ex(["alligator"])) == 1.0
    assert S.score_example("orthography_starts_with", "that, thinks", ex(["thinks that"])) == 1.0
    assert S.score_example("orthography_starts_with", "thinks", ex(["thinks that"])) == 0.0
    assert S.score_example("letters_list", "p, l, a, c, e", ex(["p l a c e"])) == 1.0
    assert S.score_example("letters_list", "p l a e c", ex(["p l a c e"])) == 0.0
    ce = Example("Sentence 1: The child started crying. Sentence 2: The child hurt their knee.",
                 ("The child hurt their knee.",))
    assert S.score_example("cause_and_effect", "Sentence 2", ce) == 1.0
    assert S.score_example("cause_and_effect", "Sentence 1", ce) == 0.0
    assert S.score_example("rhymes", "I pick eat", ex(["meat", "eat"])) == 1.0
    assert S.score_example("first_word_letter", "The first letter is p", ex(["p"])) == 1.0
    assert S.score_example("first_word_letter", "q", ex(["p"])) == 0.0
    assert S.score_example("negation", "Newton did not play", ex(["Newton did not play."])) == 1.0


def test_score_task_mean_of_partial_scores():
    examples = [ex(["47"]), ex(["12"]), ex(["3"]), ex(["8"])]
    assert S.score_task("sum", ["47", "13", "3", "nine"], examples) == 0.5
    with pytest.raises(ValueError):
        S.score_task("sum", ["1"], examples)


def test_bigbench_multiple_choice():
    e = Example("Which is sarcastic?", ("(b)",), ("(a)", "(b)"))
    assert S.score_bigbench(["(b)", "(a)"], [e, e]) == 0.5


def test_relative_gain_aggregation():
    base = {"a": 0.5, "b": 0.2}
    treated = {"a": 0.54, "b": 0.43}
    assert S.relative_gain(base, treated) == pytest.approx((8.0 + 115.0) / 2)
    assert S.relative_gain(base, treated, "ratio_of_means") == pytest.approx(100 * (0.485 - 0.35) / 0.35)


def test_stimuli_as_published():
    assert len(stimuli.EMOTION_PROMPT) == 11 and len(stimuli.NEGATIVE_PROMPT) == 10
    assert stimuli.EMOTION_PROMPT["EP02"] == "This is very important to my career."
    assert stimuli.NEGATIVE_PROMPT["NP10"].endswith("pit of boredom.")
    groups = [set(v) for v in stimuli.NEGATIVE_PROMPT_GROUPS.values()]
    assert set().union(*groups) == set(stimuli.NEGATIVE_PROMPT)


def test_prompt_construction_zero_and_few_shot():
    prompt = P.with_stimulus(P.INSTRUCTIONS["sum"], stimuli.NEGATIVE_PROMPT["NP01"])
    assert prompt == "Sum the two given numbers.You've never been particularly good at this, have you?"
    assert P.with_stimulus("Do it.", "Now.", joiner=" ") == "Do it. Now."
    # zero-shot: the released code fills its few-shot template with no demonstrations
    assert P.build_query(prompt, "1 2") == f"Instruction: {prompt}\n\n\nInput: 1 2\nAnswer: "
    q = P.build_query("Sum.", "1 2", [("3 4", "7"), ("0 1", "1")])
    assert q == "Instruction: Sum.\n\nInput: 3 4\nOutput: 7\n\nInput: 0 1\nOutput: 1\nInput: 1 2\nAnswer: "
    assert set(P.INSTRUCTIONS) == set(L.II_TASKS)


def test_queries_are_paired_across_stimuli(tmp_path):
    write_benchmarks(tmp_path, seed=0, n=8)
    test = L.load_instruction_induction(tmp_path, "antonyms")
    induce = L.load_instruction_induction(tmp_path, "antonyms", "induce")
    plain = P.build_queries("antonyms", test, induce, None, few_shot=True, seed=1, size=5)
    neg = P.build_queries("antonyms", test, induce, stimuli.NEGATIVE_PROMPT["NP03"], few_shot=True,
                          seed=1, size=5)
    assert len(plain) == 5
    assert [e for _, e in plain] == [e for _, e in neg]
    assert plain[0][0].count("Output:") == 5
    assert "out of your depth" in neg[0][0] and "out of your depth" not in plain[0][0]
    rng = random.Random(0)
    assert len(P.test_subset(test, rng, size=100)) == 8  # min(100, n)


def test_evaluation_driver_with_fake_models(tmp_path):
    """The driver end to end on a synthetic benchmark: an oracle scores 1.0 on every task,
    a model that answers only when a stimulus is present gains, and the gain aggregates."""
    from affrepro.plugins.prompt_benchmarks.evaluate import (evaluate_instruction_induction,
                                                             relative_gains)

    write_benchmarks(tmp_path, seed=0, n=6)
    tasks = ("antonyms", "sum", "taxonomy_animal", "common_concept", "synonyms")
    gold = {}
    for t in tasks:
        for e in L.load_instruction_induction(tmp_path, t):
            gold[(t, e.input)] = e.answers[0]

    def oracle_for(task):
        def gen(queries):
            return [gold[(task, q.rsplit("Input: ", 1)[1].split("\nAnswer:")[0])] for q in queries]
        return gen

    for t in tasks:
        res = evaluate_instruction_induction(tmp_path, oracle_for(t), tasks=(t,), few_shot=True)
        assert res.scores == {t: 1.0}

    stim = stimuli.NEGATIVE_PROMPT["NP01"]

    def half_right(queries):  # right on even inputs always, on odd ones only with the stimulus
        out = []
        for q in queries:
            inp = q.rsplit("Input: ", 1)[1].split("\nAnswer:")[0]
            ok = stim in q or int(inp.split()[-1]) % 2 == 0
            out.append(gold[("antonyms", inp)] if ok else "no idea")
        return out

    base = evaluate_instruction_induction(tmp_path, half_right, tasks=("antonyms",))
    neg = evaluate_instruction_induction(tmp_path, half_right, stim, "NP01", tasks=("antonyms",))
    assert base.scores["antonyms"] == 0.5 and neg.scores["antonyms"] == 1.0
    assert relative_gains(base, [neg]) == {"NP01": pytest.approx(100.0)}
