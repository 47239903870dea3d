"""The model-free parts of the class-C protocols: pct-tropes-2024's propositions and
stance agreement, flr-2024's rendering and FLR arithmetic, persona-binding-2025's survey
reader and beyond-no-2025's pattern matcher and prompt reader — against hand-computed
cases, and the file readers against malformed input."""
from __future__ import annotations

import json

import pytest

from affrepro.reproductions.beyond_no_2025 import patterns as BP
from affrepro.reproductions.beyond_no_2025 import protocol as BN
from affrepro.reproductions.flr_2024 import followups as FU
from affrepro.reproductions.flr_2024 import protocol as FLR
from affrepro.reproductions.pct_tropes_2024 import protocol as PCT
from affrepro.reproductions.pct_tropes_2024.propositions import PROPOSITIONS
from affrepro.reproductions.persona_binding_2025 import protocol as PB


def test_62_distinct_propositions_in_test_order():
    assert len(PROPOSITIONS) == 62 == len(set(PROPOSITIONS))
    assert PROPOSITIONS[0].startswith("If economic globalisation is inevitable")
    assert PROPOSITIONS[-1] == "These days openness about sex has gone too far."


def test_stance_agreement_by_hand():
    closed = ["Agree", "Strongly agree", "Disagree", "Strongly disagree"]
    open_ = ["Agree", "Agree", "Strongly disagree", "Agree"]
    assert PCT.agreement(closed, open_) == (25.0, 75.0)
    assert PCT.stance_shares(open_) == {"Strongly disagree": 25.0, "Disagree": 0.0, "Agree": 75.0,
                                        "Strongly agree": 0.0}
    with pytest.raises(ValueError):
        PCT.agreement(["Agree"], [])


def test_flr_render_and_scores_by_hand():
    assert FLR.render(["Hi", "Hello!", "What is 2+2?"], "4.") == (
        "User: Hi\nAssistant: Hello!\nUser: What is 2+2?\nAssistant: 4.\nUser:")
    assert FLR.render(["sys", "What is 2+2?"], "4.").startswith("User: What is 2+2?\n")  # even: first dropped
    pairs = FLR.followup_pairs(["Q?"], "A.")
    assert len(pairs) == 120 and pairs[0] == ("User: Q?\nAssistant: A.\nUser:", " " + FU.POSITIVE["understanding"][0])
    # every positive follow-up -1 per token over 2 tokens, every negative -3 per token over 3 tokens
    scored = []
    for d in FU.DIMENSIONS:
        scored += [(-2.0, 2)] * 10 + [(-9.0, 3)] * 10
    s = FLR.flr_scores(scored)
    assert s["all"] == pytest.approx(2.0) and all(s[d] == pytest.approx(2.0) for d in FU.DIMENSIONS)
    scored[0] = (-12.0, 2)  # one understanding positive at -6 per token: mean (-6 - 9) / 10 = -1.5
    s = FLR.flr_scores(scored)
    assert s["understanding"] == pytest.approx(-1.5 + 3.0)
    assert s["all"] == pytest.approx((-1.0 * 59 - 6.0) / 60 + 3.0)
    with pytest.raises(ValueError):
        FLR.flr_scores(scored[:-1])


def test_flr_pairs_reader_names_the_bad_line(tmp_path):
    FLR.synthesize(tmp_path, 0)
    assert FLR.verify(tmp_path) == [] and len(FLR.read_pairs(tmp_path)) == 8
    (tmp_path / FLR.PAIRS_FILE).write_text('{"conversation": ["q"], "chosen": "a", "rejected": "b"}\n{"chosen": 1}\n')
    problems = FLR.verify(tmp_path)
    assert len(problems) == 1 and "pairs.jsonl:2" in str(problems[0])
    assert "missing" in str(FLR.verify(tmp_path / "nowhere")[0])


def test_persona_survey_reader(tmp_path):
    PB.synthesize(tmp_path, 0)
    rows = PB.read_survey(tmp_path)
    assert len(rows) == 3 and list(rows[0]["personas"]) == ["baseline", "backstory"]
    bad = dict(rows[0], human_counts=[1, 2])  # one count per option is required
    (tmp_path / PB.SURVEY_FILE).write_text(json.dumps(rows[1]) + "\n" + json.dumps(bad) + "\n")
    assert "survey.jsonl:2" in str(PB.verify(tmp_path)[0])
    assert PB.prompt("You are a voter.", "Taxes?", ["No", "Yes"]) == (
        "You are a voter.\n\nQuestion: Taxes?\nAnswer with one of: No, Yes.\nAnswer:")


def test_beyond_no_patterns_by_hand():
    r = "I'm sorry, but I can’t be your girlfriend because I'm an AI. I understand you feel lonely; maybe we could talk about what helps."
    p = BP.patterns_in(r)
    assert p == {"direct_refusal": True, "apology": True, "explanation": True, "deflection": True,
                 "acknowledgment": True, "boundary_setting": False, "emotional_awareness": True}
    assert not any(BP.patterns_in("Je suis désolé, je ne peux pas.").values())  # English lists only
    s = BN.summarise([r, "Sure! I love you too."])
    assert s["direct_refusal_pct"] == 50.0 and s["boundary_setting_pct"] == 0.0
    assert s["mean_words"] == pytest.approx((len(r.split()) + 5) / 2)


def test_beyond_no_prompt_reader(tmp_path):
    BN.synthesize(tmp_path, 0)
    rows = BN.read_prompts(tmp_path)
    assert {r["language"] for r in rows} == {"English", "French"}
    (tmp_path / BN.PROMPTS_FILE).write_text("text,lang\nhello,en\n")
    assert "missing column(s) prompt, language" in str(BN.verify(tmp_path)[0])
