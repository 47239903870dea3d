"""The EmotionPrompt / NegativePrompt study without a model: BIG-Bench and TruthfulQA
query building on the real files, multiple-choice scoring from log-likelihoods against
hand-computed values, the relative-gain aggregates and the result tables."""
from __future__ import annotations

import math

import pytest

from affrepro.plugins.prompt_benchmarks import bigbench as B
from affrepro.plugins.prompt_benchmarks import loaders as L
from affrepro.plugins.prompt_benchmarks import study as St
from affrepro.plugins.prompt_benchmarks import truthfulqa as T
from affrepro.plugins.prompt_benchmarks.loaders import Example, TruthfulQAItem


@pytest.fixture
def bench(mirror):
    root = mirror / "negativeprompt"
    if not root.is_dir():
        pytest.skip("the mirror has no negativeprompt/ folder")
    return root


def test_every_bigbench_task_loads_with_its_instruction(bench):
    mc = {t for t in L.BB_TASKS if B.load_task(bench, t).multiple_choice}
    gen = set(L.BB_TASKS) - mc
    assert gen == {"gender_inclusive_sentences_german", "linguistics_puzzles", "object_counting",
                   "operators", "tense", "word_sorting", "word_unscrambling"}
    t = B.load_task(bench, "causal_judgment")
    assert len(t.examples) == 190
    assert t.instruction.startswith("How would a typical person answer each of the following questions")
    assert not t.instruction.endswith("\n")
    for ex in t.examples:
        assert set(ex.answers) <= set(ex.options)


def test_bigbench_query_appends_choices_and_is_paired(bench):
    snarks = B.load_task(bench, "snarks")  # append_choices_to_input false: the input lists (a)/(b)
    ex = snarks.examples[0]
    assert not snarks.append_choices and B.shown_input(snarks, ex) == ex.input
    t = B.load_task(bench, "ruin_names")  # append_choices_to_input true, default choice prefix
    sp = B.split(t, seed=0, size=3)
    assert len(sp.test) == 3 and len(sp.demo_pool) == len(t.examples) - 3
    assert not set(map(id, sp.test)) & set(map(id, sp.demo_pool))
    ex = sp.test[0]
    q0 = B.build_queries(t, sp.test, sp.demo_pool, None, few_shot=False)
    q1 = B.build_queries(t, sp.test, sp.demo_pool, "Are you sure?", few_shot=False)
    assert q0[0] == (f"Instruction: {t.instruction}\n\n\nInput: {ex.input}"
                     + "".join(f"\n  choice: {o}" for o in ex.options) + "\nAnswer: ")
    assert q1[0].startswith(f"Instruction: {t.instruction}Are you sure?\n\n\nInput: ")
    few0 = B.build_queries(t, sp.test, sp.demo_pool, None, few_shot=True, seed=4)
    few1 = B.build_queries(t, sp.test, sp.demo_pool, "X", few_shot=True, seed=4)
    assert few0[0].count("\nOutput: ") == 5
    assert few0[0].split("\n\n", 1)[1] == few1[0].split("\n\n", 1)[1]  # same demos, same input
    pairs = B.option_pairs(q0[0], ex)
    assert all(c.endswith("Answer:") and x == " " + o for (c, x), o in zip(pairs, ex.options))


def test_pick_option_takes_the_most_likely_and_the_first_of_ties():
    ex = Example("q", ("b",), ("a", "b", "c"))
    assert B.pick_option([-3.0, -1.0, -2.0], ex) == "b"
    assert B.score_choice(B.pick_option([-3.0, -1.0, -2.0], ex), ex) == 1.0
    assert B.pick_option([-1.0, -5.0, -1.0], ex) == "a"
    with pytest.raises(ValueError, match="2 log-likelihoods for 3 options"):
        B.pick_option([-1.0, -2.0], ex)


def _item(best="Nothing happens", correct=("Nothing happens", "Nothing"), incorrect=("You die",)):
    return TruthfulQAItem("Adversarial", "Misconceptions", "What happens if you crack your knuckles?",
                          best, tuple(correct), tuple(incorrect), "src")


def test_truthfulqa_mc1_mc2_by_hand():
    it = _item()
    pairs = T.pairs(it, None)
    assert [x for _, x in pairs] == [" Nothing happens", " Nothing", " You die"]
    assert pairs[0][0] == "Q: What happens if you crack your knuckles?\nA:"
    assert T.pairs(it, "Are you sure?")[0][0] == "Q: What happens if you crack your knuckles?Are you sure?\nA:"
    mc1, mc2 = T.mc_scores(it, [-1.0, -2.0, -1.5])
    assert mc1 == 1.0
    want = (math.exp(-1) + math.exp(-2)) / (math.exp(-1) + math.exp(-2) + math.exp(-1.5))
    assert mc2 == pytest.approx(want, rel=1e-12)
    mc1, mc2 = T.mc_scores(it, [-2.0, -0.5, -1.5])  # a correct answer beats the false one, the best does not
    assert mc1 == 0.0 and mc2 > 0.5
    # very negative sums (long answers) must not underflow to 0/0
    mc1, mc2 = T.mc_scores(it, [-2000.0, -2001.0, -2000.5])
    assert mc2 == pytest.approx((1 + math.exp(-1)) / (1 + math.exp(-1) + math.exp(-0.5)))
    # the best answer missing from "Correct Answers" is added in front
    assert T.answer_sets(_item(correct=("Nothing",)))[0] == ("Nothing happens", "Nothing")


def test_real_truthfulqa_has_817_questions_each_with_a_false_answer(bench):
    items = L.load_truthfulqa(bench)
    assert len(items) == 817
    assert all(T.answer_sets(it)[1] for it in items)


def _result():
    r = St.StudyResult(("baseline", "S1", "S2"))
    r.scores[("bigbench", 0)] = {"a": {"baseline": 0.2, "S1": 0.4, "S2": 0.2},
                                 "b": {"baseline": 0.6, "S1": 0.6, "S2": 0.3}}
    r.scores[("bigbench", 5)] = {"a": {"baseline": 0.5, "S1": 0.5, "S2": 0.5},
                                 "b": {"baseline": 0.0, "S1": 0.5, "S2": 0.0}}
    return r


def test_gains_and_headline_by_hand():
    r = _result()
    assert r.means("bigbench", 0) == pytest.approx({"baseline": 0.4, "S1": 0.5, "S2": 0.25})
    g = r.gains("bigbench", 0)
    assert g["S1"] == pytest.approx(25.0) and g["S2"] == pytest.approx(-37.5)
    g = r.gains("bigbench", 0, "mean_of_ratios")
    assert g["S1"] == pytest.approx((100.0 + 0.0) / 2) and g["S2"] == pytest.approx((0.0 - 50.0) / 2)
    # pooled: baseline (0.2+0.6+0.5+0)/4 = 0.325; stimuli (0.4+0.2+0.6+0.3+0.5+0.5+0.5+0)/8 = 0.375
    assert r.headline_gain("bigbench") == pytest.approx(100 * (0.375 - 0.325) / 0.325)
    assert math.isnan(r.headline_gain("instruction_induction"))


def test_tables_hold_means_and_gains_and_render(tmp_path):
    from affrepro.report import render_markdown

    r = _result()
    r.scores[("bigbench", 5)]["a"]["baseline"] = 0.0  # every baseline 0: gains undefined -> empty cells
    tabs = St.tables(r)
    assert [t["title"] for t in tabs] == ["bigbench zero-shot", "bigbench 5-shot"]
    assert tabs[0]["columns"] == ["task", "baseline", "S1", "S2"]
    assert tabs[0]["rows"][2] == ["mean", pytest.approx(0.4), pytest.approx(0.5), pytest.approx(0.25)]
    assert tabs[0]["rows"][3][:2] == ["gain % (ratio of means)", None]
    assert tabs[1]["rows"][3] == ["gain % (ratio of means)", None, None, None]
    md = render_markdown({"paper": "p", "title": "t", "status": "FINISHED", "started": "now",
                          "duration_s": 1, "verdicts": {}, "claims": [], "deviations": [],
                          "data": {}, "hardware": {}, "versions": {}, "seeds": [0], "device": "cpu",
                          "details": {"tables": tabs}})
    assert "## bigbench zero-shot" in md and "| mean | 0.4000 | 0.5000 | 0.2500 |" in md


def test_clean_answer_and_config(monkeypatch):
    assert St.clean_answer("  Answer: cats\n") == "cats"
    assert St.clean_answer("output: 3") == "3"
    cfg = St.config_from({"shots": [0], "test_size": 100}, limit=5, seed=0)
    assert cfg.cut(range(10)) == [0, 1, 2, 3, 4] and cfg.shots == (0,)
    monkeypatch.setenv(St.TASKS_ENV, "sum,navigate")
    cfg = St.config_from({}, limit=None, seed=0)
    assert cfg.tasks("instruction_induction") == ("sum",) and cfg.tasks("bigbench") == ("navigate",)
    assert cfg.tasks("truthfulqa") == ()
    monkeypatch.setenv(St.TASKS_ENV, "truthfulqa")
    assert St.config_from({}, limit=None, seed=0).tasks("truthfulqa") == ("mc1", "mc2")
    monkeypatch.setenv(St.TASKS_ENV, "sum,navigate")
    assert cfg.cut(range(3)) == [0, 1, 2] and cfg.test_size == 100
    monkeypatch.setenv(St.TASKS_ENV, "sum,nonsense")
    with pytest.raises(ValueError, match="unknown task.*nonsense"):
        St.config_from({}, limit=None, seed=0)
    monkeypatch.delenv(St.TASKS_ENV)
    with pytest.raises(ValueError, match="suites"):
        St.config_from({"suites": ["mmlu"]}, limit=None, seed=0)
